"""The wait queues at one moment: each object's state and FIFO waiters, as data and text.

Built from a live machine's own wait lists (at its current moment) or rebuilt from the
trace rows of a `RunView` (waiters join the tail of each object's list when they block
and leave when released), up to any step.
"""
from __future__ import annotations

from typing import NamedTuple

from .runview import view_of


class WaitQueues(NamedTuple):
    """Each object's state and FIFO waiters, and each waiting thread's wait."""
    at_seq: int
    objects: list          # [(name, type_label, state, [(thread, wait_all), ...])]
    waiting: dict          # thread -> description (`WaitAny(A, B)`, `Delay`)


def wait_queues(source, at: int | None = None) -> WaitQueues:
    """Wait queues after record `at` (a seq; default the end of the trace).

    For a live machine at its current moment the engine's own lists are used; any
    other moment is rebuilt from the trace (waiters join at the tail of each object's
    list when they block and leave when released).
    """
    if at is None and hasattr(source, "dispatcher_objects"):
        objects = []
        for o in source.dispatcher_objects:
            waiters = [(wb.thread.name, wb.wait_type == 0) for wb in o.wait_list]
            objects.append((o.name, _type_label(o.kind, o.Type), o.SignalState, waiters))
        waiting: dict[str, str] = {t.name: t.wait.describe() for t in source.threads
                                   if t.state == "waiting" and t.wait is not None}
        return WaitQueues(source.seq, objects, waiting)
    view = view_of(source)
    info = {o.name: o for o in view.objects}
    signal = {o.name: o.created_state for o in view.objects}
    queues: dict[str, list] = {o.name: [] for o in view.objects}
    waiting = {}
    last = 0
    for row in view.rows:
        seq = row.seq
        if at is not None and seq > at:
            break
        last = seq
        thread, after, changes = row.thread, row.state, row.changes
        ended = row.released + row.rechecked
        for name in ended:
            waiting.pop(name, None)
            for queue in queues.values():
                queue[:] = [w for w in queue if w[0] != name]
        if after == "waiting":
            label = row.waits or ("?", ())
            waiting[thread] = row.wait_label or "?"
            names, wait_all = label[1], label[0] == "WaitAll"
            for obj in names:
                queues.setdefault(obj, []).append((thread, wait_all))
        for name, _old, new in changes:
            signal[name] = new
    objects = []
    for name, waiters in queues.items():
        o = info.get(name)
        label = _type_label(o.kind, o.type) if o else "event"
        objects.append((name, label, signal.get(name, 0), waiters))
    return WaitQueues(last, objects, waiting)


def _type_label(kind: str, type_: int) -> str:
    if kind == "KTIMER":
        return "synchronization timer" if type_ == 1 else "notification timer"
    return "synchronization event" if type_ == 1 else "notification event"


def wait_queues_text(source, at: int | None = None) -> str:
    q = wait_queues(source, at)
    lines = [f"Wait queues after step {q.at_seq}:"]
    if not q.objects:
        lines.append("  (no dispatcher objects)")
    for name, label, signaled, waiters in q.objects:
        who = ", ".join(f"{t}{' (wait-all)' if all_ else ''}" for t, all_ in waiters)
        lines.append(f"  {name} ({label}, {'signaled' if signaled else 'not signaled'}): "
                     f"{'waiters, head first: ' + who if waiters else 'no waiters'}")
    if q.waiting:
        lines.append("Waiting threads:")
        for thread, desc in q.waiting.items():
            lines.append(f"  {thread} waits on {desc}")
    return "\n".join(lines)
