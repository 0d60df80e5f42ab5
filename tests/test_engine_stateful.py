"""A Hypothesis state machine that drives random set/reset/clear/pulse/new-waiter/step
sequences on events of random types and checks the event invariants after every rule.

The test keeps its own model of every event (state and FIFO wait list) and of every
waiter thread, written straight from docs/semantics.md section 1:

* a synchronization event releases at most one waiter per signal and is 0 after
  releasing one;
* a notification event releases every waiter;
* no waiter is lost or released twice;
* states are always 0 or 1.

Sets, resets and pulses are made with the immediate surface `m.kernel`; the waiters are
System threads that the test steps one at a time (manual policy).
"""
from __future__ import annotations

from budgets import examples
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant,
                                 precondition, rule)

from evtsim import Machine
from evtsim.api.kernel import Executive, KernelMode, NotificationEvent, SynchronizationEvent
from evtsim.status import STATUS_SUCCESS

# waiter phases in the model
FRESH, WAITING, RELEASED, DONE = "fresh", "waiting", "released", "done"
EXPECTED_THREAD_STATE = {FRESH: "ready", WAITING: "waiting", RELEASED: "ready",
                         DONE: "terminated"}


def waiter(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
    return status


class ModelEvent:
    def __init__(self, real, type_, state):
        self.real = real
        self.type = type_
        self.state = state
        self.waiters: list = []        # model threads, head first


class EventMachine(RuleBasedStateMachine):
    events = Bundle("events")

    @initialize()
    def boot(self):
        self.m = Machine(policy="manual")
        self.model_events: list[ModelEvent] = []
        self.phase: dict = {}          # Thread -> phase
        self.event_of: dict = {}       # Thread -> ModelEvent
        self.release_count: dict = {}  # Thread -> times released
        self.counter = 0

    # --- helpers ----------------------------------------------------------------------
    def release(self, ev: ModelEvent, thread):
        self.phase[thread] = RELEASED
        self.release_count[thread] += 1
        ev.waiters.remove(thread)

    def model_signal(self, ev: ModelEvent) -> list:
        """Set `ev` in the model (state already known 0); returns the released threads."""
        if not ev.waiters:
            ev.state = 1
            return []
        if ev.type == SynchronizationEvent:
            first = ev.waiters[0]
            self.release(ev, first)
            ev.state = 0
            return [first]
        released = list(ev.waiters)
        for t in released:
            self.release(ev, t)
        ev.state = 1
        return released

    def check_record(self, op, released):
        """The trace record of the call names exactly the threads it released, in order."""
        record = self.m.trace[-1]
        assert record.op == op
        assert record.released == tuple(t.name for t in released)

    def check_released(self, ev, before, released):
        for t in before:
            expected = "ready" if t in released else "waiting"
            assert t.state == expected, (t, expected)
        if ev.type == SynchronizationEvent:
            assert len(released) <= 1
        else:
            assert released == [] or released == before

    # --- rules ------------------------------------------------------------------------
    @rule(target=events, type_=st.sampled_from([NotificationEvent, SynchronizationEvent]),
          state=st.booleans())
    def new_event(self, type_, state):
        real = self.m.kernel.KeInitializeEvent(type_, state, name=f"E{len(self.model_events)}")
        ev = ModelEvent(real, type_, 1 if state else 0)
        self.model_events.append(ev)
        return ev

    @rule(ev=events)
    def set_event(self, ev):
        before = list(ev.waiters)
        previous = ev.state
        released = [] if previous else self.model_signal(ev)
        assert self.m.kernel.KeSetEvent(ev.real, 0, False) == previous
        self.check_record("KeSetEvent", released)
        if previous:
            assert ev.state == 1
        self.check_released(ev, before, released)

    @rule(ev=events)
    def pulse_event(self, ev):
        before = list(ev.waiters)
        previous = ev.state
        released = self.model_signal(ev) if (not previous and ev.waiters) else []
        ev.state = 0
        assert self.m.kernel.KePulseEvent(ev.real, 0, False) == previous
        self.check_record("KePulseEvent", released)
        self.check_released(ev, before, released)

    @rule(ev=events)
    def reset_event(self, ev):
        previous, ev.state = ev.state, 0
        assert self.m.kernel.KeResetEvent(ev.real) == previous

    @rule(ev=events)
    def clear_event(self, ev):
        ev.state = 0
        assert self.m.kernel.KeClearEvent(ev.real) is None

    @rule(ev=events)
    def new_waiter(self, ev):
        self.counter += 1
        t = self.m.system.start(waiter, ev.real, name=f"w{self.counter}")
        self.phase[t] = FRESH
        self.event_of[t] = ev
        self.release_count[t] = 0

    @precondition(lambda self: any(p in (FRESH, RELEASED) for p in self.phase.values()))
    @rule(data=st.data())
    def step(self, data):
        ready = [t for t, p in self.phase.items() if p in (FRESH, RELEASED)]
        t = data.draw(st.sampled_from(ready), label="thread")
        ev = self.event_of[t]
        record = self.m.step(t)
        assert record is not None and record.thread == t.name
        if self.phase[t] == RELEASED:
            self.phase[t] = DONE
        elif ev.state:                       # the wait is satisfied at once
            self.phase[t] = DONE
            if ev.type == SynchronizationEvent:
                ev.state = 0
        else:
            self.phase[t] = WAITING
            ev.waiters.append(t)
        if self.phase[t] == DONE:
            assert t.result == STATUS_SUCCESS

    # --- invariants -------------------------------------------------------------------
    @invariant()
    def states_are_0_or_1_and_match_the_model(self):
        if not hasattr(self, "m"):
            return
        for ev in self.model_events:
            assert ev.real.SignalState in (0, 1)
            assert ev.real.SignalState == ev.state, ev.real

    @invariant()
    def wait_lists_are_fifo_and_no_waiter_is_lost(self):
        if not hasattr(self, "m"):
            return
        for ev in self.model_events:
            assert list(ev.real.waiters()) == ev.waiters, ev.real
        for t, phase in self.phase.items():
            assert t.state == EXPECTED_THREAD_STATE[phase], (t, phase)
            assert t.error is None

    @invariant()
    def no_waiter_is_released_twice(self):
        if not hasattr(self, "m"):
            return
        assert all(n <= 1 for n in self.release_count.values())
        assert self.m.bugcheck is None


EventMachine.TestCase.settings = settings(max_examples=examples(150),
                                          stateful_step_count=40, deadline=None,
                                          derandomize=True)
test_event_state_machine = EventMachine.TestCase
