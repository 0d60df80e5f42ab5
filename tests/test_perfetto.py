"""Chrome / Perfetto export: the structure of the Trace Event Format."""
from __future__ import annotations

import json
from collections import Counter

import pytest

import timeline_cases as cases
from evtsim import scenarios, trace


@pytest.fixture(scope="module")
def broadcast():
    m = scenarios.build("notification_broadcast")
    m.run()
    return m


@pytest.fixture(scope="module")
def events(broadcast):
    return trace.to_perfetto(broadcast)["traceEvents"]


def names_by_tid(events):
    return {(e["pid"], e["tid"]): e["args"]["name"] for e in events
            if e["ph"] == "M" and e["name"] == "thread_name"}


def check_structure(doc):
    json.dumps(doc)                                         # plain JSON values only
    events = doc["traceEvents"]
    assert doc["displayTimeUnit"] in ("ns", "ms")
    for e in events:
        assert e["ph"] in "MXiCsfbe" and isinstance(e["pid"], int) and "tid" in e
        if e["ph"] != "M":
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] >= 0 and e["name"]
        if e["ph"] == "i":
            assert e["s"] in "tpg"
        if e["ph"] == "C":
            assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values())
    starts = Counter(e["id"] for e in events if e["ph"] == "s")
    ends = Counter(e["id"] for e in events if e["ph"] == "f")
    assert starts == ends and set(starts.values()) <= {1}
    for e in events:
        if e["ph"] == "f":
            assert e["bp"] == "e"
    begins = Counter((e["cat"], e["id"], e["name"]) for e in events if e["ph"] == "b")
    finishes = Counter((e["cat"], e["id"], e["name"]) for e in events if e["ph"] == "e")
    assert begins == finishes
    named = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    for e in events:
        if e["ph"] in "Xsf" or (e["ph"] == "i" and e["s"] == "t"):
            assert (e["pid"], e["tid"]) in named, e


def test_structure_follows_the_trace_event_format(broadcast):
    check_structure(trace.to_perfetto(broadcast))


@pytest.mark.parametrize("name", scenarios.names())
def test_every_scenario_exports(name):
    m = scenarios.build(name)
    m.run()
    check_structure(trace.to_perfetto(m))


def test_processes_and_threads_are_named(events):
    processes = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert {"System", "Events"} <= processes
    threads = set(names_by_tid(events).values())
    assert {"waiter1 (kernel mode)", "setter (kernel mode)"} <= threads


def test_each_step_is_a_slice_and_waits_are_slices(broadcast, events):
    slices = [e for e in events if e["ph"] == "X" and e["cat"] == "running"]
    assert len(slices) == sum(1 for r in broadcast.trace
                              if r.thread not in ("instructor", "clock"))
    assert all(e["dur"] == broadcast.step_time / 10 for e in slices)
    waits = [e for e in events if e["ph"] == "X" and e["cat"] == "waiting"]
    assert {e["name"] for e in waits} == {"waits: Wait(DataReady)", "waits: Delay"}


def test_overlapping_waits_on_an_event_are_async_slices(events):
    begins = [e for e in events if e["ph"] == "b" and e["name"] == "DataReady wait list"]
    assert sorted(e["args"]["thread"] for e in begins) == ["waiter1", "waiter2", "waiter3"]
    assert len({e["id"] for e in begins}) == 3


def test_set_is_an_instant_with_the_state_before_and_after(events):
    (instant,) = [e for e in events if e["ph"] == "i" and e["cat"] == "set"]
    assert instant["args"]["events"] == {"DataReady": {"before": 0, "after": 1}}
    assert instant["args"]["released"] == ["waiter1", "waiter2", "waiter3"]


def test_signaled_state_is_a_counter_track(events):
    values = [(e["ts"], e["args"]["signaled"]) for e in events
              if e["ph"] == "C" and e["name"] == "DataReady"]
    assert [v for _, v in values][:2] == [0, 1]


def test_a_flow_goes_from_the_set_to_each_released_thread(events):
    tids = {name.split(" ")[0]: key for key, name in names_by_tid(events).items()}
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    released = sorted(name for name, key in tids.items()
                      for i, end in ends.items()
                      if (end["pid"], end["tid"]) == key
                      and (starts[i]["pid"], starts[i]["tid"]) == tids["setter"])
    assert released == ["waiter1", "waiter2", "waiter3"]
    for i in starts:
        assert starts[i]["ts"] <= ends[i]["ts"]


def test_bug_check_is_a_global_instant():
    events = trace.to_perfetto(cases.crash())["traceEvents"]
    (crash,) = [e for e in events if e["ph"] == "i" and e["cat"] == "bugcheck"]
    assert crash["s"] == "g" and crash["name"].startswith("BUG CHECK 0xC4")


def test_saved_trace_exports_the_same_json(broadcast, tmp_path):
    path = tmp_path / "b.json"
    trace.save(broadcast, path)
    assert trace.to_perfetto(trace.load(path)) == trace.to_perfetto(broadcast)
