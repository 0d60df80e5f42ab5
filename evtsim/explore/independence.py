"""Which steps commute: the footprint of a step, and when two steps are dependent.

DPOR needs a dependence relation between steps (Flanagan and Godefroid 2005 take it as
given); this module is evtsim's own, conservative one. Two steps of different threads
are dependent when the dispatcher objects they read or changed (`Machine.footprint`:
events, timers, the namespace root "\\\\", devices) overlap, when one of them woke,
re-checked, started or queued an APC to the other's thread, or when either ran while a
timer or DPC was pending (virtual time orders those against every step). A step that
touched the namespace ("\\\\") is dependent with every other step that did; handle slots
a step read or wrote (`handle:<pid>:<value>`, noted by the engine) order it against
steps that used the same slot. Python objects that learner threads
share directly (a dict, a driver's attributes) are invisible to the footprint: when
threads talk through them, use `strategy="dfs"`.
"""
from __future__ import annotations

from ..scheduler import TERMINATED, WAITING

_ANY = "*"                      # footprint mark: dependent with every other step


def _dependent(a, b) -> bool:
    return _ANY in a or _ANY in b or not a.isdisjoint(b)


def _step_footprint(m, thread) -> frozenset:
    """Step `thread` and return its footprint: the names of what the step touched."""
    name = thread.name
    others = [t for t in m.threads if t is not thread and t.state != TERMINATED]
    before = [(t, _signature(t), t.wait) for t in others]
    count = len(m.threads)
    timed, ktimer = _pending_timers(m)
    timers_made = m.timers.counter
    call = thread.next_call
    m.step(thread)
    fp = set(m.footprint)
    fp.add(name)
    if call is not None:
        _objects_in(call.args, fp)
    for t, signature, wait in before:
        if _signature(t) != signature:
            fp.add(t.name)
            if wait is not None:
                fp.update(o.name for o in wait.objects)
    for t in m.threads[count:]:
        fp.add(t.name)
    # Virtual time pins timer expiries to a step count, not to a thread: a step
    # that starts a timed wait on objects or sets a kernel timer, runs while a
    # kernel timer or DPC is pending, or touches what a pending timeout will touch,
    # is ordered against every other step. A plain delay (Sleep) is not: its
    # expiry touches only its own thread.
    made = m.timers.counter != timers_made and not (
        thread.state == WAITING and thread.wait is not None and not thread.wait.objects)
    if ktimer or m.dpc_queue or made or (timed and not timed.isdisjoint(fp)):
        fp.add(_ANY)
    return frozenset(fp)


def _objects_in(args, names, depth=0) -> None:
    """Add the dispatcher objects a call names in its arguments: some reads (such as
    KeReadStateEvent) leave no footprint of their own."""
    for a in args:
        if hasattr(a, "SignalState") and hasattr(a, "wait_list"):
            names.add(a.name)
        elif isinstance(a, (list, tuple)) and depth < 2:
            _objects_in(a, names, depth + 1)
        else:
            inner = getattr(a, "event", None)
            if hasattr(inner, "SignalState") and hasattr(inner, "wait_list"):
                names.add(inner.name)


def _pending_timers(m):
    """Names a pending wait timeout will touch (the thread, its objects), and whether a
    kernel timer (whose DPC could touch anything) is pending."""
    timed = set()
    ktimer = False
    for action, payload in m.timers.pending():
        target, generation = payload
        if action == "wait":
            if target.state == WAITING and target.wait_generation == generation:
                timed.add(target.name)
                timed.update(o.name for o in target.wait.objects)
        elif getattr(target, "generation", None) == generation:
            ktimer = True
    return timed, ktimer


def _signature(t):
    """What another step can change about a thread without touching an object."""
    return (t.state, t.wait_generation, len(t.kernel_apcs), len(t.user_apcs),
            t.user_apc_pending, t.alerted[0], t.alerted[1])
