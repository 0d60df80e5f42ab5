"""Failure stories: replay a failing schedule with the trace on and say what went wrong.

A hang becomes a "deadlock" when the waiting threads wait on each other (a cycle in the
graph "waits on an object the other touched before"), else a "stranded" thread, with a
reason read from the trace: a pulse that came before the wait, several sets that ran
before any wait, a set that released someone else, or a call that failed. A bug check
gets the line and rule that stopped the machine. These are evtsim's own heuristics over
the replayed records (they cannot see a thread's future), not a published method.
"""
from __future__ import annotations

from ..errors import EvtsimError
from ..scheduler import WAITING
from ..status import name_of
from .runs import _find, _make


class _Footprints:
    """Observer that keeps each step's footprint during a replay."""

    def __init__(self, m):
        self.m = m
        self.rows = []

    def after_step(self, record):
        self.rows.append((record, frozenset(self.m.footprint)))


def _tell(failure, build):
    """Replay a failure with the trace on; set its story, trace and (for hangs) kind."""
    m = _make(build)
    watcher = _Footprints(m)
    m.add_observer(watcher)
    schedule = failure.schedule
    try:
        for name in schedule:
            ready = m.choices()
            thread = _find(ready, name)
            if thread is None:
                raise EvtsimError(f"replaying the failure found {name!r} not ready: the "
                                  f"build is not deterministic")
            m.step(thread)
        if failure.kind == "hang":
            m.choices()
    finally:
        m.remove_observer(watcher)
    failure.trace = list(m.trace)
    failure._build = build
    if failure.kind == "hang":
        failure.kind, failure.story = _hang_story(m, watcher.rows)
    elif failure.kind == "bugcheck" and m.bugcheck is not None:
        b = m.bugcheck
        where = f" at line {b.line}" if b.line else ""
        failure.story = (f"{b.thread} stops the machine{where} with bug check "
                         f"0x{b.code:X} ({b.name}): {b.rule}")
    else:
        failure.story = failure.message


_SETS = ("Set", "Pulse")


def _is_wait(op: str) -> bool:
    return "Wait" in op or op in ("Sleep", "SleepEx", "KeDelayExecutionThread")


def _hang_story(m, rows):
    waiting = [t for t in m.threads if t.state == WAITING]
    # who could still set what another waits on: a waiting thread that touched that
    # object before its current wait (approximate: we cannot see its future)
    setters = {}
    for t in waiting:
        mine = set()
        own = [fp for record, fp in rows if record.thread == t.name]
        for fp in own[:-1]:             # all but the wait it is stuck in: a lock it
            mine |= fp                  # took (a satisfied wait) counts
        setters[t.name] = mine
    graph = {t.name: [u.name for u in waiting if u is not t
                      and any(o.name in setters[u.name] for o in t.wait.objects)]
             for t in waiting}
    cycle = _find_cycle(graph)
    if cycle:
        parts = []
        for name in cycle:
            t = m.thread(name)
            objects = ", ".join(o.name for o in t.wait.objects)
            parts.append(f"{name} waits on {objects}")
        others = " and ".join(parts)
        return "deadlock", (f"{others}; each waits for the other to set its event, so "
                            f"none ever will")
    t = waiting[0]
    more = f" (and {', '.join(u.name for u in waiting[1:])})" if len(waiting) > 1 else ""
    objects = t.wait.objects
    label = ", ".join(o.name for o in objects) or "a delay"
    return "stranded", f"{t.name}{more} waits forever on {label}: {_why(t, objects, rows)}"


def _why(t, objects, rows) -> str:
    names = {o.name for o in objects}
    touching = [(r, fp) for r, fp in rows if names & fp]
    sets = [(i, r) for i, (r, fp) in enumerate(touching)
            if any(s in r.op for s in _SETS) and not _is_wait(r.op)]
    waits = [(i, r) for i, (r, fp) in enumerate(touching) if _is_wait(r.op)]
    pulses = [(i, r) for i, r in sets if "Pulse" in r.op and not r.released]
    if pulses:
        i, pulse = pulses[-1]
        woke = [r for r, _ in rows if t.name in r.rechecked]
        if woke:
            return (f"{pulse.thread}'s {pulse.op} came while a kernel APC "
                    f"({woke[-1].thread}'s {woke[-1].op}) had taken {t.name} out of its "
                    f"wait, so the pulse released nobody")
        return f"{pulse.thread}'s {pulse.op} came before {t.name} waited, so it released nobody"
    if sets:
        first_wait = min((i for i, _ in waits), default=None)
        op = sets[0][1].op
        if first_wait is not None and all(i < first_wait for i, _ in sets) and len(sets) > 1:
            n = len(sets)
            waiters = {r.thread for _, r in waits}
            count = "both" if n == 2 else f"all {n}"
            either = "either wait" if len(waiters) == 2 else (
                "any wait" if len(waiters) > 2 else "the wait")
            return (f"{count} {op} calls ran before {either}, so the event was already "
                    f"signaled for the later one{'s' if n > 2 else ''} and "
                    f"{'it was' if n == 2 else 'they were'} lost")
        last = sets[-1][1]
        if last.released and t.name not in last.released:
            return (f"the last {last.op} ({last.thread}) released "
                    f"{', '.join(last.released)} instead, and nothing sets it again")
        return f"the last {last.op} was by {last.thread}, and nothing sets it again"
    failed = _failed_call(rows)
    if failed is not None:
        r, status = failed
        return f"nothing ever sets it; {r.op} in {r.thread} returned {status}"
    return "nothing ever sets it"


def _failed_call(rows):
    for r, _ in rows:
        result = r.result
        if isinstance(result, (tuple, list)) and result:
            result = result[0]
        if isinstance(result, int) and not isinstance(result, bool) and \
                (result & 0xFFFFFFFF) >= 0xC0000000:
            return r, name_of(result, "status")
    return None


def _find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if nxt not in state:
                found = visit(nxt, path)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None
