"""docs/semantics.md section 1, event state: one test per rule.

Events are made with the immediate surface `m.kernel`; the calls under test are made by
simulated threads, so every one of them leaves a trace record whose `released` tuple
says which waiters that call let go.
"""
from __future__ import annotations

import pytest

from evtsim import EvtsimError
from evtsim.api.kernel import (DISPATCH_LEVEL, PASSIVE_LEVEL, Executive, KernelMode,
                               NotificationEvent, SynchronizationEvent, WaitAll)
from evtsim.status import STATUS_SUCCESS, STATUS_TIMEOUT

BOTH_TYPES = pytest.mark.parametrize("ev_type", [NotificationEvent, SynchronizationEvent],
                                     ids=["notification", "synchronization"])


def start_waiters(m, sim, ev, count, prefix="w"):
    """Start `count` threads that each wait once on `ev`, and run until they block."""
    threads = [m.system.start(sim.wait_single, ev, name=f"{prefix}{i}")
               for i in range(1, count + 1)]
    m.run()
    assert [t.state for t in threads] == ["waiting"] * count
    return threads


def do(m, sim, *steps, name="setter"):
    """Start a thread that makes the given calls, run, and return its results."""
    t = m.system.start(sim.script, *steps, name=name)
    m.run()
    assert t.state == "terminated", t.error
    return t.result


# --- types and states -----------------------------------------------------------------

def test_event_types_are_notification_0_and_synchronization_1(m):
    assert NotificationEvent == 0
    assert SynchronizationEvent == 1
    n = m.kernel.KeInitializeEvent(NotificationEvent, False)
    s = m.kernel.KeInitializeEvent(SynchronizationEvent, True)
    assert (n.Type, n.SignalState) == (0, 0)
    assert (s.Type, s.SignalState) == (1, 1)


@BOTH_TYPES
def test_initial_state_true_is_1_and_false_is_0(m, ev_type):
    assert m.kernel.KeInitializeEvent(ev_type, True).SignalState == 1
    assert m.kernel.KeInitializeEvent(ev_type, False).SignalState == 0


# --- KeSetEvent -------------------------------------------------------------------------

@BOTH_TYPES
def test_kesetevent_returns_previous_state(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, False)
    results = do(m, sim, lambda k: k.KeSetEvent(ev, 0, False),
                 lambda k: k.KeSetEvent(ev, 0, False))
    assert results == [0, 1]
    assert ev.SignalState == 1


@BOTH_TYPES
def test_kesetevent_with_no_waiters_sets_state_1(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, False)
    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False))
    assert ev.SignalState == 1
    rec = sim.one_record(m, "KeSetEvent", "setter")
    assert rec.released == ()


@BOTH_TYPES
def test_kesetevent_on_signaled_event_touches_no_waiter(m, sim, ev_type):
    # A wait-all waiter can sit on a signaled event while its other object is not
    # signaled. Setting the event again must not touch it.
    ev = m.kernel.KeInitializeEvent(ev_type, True, name="E")
    other = m.kernel.KeInitializeEvent(NotificationEvent, False, name="F")
    w = m.system.start(sim.wait_multiple, [ev, other], WaitAll, name="w")
    m.run()
    assert w.state == "waiting"
    assert sim.names(ev.waiters()) == ["w"]
    t = m.system.start(sim.script, lambda k: k.KeSetEvent(ev, 0, False), name="setter")
    m.step(t)
    rec = sim.one_record(m, "KeSetEvent", "setter")
    assert rec.result == 1
    assert rec.released == ()
    assert w.state == "waiting"
    assert sim.names(ev.waiters()) == ["w"]
    assert ev.SignalState == 1


def test_notification_event_releases_every_waiter(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    ws = start_waiters(m, sim, ev, 3)
    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False))
    rec = sim.one_record(m, "KeSetEvent", "setter")
    assert rec.released == ("w1", "w2", "w3")
    assert [w.state for w in ws] == ["terminated"] * 3
    assert [w.result for w in ws] == [STATUS_SUCCESS] * 3
    assert ev.SignalState == 1
    assert ev.waiters() == []


def test_notification_event_stays_signaled_so_later_waits_return_at_once(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    start_waiters(m, sim, ev, 1)
    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False))
    late = m.system.start(sim.wait_single, ev, name="late")
    m.step(late)
    assert late.state == "terminated"
    assert late.result == STATUS_SUCCESS
    assert [r.state for r in sim.records(m, thread="late")] != ["waiting"]
    assert ev.SignalState == 1


@pytest.mark.parametrize("reset_op", ["KeClearEvent", "KeResetEvent"])
def test_notification_event_stays_signaled_until_clear_or_reset(m, sim, reset_op):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True, name="E")
    for i in range(3):
        w = m.system.start(sim.wait_single, ev, name=f"early{i}")
        m.run()
        assert w.result == STATUS_SUCCESS
    assert ev.SignalState == 1
    do(m, sim, lambda k: getattr(k, reset_op)(ev))
    assert ev.SignalState == 0
    late = m.system.start(sim.wait_single, ev, name="late")
    m.run()
    assert late.state == "waiting"


def test_sync_event_releases_first_waiter_only(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    w1, w2, w3 = start_waiters(m, sim, ev, 3)
    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False))
    rec = sim.one_record(m, "KeSetEvent", "setter")
    assert rec.released == ("w1",)
    assert (w1.state, w2.state, w3.state) == ("terminated", "waiting", "waiting")
    assert w1.result == STATUS_SUCCESS
    assert ev.SignalState == 0
    assert sim.names(ev.waiters()) == ["w2", "w3"]


def test_sync_event_with_no_waiter_stays_signaled_and_next_wait_consumes_it(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False))
    assert ev.SignalState == 1
    first = m.system.start(sim.wait_single, ev, name="first")
    m.run()
    assert first.result == STATUS_SUCCESS
    assert ev.SignalState == 0
    second = m.system.start(sim.wait_single, ev, name="second")
    m.run()
    assert second.state == "waiting"


def test_sync_event_serves_waiters_from_the_head_one_per_set(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    start_waiters(m, sim, ev, 3)
    do(m, sim, *[lambda k: k.KeSetEvent(ev, 0, False)] * 3)
    assert [r.released for r in sim.records(m, "KeSetEvent", "setter")] == \
        [("w1",), ("w2",), ("w3",)]


def test_wait_all_waiters_ahead_are_woken_to_recheck_and_requeue_at_tail(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    other = m.kernel.KeInitializeEvent(NotificationEvent, False, name="F")
    all_ = m.system.start(sim.wait_multiple, [ev, other], WaitAll, name="all")
    m.run()
    any1, any2 = start_waiters(m, sim, ev, 2, prefix="any")
    assert sim.names(ev.waiters()) == ["all", "any1", "any2"]

    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False))
    rec = sim.one_record(m, "KeSetEvent", "setter")
    # the first wait-any waiter got the signal; the wait-all waiter ahead of it was only
    # woken to re-check, which is not a release
    assert rec.released == ("any1",)
    assert any1.result == STATUS_SUCCESS
    assert ev.SignalState == 0
    # the wait-all waiter re-checked, found F unsignaled and rejoined at the tail
    assert all_.state == "waiting"
    assert sim.names(ev.waiters()) == ["any2", "all"]

    do(m, sim, lambda k: k.KeSetEvent(ev, 0, False), name="setter2")
    assert sim.one_record(m, "KeSetEvent", "setter2").released == ("any2",)
    assert all_.state == "waiting"


# --- KeResetEvent, KeClearEvent, KeReadStateEvent ---------------------------------------

@BOTH_TYPES
def test_keresetevent_returns_previous_state(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, True)
    results = do(m, sim, lambda k: k.KeResetEvent(ev), lambda k: k.KeResetEvent(ev))
    assert results == [1, 0]
    assert ev.SignalState == 0


@BOTH_TYPES
def test_keclearevent_returns_nothing_and_clears(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, True)
    assert do(m, sim, lambda k: k.KeClearEvent(ev)) == [None]
    assert ev.SignalState == 0


@BOTH_TYPES
def test_kereadstateevent_returns_state(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, False)
    results = do(m, sim, lambda k: k.KeReadStateEvent(ev),
                 lambda k: k.KeSetEvent(ev, 0, False),
                 lambda k: k.KeReadStateEvent(ev))
    assert results == [0, 0, 1]
    assert ev.SignalState == 1      # reading does not consume, even a synchronization event


# --- KePulseEvent ------------------------------------------------------------------------

@BOTH_TYPES
def test_pulse_releases_nobody_when_no_waiters_and_leaves_state_zero(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, False)
    assert do(m, sim, lambda k: k.KePulseEvent(ev, 0, False)) == [0]
    assert ev.SignalState == 0
    rec = sim.one_record(m, "KePulseEvent", "setter")
    assert rec.released == ()
    assert rec.changes == ()            # it never signaled, not even for a moment
    # and a waiter that comes later is not released by the pulse that came before
    late = m.system.start(sim.wait_single, ev, name="late")
    m.run()
    assert late.state == "waiting"


@BOTH_TYPES
def test_pulse_on_signaled_event_returns_1_and_leaves_state_zero(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, True)
    assert do(m, sim, lambda k: k.KePulseEvent(ev, 0, False)) == [1]
    assert ev.SignalState == 0


def test_pulse_notification_event_releases_every_waiter_and_leaves_state_zero(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    ws = start_waiters(m, sim, ev, 3)
    assert do(m, sim, lambda k: k.KePulseEvent(ev, 0, False)) == [0]
    assert sim.one_record(m, "KePulseEvent", "setter").released == ("w1", "w2", "w3")
    assert [w.result for w in ws] == [STATUS_SUCCESS] * 3
    assert ev.SignalState == 0


def test_pulse_sync_event_releases_first_waiter_only_and_leaves_state_zero(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    w1, w2, w3 = start_waiters(m, sim, ev, 3)
    assert do(m, sim, lambda k: k.KePulseEvent(ev, 0, False)) == [0]
    assert sim.one_record(m, "KePulseEvent", "setter").released == ("w1",)
    assert (w2.state, w3.state) == ("waiting", "waiting")
    assert ev.SignalState == 0


def test_pulse_missed_by_waiter_out_of_wait_for_kernel_apc(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    w, = start_waiters(m, sim, ev, 1)
    # A kernel APC takes w out of its wait for a moment...
    assert m.kernel.KeInsertQueueApc(w, None, KernelMode) is True
    assert ev.waiters() == []
    # ...and a pulse in that moment finds nobody to release.
    assert m.kernel.KePulseEvent(ev, 0, False) == 0
    assert ev.SignalState == 0
    m.run()
    # w ran its APC and went back to waiting: the pulse is lost for it.
    assert w.state == "waiting"
    assert sim.names(ev.waiters()) == ["w1"]


def test_pulse_reaches_waiter_that_is_in_its_wait(m, sim):
    # the control for the test above: the same pulse without the APC releases w
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    w, = start_waiters(m, sim, ev, 1)
    assert m.kernel.KePulseEvent(ev, 0, False) == 0
    m.run()
    assert w.state == "terminated" and w.result == STATUS_SUCCESS


# --- KeSetEvent(..., Wait=TRUE) ------------------------------------------------------------

def test_setevent_wait_true_returns_with_irql_raised(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False)
    other = m.kernel.KeInitializeEvent(NotificationEvent, True)

    def body(k):
        yield k.KeSetEvent(ev, 0, True)
        status = yield k.KeWaitForSingleObject(other, Executive, KernelMode, False, None)
        return status

    t = m.system.start(body, name="t")
    m.step(t)
    assert t.irql == DISPATCH_LEVEL
    m.run()
    assert t.result == STATUS_SUCCESS
    assert m.bugcheck is None
    assert t.irql == PASSIVE_LEVEL


def test_setevent_wait_true_must_be_followed_by_a_wait(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False)

    def body(k):
        yield k.KeSetEvent(ev, 0, True)
        yield k.KeResetEvent(ev)          # not a KeWaitXxx: a driver bug

    m.system.start(body, name="t")
    result = m.run()
    assert result.reason == "bugcheck"
    assert m.bugcheck.code == 0xC4
    assert "KeSetEvent" in m.bugcheck.rule


# --- Win32 and the "two sets strand a consumer" trap -------------------------------------

def test_setting_signaled_sync_event_twice_strands_second_consumer(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    assert do(m, sim, lambda k: k.KeSetEvent(ev, 0, False),
              lambda k: k.KeSetEvent(ev, 0, False)) == [0, 1]
    c1 = m.system.start(sim.wait_single, ev, name="c1")
    c2 = m.system.start(sim.wait_single, ev, name="c2")
    m.run()
    assert c1.result == STATUS_SUCCESS
    assert c2.state == "waiting"


def test_win32_set_reset_pulse_return_true(m, app):
    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        out = [(yield api.SetEvent(h)), (yield api.SetEvent(h)),
               (yield api.ResetEvent(h)), (yield api.PulseEvent(h))]
        return out

    t = app.start(main, name="main")
    m.run()
    assert t.error is None
    assert t.result == [True, True, True, True]


def test_win32_two_setevents_before_two_waits_strand_one_consumer(m, app):
    from evtsim.status import WAIT_OBJECT_0, WAIT_TIMEOUT

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        yield api.SetEvent(h)
        yield api.SetEvent(h)
        first = yield api.WaitForSingleObject(h, 0)
        second = yield api.WaitForSingleObject(h, 0)
        return first, second

    t = app.start(main, name="main")
    m.run()
    assert t.result == (WAIT_OBJECT_0, WAIT_TIMEOUT)


def test_immediate_surface_pulse_and_set_return_previous_state(m):
    # m.kernel reports the same values as a thread would
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False)
    assert m.kernel.KeSetEvent(ev, 0, False) == 0
    assert m.kernel.KeSetEvent(ev, 0, False) == 1
    assert m.kernel.KeReadStateEvent(ev) == 1
    assert m.kernel.KePulseEvent(ev, 0, False) == 1
    assert m.kernel.KeReadStateEvent(ev) == 0
    assert m.kernel.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0) == STATUS_TIMEOUT
    with pytest.raises(EvtsimError):
        m.kernel.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
