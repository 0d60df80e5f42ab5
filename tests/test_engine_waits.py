"""docs/semantics.md section 2, waiting: one test per rule.

Time is always read from `m.time` and the trace (100 ns units), never from a clock on
the wall: a simulated hour must pass in a blink.
"""
from __future__ import annotations


import pytest

from evtsim.api.kernel import (APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, Executive,
                               KernelMode, NotificationEvent, SynchronizationEvent,
                               UserMode, WaitAll, WaitAny)
from evtsim.status import (STATUS_ALERTED, STATUS_SUCCESS, STATUS_TIMEOUT,
                           STATUS_USER_APC, STATUS_WAIT_0)

BOTH_TYPES = pytest.mark.parametrize("ev_type", [NotificationEvent, SynchronizationEvent],
                                     ids=["notification", "synchronization"])

MS = 10_000          # 100 ns units per millisecond


def last_wait_record(m, sim, name, op="KeWaitForSingleObject"):
    """The record of the step in which thread `name` returned from its wait."""
    found = sim.records(m, op, name)
    assert found, f"{name} never ran {op}"
    return found[-1]


def first_record(m, sim, name):
    found = sim.records(m, thread=name)
    assert found
    return found[0]


# --- the order of checks in one wait pass -------------------------------------------------

def test_signaled_object_beats_alert(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, True)
    t = m.system.start(sim.wait_single, ev, None, True, name="t")
    assert m.kernel.KeAlertThread(t, KernelMode) is False
    m.run()
    assert t.result == STATUS_SUCCESS
    assert ev.SignalState == 0


def test_alert_beats_zero_timeout(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, 0, True, name="t")
    m.kernel.KeAlertThread(t, KernelMode)
    m.run()
    assert t.result == STATUS_ALERTED


def test_alert_pending_is_kept_by_a_wait_satisfied_by_its_object(m, sim):
    # the signaled object won, so the alert is still there for the next alertable wait
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True)
    other = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.script,
                       lambda k: k.KeWaitForSingleObject(ev, Executive, KernelMode, True, None),
                       lambda k: k.KeWaitForSingleObject(other, Executive, KernelMode, True, None),
                       name="t")
    m.kernel.KeAlertThread(t, KernelMode)
    m.run()
    assert t.result == [STATUS_SUCCESS, STATUS_ALERTED]


def test_alert_ends_alertable_wait_with_status_alerted(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, None, True, name="t")
    m.run()
    assert t.state == "waiting"
    assert m.kernel.KeAlertThread(t, KernelMode) is False
    m.run()
    assert t.result == STATUS_ALERTED
    assert ev.waiters() == []


def test_alert_does_not_end_non_alertable_wait(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, None, False, name="t")
    m.run()
    m.kernel.KeAlertThread(t, KernelMode)
    m.run()
    assert t.state == "waiting"
    assert m.kernel.KeAlertThread(t, KernelMode) is True      # still pending


def test_user_apc_ends_alertable_user_mode_wait_with_status_user_apc(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, None, True, UserMode, name="t")
    m.run()
    assert t.state == "waiting"
    ran = []
    assert m.kernel.KeInsertQueueApc(t, ran.append, UserMode, "arg") is True
    m.run()
    assert t.result == STATUS_USER_APC
    assert ran == ["arg"]


def test_pending_user_apc_ends_alertable_user_mode_wait_at_once(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, 0, True, UserMode, name="t")
    ran = []
    m.kernel.KeInsertQueueApc(t, ran.append, UserMode, "arg")
    m.run()
    assert t.result == STATUS_USER_APC          # the APC beats the zero timeout
    assert ran == ["arg"]


def test_signaled_object_beats_pending_user_apc(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True)
    t = m.system.start(sim.wait_single, ev, None, True, UserMode, name="t")
    ran = []
    m.kernel.KeInsertQueueApc(t, ran.append, UserMode, "arg")
    m.run()
    assert t.result == STATUS_SUCCESS


def test_user_apc_does_not_end_non_alertable_wait(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, None, False, UserMode, name="t")
    m.run()
    m.kernel.KeInsertQueueApc(t, lambda arg: None, UserMode, None)
    m.run()
    assert t.state == "waiting"


def test_kernel_apc_does_not_end_a_wait(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, None, False, name="t")
    m.run()
    ran = []
    m.kernel.KeInsertQueueApc(t, lambda *args: ran.append(args), KernelMode)
    m.run()
    assert t.state == "waiting"
    assert len(ran) == 1
    m.kernel.KeSetEvent(ev, 0, False)
    m.run()
    assert t.result == STATUS_SUCCESS


def test_kernel_apc_does_not_restart_the_timeout(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, -50 * MS, name="t")
    m.run(until=30 * MS)
    assert t.state == "waiting"
    m.kernel.KeInsertQueueApc(t, None, KernelMode)
    m.run()
    assert t.result == STATUS_TIMEOUT
    assert last_wait_record(m, sim, "t").time <= 50 * MS + 100


def test_waiter_back_from_kernel_apc_rejoins_wait_list_at_tail(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    w1 = m.system.start(sim.wait_single, ev, name="w1")
    w2 = m.system.start(sim.wait_single, ev, name="w2")
    m.run()
    m.kernel.KeInsertQueueApc(w1, None, KernelMode)
    m.run()
    assert sim.names(ev.waiters()) == ["w2", "w1"]
    m.kernel.KeSetEvent(ev, 0, False)
    m.run()
    assert (w1.state, w2.state) == ("waiting", "terminated")


# --- timeouts -------------------------------------------------------------------------------

def test_timeout_none_waits_forever(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, None, name="t")
    before = m.time
    result = m.run()
    assert t.state == "waiting"
    assert result.reason == "deadlock"          # nothing inside the machine can set it
    assert m.time < before + 1000 * MS       # no timer was armed to jump the clock to


@BOTH_TYPES
def test_zero_timeout_polls_and_returns_status_timeout_at_once(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, False)
    t = m.system.start(sim.wait_single, ev, 0, name="t")
    rec = m.step(t)
    assert rec.result == STATUS_TIMEOUT
    assert t.state == "terminated" and t.result == STATUS_TIMEOUT
    assert ev.waiters() == []


def test_zero_timeout_on_signaled_event_returns_success(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, True)
    t = m.system.start(sim.wait_single, ev, 0, name="t")
    m.step(t)
    assert t.result == STATUS_SUCCESS
    assert ev.SignalState == 0


def test_relative_timeout_expires_in_virtual_time(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, -50 * MS, name="t")
    start = m.time
    m.run()
    assert t.result == STATUS_TIMEOUT
    back = last_wait_record(m, sim, "t")
    assert start + 50 * MS <= back.time <= start + 50 * MS + 100
    assert m.time >= start + 50 * MS


def test_relative_timeout_does_not_fire_early(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, -50 * MS, name="t")
    start = m.time
    result = m.run(until=start + 49 * MS)
    assert result.reason == "time"
    assert t.state == "waiting"
    m.run()
    assert t.result == STATUS_TIMEOUT


def test_relative_timeout_is_ignored_when_object_is_signaled_first(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, -50 * MS, name="t")
    setter = m.system.start(sim.script, lambda k: k.KeDelayExecutionThread(KernelMode, False,
                                                                           -10 * MS),
                            lambda k: k.KeSetEvent(ev, 0, False), name="setter")
    m.run()
    assert t.result == STATUS_SUCCESS
    assert last_wait_record(m, sim, "t").time < 50 * MS
    assert setter.state == "terminated"


def test_absolute_timeout_expires_at_that_system_time(m, sim):
    """A positive timeout is a system time (MS KeWaitForSingleObject): boot time plus
    70 ms is 70 ms of interrupt time after boot, not 70 ms after the wait began."""
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    due = m.kernel.KeQuerySystemTime() - m.time + 70 * MS      # 70 ms after boot
    t = m.system.start(sim.script,
                       lambda k: k.KeDelayExecutionThread(KernelMode, False, -30 * MS),
                       lambda k: k.KeWaitForSingleObject(ev, Executive, KernelMode, False, due),
                       name="t")
    m.run()
    assert t.result == [STATUS_SUCCESS, STATUS_TIMEOUT]
    # due at t=70 ms since boot, not 70 ms after the wait began (t=30 ms)
    assert 70 * MS <= last_wait_record(m, sim, "t").time <= 70 * MS + 100


def test_absolute_timeout_in_the_past_returns_at_once(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    boot = m.kernel.KeQuerySystemTime() - m.time
    t = m.system.start(sim.script,
                       lambda k: k.KeDelayExecutionThread(KernelMode, False, -1 * MS),
                       lambda k: k.KeWaitForSingleObject(ev, Executive, KernelMode, False,
                                                         boot + 1),
                       name="t")
    m.run()
    assert t.result == [STATUS_SUCCESS, STATUS_TIMEOUT]
    waits = sim.records(m, "KeWaitForSingleObject", "t")
    assert len(waits) == 1 and waits[0].state != "waiting"     # it never blocked


def test_timeouts_take_virtual_time_never_real_time(m, sim):
    hour = 3600 * 1000 * MS
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(sim.wait_single, ev, -hour, name="t")
    result = m.run()
    assert t.result == STATUS_TIMEOUT
    assert m.time >= hour
    # The clock jumps to the timeout: the wait, the timer firing and the return from the
    # wait are the whole run, not an hour of ticks.
    assert result.steps == 2
    assert [(r.thread, r.op) for r in m.trace][1:] == [
        ("t", "KeWaitForSingleObject"), ("clock", "Timeout"), ("t", "KeWaitForSingleObject")]


def test_kedelayexecutionthread_waits_relative_interval_in_virtual_time(m, sim):
    t = m.system.start(sim.script,
                       lambda k: k.KeDelayExecutionThread(KernelMode, False, -30 * MS),
                       name="t")
    start = m.time
    m.run()
    assert t.result == [STATUS_SUCCESS]
    back = last_wait_record(m, sim, "t", "KeDelayExecutionThread")
    assert start + 30 * MS <= back.time <= start + 30 * MS + 100


def test_kedelayexecutionthread_absolute_interval(m, sim):
    boot = m.kernel.KeQuerySystemTime() - m.time
    t = m.system.start(sim.script,
                       lambda k: k.KeDelayExecutionThread(KernelMode, False, -10 * MS),
                       lambda k: k.KeDelayExecutionThread(KernelMode, False, boot + 40 * MS),
                       name="t")
    m.run()
    assert t.result == [STATUS_SUCCESS, STATUS_SUCCESS]
    assert 40 * MS <= m.time <= 40 * MS + 100


def test_alertable_kedelayexecutionthread_is_ended_by_alert(m, sim):
    t = m.system.start(sim.script,
                       lambda k: k.KeDelayExecutionThread(KernelMode, True, -30 * MS),
                       name="t")
    m.step(t)
    assert t.state == "waiting"
    m.kernel.KeAlertThread(t, KernelMode)
    m.run()
    assert t.result == [STATUS_ALERTED]
    assert m.time < 30 * MS


def test_two_delays_wake_in_due_order_not_start_order(m, sim):
    slow = m.system.start(sim.script,
                          lambda k: k.KeDelayExecutionThread(KernelMode, False, -20 * MS),
                          name="slow")
    fast = m.system.start(sim.script,
                          lambda k: k.KeDelayExecutionThread(KernelMode, False, -10 * MS),
                          name="fast")
    m.run()
    assert last_wait_record(m, sim, "fast", "KeDelayExecutionThread").seq < \
        last_wait_record(m, sim, "slow", "KeDelayExecutionThread").seq
    assert slow.state == fast.state == "terminated"


# --- consuming ----------------------------------------------------------------------------

def test_wait_on_sync_event_consumes_it(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, True)
    t = m.system.start(sim.wait_single, ev, name="t")
    m.run()
    assert t.result == STATUS_SUCCESS
    assert ev.SignalState == 0


def test_wait_on_notification_event_does_not_consume_it(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True)
    t = m.system.start(sim.wait_single, ev, name="t")
    m.run()
    assert t.result == STATUS_SUCCESS
    assert ev.SignalState == 1


def test_wait_any_returns_lowest_signaled_index_and_consumes_only_it(m, sim):
    e0 = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E0")
    e1 = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="E1")
    e2 = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="E2")
    t = m.system.start(sim.wait_multiple, [e0, e1, e2], WaitAny, name="t")
    m.run()
    assert t.result == STATUS_WAIT_0 + 1
    assert (e0.SignalState, e1.SignalState, e2.SignalState) == (0, 0, 1)


def test_blocked_wait_any_returns_index_of_object_that_was_signaled(m, sim):
    e0 = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E0")
    e1 = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E1")
    e2 = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E2")
    t = m.system.start(sim.wait_multiple, [e0, e1, e2], WaitAny, name="t")
    m.run()
    assert t.state == "waiting"
    m.kernel.KeSetEvent(e2, 0, False)
    m.run()
    assert t.result == STATUS_WAIT_0 + 2
    assert e2.SignalState == 0
    # a satisfied wait-any leaves the wait lists of the other objects
    assert e0.waiters() == [] and e1.waiters() == []


def test_wait_all_consumes_nothing_if_any_unsignaled(m, sim):
    e0 = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="E0")
    e1 = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E1")
    t = m.system.start(sim.wait_multiple, [e0, e1], WaitAll, 0, name="t")
    m.run()
    assert t.result == STATUS_TIMEOUT
    assert (e0.SignalState, e1.SignalState) == (1, 0)


def test_wait_all_blocked_consumes_nothing_while_waiting(m, sim):
    e0 = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="E0")
    e1 = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E1")
    t = m.system.start(sim.wait_multiple, [e0, e1], WaitAll, name="t")
    m.run()
    assert t.state == "waiting"
    assert e0.SignalState == 1
    # another thread can still take E0 meanwhile
    u = m.system.start(sim.wait_single, e0, 0, name="u")
    m.run()
    assert u.result == STATUS_SUCCESS


def test_wait_all_returns_wait_0_and_consumes_every_sync_object_when_all_signaled(m, sim):
    e0 = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="E0")
    e1 = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E1")
    t = m.system.start(sim.wait_multiple, [e0, e1], WaitAll, name="t")
    m.run()
    assert t.state == "waiting"
    m.kernel.KeSetEvent(e1, 0, False)
    m.run()
    assert t.result == STATUS_WAIT_0
    assert (e0.SignalState, e1.SignalState) == (0, 1)


# --- limits ---------------------------------------------------------------------------------

def events(m, count, state=False):
    return [m.kernel.KeInitializeEvent(NotificationEvent, state, name=f"E{i}")
            for i in range(count)]


@pytest.mark.parametrize("wait_type", [WaitAny, WaitAll], ids=["any", "all"])
def test_three_objects_without_wait_block_array_are_allowed(m, sim, wait_type):
    t = m.system.start(sim.wait_multiple, events(m, 3, True), wait_type, name="t")
    m.run()
    assert m.bugcheck is None
    assert t.result == STATUS_WAIT_0


@pytest.mark.parametrize("wait_type", [WaitAny, WaitAll], ids=["any", "all"])
def test_more_than_three_objects_without_wait_block_array_is_bugcheck_0xC(m, sim, wait_type):
    t = m.system.start(sim.wait_multiple, events(m, 4, True), wait_type, name="t")
    result = m.run()
    assert result.reason == "bugcheck"
    assert m.bugcheck.code == 0xC
    assert sim.thread_name(m.bugcheck.thread) == "t"
    assert t.result is None


def test_up_to_64_objects_with_wait_block_array_are_allowed(m, sim):
    objs = events(m, 64, True)
    t = m.system.start(sim.wait_multiple, objs, WaitAll, None,
                       [object() for _ in objs], name="t")
    m.run()
    assert m.bugcheck is None
    assert t.result == STATUS_WAIT_0


def test_more_than_64_objects_is_bugcheck_0xC_even_with_wait_block_array(m, sim):
    objs = events(m, 65, True)
    m.system.start(sim.wait_multiple, objs, WaitAny, None, [object() for _ in objs],
                   name="t")
    result = m.run()
    assert result.reason == "bugcheck"
    assert m.bugcheck.code == 0xC


# --- FIFO ----------------------------------------------------------------------------------

@BOTH_TYPES
def test_waiters_are_queued_at_tail_and_served_from_head(m, sim, ev_type):
    ev = m.kernel.KeInitializeEvent(ev_type, False, name="E")
    order = ["c", "a", "d", "b"]
    for name in order:
        m.system.start(sim.wait_single, ev, name=name)
        m.run()
    assert sim.names(ev.waiters()) == order
    setter = m.system.start(sim.script, *[lambda k: k.KeSetEvent(ev, 0, False),
                                          lambda k: k.KeResetEvent(ev)] * 4, name="setter")
    m.run()
    assert setter.state == "terminated"
    released = [r.released for r in sim.records(m, "KeSetEvent", "setter")]
    if ev_type == SynchronizationEvent:
        assert released == [("c",), ("a",), ("d",), ("b",)]
    else:
        assert released[0] == tuple(order)


# --- IRQL ------------------------------------------------------------------------------------

def at_dispatch(k, *steps):
    """Raise to DISPATCH_LEVEL, then make the calls."""
    yield k.KeRaiseIrql(DISPATCH_LEVEL)
    results = []
    for step in steps:
        results.append((yield step(k)))
    yield k.KeLowerIrql(PASSIVE_LEVEL)
    return results


@pytest.mark.parametrize("timeout", [None, -10 * MS], ids=["infinite", "relative"])
def test_nonzero_timeout_wait_at_dispatch_level_is_bugcheck_0xC4(m, sim, timeout):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    m.system.start(at_dispatch,
                   lambda k: k.KeWaitForSingleObject(ev, Executive, KernelMode, False, timeout),
                   name="t")
    result = m.run()
    assert result.reason == "bugcheck"
    assert m.bugcheck.code == 0xC4
    assert "KeWaitForSingleObject" in m.bugcheck.rule


def test_nonzero_timeout_wait_at_dispatch_level_is_bugcheck_even_if_signaled(m, sim):
    # Verifier checks the IRQL rule on entry, whether or not the wait would block
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True)
    m.system.start(at_dispatch,
                   lambda k: k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None),
                   name="t")
    assert m.run().reason == "bugcheck"
    assert m.bugcheck.code == 0xC4
    assert "KeWaitForSingleObject" in m.bugcheck.rule


def test_zero_timeout_wait_at_dispatch_level_is_allowed(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(at_dispatch,
                       lambda k: k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0),
                       name="t")
    m.run()
    assert m.bugcheck is None
    assert t.result == [STATUS_TIMEOUT]


def test_nonzero_timeout_wait_at_apc_level_is_allowed(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        yield k.KeRaiseIrql(APC_LEVEL)
        status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, -1 * MS)
        yield k.KeLowerIrql(PASSIVE_LEVEL)
        return status

    t = m.system.start(body, name="t")
    m.run()
    assert m.bugcheck is None
    assert t.result == STATUS_TIMEOUT


def test_kesetevent_at_dispatch_level_is_allowed(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t = m.system.start(at_dispatch, lambda k: k.KeSetEvent(ev, 0, False), name="t")
    m.run()
    assert m.bugcheck is None
    assert t.result == [0]


def test_kesetevent_above_dispatch_level_is_bugcheck_0xC4(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        yield k.KeRaiseIrql(DISPATCH_LEVEL + 1)
        yield k.KeSetEvent(ev, 0, False)

        yield k.KeLowerIrql(PASSIVE_LEVEL)

    m.system.start(body, name="t")
    assert m.run().reason == "bugcheck"
    assert m.bugcheck.code == 0xC4
    assert "KeSetEvent" in m.bugcheck.rule


def test_kesetevent_wait_true_at_dispatch_level_is_bugcheck_0xC4(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    m.system.start(at_dispatch, lambda k: k.KeSetEvent(ev, 0, True), name="t")
    assert m.run().reason == "bugcheck"
    assert m.bugcheck.code == 0xC4
    assert "KeSetEvent" in m.bugcheck.rule


def test_bugcheck_names_the_thread_and_the_line(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        yield k.KeRaiseIrql(DISPATCH_LEVEL)
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)  # BAD WAIT

    m.system.start(body, name="culprit")
    m.run()
    bc = m.bugcheck
    assert sim.thread_name(bc.thread) == "culprit"
    assert bc.line == sim.line_of(body, "# BAD WAIT")
    assert bc.explanation and "Traceback" not in bc.explanation


def dpc_machine(m, routine):
    """Queue a DPC running `routine` from a system thread."""
    def body(k):
        dpc = yield k.KeInitializeDpc(routine, None)
        queued = yield k.KeInsertQueueDpc(dpc, None, None)
        return queued

    return m.system.start(body, name="queuer")


def test_wait_inside_dpc_is_bugcheck_0xB8(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def routine(k, *args):
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)

    dpc_machine(m, routine)
    result = m.run()
    assert result.reason == "bugcheck"
    assert m.bugcheck.code == 0xB8


def test_zero_timeout_wait_inside_dpc_is_allowed(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    seen = []

    def routine(k, *args):
        seen.append((yield k.KeGetCurrentIrql()))
        seen.append((yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)))
        yield k.KeSetEvent(ev, 0, False)

    dpc_machine(m, routine)
    m.run()
    assert m.bugcheck is None
    assert seen == [DISPATCH_LEVEL, STATUS_TIMEOUT]
    assert ev.SignalState == 1


# --- Win32 waits ------------------------------------------------------------------------------

def run_app(m, app, main):
    t = app.start(main, name="main")
    m.run()
    assert t.error is None, t.error
    return t.result


def test_win32_wait_returns_wait_object_0_plus_lowest_index(m, app):
    from evtsim.status import WAIT_OBJECT_0

    def main(api):
        a = yield api.CreateEvent(None, True, False, None)
        b = yield api.CreateEvent(None, True, True, None)
        c = yield api.CreateEvent(None, True, True, None)
        r = yield api.WaitForMultipleObjects(3, [a, b, c], False, 0)
        return r

    assert run_app(m, app, main) == WAIT_OBJECT_0 + 1


def test_win32_timeout_is_in_milliseconds(m, app):
    from evtsim.status import WAIT_TIMEOUT

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        r = yield api.WaitForSingleObject(h, 25)
        return r

    start = m.time
    assert run_app(m, app, main) == WAIT_TIMEOUT
    assert start + 25 * MS <= m.time <= start + 25 * MS + 200


def test_win32_sleep_is_in_milliseconds(m, app):
    def main(api):
        yield api.Sleep(15)

    start = m.time
    run_app(m, app, main)
    assert start + 15 * MS <= m.time <= start + 15 * MS + 200


def test_win32_infinite_waits_forever(m, app):
    from evtsim.status import INFINITE

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        r = yield api.WaitForSingleObject(h, INFINITE)
        return r

    t = app.start(main, name="main")
    m.run()
    assert t.state == "waiting"
    assert m.time < INFINITE * MS


def test_win32_wait_on_bad_handle_fails_with_invalid_handle(m, app):
    from evtsim.status import ERROR_INVALID_HANDLE, WAIT_FAILED

    def main(api):
        r = yield api.WaitForSingleObject(0x1234 * 4, 0)
        e = yield api.GetLastError()
        return r, e

    assert run_app(m, app, main) == (WAIT_FAILED, ERROR_INVALID_HANDLE)


def test_win32_wait_without_synchronize_access_is_denied(m, app):
    from evtsim.status import ERROR_ACCESS_DENIED, EVENT_MODIFY_STATE, WAIT_FAILED

    def main(api):
        yield api.CreateEvent(None, True, True, "NoSync")
        h = yield api.OpenEvent(EVENT_MODIFY_STATE, False, "NoSync")
        r = yield api.WaitForSingleObject(h, 0)
        e = yield api.GetLastError()
        return r, e

    assert run_app(m, app, main) == (WAIT_FAILED, ERROR_ACCESS_DENIED)


def test_win32_low_two_bits_of_a_handle_are_ignored(m, app):
    from evtsim.status import WAIT_OBJECT_0

    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        r = yield api.WaitForSingleObject(h | 3, 0)
        return r

    assert run_app(m, app, main) == WAIT_OBJECT_0


def test_win32_more_than_64_handles_fails_with_invalid_parameter(m, app):
    from evtsim.status import ERROR_INVALID_PARAMETER, WAIT_FAILED

    def main(api):
        handles = []
        for _ in range(65):
            handles.append((yield api.CreateEvent(None, True, True, None)))
        r = yield api.WaitForMultipleObjects(65, handles, False, 0)
        e = yield api.GetLastError()
        return r, e

    assert run_app(m, app, main) == (WAIT_FAILED, ERROR_INVALID_PARAMETER)
