"""What every view reads from a run: its trace rows, threads, objects and processes.

A `RunView` is built the same way from a live `Machine`, a trace file loaded with
`evtsim.trace.load` (anything with `run_view()`), or a bare list of trace records
(threads and events inferred); `view_of` picks the right one. The instructor and the
clock are pseudo-threads (`PSEUDO_THREADS`): they take steps but are not threads.
"""
from __future__ import annotations

from typing import NamedTuple

from ..records import TraceRecord

PSEUDO_THREADS = ("instructor", "clock")


class ThreadInfo(NamedTuple):
    name: str
    process: str
    mode: str          # "kernel" or "user"
    created_time: int
    created_seq: int
    state: str | None = None


class ObjectInfo(NamedTuple):
    name: str
    kind: str          # "KEVENT", "KTIMER"
    type: int          # 0 notification, 1 synchronization
    created_state: int
    created_seq: int
    state: int | None = None
    path: str | None = None


class RunView:
    """What every view needs from a run, read the same way from a Machine or a file."""

    def __init__(self, rows, threads, objects, processes, step_time=10, time=None,
                 bugcheck=None, title=None):
        self.rows = rows                    # trace tuples, TraceRecord field order
        self.threads = threads              # [ThreadInfo]
        self.objects = objects              # [ObjectInfo]
        self.processes = processes          # process names in creation order
        self.step_time = step_time
        self.time = time if time is not None else (rows[-1].time if rows else 0)
        self.bugcheck = bugcheck            # dict: code, name, rule, thread, seq, time ...
        self.title = title


def view_of(source) -> RunView:
    """A RunView of a Machine, a loaded trace file, a RunView, or a list of records."""
    if isinstance(source, RunView):
        return source
    if hasattr(source, "dispatcher_objects") and hasattr(source, "trace"):
        return _view_of_machine(source)
    if hasattr(source, "run_view"):
        return source.run_view()
    return _view_of_records(source)


def _mode(thread) -> str:
    return "user" if thread.mode == 1 else "kernel"


def _view_of_machine(m) -> RunView:
    threads = [ThreadInfo(t.name, t.process.name, _mode(t), t.created_time, t.created_seq,
                          t.state) for t in m.threads]
    objects = [ObjectInfo(o.name, o.kind, o.Type, o.created_state, o.created_seq,
                          o.SignalState, o.header.path if o.header is not None else None)
               for o in m.dispatcher_objects]
    bugcheck = None
    if m.bugcheck is not None:
        b = m.bugcheck
        bugcheck = {"code": b.code, "name": b.name, "rule": b.rule, "thread": b.thread,
                    "process": b.process, "line": b.line, "time": b.time, "seq": b.seq,
                    "explanation": b.explanation}
    title = None
    if m.scenario is not None:
        title = m.scenario[0]
    return RunView(m.trace, threads, objects, [p.name for p in m.processes],
                   m.step_time, m.time, bugcheck, title)


def _view_of_records(records) -> RunView:
    """Best effort for a bare list of records: threads and events inferred."""
    rows = [r if isinstance(r, TraceRecord) else TraceRecord(*r) for r in records]
    threads, seen, processes, objects, known = [], set(), [], [], set()
    for index, row in enumerate(rows):
        thread, process = row.thread, row.process
        if process not in processes:
            processes.append(process)
        if thread not in seen and row.kind == "thread":
            seen.add(thread)
            threads.append(ThreadInfo(thread, process, "kernel", row.time, index))
        for name, old, _new in row.changes:
            if name not in known:
                known.add(name)
                objects.append(ObjectInfo(name, "KEVENT", 0, old, index))
    return RunView(rows, threads, objects, processes)
