"""The trace loader, fuzzed: a mutated valid file ends as a SavedTrace that replays
identically, or as a TraceFileError or a ReplayError; nothing else may escape
(docs/engine.md, "Trace files").

The valid files are saved from several runs: manual steps with instructor calls, a
random schedule, a bug check, the nt4 namespace, the lab with an added waiter, a
hand-built machine (it loads but cannot replay) and a version-1 file of evtsim 0.1.0.
Hypothesis (derandomized: the project profile in tests/conftest.py) mutates one of them
up to three times: a field's value of another type, a field dropped or added, a number
made huge or negative, a routine's name swapped for another (or for an attribute of the
kernel), a value nested deeper, the keys of an object in another order, or the text
cut. Each file is read as the command line and the lab's upload read it
(`trace.from_bytes`), shown as a text timeline, and replayed as `trace.replay` and the
lab replay it. The test also checks that every outcome was reached.
"""
from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import timeline_cases as cases
from budgets import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evtsim import scenarios, trace
from evtsim.lab import LabSession
from evtsim.lab.rebuild import start_again
from evtsim.trace import INSTRUCTOR_ROUTINES, ReplayError, TraceFileError

V1 = Path(__file__).parent / "fixtures" / "trace-v1" / "notification_broadcast-kernel-set.json"


def _runs() -> list[dict]:
    manual = scenarios.build("notification_broadcast", policy="manual", waiters=2)
    manual.step(manual.thread("waiter1"))
    manual.kernel.KeSetEvent(manual.find("DataReady"), 0, False)
    manual.kernel.KeResetEvent(manual.find("DataReady"))
    manual.kernel.KePulseEvent(manual.find("DataReady"), Increment=1, Wait=False)
    manual.step(manual.thread("setter"))
    shuffled = scenarios.build("hardware_lock", policy="random", seed=5)
    shuffled.run(max_steps=12)
    shuffled.run()
    crashed = scenarios.build("trap_wait_at_dispatch")
    crashed.run()
    nt4 = scenarios.build("driverstudio_tip", app_name="Tip")
    nt4.run()
    lab = LabSession("notification_broadcast", waiters=1)
    lab.add_waiter("DataReady")
    lab.step("added(DataReady)")
    lab.kernel("KeSetEvent", "DataReady")
    lab.run()
    files = [trace.to_data(m) for m in (manual, shuffled, crashed, nt4, lab.machine,
                                        cases.mixed())]
    return files + [json.loads(V1.read_text())]


RUNS = _runs()
OTHER_VALUES = [None, True, False, 0, -1, 1, 2**63, -(2**63) - 1, 10**39, 1.5, "", "x",
                "__class__", [], {}, [1], {"a": 1}, ["kernel", "__setattr__", [], {}]]
ROUTINES = list(INSTRUCTOR_ROUTINES) + ["KeAlertThread", "ZwClose", "__setattr__",
                                        "_verifier", "os.system", "__init__"]


def paths(value, here=()) -> list[tuple]:
    """Every place in a JSON value, as the keys and indexes that lead to it."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, here + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, here + (index,))
    return found


PATHS = [paths(run)[1:] for run in RUNS]        # not the top level itself


def at(data, path):
    for key in path:
        data = data[key]
    return data


@st.composite
def mutated(draw) -> bytes:
    """The bytes of one valid file after up to three mutations (none: only written
    again, perhaps with its keys in another order, as another tool might)."""
    which = draw(st.integers(0, len(RUNS) - 1))
    data = copy.deepcopy(RUNS[which])
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(PATHS[which]))
        try:
            parent, key = at(data, path[:-1]), path[-1]
            parent[key]
        except (KeyError, IndexError, TypeError):
            continue                    # an earlier mutation moved it
        if not isinstance(parent, (dict, list)):
            continue                    # ... or made it a string
        how = draw(st.sampled_from(["type", "drop", "add", "number", "routine", "deepen",
                                    "reorder"]))
        if how == "reorder":
            target = parent[key]
            if isinstance(target, dict):
                parent[key] = dict(reversed(list(target.items())))
        elif how == "type":
            parent[key] = copy.deepcopy(draw(st.sampled_from(OTHER_VALUES)))
        elif how == "drop":
            del parent[key]
        elif how == "add":
            target = parent[key]
            if isinstance(target, dict):
                target[draw(st.sampled_from(["extra", "note", "kind", "seq"]))] = 1
            elif isinstance(target, list):
                target.append(copy.deepcopy(draw(st.sampled_from(OTHER_VALUES))))
            else:
                parent[key] = [target, target]
        elif how == "number":
            old = parent[key]
            base = old if isinstance(old, int) and not isinstance(old, bool) else 0
            parent[key] = draw(st.sampled_from([base + 1, base - 1, -base - 1, -1, 10**6,
                                                2**64, 10**40, 10**41]))
        elif how == "routine":
            parent[key] = draw(st.sampled_from(ROUTINES))
        else:
            value = parent[key]
            for _ in range(draw(st.integers(1, 40))):
                value = [value]
            parent[key] = value
    one_per_line = isinstance(data.get("records"), list) and draw(st.booleans())
    text = trace.dumps(data) if one_per_line else json.dumps(data)
    if draw(st.integers(0, 9)) == 0:
        text = text[:draw(st.integers(0, len(text)))]
    return text.encode()


def steps(records, version: int) -> list:
    """The records as a file of `version` holds them: a version-1 file (evtsim 0.1.0)
    keeps each step's words in a note, and its source lines have moved since."""
    if version == 2:
        return [r.to_dict() for r in records]
    common = ("seq", "time", "thread", "process", "op", "args", "result", "released",
              "state", "changes")
    return [[r.to_dict()[k] for k in common] + [r.note] for r in records]


def outcome(content: bytes) -> str:
    """Read and replay as the command line does, and as the lab does; say how it ended.
    Anything but a TraceFileError or a ReplayError propagates and fails the test."""
    try:
        saved = trace.from_bytes(content, source="fuzz.json")
    except TraceFileError:
        return "refused when read"
    assert isinstance(trace.text_timeline(saved), str)      # any file read can be shown
    ends = []
    for lab_starts in (None, start_again):
        try:
            machine = trace.replay(saved, start_again=lab_starts)
        except ReplayError:
            ends.append("refused by the replay")
            continue
        assert steps(machine.trace, saved.version) == steps(saved, saved.version)
        assert saved.replayable
        ends.append("identical")
    return ends[-1]


def test_every_valid_file_replays_identically():
    """The files the fuzzer starts from are all good (the hand-built one cannot replay,
    and the lab's replays only with the lab's own added waiter)."""
    got = [outcome(json.dumps(run).encode()) for run in RUNS]
    assert got == ["identical"] * 4 + ["identical", "refused by the replay", "identical"]


def test_a_mutated_file_is_refused_or_replays_identically():
    seen: Counter = Counter()

    @settings(max_examples=examples(600), suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
    @given(mutated())
    def check(content):
        seen[outcome(content)] += 1

    check()
    assert set(seen) == {"refused when read", "refused by the replay", "identical"}, seen
