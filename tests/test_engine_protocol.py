"""The engine's own contract (docs/engine.md): the yield protocol, scheduler policies,
run results, the deadlock report, determinism, bug checks, the immediate surface
`m.kernel`, trace records and observers.
"""
from __future__ import annotations

import json

import pytest

import evtsim
from evtsim import EvtsimError, Machine
from evtsim.api.kernel import (PASSIVE_LEVEL, Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent, WaitAny)
from evtsim.status import STATUS_SUCCESS, STATUS_TIMEOUT


def spin(k, n):
    """Make `n` harmless calls."""
    for _ in range(n):
        yield k.KeGetCurrentIrql()


def thread_order(m):
    """Who ran each step (leaving out m.kernel's and the clock's records)."""
    return [r.thread for r in m.trace if r.thread not in ("instructor", "clock")]


# --- public names -------------------------------------------------------------------------

def test_public_names_are_exported():
    for name in ("Machine", "EvtsimError"):
        assert name in evtsim.__all__
        assert hasattr(evtsim, name)


# --- the yield protocol ----------------------------------------------------------------------

def test_start_runs_thread_to_its_first_yield(m):
    ran = []

    def body(k):
        ran.append("before")
        yield k.KeGetCurrentIrql()
        ran.append("after")

    t = m.system.start(body, name="t")
    assert ran == ["before"]
    assert t.state == "ready"
    assert m.trace == []


def test_each_step_completes_one_call(m):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        yield k.KeSetEvent(ev, 0, False)
        yield k.KeResetEvent(ev)

    t = m.system.start(body, name="t")
    rec = m.step(t)
    assert rec.op == "KeSetEvent"
    assert ev.SignalState == 1          # the first call ran, the second did not
    rec = m.step(t)
    assert rec.op == "KeResetEvent"
    assert ev.SignalState == 0
    assert t.state == "terminated"


def test_wait_that_blocks_ends_the_step_and_its_return_is_a_later_step(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    w = m.system.start(sim.wait_single, ev, name="w")
    rec = m.step(w)
    assert rec.op == "KeWaitForSingleObject" and rec.state == "waiting"
    assert w.state == "waiting"
    assert w.waiting_on == [ev]
    m.kernel.KeSetEvent(ev, 0, False)
    assert w.state == "ready"
    rec = m.step(w)
    assert rec.op == "KeWaitForSingleObject"
    assert rec.result == STATUS_SUCCESS
    assert w.state == "terminated" and w.result == STATUS_SUCCESS


def test_forgotten_yield_is_reported_with_the_call_and_the_line(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        k.KeSetEvent(ev, 0, False)  # FORGOTTEN
        yield k.KeReadStateEvent(ev)

    t = m.system.start(body, name="t")
    result = m.run()
    assert result.reason == "error"
    assert isinstance(t.error, EvtsimError)
    message = str(t.error)
    assert "KeSetEvent" in message
    assert str(sim.line_of(body, "# FORGOTTEN")) in message
    assert ev.SignalState == 0          # a call that is not yielded never runs


def test_forgotten_yield_as_last_statement_is_reported(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        yield k.KeReadStateEvent(ev)
        k.KeSetEvent(ev, 0, False)  # FORGOTTEN

    t = m.system.start(body, name="t")
    assert m.run().reason == "error"
    assert isinstance(t.error, EvtsimError)
    assert "KeSetEvent" in str(t.error)
    assert str(sim.line_of(body, "# FORGOTTEN")) in str(t.error)


def test_yielding_a_non_call_says_so_plainly(m):
    def body(k):
        yield 5

    t = m.system.start(body, name="t")
    assert m.run().reason == "error"
    assert isinstance(t.error, EvtsimError)
    message = str(t.error)
    assert "5" in message
    assert "Traceback" not in message and "evtsim/" not in message


def test_yielding_a_routine_without_calling_it_says_so_plainly(m):
    def body(k):
        yield k.KeSetEvent

    t = m.system.start(body, name="t")
    assert m.run().reason == "error"
    assert isinstance(t.error, EvtsimError)
    message = str(t.error)
    assert "KeSetEvent" in message
    assert "Traceback" not in message


def test_protocol_error_can_be_caught_by_the_thread(m):
    def body(k):
        try:
            yield 5
        except EvtsimError:
            pass
        irql = yield k.KeGetCurrentIrql()
        return irql

    t = m.system.start(body, name="t")
    assert m.run().reason == "done"
    assert t.error is None and t.result == PASSIVE_LEVEL


def test_learner_exception_ends_thread_and_run_with_reason_error(m):
    def body(k):
        yield k.KeGetCurrentIrql()
        raise ValueError("my bug")

    t = m.system.start(body, name="t")
    other = m.system.start(spin, 50, name="other")
    result = m.run()
    assert result.reason == "error"
    assert result.thread is t
    assert isinstance(t.error, ValueError) and str(t.error) == "my bug"
    assert t.state == "terminated"
    assert other.state != "terminated"      # the run stopped at the error


def test_generator_that_yields_forever_stops_with_reason_budget_naming_the_thread(m):
    def forever(k):
        while True:
            yield k.KeGetCurrentIrql()

    m.system.start(forever, name="spinner")
    result = m.run(max_steps=500)
    assert result.reason == "budget"
    assert result.steps == 500
    assert "spinner" in result.message


def test_kernel_routine_from_user_mode_thread_is_an_error(m, app):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def main(api):
        yield api.KeSetEvent(ev, 0, False)

    t = app.start(main, name="main")
    assert m.run().reason == "error"
    assert isinstance(t.error, EvtsimError)
    assert ev.SignalState == 0


# --- scheduler policies ------------------------------------------------------------------------

def test_round_robin_interleaves_one_step_at_a_time():
    m = Machine(policy="round_robin")
    m.system.start(spin, 3, name="a")
    m.system.start(spin, 3, name="b")
    assert m.run().reason == "done"
    assert thread_order(m) == ["a", "b", "a", "b", "a", "b"]


def test_round_robin_is_the_default(m):
    m.system.start(spin, 2, name="a")
    m.system.start(spin, 2, name="b")
    m.run()
    assert thread_order(m) == ["a", "b", "a", "b"]


def test_run_until_block_keeps_the_cpu_until_the_thread_waits():
    m = Machine(policy="run_until_block")
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")

    def a(k):
        yield k.KeGetCurrentIrql()
        yield k.KeGetCurrentIrql()
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
        yield k.KeGetCurrentIrql()

    def b(k):
        yield k.KeGetCurrentIrql()
        yield k.KeSetEvent(ev, 0, False)
        yield k.KeGetCurrentIrql()

    m.system.start(a, name="a")
    m.system.start(b, name="b")
    assert m.run().reason == "done"
    # a: two calls and the wait; b to its end; a: back from the wait, one more call
    assert thread_order(m) == ["a", "a", "a", "b", "b", "b", "a", "a"]


def test_manual_policy_runs_nothing_by_itself_and_steps_the_chosen_thread():
    m = Machine(policy="manual")
    m.system.start(spin, 2, name="a")
    b = m.system.start(spin, 2, name="b")
    result = m.run()
    assert result.reason == "manual"
    assert m.trace == []
    rec = m.step(b)
    assert rec.thread == "b"
    m.step(b)
    assert b.state == "terminated"
    assert thread_order(m) == ["b", "b"]


def test_step_says_why_when_nothing_can_run(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    m.system.start(sim.wait_single, ev, name="w")
    assert m.step() is not None
    with pytest.raises(evtsim.MachineStateError, match="Deadlock: every thread waits"):
        m.step()


def test_step_time_advances_virtual_clock_per_step():
    m = Machine(step_time=7)
    m.system.start(spin, 4, name="a")
    m.run()
    times = [r.time for r in m.trace]
    assert [b - a for a, b in zip(times, times[1:])] == [7, 7, 7]


# --- run results ------------------------------------------------------------------------------

def test_run_reason_done_when_every_thread_ended(m):
    m.system.start(spin, 2, name="a")
    result = m.run()
    assert result.reason == "done"
    assert result.steps == 2


def two_thread_deadlock(m):
    a_ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="EvA")
    b_ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="EvB")

    def a(k):
        yield k.KeWaitForSingleObject(a_ev, Executive, KernelMode, False, None)
        yield k.KeSetEvent(b_ev, 0, False)

    def b(k):
        yield k.KeWaitForSingleObject(b_ev, Executive, KernelMode, False, None)
        yield k.KeSetEvent(a_ev, 0, False)

    return m.system.start(a, name="alpha"), m.system.start(b, name="beta")


def test_run_reason_deadlock_with_report_naming_every_blocked_thread(m):
    two_thread_deadlock(m)
    result = m.run()
    assert result.reason == "deadlock"
    report = str(result.deadlock)
    for word in ("alpha", "beta", "EvA", "EvB"):
        assert word in report


def test_deadlock_report_leaves_out_threads_that_ended(m):
    two_thread_deadlock(m)
    m.system.start(spin, 1, name="bystander")
    result = m.run()
    assert result.reason == "deadlock"
    assert "bystander" not in str(result.deadlock)


def test_run_reason_idle_once_the_instructor_has_touched_an_object(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    other = m.kernel.KeInitializeEvent(NotificationEvent, False, name="F")
    m.kernel.KeSetEvent(other, 0, False)
    assert m.interactive
    m.system.start(sim.wait_single, ev, name="w")
    assert m.run().reason == "idle"


def test_run_reason_time_when_until_is_reached(m, sim):
    m.system.start(sim.script, lambda k: k.KeDelayExecutionThread(KernelMode, False, -10_000),
                   name="sleeper")
    result = m.run(until=5_000)
    assert result.reason == "time"
    assert m.time == 5_000
    assert m.run().reason == "done"


def test_run_reason_bugcheck_and_later_runs_return_at_once(m, sim):
    objs = [m.kernel.KeInitializeEvent(NotificationEvent, True) for _ in range(4)]
    m.system.start(sim.wait_multiple, objs, WaitAny, name="t")
    m.system.start(spin, 5, name="other")
    result = m.run()
    assert result.reason == "bugcheck"
    assert result.bugcheck is m.bugcheck
    assert m.bugcheck.code == 0xC and m.bugcheck.name
    steps = len(m.trace)
    again = m.run()
    assert again.reason == "bugcheck"
    assert len(m.trace) == steps


# --- determinism -------------------------------------------------------------------------------

def scenario(policy, seed):
    """Four workers contend for a lock event after a start signal; returns the trace text."""
    m = Machine(policy=policy, seed=seed)
    go = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    lock = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Lock")

    def worker(k, i):
        yield k.KeWaitForSingleObject(go, Executive, KernelMode, False, None)
        for _ in range(3):
            status = yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False,
                                                   -(i + 1) * 1000)
            if status == STATUS_SUCCESS:
                yield k.KeSetEvent(lock, 0, False)

    def starter(k):
        yield k.KeDelayExecutionThread(KernelMode, False, -500)
        yield k.KeSetEvent(go, 0, False)
        yield k.KeSetEvent(lock, 0, False)

    for i in range(4):
        m.system.start(worker, i, name=f"worker{i}")
    m.system.start(starter, name="starter")
    result = m.run(max_steps=10_000)
    assert result.reason == "done", result
    return json.dumps([r.to_dict() for r in m.trace])


@pytest.mark.parametrize("policy,seed", [("round_robin", 0), ("run_until_block", 0),
                                         ("random", 1), ("random", 12345)])
def test_same_scenario_policy_and_seed_give_identical_trace(policy, seed):
    assert scenario(policy, seed) == scenario(policy, seed)


def test_different_seed_under_random_policy_can_change_the_interleaving():
    first = scenario("random", 0)
    assert any(scenario("random", seed) != first for seed in range(1, 20))


# --- m.kernel, the immediate surface ------------------------------------------------------------

def test_immediate_surface_runs_non_blocking_calls_at_once(m):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="E")
    assert m.kernel.KeSetEvent(ev, 0, False) == 0
    assert m.kernel.KeReadStateEvent(ev) == 1
    assert m.kernel.KeWaitForSingleObject(ev, Executive, KernelMode, False, None) == \
        STATUS_SUCCESS
    assert ev.SignalState == 0
    assert m.kernel.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0) == STATUS_TIMEOUT
    assert m.kernel.KeGetCurrentIrql() == PASSIVE_LEVEL


def test_immediate_surface_refuses_a_wait_that_would_block(m):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    with pytest.raises(EvtsimError):
        m.kernel.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
    with pytest.raises(EvtsimError):
        m.kernel.KeWaitForSingleObject(ev, Executive, KernelMode, False, -10_000)
    with pytest.raises(EvtsimError):
        m.kernel.KeDelayExecutionThread(KernelMode, False, -10_000)
    assert m.bugcheck is None
    assert ev.waiters() == []
    assert m.kernel.KeSetEvent(ev, 0, False) == 0      # still usable


def test_immediate_surface_release_wakes_waiting_thread(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    w = m.system.start(sim.wait_single, ev, name="w")
    m.run()
    m.kernel.KeSetEvent(ev, 0, False)
    assert w.state == "ready"
    m.run()
    assert w.result == STATUS_SUCCESS


def test_immediate_surface_bugcheck_raises_and_crashes_the_machine(m):
    objs = [m.kernel.KeInitializeEvent(NotificationEvent, True) for _ in range(4)]
    with pytest.raises(EvtsimError):
        m.kernel.KeWaitForMultipleObjects(4, objs, WaitAny, Executive, KernelMode, False, None)
    assert m.bugcheck.code == 0xC
    assert m.run().reason == "bugcheck"


# --- trace records -----------------------------------------------------------------------------

def test_trace_record_fields(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    m.system.start(sim.wait_single, ev, name="w")
    m.run()

    def setter(k):
        previous = yield k.KeSetEvent(ev, 0, False)  # THE SET
        return previous

    m.system.start(setter, name="setter")
    m.run()
    rec = sim.one_record(m, "KeSetEvent", "setter")
    assert rec.thread == "setter"
    assert rec.process == m.system.name
    assert rec.op == "KeSetEvent"
    assert rec.args[0] is ev
    assert rec.result == 0
    assert rec.released == ("w",)
    assert rec.state == "terminated"
    assert rec.line == sim.line_of(setter, "# THE SET")
    assert [(getattr(o, "name", o), old, new) for o, old, new in rec.changes] == [("E", 0, 1)]

    d = rec.to_dict()
    for key in ("seq", "time", "thread", "process", "op", "args", "result", "released",
                "state", "line", "changes"):
        assert key in d
    text = json.dumps(d)
    assert json.loads(text)["released"] == ["w"]
    assert "0x" not in json.dumps(d["args"])           # no memory addresses


def test_trace_seq_counts_up_and_time_never_goes_back(m, sim):
    ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False)
    m.system.start(sim.wait_single, ev, -1000, name="w")
    m.system.start(spin, 3, name="s")
    m.run()
    seqs = [r.seq for r in m.trace]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    times = [r.time for r in m.trace]
    assert times == sorted(times)


def test_trace_records_the_return_from_a_wait_with_its_result(m, sim):
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="E")
    m.system.start(sim.wait_single, ev, -1000, name="w")
    m.run()
    recs = sim.records(m, "KeWaitForSingleObject", "w")
    assert [r.state for r in recs] == ["waiting", "terminated"]
    assert recs[-1].result == STATUS_TIMEOUT


# --- observers ----------------------------------------------------------------------------------

class Spy:
    def __init__(self):
        self.calls = []

    def thread_started(self, thread):
        self.calls.append(("thread_started", thread.name))

    def before_step(self, thread):
        self.calls.append(("before_step", thread.name))

    def after_step(self, record):
        self.calls.append(("after_step", record))

    def thread_exited(self, thread):
        self.calls.append(("thread_exited", thread.name))

    def bugcheck(self, info):
        self.calls.append(("bugcheck", info.code))

    def run_stopped(self, result):
        self.calls.append(("run_stopped", result.reason))


def test_observers_see_every_thread_step_and_stop(m):
    spy = Spy()
    m.add_observer(spy)
    m.system.start(spin, 2, name="a")
    m.system.start(spin, 1, name="b")
    m.run()
    kinds = [c[0] for c in spy.calls]
    assert ("thread_started", "a") in spy.calls and ("thread_started", "b") in spy.calls
    assert ("thread_exited", "a") in spy.calls and ("thread_exited", "b") in spy.calls
    assert kinds.count("before_step") == kinds.count("after_step") == len(m.trace) == 3
    assert [c[1] for c in spy.calls if c[0] == "after_step"] == m.trace
    steps = [c for c in spy.calls if c[0] in ("before_step", "after_step")]
    assert [c[0] for c in steps] == ["before_step", "after_step"] * 3
    assert spy.calls[-1] == ("run_stopped", "done")


def test_observers_hear_of_a_bugcheck(m, sim):
    spy = Spy()
    m.add_observer(spy)
    objs = [m.kernel.KeInitializeEvent(NotificationEvent, True) for _ in range(4)]
    m.system.start(sim.wait_multiple, objs, WaitAny, name="t")
    m.run()
    assert ("bugcheck", 0xC) in spy.calls


def test_observer_may_define_only_some_hooks(m):
    seen = []

    class OnlyAfter:
        def after_step(self, record):
            seen.append(record.op)

    m.add_observer(OnlyAfter())
    m.system.start(spin, 2, name="a")
    assert m.run().reason == "done"
    assert seen == ["KeGetCurrentIrql", "KeGetCurrentIrql"]
