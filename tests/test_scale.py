"""Scale limits (issue 10): 10,000 threads and 1,000 events still run to the end.

Ten thousand System threads each wait on one of 1,000 events (500 notification, 500
synchronization); four setter threads set them. Every waiter must be released exactly
once, with STATUS_SUCCESS, and the machine must end with empty wait lists and
consistent bookkeeping. Only correctness is asserted; `bench/memory.py` measures the
memory an idle thread costs.
"""
from __future__ import annotations

from collections import Counter

import pytest

from evtsim import Machine
from evtsim.api.kernel import (Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent)
from evtsim.invariants import check
from evtsim.status import STATUS_SUCCESS

THREADS = 10_000
EVENTS = 1_000
SETTERS = 4


def waiter(k, event):
    status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
    return status


def setter(k, events, waiters_per_event):
    sets = 0
    for event in events:
        # a notification event releases every waiter with one set; a synchronization
        # event releases one waiter per set, so it is set once per waiter
        times = 1 if event.Type == NotificationEvent else waiters_per_event[event.name]
        for _ in range(times):
            yield k.KeSetEvent(event, 0, False)
            sets += 1
    return sets


def build(threads=THREADS, events=EVENTS, setters=SETTERS, policy="round_robin"):
    m = Machine(policy=policy, seed=1)
    objects = [m.kernel.KeInitializeEvent(NotificationEvent if i % 2 == 0 else
                                          SynchronizationEvent, False, name=f"E{i}")
               for i in range(events)]
    per_event = Counter()
    for i in range(threads):
        event = objects[i % events]
        per_event[event.name] += 1
        m.system.start(waiter, event, name=f"w{i}")
    # let every waiter block first, so no synchronization set is lost on an empty list
    m.run(max_steps=threads + 1)
    setter_threads = [m.system.start(setter, objects[s::setters], per_event, name=f"set{s}")
                      for s in range(setters)]
    return m, objects, setter_threads, per_event


@pytest.mark.parametrize("policy", ["round_robin", "random"])
def test_ten_thousand_threads_and_a_thousand_events_run_to_completion(policy):
    m, events, setters, per_event = build(policy=policy)
    waiters = [t for t in m.threads if t.name.startswith("w")]
    assert len(waiters) == THREADS and all(t.state == "waiting" for t in waiters)
    result = m.run(max_steps=1_000_000)
    assert result.reason == "done", result
    assert all(t.state == "terminated" and t.error is None for t in m.threads)
    assert Counter(t.result for t in waiters) == {STATUS_SUCCESS: THREADS}
    expected_sets = sum(1 if e.Type == NotificationEvent else per_event[e.name]
                        for e in events)
    assert sum(t.result for t in setters) == expected_sets
    released = Counter(name for r in m.trace if r.op == "KeSetEvent" for name in r.released)
    assert len(released) == THREADS and set(released.values()) == {1}
    assert all(not e.wait_list for e in events)
    assert all(e.SignalState == (1 if e.Type == NotificationEvent else 0) for e in events)
    check(m)


def test_bench_memory_script_measures_a_positive_figure():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "bench" / "memory.py"
    spec = importlib.util.spec_from_file_location("evtsim_bench_memory", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.bytes_per_idle_thread(200, trace=False) > 0
    assert module.main(["--threads", "50"]) == 0
