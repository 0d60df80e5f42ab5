"""Trace records: one per step, the raw material of every view.

A record says who ran (`thread`, `process`), what it called (`op`, `args`), what came
back (`result`), which threads the call released (`released`), the thread's state after
the step, the learner's source line, and which objects changed signal state. Values are
kept as Python objects for speed; `to_dict` turns them into plain JSON values whose text
never depends on memory addresses, so the same run gives the same bytes.
"""
from __future__ import annotations

from typing import Any

from collections.abc import Sequence

__all__ = ["TraceRecord", "Trace", "describe"]


def describe(value: Any):
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


class TraceRecord:
    """What one step did."""

    __slots__ = ("seq", "time", "thread", "process", "op", "args", "result",
                 "released", "state", "line", "changes", "note")

    def __init__(self, seq, time, thread, process, op, args, result, released,
                 state, line, changes, note=None):
        self.seq = seq
        self.time = time
        self.thread = thread
        self.process = process
        self.op = op
        self.args = args
        self.result = result
        self.released = released
        self.state = state
        self.line = line
        self.changes = changes
        self.note = note

    def to_dict(self) -> dict:
        return {
            "seq": self.seq, "time": self.time, "thread": self.thread,
            "process": self.process, "op": self.op,
            "args": describe(self.args), "result": describe(self.result),
            "released": list(self.released), "state": self.state, "line": self.line,
            "changes": [list(c) for c in self.changes], "note": self.note,
        }

    def row(self) -> tuple:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other) -> bool:
        return isinstance(other, TraceRecord) and self.row() == other.row()

    __hash__ = None

    def __repr__(self) -> str:
        released = f" released={list(self.released)}" if self.released else ""
        note = f" ({self.note})" if self.note else ""
        return (f"<#{self.seq} t={self.time} {self.thread}: {self.op} -> "
                f"{describe(self.result)!r}{released}{note}>")


class Trace(Sequence):
    """The machine's trace: reads as a list of TraceRecord.

    Steps append plain tuples (cheap, and invisible to the cyclic garbage collector
    once they hold only names and numbers); a TraceRecord is made when one is read.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows=None):
        self._rows: list[tuple] = rows if rows is not None else []

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [TraceRecord(*row) for row in self._rows[index]]
        return TraceRecord(*self._rows[index])

    def __iter__(self):
        for row in self._rows:
            yield TraceRecord(*row)

    def append(self, record: TraceRecord) -> None:
        self._rows.append(record.row())

    def to_dicts(self) -> list[dict]:
        return [record.to_dict() for record in self]

    def __eq__(self, other) -> bool:
        if isinstance(other, Trace):
            return self._rows == other._rows
        return list(self) == list(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Trace of {len(self)} records>"
