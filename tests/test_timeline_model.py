"""The timeline model (evtsim.timeline): what every view of a run is drawn from."""
from __future__ import annotations

import subprocess
import sys

import pytest

import timeline_cases as cases
from evtsim import BadArgumentError, scenarios, trace
from evtsim.timeline import (DPC_GROUP, OUTSIDE, build, text, wait_queues,
                             wait_queues_text)


@pytest.fixture(scope="module")
def broadcast():
    m = scenarios.build("notification_broadcast")
    m.run()
    return m


@pytest.fixture(scope="module")
def mixed():
    return cases.mixed()


def test_each_step_of_a_thread_is_one_running_span(broadcast):
    model = build(broadcast)
    for name in ("waiter1", "setter", "poller"):
        steps = [r.seq for r in broadcast.trace if r.thread == name]
        assert [s.seq for s in model.spans_of(name, "running")] == steps


def test_steps_axis_gives_each_record_one_column(broadcast):
    model = build(broadcast)
    for span in model.spans_of("setter", "running"):
        assert span.x1 - span.x0 == 1
        assert span.x0 == span.seq - 1
    assert model.now == len(broadcast.trace)


def test_blocking_wait_is_a_waiting_span_labelled_with_the_wait(mixed):
    model = build(mixed)
    assert {s.label for s in model.spans_of("both", "waiting")} == {"WaitAll(EvA, EvB)"}
    assert {s.label for s in model.spans_of("main", "waiting")} == {"WaitAny(Go, Stop)"}
    assert {s.label for s in model.spans_of("p2", "waiting")} == {"Wait(Pulsed)"}


def test_waiting_span_ends_where_the_thread_is_released(broadcast):
    model = build(broadcast)
    set_record = next(r for r in broadcast.trace if r.op == "KeSetEvent")
    for name in ("waiter1", "waiter2", "waiter3"):
        (wait,) = model.spans_of(name, "waiting")
        assert wait.x1 == set_record.seq          # the end of the KeSetEvent column


def test_set_draws_an_arrow_to_every_thread_it_released(broadcast):
    model = build(broadcast)
    set_record = next(r for r in broadcast.trace if r.op == "KeSetEvent")
    arrows = [a for a in model.arrows if a.seq == set_record.seq]
    assert sorted(a.dst for a in arrows) == ["waiter1", "waiter2", "waiter3"]
    assert {(a.src, a.kind, a.op) for a in arrows} == {("setter", "set", "KeSetEvent")}


def test_pulse_arrow_goes_to_the_one_waiter_it_released(mixed):
    model = build(mixed)
    pulses = [a for a in model.arrows if a.kind == "pulse"]
    assert [(a.src, a.dst) for a in pulses] == [("setter", "p1")]


def test_wait_all_waiter_woken_to_recheck_gets_a_recheck_arrow(mixed):
    model = build(mixed)
    rechecks = [a for a in model.arrows if a.kind == "recheck"]
    assert [(a.src, a.dst, a.op) for a in rechecks] == [("setter", "both", "KeSetEvent")] * 2


def test_instructor_release_is_an_arrow_from_the_notebook_lane(mixed):
    model = build(mixed)
    assert [(a.src, a.dst) for a in model.arrows if a.src == "instructor"] == [
        ("instructor", "main")]


def test_timeout_is_a_marker_on_the_thread_not_an_arrow(broadcast):
    model = build(broadcast)
    timeouts = [mk for mk in model.markers if mk.kind == "timeout"]
    assert sorted(mk.lane for mk in timeouts) == ["poller", "setter", "setter"]
    assert not [a for a in model.arrows if a.op == "Timeout"]


def test_event_lane_follows_the_signal_state(broadcast):
    model = build(broadcast)
    segments = [(s.x0, s.x1, s.state) for s in model.states if s.lane == "DataReady"]
    set_seq = next(r.seq for r in broadcast.trace if r.op == "KeSetEvent")
    assert segments[0] == (0, set_seq, 0)
    assert segments[1][0] == set_seq and segments[1][2] == 1


def test_set_consumed_in_the_same_step_is_a_blip():
    m = scenarios.build("hardware_lock")
    m.run()
    model = build(m)
    blips = [mk for mk in model.markers if mk.kind == "blip"]
    sets_with_release = [r for r in m.trace if r.op == "KeSetEvent" and r.released]
    assert len(blips) == len(sets_with_release) == 3


def test_lanes_are_grouped_by_process_with_user_mode_marked(mixed):
    model = build(mixed)
    assert [g for g, _ in model.groups] == [OUTSIDE, "System", "app.exe", "Events"]
    assert dict(model.groups)["System"] == ["both", "p1", "p2", "setter"]
    assert model.lane("main").mode == "user"
    assert model.lane("setter").mode == "kernel"


def test_instructor_lane_only_when_the_instructor_changed_something(broadcast, mixed):
    assert "instructor" not in [lane.name for lane in build(broadcast).lanes]
    assert "instructor" in [lane.name for lane in build(mixed).lanes]
    assert "instructor" not in [lane.name for lane in build(mixed, pseudo=False).lanes]


def test_threads_and_events_options_choose_the_lanes(mixed):
    model = build(mixed, threads=["setter", "p1"], events=["Pulsed"])
    assert [lane.name for lane in model.lanes] == ["setter", "p1", "Pulsed"]
    assert {a.dst for a in model.arrows} == {"p1"}
    assert [lane.name for lane in build(mixed, events=False).lanes if lane.kind == "event"] == []


def test_unknown_thread_or_event_is_refused_with_the_names_there_are(mixed):
    with pytest.raises(BadArgumentError, match="no thread named 'nobody'.*setter"):
        build(mixed, threads=["nobody"])
    with pytest.raises(BadArgumentError, match="no event named 'Nope'"):
        build(mixed, events=["Nope"])


def test_time_axis_uses_virtual_time(broadcast):
    model = build(broadcast, axis="time")
    set_record = next(r for r in broadcast.trace if r.op == "KeSetEvent")
    (span,) = [s for s in model.spans_of("setter", "running") if s.seq == set_record.seq]
    assert (span.x0, span.x1) == (set_record.time, set_record.time + broadcast.step_time)
    with pytest.raises(BadArgumentError):
        build(broadcast, axis="seconds")


def test_window_is_virtual_time_on_either_axis(broadcast):
    assert build(broadcast, axis="time", window=(10_000, 12_000)).xlim == (10_000, 12_000)
    x0, x1 = build(broadcast, window=(10_000, 12_000)).xlim
    inside = [i for i, r in enumerate(broadcast.trace) if 10_000 <= r.time <= 12_000]
    assert (x0, x1) == (inside[0], inside[-1] + 1)
    with pytest.raises(BadArgumentError, match="empty"):
        build(broadcast, window=(5, 5))


def test_model_of_a_saved_trace_equals_the_model_of_the_machine(tmp_path, mixed):
    path = tmp_path / "mixed.json"
    trace.save(mixed, path)
    a, b = build(mixed), build(trace.load(path))
    assert (a.spans, a.arrows, a.markers, a.states, a.lanes) == \
        (b.spans, b.arrows, b.markers, b.states, b.lanes)


def test_text_has_one_line_per_step_and_aligned_columns(broadcast):
    lines = text(broadcast).splitlines()
    assert len(lines) == 2 + len(broadcast.trace)
    bars = {tuple(i for i, ch in enumerate(line) if ch == "|") for line in lines[:1] + lines[2:]}
    assert len(bars) == 1, "the column separators line up on every line"


def test_text_says_what_each_thread_does_and_who_was_released(broadcast):
    out = text(broadcast)
    set_line = next(line for line in out.splitlines() if "KeSetEvent" in line)
    assert "releases waiter1, waiter2, waiter3" in set_line
    assert set_line.count("woken") == 3 and "RUN" in set_line
    assert "DataReady 0->1" in set_line
    assert "blocks: waits on Wait(DataReady)" in out
    assert "returns from KeWaitForSingleObject -> STATUS_SUCCESS" in out
    assert "clock: the wait of setter timed out" in out


def test_text_shows_a_consumed_set_and_a_bug_check():
    m = scenarios.build("hardware_lock")
    m.run()
    assert "0->1->0" in text(m)
    crashed = text(cases.crash())
    assert crashed.splitlines()[-1].startswith("BUG CHECK 0xC4")


def test_text_options_last_and_threads(broadcast):
    out = text(broadcast, threads=["setter"], last=3)
    lines = out.splitlines()
    assert len(lines) == 5 and "waiter1" not in lines[0]


def test_wait_queues_rebuilt_from_the_trace_match_the_live_machine():
    machines = [cases.mixed()]
    for name in scenarios.names():
        m = scenarios.build(name)
        m.run(max_steps=8)
        machines.append(m)
    for m in machines:
        live = wait_queues(m)
        rebuilt = wait_queues(trace.from_data(trace.to_data(m)))
        assert [(o[0], o[2], o[3]) for o in live.objects] == \
            [(o[0], o[2], o[3]) for o in rebuilt.objects], m.scenario
        assert live.waiting == rebuilt.waiting


def test_wait_queues_list_waiters_head_first_and_mark_wait_all():
    m = scenarios.build("notification_broadcast")
    m.run(max_steps=6)
    q = wait_queues(m)
    (data_ready,) = q.objects
    assert data_ready[3] == [("waiter1", False), ("waiter2", False), ("waiter3", False)]
    mixed = cases.mixed
    m2 = mixed()
    earlier = wait_queues(m2, at=7)
    queues = {name: waiters for name, _l, _s, waiters in earlier.objects}
    assert queues["EvA"] == [("both", True)] and queues["Pulsed"] == [("p1", False),
                                                                       ("p2", False)]
    assert "waiters, head first: p1, p2" in wait_queues_text(m2, at=7)


def test_dpc_lanes_have_their_own_group():
    from evtsim import Machine
    from evtsim.api.kernel import NotificationEvent
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ev")

    def routine(k, dpc, context, a1, a2):
        yield k.KeSetEvent(ev, 0, False)

    def main(k):
        dpc = yield k.KeInitializeDpc(routine)
        yield k.KeInsertQueueDpc(dpc)
        yield k.KeWaitForSingleObject(ev)

    m.system.start(main, name="main")
    m.run()
    model = build(m)
    dpc_lanes = [lane for lane in model.lanes if lane.kind == "dpc"]
    assert dpc_lanes and all(lane.group == DPC_GROUP for lane in dpc_lanes)


def test_import_evtsim_does_not_import_matplotlib():
    code = ("import sys, evtsim, evtsim.timeline, evtsim.trace, evtsim.cli; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
