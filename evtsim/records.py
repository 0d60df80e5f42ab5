"""Trace records: one per step, the raw material of every view (core layer).

A record says, in typed fields, who ran (`thread`, `process`, `kind`), what it called
(`op`, `args`), what came back (`result`), which threads the call released or woke to
re-check, the thread's state after the step, the learner's source line, which objects
changed signal state, what the thread now waits on, and the driver routine it entered
or returned from. Views read these fields; the one English rendering of a step
(`note`) is made from them here. Values are kept as Python objects for speed; `to_dict`
turns them into plain JSON values whose text never depends on memory addresses, so the
same run gives the same bytes.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .status import kind_of_result, name_result
from .units import time_us


def describe(value: Any) -> Any:
    """A JSON-ready, address-free description of an argument or result."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    qualname = getattr(value, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return type(value).__name__


# Who took a step: a thread, a DPC routine (no thread of its own), the notebook's
# immediate surface (m.kernel), or the clock interrupt (timer expiries).
KINDS = ("thread", "dpc", "instructor", "clock")


class TraceRecord(NamedTuple):
    """What one step did, as data.

    `kind` says who ran (see KINDS). `released` names the threads the call released;
    `rechecked` the wait-all waiters it only woke to check their objects again.
    `changes` lists `(object, old, new)` signal states. `waits` is what the thread waits
    on when the step ends in a wait: `(label, names)` with label `Wait`, `WaitAny`,
    `WaitAll` or `Delay`. `resumed` is `"wait"` or `"driver"` when the step is the
    return from a finished wait or from driver code; `enters` names the driver routine
    the step entered. `remarks` are what routines said about the step, in words.
    `reads` and `writes` name what the step's routines read and changed: objects, the
    namespace root `\\`, and handle slots (`handle:<pid>:<value>`).
    The English `note` is made from these fields here, and nowhere else.
    """

    seq: int
    time: int
    thread: str
    process: str
    op: str
    args: tuple
    result: Any
    released: tuple
    state: str | None
    line: int | None
    changes: tuple
    kind: str = "thread"
    rechecked: tuple = ()
    waits: tuple | None = None
    resumed: str | None = None
    enters: str | None = None
    remarks: tuple = ()
    reads: tuple = ()
    writes: tuple = ()

    @property
    def wait_label(self) -> str | None:
        """`Wait(Go)`, `WaitAny(A, B)` or `Delay`: what the step left the thread waiting on."""
        return wait_label(self.waits)

    @property
    def note(self) -> str | None:
        """The step in words, for people (`waits: Wait(Go)`, `woke A to re-check`...)."""
        parts = []
        if self.enters is not None:
            parts.append(f"calls {self.enters}")
        elif self.resumed is not None:
            parts.append(RESUMED[self.resumed])
        if self.waits is not None:
            parts.append(f"waits: {wait_label(self.waits)}")
        parts.extend(self.remarks)
        if self.rechecked:
            parts.append(f"woke {', '.join(self.rechecked)} to re-check")
        return "; ".join(parts) or None

    def to_dict(self) -> dict:
        """The record as plain JSON values (trace file format version 2)."""
        return {
            "seq": self.seq, "time": self.time, "thread": self.thread,
            "process": self.process, "op": self.op,
            "args": describe(self.args), "result": describe(self.result),
            "released": list(self.released), "state": self.state, "line": self.line,
            "changes": [list(c) for c in self.changes], "kind": self.kind,
            "rechecked": list(self.rechecked),
            "waits": None if self.waits is None else [self.waits[0], list(self.waits[1])],
            "resumed": self.resumed, "enters": self.enters, "remarks": list(self.remarks),
            "reads": list(self.reads), "writes": list(self.writes),
        }

    def row(self) -> tuple:
        return self

    def __repr__(self) -> str:
        """`<#5 at 3 µs poller: KeWaitForSingleObject -> STATUS_TIMEOUT>`: statuses by
        name (as `kind_of_result` says for the op), plain values as they are."""
        released = f" released={list(self.released)}" if self.released else ""
        note = self.note
        note = f" ({note})" if note else ""
        result = name_result(describe(self.result), kind_of_result(self.op))
        return (f"<#{self.seq} at {time_us(self.time)} {self.thread}: {self.op} -> "
                f"{result!r}{released}{note}>")


RESUMED = {"wait": "returns from its wait", "driver": "returns from the driver"}


_make = TraceRecord._make


def wait_label(waits) -> str | None:
    """`Wait(Go)`, `WaitAny(A, B)`, `WaitAll(A, B)` or `Delay` from a record's `waits`."""
    if waits is None:
        return None
    label, names = waits
    return label if label == "Delay" else f"{label}({', '.join(names)})"


def from_note(note: str | None, thread: str) -> dict:
    """The structured fields of a version-1 record, read from its English note.

    Trace files written by evtsim 0.1.0 kept only the note. This is the one place that
    reads such text back: the exact inverse of `TraceRecord.note`. (Those files did not
    say what a step read or wrote: `reads` and `writes` stay empty.)
    """
    fields: dict = {"kind": ("dpc" if thread.startswith("DPC:") else
                             thread if thread in ("instructor", "clock") else "thread"),
                    "rechecked": (), "waits": None, "resumed": None, "enters": None,
                    "remarks": (), "reads": (), "writes": ()}
    if not note:
        return fields
    parts = note.split("; ")
    if parts and parts[-1].startswith("woke ") and parts[-1].endswith(" to re-check"):
        fields["rechecked"] = tuple(parts.pop()[5:-12].split(", "))
    if parts and parts[0].startswith("calls "):
        fields["enters"] = parts.pop(0)[6:]
    elif parts and parts[0] in RESUMED.values():
        text = parts.pop(0)
        fields["resumed"] = next(k for k, v in RESUMED.items() if v == text)
    if parts and parts[0].startswith("waits: "):
        fields["waits"] = _parse_wait(parts.pop(0)[7:])
    fields["remarks"] = tuple(parts)
    return fields


def _parse_wait(label: str) -> tuple:
    if label == "Delay":
        return ("Delay", ())
    kind, _, names = label.partition("(")
    return (kind, tuple(names[:-1].split(", ")))


class Trace(Sequence):
    """The machine's trace: reads as a list of TraceRecord, one per step.

    Steps append plain tuples with TraceRecord's fields: cheap, and invisible to the
    cyclic garbage collector once they hold only names and numbers (a tuple subclass
    would stay tracked and make every collection walk the whole trace). A TraceRecord
    is made when a row is read.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows=None):
        self._rows: list[tuple] = rows if rows is not None else []

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [_make(row) for row in self._rows[index]]
        return _make(self._rows[index])

    def __iter__(self):
        return map(_make, self._rows)

    def append(self, record: TraceRecord) -> None:
        self._rows.append(tuple(record))

    def to_dicts(self) -> list[dict]:
        return [record.to_dict() for record in self]

    def __eq__(self, other) -> bool:
        """Same steps, compared as their JSON form (so runs of two machines compare)."""
        if isinstance(other, Trace):
            return self._rows == other._rows or self.to_dicts() == other.to_dicts()
        try:
            return self.to_dicts() == [record.to_dict() for record in other]
        except AttributeError:
            return NotImplemented

    # Defining __eq__ leaves __hash__ None: a Trace is not hashable, as a list is not.

    def __repr__(self) -> str:
        return f"<Trace of {len(self)} records>"


__all__ = ["TraceRecord", "Trace", "describe", "wait_label", "from_note", "KINDS", "RESUMED"]
