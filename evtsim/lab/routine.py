"""A thread's whole routine with the line it will run next (as Allen Downey's Sync shows).

`routine_of(thread)` finds the thread's own generator function (under any driver
routine running on top of it), reads its source with `inspect`, and marks the line
where the thread stands: the line of its next call, or, when that call is inside a
routine it called (`yield from hw.use(k, who)`, a driver's dispatch routine), the line
that called it, with the inner line told apart. No widgets: a view draws the lines.
"""
from __future__ import annotations

import inspect
import linecache
from typing import NamedTuple

from ..errors import is_evtsim_frame

__all__ = ["Routine", "routine_of"]

# Source lines by code object: a routine's text does not change while the lab runs.
_SOURCES: dict = {}


class Routine(NamedTuple):
    """The source of a thread's routine and where the thread stands in it."""
    name: str                 # the function's name, e.g. "consumer"
    first: int                # the line number of `lines[0]`
    lines: list[str]          # the source, one string per line (no newline)
    current: int | None       # the marked line number (None once the thread ended)
    inner: str | None         # "in use(), line 131: yield k.KeSetEvent(...)", or None


def _source(code) -> tuple[int, list[str]] | None:
    if code not in _SOURCES:
        try:
            lines, first = inspect.getsourcelines(code)
            _SOURCES[code] = (max(first, 1), [line.rstrip("\n") for line in lines])
        except (OSError, TypeError):
            _SOURCES[code] = None
    return _SOURCES[code]


def _chain(gen) -> list:
    """The generators from `gen` down through `yield from`, skipping evtsim's private
    wrappers (such as the one that lets DriverEntry be a plain function)."""
    found = []
    while gen is not None:
        code = getattr(gen, "gi_code", None)
        if code is None:
            break
        if not (code.co_name.startswith("_") and is_evtsim_frame(code.co_filename)):
            found.append(gen)
        gen = getattr(gen, "gi_yieldfrom", None)
    return found


def routine_of(thread) -> Routine | None:
    """The thread's own routine with its current line marked (None if unknown)."""
    own = thread.frames[0][0] if thread.frames else thread.gen
    chain = _chain(own)
    if not chain:
        return None
    outer = chain[0]
    found = _source(outer.gi_code)
    if found is None:
        return None
    first, lines = found
    call = thread.next_call
    frame = outer.gi_frame
    current = inner = None
    if thread.state != "terminated" and frame is not None:
        current = frame.f_lineno
        inside = (call is not None and call.filename == outer.gi_code.co_filename
                  and first <= (call.line or 0) < first + len(lines))
        if call is not None and call.line and not inside:
            where = (chain[-1].gi_code.co_name if len(chain) > 1 else
                     thread.gen.gi_code.co_name if thread.frames else "a routine")
            code = linecache.getline(call.filename, call.line).strip()
            inner = f"in {where}(), line {call.line}: {code}"
        elif inside:
            current = call.line
    return Routine(outer.gi_code.co_name, first, lines, current, inner)
