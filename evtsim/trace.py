"""Trace records: one per step, the raw material of every view.

A record says who ran (`thread`, `process`), what it called (`op`, `args`), what came
back (`result`), which threads the call released (`released`), the thread's state after
the step, the learner's source line, and which objects changed signal state. Values are
kept as Python objects for speed; `to_dict` turns them into plain JSON values whose text
never depends on memory addresses, so the same run gives the same bytes.
"""
from __future__ import annotations

from typing import Any

__all__ = ["TraceRecord", "describe"]


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

    def __repr__(self) -> str:
        released = f" released={list(self.released)}" if self.released else ""
        note = f" ({self.note})" if self.note else ""
        return (f"<#{self.seq} t={self.time} {self.thread}: {self.op} -> "
                f"{describe(self.result)!r}{released}{note}>")
