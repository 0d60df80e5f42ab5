"""Trace files: save -> load -> replay gives the identical trace; bad files are refused
with an error that names the wrong field."""
from __future__ import annotations

import json

import pytest

import timeline_cases as cases
from evtsim import BadArgumentError, Machine, scenarios, trace
from evtsim.api.kernel import KernelMode, NotificationEvent
from evtsim.trace import ReplayError, TraceFileError


def saved(m, tmp_path, name="run.json"):
    path = tmp_path / name
    trace.save(m, path)
    return path


@pytest.mark.parametrize("policy,seed", [("round_robin", 0), ("random", 7)])
@pytest.mark.parametrize("name", scenarios.names())
def test_save_load_replay_gives_the_identical_trace(name, policy, seed, tmp_path):
    m = scenarios.build(name, policy=policy, seed=seed)
    m.run()
    loaded = trace.load(saved(m, tmp_path))
    assert loaded == m.trace
    assert loaded.to_dicts() == m.trace.to_dicts()
    again = trace.replay(loaded)
    assert again.trace.to_dicts() == m.trace.to_dicts()
    assert again.time == m.time and again.policy.name == policy


def test_file_names_everything_needed_to_replay(tmp_path):
    m = scenarios.build("notification_broadcast", waiters=2, policy="random", seed=3)
    m.run()
    data = json.loads(saved(m, tmp_path).read_text())
    assert (data["format"], data["version"]) == ("evtsim-trace", 2)
    assert data["scenario"] == {"name": "notification_broadcast",
                                "params": {"policy": "random", "seed": 3, "waiters": 2,
                                           "clear": True}}
    assert (data["policy"], data["seed"], data["actions"]) == ("random", 3,
                                                               [["run", 100000, None]])
    assert [t["name"] for t in data["threads"]] == ["waiter1", "waiter2", "poller", "setter"]
    assert data["objects"][0]["name"] == "DataReady"
    assert len(data["records"]) == len(m.trace)


def test_the_same_run_gives_the_same_bytes(tmp_path):
    paths = []
    for i in range(2):
        m = scenarios.build("hardware_lock", policy="random", seed=5)
        m.run()
        paths.append(saved(m, tmp_path, f"run{i}.json"))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_instructor_calls_and_manual_steps_replay(tmp_path):
    m = scenarios.build("notification_broadcast", policy="manual")
    for name in ("waiter1", "waiter2", "setter"):
        m.step(m.thread(name))
    m.kernel.KeSetEvent(m.find("DataReady"), 0, False)
    m.kernel.KeResetEvent(m.find("DataReady"))
    m.step(m.thread("waiter1"))
    again = trace.replay(trace.load(saved(m, tmp_path)))
    assert again.trace.to_dicts() == m.trace.to_dicts()


def test_every_instructor_routine_replays_with_its_arguments_as_given(tmp_path):
    """Each routine of the table (docs/engine.md, "Trace files"), positional and keyword
    arguments alike: the replay makes the same calls, so the records are the same."""
    m = scenarios.build("notification_broadcast", policy="manual")
    m.step(m.thread("waiter1"))
    ev = m.find("DataReady")
    extra = m.kernel.KeInitializeEvent(NotificationEvent, State=True, name="Extra")
    m.kernel.KeSetEvent(ev, Increment=1, Wait=False)
    m.kernel.KeResetEvent(ev)
    m.kernel.KePulseEvent(ev, 0, False)
    m.kernel.KeClearEvent(extra)
    assert m.kernel.KeReadStateEvent(extra) == 0
    kinds = {a[1] for a in m.actions if a[0] == "kernel"}
    assert kinds == set(trace.INSTRUCTOR_ROUTINES)
    again = trace.replay(trace.load(saved(m, tmp_path)))
    assert again.trace.to_dicts() == m.trace.to_dicts()
    assert [list(a) for a in again.actions] == [list(trace.describe(list(a)))
                                                for a in m.actions]


def test_a_call_outside_the_instructors_table_saves_as_not_replayable(tmp_path):
    m = scenarios.build("notification_broadcast")
    m.kernel.KeAlertThread(m.thread("waiter1"), KernelMode)
    path = saved(m, tmp_path)
    data = json.loads(path.read_text())
    assert data["replayable"] is False
    assert data["why_not_replayable"] == (
        "actions[0] ['kernel', 'KeAlertThread', ['waiter1... cannot be replayed: "
        "'KeAlertThread' is not an instructor routine; a trace file may call only "
        "KeInitializeEvent, KeSetEvent, KeResetEvent, KeClearEvent, KePulseEvent, "
        "KeReadStateEvent")
    loaded = trace.load(path)
    assert loaded == m.trace and not loaded.replayable
    with pytest.raises(ReplayError, match="KeAlertThread' is not an instructor routine"):
        trace.replay(loaded)


def test_a_refused_manual_step_replays_as_refused(tmp_path):
    m = scenarios.build("notification_broadcast", policy="manual")
    m.step(m.thread("waiter1"))
    with pytest.raises(Exception):
        m.step(m.thread("waiter1"))               # waiting: refused
    m.step(m.thread("setter"))
    assert trace.replay(trace.load(saved(m, tmp_path))).trace.to_dicts() == m.trace.to_dicts()


def test_replay_of_a_machine_gives_the_same_run():
    m = scenarios.build("hardware_lock")
    m.run(max_steps=10)
    m.run()
    assert trace.replay(m).trace.to_dicts() == m.trace.to_dicts()


def test_a_thread_started_from_outside_cannot_be_replayed(tmp_path):
    m = scenarios.build("notification_broadcast")

    def extra(k):
        yield k.KeSetEvent(m.find("DataReady"), 0, False)

    m.system.start(extra, name="extra")
    m.run()
    loaded = trace.load(saved(m, tmp_path))
    with pytest.raises(ReplayError, match="thread extra was started from outside the "
                                          "scenario.*cannot carry code"):
        trace.replay(loaded)


def test_a_hand_built_machine_saves_and_draws_but_does_not_replay(tmp_path):
    m = cases.mixed()
    loaded = trace.load(saved(m, tmp_path))
    assert loaded == m.trace and not loaded.replayable
    assert trace.text_timeline(loaded) == trace.text_timeline(m)
    with pytest.raises(ReplayError, match="not built with evtsim.scenarios.build"):
        trace.replay(loaded)


def test_a_hand_edited_record_makes_the_replay_name_the_step(tmp_path):
    m = scenarios.build("notification_broadcast")
    m.run()
    path = saved(m, tmp_path)
    data = json.loads(path.read_text())
    data["records"][9]["released"] = ["waiter1"]
    path.write_text(json.dumps(data))
    with pytest.raises(ReplayError, match="differs at step 10"):
        trace.replay(trace.load(path))


def test_replay_of_an_unknown_scenario_names_it(tmp_path):
    m = scenarios.build("hardware_lock")
    m.run()
    path = saved(m, tmp_path)
    data = json.loads(path.read_text())
    data["scenario"]["name"] = "no_such_thing"
    path.write_text(json.dumps(data))
    with pytest.raises(ReplayError, match="no scenario 'no_such_thing'"):
        trace.replay(trace.load(path))


# --- corrupt files -------------------------------------------------------------------
@pytest.fixture
def good(tmp_path):
    m = scenarios.build("notification_broadcast")
    m.run()
    path = saved(m, tmp_path)
    return path, json.loads(path.read_text())


def edited(path, data, edit):
    edit(data)
    path.write_text(json.dumps(data))
    return path


def test_truncated_file_says_it_was_cut_off(good):
    path, _ = good
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TraceFileError, match=r"not valid JSON at line \d+ column \d+ \(it "
                                             r"looks cut off: was the file truncated\?\)"):
        trace.load(path)


@pytest.mark.parametrize("edit,message", [
    (lambda d: d.update(format="something"),
     "format must be 'evtsim-trace', found 'something'"),
    (lambda d: d.update(version=3),
     "version is 3; this evtsim reads versions 1, 2 (written by a newer evtsim: upgrade "
     "evtsim)"),
    (lambda d: d.pop("seed"), "seed is missing"),
    (lambda d: d.update(policy="fastest"), "policy must be one of"),
    (lambda d: d["records"][3].update(time="abc"),
     "records[3].time must be a whole number, found 'abc'"),
    (lambda d: d["records"][0].pop("op"), "records[0].op is missing"),
    (lambda d: d["records"][2].update(seq=1),
     "records[2].seq must be larger than the previous record's (2), found 1"),
    (lambda d: d["records"][4].update(changes=[["DataReady", 0]]),
     "records[4].changes[0] must be [object, old, new]"),
    (lambda d: d["records"][1].update(colour="red"), "records[1].colour is not a record field"),
    (lambda d: d["threads"][0].update(mode="superuser"),
     "threads[0].mode must be 'kernel' or 'user', found 'superuser'"),
    (lambda d: d["actions"].append(["dance", 1]), "actions[1] must be a list starting with"),
    (lambda d: d["scenario"].update(params=[]), "scenario.params must be a JSON object"),
])
def test_hand_edited_file_names_the_wrong_field(good, edit, message):
    path, data = good
    with pytest.raises(TraceFileError) as info:
        trace.load(edited(path, data, edit))
    assert str(info.value) == f"{path}: {message}" or str(info.value).startswith(
        f"{path}: {message}")


def test_not_a_trace_file_and_missing_file(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(TraceFileError, match="the top level must be a JSON object"):
        trace.load(path)
    with pytest.raises(TraceFileError, match="no such file"):
        trace.load(tmp_path / "missing.json")


def test_trace_file_errors_are_bad_argument_and_value_errors():
    assert issubclass(TraceFileError, BadArgumentError)
    assert issubclass(TraceFileError, ValueError)


def test_existing_trace_api_is_unchanged():
    m = Machine()
    m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ev")
    record = m.trace[0]
    assert record.to_dict()["result"] == "Ev" and trace.describe(m.find("Ev")) == "Ev"
    assert isinstance(m.trace, trace.Trace)
