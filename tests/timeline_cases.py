"""Small machines for the view tests: each shows one thing the timeline must draw.

Not a test module (no `test_` prefix); the view tests import it.
"""
from __future__ import annotations

from evtsim import Machine
from evtsim.api.kernel import (Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent, WaitAll, WaitAny)
from evtsim.status import INFINITE


def mixed(policy="round_robin", seed=0):
    """A user-mode app waiting on two events (WaitAny), a kernel thread waiting on two
    events at once (WaitAll: woken to re-check), a pulse with two waiters on a
    synchronization event (one released), and the instructor setting an event."""
    m = Machine(policy=policy, seed=seed)
    a = m.kernel.KeInitializeEvent(NotificationEvent, False, name="EvA")
    b = m.kernel.KeInitializeEvent(NotificationEvent, False, name="EvB")
    p = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Pulsed")
    app = m.process("app.exe")

    def main(api):
        go = yield api.CreateEvent(None, True, False, "Go")
        stop = yield api.CreateEvent(None, True, False, "Stop")
        r = yield api.WaitForMultipleObjects(2, [go, stop], False, INFINITE)
        return r

    def both(k):
        s = yield k.KeWaitForMultipleObjects(2, [a, b], WaitAll, Executive, KernelMode,
                                             False, None)
        return s

    def one(k, ev):
        s = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
        return s

    def setter(k):
        yield k.KeSetEvent(a, 0, False)
        yield k.KePulseEvent(p, 0, False)
        yield k.KeSetEvent(b, 0, False)

    app.start(main, name="main")
    m.system.start(both, name="both")
    m.system.start(one, p, name="p1")
    m.system.start(one, p, name="p2")
    m.system.start(setter, name="setter")
    m.run()
    m.kernel.KeSetEvent(m.find("Go"), 0, False)
    m.run()
    return m


def crash():
    """KeSetEvent(Wait=TRUE) followed by something other than a wait: bug check 0xC4."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ev")

    def bad(k):
        yield k.KeSetEvent(ev, 0, True)
        yield k.KeClearEvent(ev)

    m.system.start(bad, name="bad")
    m.run()
    return m


def big(threads=10, segments=1000):
    """`threads` System threads ping-ponging over synchronization events until the
    timeline has about `segments` spans (the redraw benchmark's picture)."""
    m = Machine()
    events = [m.kernel.KeInitializeEvent(SynchronizationEvent, False, name=f"E{i}")
              for i in range(threads)]
    rounds = max(1, segments // (threads * 4))

    def worker(k, i):
        mine, theirs = events[i], events[(i + 1) % threads]
        for _ in range(rounds):
            yield k.KeSetEvent(theirs, 0, False)
            yield k.KeWaitForSingleObject(mine, Executive, KernelMode, False, None)

    for i in range(threads):
        m.system.start(worker, i, name=f"t{i}")
    m.run()
    return m
