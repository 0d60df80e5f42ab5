"""Trace files on disk: write a run as JSON, and read one back as data, safely.

A trace file comes from outside (a download, a mail, a hand edit), so reading it treats
every byte as untrusted, and each step is bounded before the next one starts:

1. size: at most MAX_FILE_BYTES (16 MiB), checked before the file is read whole;
2. text: UTF-8 (a byte-order mark is allowed);
3. nesting: lists and objects at most MAX_DEPTH deep, counted on the text before it is
   parsed, so a deep file never reaches the parser's recursion;
4. JSON: numbers of at most MAX_DIGITS digits and finite (no NaN), checked as the parser
   meets them; an error says "cut off" only when the text is a valid beginning of a JSON
   object (it starts with `{` and stops in the middle), and "not JSON" when it is not;
5. fields: every field against the format, with its limits (`evtsim.tracecheck`).

The CLI (`evtsim replay`), `trace.load` and the lab's upload all read through
`from_bytes`, so each says the same thing about the same file. Nothing read here is ever
called; `evtsim.replay` repeats a file's actions, and its `kernel` actions may name only
the instructor's routines (`evtsim.instructor`).
"""
from __future__ import annotations

import json
import math
import os
import re
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from .errors import BadArgumentError
from .instructor import bound
from .records import Trace, describe
from .tracecheck import (
    FORMAT,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_FILE_BYTES,
    VERSION,
    TraceFileError,
    fields,
    shown,
)
from .version import __version__

if TYPE_CHECKING:
    from .timeline import ObjectInfo, RunView, ThreadInfo


class SavedTrace(Trace):
    """A run read back from a trace file: reads as a list of TraceRecord, like
    `m.trace`, and carries what is needed to draw it and to replay it."""

    __slots__ = ("scenario", "params", "policy", "seed", "step_time", "namespace", "time",
                 "actions", "processes", "threads", "objects", "bugcheck", "evtsim",
                 "source", "version")
    # What from_data read and checked (each one is a JSON value of the file).
    scenario: str | None
    params: dict[str, Any] | None
    policy: str
    seed: int
    step_time: int
    namespace: str
    time: int
    actions: list[tuple]
    processes: list[dict[str, Any]]
    threads: list[ThreadInfo]
    objects: list[ObjectInfo]
    bugcheck: dict[str, Any] | None
    evtsim: str | None
    source: str
    version: int

    def __init__(self, rows: list[tuple], **meta: Any) -> None:
        super().__init__(rows)
        for key in self.__slots__:
            setattr(self, key, meta.get(key))

    @property
    def replayable(self) -> bool:
        return why_not_replayable(self.scenario, self.actions) is None

    def run_view(self) -> RunView:
        from .timeline import RunView
        return RunView(self, self.threads, self.objects,
                       [p["name"] for p in self.processes], self.step_time, self.time,
                       self.bugcheck, self.scenario)

    def to_data(self) -> dict:
        reason = why_not_replayable(self.scenario, self.actions)
        return {
            "format": FORMAT, "version": VERSION, "evtsim": self.evtsim,
            "scenario": ({"name": self.scenario, "params": self.params}
                         if self.scenario is not None else None),
            "policy": self.policy, "seed": self.seed, "step_time": self.step_time,
            "namespace": self.namespace, "time": self.time,
            "replayable": reason is None, "why_not_replayable": reason,
            "actions": [list(a) for a in self.actions],
            "processes": list(self.processes),
            "threads": [t._asdict() for t in self.threads],
            "objects": [o._asdict() for o in self.objects],
            "bugcheck": self.bugcheck,
            "records": self.to_dicts(),
        }

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trace) or isinstance(other, (list, tuple)):
            return self.to_dicts() == [r.to_dict() for r in other]
        return NotImplemented

    # Defining __eq__ leaves __hash__ None: a SavedTrace is not hashable (as Trace).

    def __repr__(self) -> str:
        what = f"scenario {self.scenario!r}" if self.scenario else "a hand-built machine"
        return (f"<SavedTrace of {len(self)} records: {what}, policy {self.policy}, "
                f"seed {self.seed}>")


def why_not_replayable(scenario: str | None, actions: list) -> str | None:
    """None when a saved run can be rebuilt, else the reason in words. A `kernel` action
    must call an instructor routine with arguments of the right kinds
    (`evtsim.instructor`). (A thread started from outside code is found by `replay`:
    the engine also records the threads it starts itself, and only a replay can tell
    the two apart.)"""
    if scenario is None:
        return ("the machine was not built with evtsim.scenarios.build, so a file cannot "
                "say how to build it again (it holds records, not code)")
    for i, action in enumerate(actions):
        if action and action[0] == "kernel" and len(action) == 4:
            try:
                bound(*action[1:])
            except BadArgumentError as error:
                return f"actions[{i}] {shown(list(action))} cannot be replayed: {error}"
    return None


# --- writing -------------------------------------------------------------------------
def to_data(machine: Any) -> dict:
    """The trace file's content for a machine (or a SavedTrace), as plain JSON values."""
    if isinstance(machine, SavedTrace):
        return machine.to_data()
    from .timeline import view_of
    view = view_of(machine)
    name, params = machine.scenario if machine.scenario is not None else (None, None)
    actions = [list(describe(list(a))) for a in machine.actions]
    reason = why_not_replayable(name, actions)
    return {
        "format": FORMAT, "version": VERSION, "evtsim": __version__,
        "scenario": {"name": name, "params": describe(params)} if name else None,
        "policy": machine.policy.name, "seed": machine.seed,
        "step_time": machine.step_time, "namespace": machine.namespace,
        "time": machine.time, "replayable": reason is None, "why_not_replayable": reason,
        "actions": actions,
        "processes": [{"name": p.name, "pid": p.pid, "session": p.session,
                       "user": p.user, "kernel": p.kernel} for p in machine.processes],
        "threads": [info._asdict() for _t, info in zip(machine.threads, view.threads,
                                                        strict=False)],
        "objects": [o._asdict() for o in view.objects],
        "bugcheck": view.bugcheck,
        "records": machine.trace.to_dicts(),
    }


def dumps(data: dict) -> str:
    """JSON text with one record per line (readable, and diffs well)."""
    records = data.get("records", [])
    head = json.dumps({k: v for k, v in data.items() if k != "records"}, indent=1)
    body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in records)
    return head[:-2] + ',\n "records": [\n' + body + ("\n" if body else "") + " ]\n}\n"


def save(machine: Any, path: Any) -> str:
    """Write a run (a Machine, or a SavedTrace) to `path` as a trace file."""
    text = dumps(to_data(machine))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


# --- reading -------------------------------------------------------------------------
def load(path: Any) -> SavedTrace:
    """Read a trace file. A truncated, hand-edited, hostile or newer file raises
    TraceFileError naming what is wrong (the field, or the limit and the value found)."""
    return from_bytes(read_bytes(path), source=str(path))


def read_bytes(path: Any) -> bytes:
    """The file's bytes, refused before reading when it is larger than the limit."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise TraceFileError(_too_big(str(path), size))
            content = f.read(MAX_FILE_BYTES + 1)    # a pipe or device has no size
    except FileNotFoundError:
        raise TraceFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TraceFileError(f"{path}: is a folder, not a trace file") from None
    except OSError as error:
        raise TraceFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    if len(content) > MAX_FILE_BYTES:
        raise TraceFileError(_too_big(str(path), len(content)))
    return content


def _too_big(source: str, size: int) -> str:
    return (f"{source}: the file has {size:,} bytes; a trace file may have at most "
            f"{MAX_FILE_BYTES:,} (16 MiB). Save a shorter run.")


def from_bytes(content: bytes, source: str = "trace") -> SavedTrace:
    """A SavedTrace from a trace file's bytes (what `load` and the lab's upload read)."""
    if len(content) > MAX_FILE_BYTES:
        raise TraceFileError(_too_big(source, len(content)))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TraceFileError(f"{source}: is not a text file (byte {error.start:,} is not "
                             f"UTF-8): this is not an evtsim trace file") from None
    return from_data(parse(text, source), source=source)


def from_data(data: Any, source: str = "trace") -> SavedTrace:
    """A SavedTrace from a trace file's parsed JSON, checking every field."""
    meta = fields(data, source)
    return SavedTrace(meta.pop("rows"), **meta)


# Strings of JSON text (with their escapes), and what may stop in the middle of a token.
# A string that never ends runs to the end of the text: the pattern then still matches
# at once, so the scan stays linear (with a closing quote required, text made of `\"`
# would be rescanned from every quote: quadratic).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_PARTIAL = re.compile(r"(t(r(u)?)?|f(a(l(s)?)?)?|n(u(l)?)?|-|\.|[eE][+-]?"
                      r"|\\?u[0-9a-fA-F]{0,3})?\s*")


def parse(text: str, source: str = "trace") -> Any:
    """JSON values from a trace file's text, with the nesting and the numbers bounded;
    text that is not JSON is a TraceFileError that says whether it looks cut off."""
    if not text.strip():
        raise TraceFileError(f"{source}: is empty: this is not an evtsim trace file")
    try:
        return parse_json(text, source)
    except json.JSONDecodeError as error:
        raise TraceFileError(_not_json(text, error, source)) from None


def parse_json(text: str, source: str) -> Any:
    """`json.loads` with its nesting at most MAX_DEPTH (counted before parsing) and
    numbers of at most MAX_DIGITS digits, finite (a TraceFileError naming `source`
    otherwise). Text that is not JSON raises json.JSONDecodeError, for the caller."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    deepest = max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
    if deepest > MAX_DEPTH:
        raise TraceFileError(f"{source}: lists and objects are nested {deepest:,} deep; "
                             f"evtsim reads JSON nested at most {MAX_DEPTH} deep")

    def whole(digits: str) -> int:
        if len(digits) > MAX_DIGITS + 1:
            raise TraceFileError(f"{source}: a number has {len(digits.lstrip('-')):,} "
                                 f"digits; evtsim reads numbers of at most {MAX_DIGITS}")
        return int(digits)

    def real(digits: str) -> float:
        value = float(digits) if len(digits) <= MAX_DIGITS + 8 else math.inf
        if not math.isfinite(value):
            raise TraceFileError(f"{source}: the number {shown(digits)} is too large or "
                                 f"too long; evtsim reads numbers of at most "
                                 f"{MAX_DIGITS} digits")
        return value

    def constant(name: str) -> Any:
        raise TraceFileError(f"{source}: {name} is not a number evtsim reads")

    return json.loads(text, parse_int=whole, parse_float=real, parse_constant=constant)


def _not_json(text: str, error: json.JSONDecodeError, source: str) -> str:
    """Why the text is not JSON: cut off (a valid beginning of an object), or not JSON."""
    where = f"line {error.lineno} column {error.colno}"
    if not text.lstrip().startswith("{"):
        start = text.lstrip()[:20]
        return (f"{source}: not an evtsim trace file: it is not JSON at all (a trace file "
                f"is one JSON object, starting with '{{'; this one starts with {start!r})")
    if error.msg.startswith("Unterminated string") or _PARTIAL.fullmatch(text, error.pos):
        return (f"{source}: not valid JSON at {where} (it looks cut off: was the file "
                f"truncated?)")
    if error.msg == "Extra data":
        return (f"{source}: not an evtsim trace file: more text follows the JSON object "
                f"at {where}")
    return f"{source}: not an evtsim trace file: it is not valid JSON at {where} ({error.msg})"


__all__ = ["SavedTrace", "why_not_replayable", "to_data", "dumps", "save", "load",
           "read_bytes", "from_bytes", "from_data", "parse", "parse_json"]
