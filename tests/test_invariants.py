"""Debug mode checks the machine's bookkeeping after every step (issue 10).

Every scenario, and random click-like sequences on them (Set/Reset/Clear/Pulse through
`m.kernel`, single steps, short runs), run with the invariants of `evtsim.invariants`
checked after each recorded step. Then each invariant is shown to fire on a machine
corrupted on purpose, so a silent `check` cannot pass for a working one.
"""
from __future__ import annotations

import itertools

from budgets import examples
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evtsim import EvtsimError, Machine, scenarios
from evtsim import invariants
from evtsim.api.kernel import (Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent, WaitAll, WaitAny)
from evtsim.dispatcher import KEVENT, WaitBlock
from evtsim.errors import BugCheckError
from evtsim.invariants import (HANDLE_COUNT, POINTER_COUNT, READY_QUEUE,
                               SIGNAL_STATE, SIGNALED_WITH_WAITERS, WAIT_LISTS,
                               InvariantViolation, check)
from evtsim.status import EVENT_ALL_ACCESS, INFINITE

SCENARIO_MODULES = ("patterns", "sharing", "traps")


@pytest.fixture
def debug_scenarios(monkeypatch):
    """Scenario builders make debug machines, so even their build-time steps are checked."""
    import importlib

    class DebugMachine(Machine):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("debug", True)
            super().__init__(*args, **kwargs)

    scenarios.names()
    for name in SCENARIO_MODULES:
        module = importlib.import_module(f"evtsim.scenarios.{name}")
        monkeypatch.setattr(module, "Machine", DebugMachine)
    return scenarios


def variants(name: str):
    """Each scenario's parameter variants: both values of every flag, a few policies."""
    defaults = scenarios.get(name).defaults
    out = [{}]
    for key, value in defaults.items():
        if isinstance(value, bool):
            out.append({key: not value})
    for policy, seed in (("run_until_block", 0), ("random", 1), ("random", 7)):
        out.append({"policy": policy, "seed": seed})
    if "create_in" in defaults:
        out.append({"create_in": "dispatch"})
    if "waiters" in defaults:
        out.append({"waiters": 6})
    if "namespace" in defaults:
        out.append({"namespace": "modern"})
    return out


CASES = [(name, params) for name in scenarios.names() for params in variants(name)]


def test_invariant_violation_is_an_evtsim_error_and_an_assertion():
    assert issubclass(InvariantViolation, EvtsimError)
    assert issubclass(InvariantViolation, AssertionError)
    error = InvariantViolation(WAIT_LISTS, "x")
    assert error.invariant == WAIT_LISTS and "wait-lists" in str(error)


@pytest.mark.parametrize("name,params", CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'default'}"
                              for n, p in CASES])
def test_every_scenario_keeps_the_invariants_after_every_step(debug_scenarios, name, params):
    before = invariants.stats["checks"]
    m = debug_scenarios.build(name, **params)
    assert m.debug
    result = m.run(max_steps=20_000)
    plain = scenarios.build(name, **params)              # the same run without the checks
    assert result.reason == plain.run(max_steps=20_000).reason
    assert [str(r) for r in m.trace] == [str(r) for r in plain.trace]   # debug changes nothing
    check(m)
    assert invariants.stats["checks"] - before >= len(m.trace) - 1


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_stepped_one_step_at_a_time_keeps_the_invariants(name):
    m = scenarios.build(name, policy="manual")
    m.debug = True
    for _ in range(2_000):
        choices = m.choices()
        if not choices:
            break
        m.step(choices[-1])          # the newest ready thread: another interleaving
    check(m)


# --- random click-like operations -----------------------------------------------------
CLICKS = st.lists(
    st.tuples(st.sampled_from(["set", "reset", "clear", "pulse", "read", "step",
                               "step_thread", "run", "choices"]),
              st.integers(min_value=0, max_value=50)),
    max_size=40)


def click(m, action: str, n: int) -> None:
    events = [o for o in m.dispatcher_objects
              if type(o) is KEVENT and not (o.header is not None and o.header.deleted)]
    try:
        if action in ("set", "reset", "clear", "pulse", "read") and events:
            event = events[n % len(events)]
            routine = {"set": m.kernel.KeSetEvent, "reset": m.kernel.KeResetEvent,
                       "clear": m.kernel.KeClearEvent, "pulse": m.kernel.KePulseEvent,
                       "read": m.kernel.KeReadStateEvent}[action]
            routine(event)
        elif action == "step":
            m.step()
        elif action == "step_thread":
            ready = m.ready
            if ready:
                m.step(ready[n % len(ready)])
        elif action == "run":
            m.run(max_steps=n)
        elif action == "choices":
            m.choices()
    except InvariantViolation:
        raise
    except (BugCheckError, EvtsimError):
        pass            # a crashed machine refuses; an instructor mistake is explained


@settings(max_examples=examples(60), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(scenarios.names()), clicks=CLICKS,
       policy=st.sampled_from(["round_robin", "manual", "random", "run_until_block"]))
def test_random_clicks_keep_the_invariants(name, clicks, policy):
    m = scenarios.build(name, policy=policy)
    m.debug = True
    for action, n in clicks:
        click(m, action, n)
    if not m.bugcheck and policy != "manual":
        m.run(max_steps=5_000)
    check(m)


# --- each invariant can fire ------------------------------------------------------------
def waiter(k, objects, wait_type=WaitAny):
    if len(objects) == 1:
        return (yield k.KeWaitForSingleObject(objects[0], Executive, KernelMode, False, None))
    return (yield k.KeWaitForMultipleObjects(len(objects), list(objects), wait_type,
                                             Executive, KernelMode, False, None))


def app_with_handle(m):
    """A user process holding a handle to a named event; returns (process, handle, event)."""
    app = m.process("app.exe")

    def main(api):
        handle = yield api.CreateEvent(None, True, False, "Shared")
        return handle
    thread = app.start(main)
    m.run()
    handle = thread.result
    return app, handle, app.handles.get(handle).object


def expect(invariant: str, m):
    with pytest.raises(InvariantViolation) as caught:
        check(m)
    assert caught.value.invariant == invariant, caught.value
    return str(caught.value)


def test_a_clean_machine_passes():
    m = Machine(debug=True)
    app_with_handle(m)
    check(m)


def test_handle_count_fires_when_the_count_disagrees_with_the_tables():
    m = Machine()
    _, _, event = app_with_handle(m)
    event.header.handle_count += 1
    text = expect(HANDLE_COUNT, m)
    assert "Shared" in text and "2 handle(s)" in text


def test_handle_count_fires_for_a_table_entry_nobody_counted():
    m = Machine()
    app, _, event = app_with_handle(m)
    app.handles.insert(event, EVENT_ALL_ACCESS, 0)      # an entry without the count
    expect(HANDLE_COUNT, m)


def test_pointer_count_fires_when_negative():
    m = Machine()
    _, _, event = app_with_handle(m)
    event.header.handle_count = 0
    for process in m.processes:                        # drop the table entry too
        for value, entry in list(process.handles):
            if entry.object is event:
                process.handles.remove(value)
    event.header.pointer_count = -1
    assert "negative" in expect(POINTER_COUNT, m)


def test_pointer_count_fires_when_below_the_handle_count():
    m = Machine()
    _, _, event = app_with_handle(m)
    event.header.pointer_count = 0
    assert "below its handle count" in expect(POINTER_COUNT, m)


def test_wait_lists_fire_for_a_waiter_missing_from_a_wait_list():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    m.system.start(waiter, [ev], name="w")
    m.run()
    ev.wait_list.clear()
    assert "w waits on ['Go']" in expect(WAIT_LISTS, m)


def test_wait_lists_fire_for_a_waiter_on_an_extra_wait_list():
    m = Machine()
    a = m.kernel.KeInitializeEvent(NotificationEvent, False, name="A")
    b = m.kernel.KeInitializeEvent(NotificationEvent, False, name="B")
    t = m.system.start(waiter, [a], name="w")
    m.run()
    b.wait_list.append(WaitBlock(t, b, 0, WaitAny))
    expect(WAIT_LISTS, m)


def test_wait_lists_fire_for_a_thread_that_no_longer_waits():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Go")
    t = m.system.start(waiter, [ev], name="w")
    m.run()
    block = ev.wait_list[0]
    m.kernel.KeSetEvent(ev)
    m.run()
    assert t.state == "terminated"
    ev.wait_list.append(block)
    assert "terminated, not waiting" in expect(WAIT_LISTS, m)


def test_wait_lists_fire_for_a_wait_block_on_the_wrong_list():
    m = Machine()
    a = m.kernel.KeInitializeEvent(NotificationEvent, False, name="A")
    b = m.kernel.KeInitializeEvent(NotificationEvent, False, name="B")
    m.system.start(waiter, [a, b], WaitAll, name="w")
    m.run()
    a.wait_list[0], b.wait_list[0] = b.wait_list[0], a.wait_list[0]
    expect(WAIT_LISTS, m)


def test_signaled_notification_event_with_a_waiter_fires():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    m.system.start(waiter, [ev], name="w")
    m.run()
    ev.SignalState = 1                      # set behind the dispatcher's back
    text = expect(SIGNALED_WITH_WAITERS, m)
    assert "notification event Go" in text and "w" in text


def test_signaled_object_with_a_wait_all_waiter_is_allowed():
    m = Machine(debug=True)
    a = m.kernel.KeInitializeEvent(NotificationEvent, False, name="A")
    b = m.kernel.KeInitializeEvent(NotificationEvent, False, name="B")
    m.system.start(waiter, [a, b], WaitAll, name="w")
    m.run()
    m.kernel.KeSetEvent(a)
    m.run()
    assert a.SignalState == 1 and a.waiters()
    check(m)


def test_signal_state_fires_for_a_state_other_than_0_or_1():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    ev.SignalState = 2
    assert "Go has signal state 2" in expect(SIGNAL_STATE, m)


def two_ready_threads(m):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True, name="Go")
    t1 = m.system.start(waiter, [ev], name="t1")
    t2 = m.system.start(waiter, [ev], name="t2")
    return t1, t2


def test_ready_queue_fires_for_a_ready_thread_outside_the_queue():
    m = Machine(policy="manual")
    t1, _ = two_ready_threads(m)
    m.scheduler.ready.remove(t1)
    assert "t1 is ready but not in the ready queue" in expect(READY_QUEUE, m)


def test_ready_queue_fires_for_a_thread_queued_twice():
    m = Machine(policy="manual")
    t1, _ = two_ready_threads(m)
    m.scheduler.ready.append(t1)
    assert "twice" in expect(READY_QUEUE, m)


def test_ready_queue_fires_for_a_waiting_thread_in_the_queue():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    t = m.system.start(waiter, [ev], name="w")
    m.run()
    m.scheduler.ready.append(t)
    assert "w is in the ready queue but is waiting" in expect(READY_QUEUE, m)


def test_ready_queue_fires_for_a_thread_running_between_steps():
    m = Machine(policy="manual")
    t1, _ = two_ready_threads(m)
    m.scheduler.ready.remove(t1)
    t1.state = "running"
    assert "running between steps" in expect(READY_QUEUE, m)


def test_ready_queue_fires_for_another_machines_thread():
    m, other = Machine(policy="manual"), Machine(policy="manual")
    t1, _ = two_ready_threads(other)
    m.scheduler.ready.append(t1)
    expect(READY_QUEUE, m)


def test_debug_mode_stops_at_the_step_that_broke_an_invariant():
    m = Machine(debug=True)
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    other = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Other")

    def corrupt(k):
        yield k.KeReadStateEvent(ev)
        other.SignalState = 5               # the learner's code scribbles on a KEVENT
        yield k.KeReadStateEvent(ev)
        yield k.KeReadStateEvent(ev)

    m.system.start(corrupt, name="scribbler")
    before = len(m.trace)
    with pytest.raises(InvariantViolation) as caught:
        m.run()
    assert caught.value.invariant == SIGNAL_STATE
    assert len(m.trace) == before + 1                  # the very step that scribbled
    assert m.trace[-1].thread == "scribbler"


def test_the_checks_are_counted():
    before = invariants.stats["checks"]
    m = Machine(debug=True)
    two_ready_threads(m)
    m.run()
    assert invariants.stats["checks"] - before == len(m.trace)


def test_check_is_linear_in_the_size_of_the_machine():
    """A check visits each thread, wait block, object and handle a fixed number of times,
    so a machine 20 times the size costs 20 times the work (quadratic would be 400 times).
    The work is counted (items visited), never timed."""

    def build(n):
        m = Machine()
        events = [m.kernel.KeInitializeEvent(NotificationEvent, False) for _ in range(n // 10)]
        for i in range(n):
            m.system.start(waiter, [events[i % len(events)]], name=f"w{i}")
        m.run()
        return m

    def work(m):
        before = invariants.stats["visited"]
        check(m)
        return invariants.stats["visited"] - before

    def size(m):
        return (len(m.threads) + len(m.dispatcher_objects)
                + sum(len(o.wait_list) for o in m.dispatcher_objects)
                + sum(1 for p in m.processes for _ in p.handles))

    small, large = build(200), build(4_000)
    assert size(large) > 19 * size(small)
    per_item_small, per_item_large = work(small) / size(small), work(large) / size(large)
    assert 1 <= per_item_large <= per_item_small * 1.05, (per_item_small, per_item_large)
