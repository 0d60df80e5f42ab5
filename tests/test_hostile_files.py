"""Hostile trace files are refused at once, and the same way everywhere (issue 18;
docs/engine.md, "Trace files").

Each class of hostile input is tried three ways, by `refused_everywhere`:
- in Python (`trace.load`, then `trace.replay`): an EvtsimError of the right class whose
  message names the problem;
- on the command line (`python -m evtsim replay FILE --text`): exit status 2, stderr is
  the same message as one `evtsim: error:` line, no traceback, never "identical";
- through the lab's upload: the same message in the lab's log, the lab's run as it was,
  and a Set click that still works.
The work is bounded by construction (each limit is checked before the work it bounds),
so the tests count what was done (machines built, texts parsed), never time.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evtsim import EvtsimError, cli, scenarios, trace
from evtsim import tracefile as tracefile_module
from evtsim.lab.rebuild import start_again
from evtsim.machine import Machine
from evtsim.trace import INSTRUCTOR_ROUTINES, ReplayError, TraceFileError
from evtsim.widgets import EventLab

ROOT = Path(__file__).resolve().parent.parent
V1 = ROOT / "tests" / "fixtures" / "trace-v1"
ALLOWED = ", ".join(INSTRUCTOR_ROUTINES)


@contextlib.contextmanager
def counting(monkeypatch):
    """Count the Machines built and the texts parsed as JSON while the block runs."""
    counts = {"machines": 0, "parses": 0}
    init, loads = Machine.__init__, tracefile_module.json.loads

    def counted_init(self, *args, **kwargs):
        counts["machines"] += 1
        init(self, *args, **kwargs)

    def counted_loads(*args, **kwargs):
        counts["parses"] += 1
        return loads(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Machine, "__init__", counted_init)
        patch.setattr(tracefile_module.json, "loads", counted_loads)
        yield counts


def good_run() -> dict:
    """A run with each kind of outside action: a step, an instructor call, a run."""
    m = scenarios.build("notification_broadcast", policy="manual", waiters=2)
    m.step(m.thread("waiter1"))
    m.kernel.KeSetEvent(m.find("DataReady"), 0, False)
    m.step(m.thread("waiter2"))
    return trace.to_data(m)


RECORDS = len(good_run()["records"])


def edited(edit, data=None) -> bytes:
    data = copy.deepcopy(data if data is not None else good_run())
    edit(data)
    return json.dumps(data).encode()


def instructor_call(routine, args=(), kwargs=None, at=1):
    def edit(data):
        data["actions"].insert(at, ["kernel", routine, list(args) if isinstance(args, tuple)
                                    else args, {} if kwargs is None else kwargs])
    return edit


def snapshot(lab) -> tuple:
    m = lab.machine
    return lab.scenario_name, [list(a) for a in m.actions], m.trace.to_dicts()


_SPAWNED: set[str] = set()       # the test functions that ran the real command already


def command_line(path: Path, request) -> tuple[int, str, str]:
    """`evtsim replay FILE --text`: once per test function as a real `python -m evtsim`
    process, for its other cases through `cli.main` (the same code, in this process)."""
    name = request.node.originalname
    if name not in _SPAWNED:
        _SPAWNED.add(name)
        out = subprocess.run([sys.executable, "-m", "evtsim", "replay", str(path), "--text"],
                             capture_output=True, text=True, cwd=ROOT, timeout=120,
                             stdin=subprocess.DEVNULL)
        return out.returncode, out.stdout, out.stderr
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = cli.main(["replay", str(path), "--text"], out=stdout)
    return code, stdout.getvalue(), stderr.getvalue()


def refused_everywhere(request, tmp_path, monkeypatch, content: bytes, error: type,
                       fragment: str, machines: int | None = 0) -> str:
    """Check the three ways; `machines` is how many the Python path may build."""
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    with counting(monkeypatch) as counts, pytest.raises(error) as info:
        trace.replay(trace.load(path))
    message = str(info.value)
    assert isinstance(info.value, EvtsimError)
    assert fragment in message, message
    if machines is not None:
        assert counts["machines"] == machines, "built more than the check needed"

    code, stdout, stderr = command_line(path, request)
    assert code == 2, stderr
    assert stderr.startswith("evtsim: error:"), stderr
    assert "Traceback" not in stderr and "identical" not in stdout
    assert stderr == f"evtsim: error: {message}\n"

    lab = EventLab("notification_broadcast")
    before = snapshot(lab)
    assert lab.files.load_bytes(content, str(path)) is None
    assert message in lab.log_lines[-1] and lab.log_lines[-1].startswith("Upload ")
    assert not any(line.startswith(("Loaded", "Load: warning")) for line in lab.log_lines)
    assert snapshot(lab) == before
    lab.button("Set", "DataReady").click()
    assert lab.machine.find("DataReady").SignalState == 1
    assert lab.log_lines[-1].startswith("instructor: KeSetEvent(DataReady, 0, FALSE)")
    return message


@pytest.fixture
def refused(request, tmp_path, monkeypatch):
    """`refused(content, error, fragment, machines=0)`: `refused_everywhere` for this test."""
    def check(content: bytes, error: type, fragment: str, machines: int | None = 0) -> str:
        return refused_everywhere(request, tmp_path, monkeypatch, content, error, fragment,
                                  machines)
    return check


def test_the_good_run_replays_identically_everywhere(tmp_path):
    """The baseline the hostile files are cut from: accepted by all three."""
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good_run()))
    again = trace.replay(trace.load(path))
    assert again.trace.to_dicts() == trace.load(path).to_dicts()
    out = subprocess.run([sys.executable, "-m", "evtsim", "replay", str(path), "--text"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0 and "identical to the file" in out.stdout
    lab = EventLab("hardware_lock")
    lab.files.load_bytes(path.read_bytes(), "good.json")
    assert lab.scenario_name == "notification_broadcast"
    assert lab.log_lines[-1].startswith("Loaded good.json")


# --- a kernel action is data, never code ---------------------------------------------
@pytest.mark.parametrize("name,args", [
    ("__class__", []), ("__setattr__", ["machine", "pwned"]), ("__init__", []),
    ("__delattr__", ["machine"]), ("_verifier", ["KeSetEvent", 0]),
    ("__reduce_ex__", [2]), ("os.system", ["echo pwned"]), ("_internal", []),
])
def test_a_kernel_action_cannot_name_an_attribute_of_the_kernel(refused, name, args):
    refused(edited(instructor_call(name, args)), TraceFileError,
            f"actions[1] calls {name!r}, which is not a kernel routine; a trace file may "
            f"call only {ALLOWED}")


@pytest.mark.parametrize("name,args", [("KeAlertThread", ["waiter1", 0]),
                                       ("ZwClose", [4]), ("KeBugCheckEx", [1, 0, 0, 0, 0])])
def test_a_routine_outside_the_instructors_table_is_not_replayed(refused, name, args):
    data = json.loads(edited(instructor_call(name, args)))
    saved = trace.from_data(data)
    assert saved.replayable is False and len(saved) == len(data["records"])   # still draws
    refused(json.dumps(data).encode(), ReplayError,
            f"actions[1] ['kernel', {name!r}")
    with pytest.raises(ReplayError, match=rf"{name!r} is not an instructor routine; a "
                                          rf"trace file may call only {ALLOWED}"):
        trace.replay(saved)


@pytest.mark.parametrize("edit,fragment", [
    (instructor_call("KeSetEvent", ["DataReady", 0, False], []),
     "actions[1][3] (the keyword arguments) must be a JSON object, found []"),
    (instructor_call("KeSetEvent", 5),
     "actions[1][2] (the arguments) must be a list, found 5"),
    (lambda d: d["actions"].insert(1, ["kernel", "KeSetEvent"]),
     "actions[1] a 'kernel' action has 4 items, found 2"),
    (lambda d: d["actions"].insert(1, ["kernel", 7, [], {}]),
     "actions[1][1] (the routine) must be a string, found 7"),
])
def test_a_kernel_action_of_the_wrong_shape_is_refused_when_read(refused, edit, fragment):
    refused(edited(edit), TraceFileError, fragment)


@pytest.mark.parametrize("routine,args,kwargs,fragment,machines", [
    ("KeSetEvent", ["DataReady", "x", False], {},
     "KeSetEvent: Increment must be a whole number from 0 to 31", 0),
    ("KeSetEvent", ["DataReady", 0, 1], {}, "KeSetEvent: Wait must be true or false", 0),
    ("KeSetEvent", ["DataReady", 0, False, 9], {}, "KeSetEvent takes at most 3 arguments", 0),
    ("KeSetEvent", ["DataReady"], {"Bogus": 1}, "KeSetEvent has no parameter 'Bogus'", 0),
    ("KeResetEvent", [], {}, "KeResetEvent: Event is missing", 0),
    ("KeInitializeEvent", [7, False], {}, "KeInitializeEvent: Type must be", 0),
    ("KeSetEvent", ["waiter1", 0, False], {}, "KeSetEvent: this machine has no event "
                                              "'waiter1'", 1),
    ("KeClearEvent", ["Nope"], {}, "KeClearEvent: this machine has no event 'Nope'", 1),
])
def test_instructor_arguments_are_checked_before_the_call(refused, routine, args, kwargs,
                                                          fragment, machines):
    message = refused(edited(instructor_call(routine, args, kwargs)), ReplayError, fragment,
                      machines)
    assert "actions[1]" in message


def test_a_kernel_action_the_engine_refuses_fails_the_replay(refused):
    """After a bug check m.kernel refuses every call (and never records one): a file
    that has one was edited, and the lab used to swallow it."""
    m = scenarios.build("trap_wait_at_dispatch")
    m.run()
    assert m.bugcheck is not None
    content = edited(instructor_call("KeSetEvent", ["Ready", 0, False], at=1),
                     trace.to_data(m))
    message = refused(content, ReplayError,
                      "actions[1] ['kernel', 'KeSetEvent'", 1)
    assert message.startswith("cannot replay ")
    assert "was refused this time: The machine has crashed (bug check 0xC4" in message


def test_a_replay_that_differs_fails_and_names_the_action(refused):
    def edit(d):
        d["records"][-2]["released"] = ["waiter2"]
    data = good_run()
    seq = data["records"][-2]["seq"]
    refused(edited(edit, data), ReplayError,
            f"differs at step {seq} (actions[1] ['kernel', 'KeSetEvent'", 1)


@pytest.mark.parametrize("edit,fragment", [
    (lambda d: d.update(time=d["time"] + 10), "ends differently from the file: its time"),
    (lambda d: d["threads"][0].update(created_time=5),
     "ends differently from the file: its threads"),
    (lambda d: d["records"].pop(), f"has more steps than the file's {RECORDS - 1} records "
                                   f"(actions[2] ['step', 'waiter2'])"),
    (lambda d: d["records"].append(dict(d["records"][-1], seq=99)),
     f"has {RECORDS} records; the file has {RECORDS + 1} (after its last action)"),
    (lambda d: d.update(policy="round_robin"), "ends differently from the file: its policy"),
])
def test_a_file_whose_ending_was_edited_never_replays_as_identical(refused, edit, fragment):
    refused(edited(edit), ReplayError, fragment, 1)


def test_a_step_of_a_thread_the_replay_does_not_have_fails(refused):
    content = edited(lambda d: d["actions"].insert(1, ["step", "ghost"]))
    refused(content, ReplayError,
            "actions[1] ['step', 'ghost']: the replay has no thread 'ghost' to "
            "step", 1)


# --- numbers, nesting, text that is not JSON ------------------------------------------
def test_a_100000_digit_number_is_refused_as_the_parser_meets_it(refused):
    text = json.dumps(good_run()).replace('"seed": 0', '"seed": ' + "9" * 100_000, 1)
    refused(text.encode(), TraceFileError,
            "a number has 100,000 digits; evtsim reads numbers of at most 40")


@pytest.mark.parametrize("number,fragment", [
    ("1e400", "the number '1e400' is too large"), ("NaN", "NaN is not a number"),
    ("-Infinity", "-Infinity is not a number"),
])
def test_numbers_that_are_not_finite_are_refused(refused, number, fragment):
    text = json.dumps(good_run()).replace('"seed": 0', f'"seed": {number}', 1)
    refused(text.encode(), TraceFileError, fragment)


def test_100000_deep_nesting_is_refused_before_the_text_is_parsed(refused, monkeypatch):
    text = json.dumps(good_run())[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with counting(monkeypatch) as counts, pytest.raises(TraceFileError):
        trace.from_bytes(text.encode())
    assert counts["parses"] == 0
    refused(text.encode(), TraceFileError,
            "lists and objects are nested 100,001 deep; evtsim reads JSON "
            "nested at most 32 deep")


def test_a_string_that_never_ends_is_scanned_once(refused, monkeypatch):
    """Half a million escaped quotes and no closing one: the nesting scan passes over
    the text once (a scan that looked for each string's end from every quote would not
    finish), then the parser finds the file cut off."""
    text = '{"format": "' + '\\"' * 500_000
    with counting(monkeypatch) as counts, pytest.raises(TraceFileError, match="cut off"):
        trace.from_bytes(text.encode())
    assert counts == {"machines": 0, "parses": 1}
    refused(text.encode(), TraceFileError, "(it looks cut off: was the file truncated?)")


@pytest.mark.parametrize("content,fragment", [
    (b"hello, this is not JSON", "not an evtsim trace file: it is not JSON at all"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "is not a text file (byte 0 is not UTF-8)"),
    (b"{not json", "not an evtsim trace file: it is not valid JSON at line 1 column 2"),
    (b'{"format": "evtsim-trace"} and more', "more text follows the JSON object"),
    (b"[1, 2]", "the top level must be a JSON object"),
    (b"   ", "is empty"),
])
def test_text_that_is_not_a_trace_file_is_not_called_cut_off(refused, content, fragment):
    message = refused(content, TraceFileError, fragment)
    assert "cut off" not in message


@pytest.mark.parametrize("cut", [1, 9, 300, -40, -3])
def test_a_cut_file_is_called_cut_off(refused, cut):
    text = trace.dumps(good_run())
    refused(text[:cut].encode(), TraceFileError,
            "(it looks cut off: was the file truncated?)")


# --- limits -------------------------------------------------------------------------
def test_a_file_over_16_mib_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.truncate(17 * 1024 * 1024)            # sparse: nothing to read
    with counting(monkeypatch) as counts, pytest.raises(TraceFileError) as info:
        trace.load(path)
    assert str(info.value) == (f"{path}: the file has 17,825,792 bytes; a trace file may "
                               f"have at most 16,777,216 (16 MiB). Save a shorter run.")
    assert counts == {"machines": 0, "parses": 0}
    out = subprocess.run([sys.executable, "-m", "evtsim", "replay", str(path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert (out.returncode, out.stderr) == (2, f"evtsim: error: {info.value}\n")
    lab = EventLab("notification_broadcast")
    lab.files.load_bytes(b"{" + b" " * (16 * 1024 * 1024), "big.json")
    assert "a trace file may have at most 16,777,216 (16 MiB)" in lab.log_lines[-1]


def test_more_than_100000_actions_are_refused_before_any_machine(refused):
    content = edited(lambda d: d.update(actions=[["step", None]] * 100_001))
    refused(content, TraceFileError,
            "actions has 100,001 actions; the most is 100,000")


def test_a_run_action_of_more_than_100000_steps_is_refused(refused):
    content = edited(lambda d: d["actions"].append(["run", 10**9, None]))
    refused(content, TraceFileError,
            "actions[3][1] (max_steps) must be from 0 to 100,000, found "
            "1000000000")


@pytest.mark.parametrize("field,most", [("threads", 256), ("objects", 256),
                                        ("processes", 100), ("records", 100_000)])
def test_counts_over_their_limit_are_refused(refused, field, most):
    content = edited(lambda d: d.update({field: [{}] * (most + 1)}))
    refused(content, TraceFileError,
            f"{field} has {most + 1:,} {field}; the most is {most:,}")


def test_a_replay_may_not_grow_past_256_threads(monkeypatch):
    """The lab starts its own added waiters again; a file asking for 300 of them stops
    at the limit, in the lab and in Python alike."""
    data = good_run()
    data["actions"] += [["start", "System", "added_waiter", f"added(DataReady)#{n}"]
                        for n in range(2, 302)]
    saved = trace.from_data(data, source="many.json")
    with pytest.raises(ReplayError, match=r"after actions\[255\] .* the machine has 257 threads "
                                          r"and 1 objects; a replay may have at most 256"):
        trace.replay(saved, start_again=start_again)
    with pytest.raises(ReplayError, match="cannot carry code"):
        trace.replay(saved)
    lab = EventLab("notification_broadcast")
    before = snapshot(lab)
    lab.files.load_bytes(json.dumps(data).encode(), "many.json")
    assert "a replay may have at most 256 of each" in lab.log_lines[-1]
    assert snapshot(lab) == before


@pytest.mark.parametrize("value", [10**8, "x", 1.5, [1], True, -1])
def test_scenario_parameters_in_a_file_go_through_the_scenarios_check(refused, value):
    content = edited(lambda d: d["scenario"]["params"].update(waiters=value))
    refused(content, TraceFileError,
            f"scenario.params: waiters={value!r} is not allowed: waiters must "
            f"be a whole number from 1 to 64")


@pytest.mark.parametrize("edit,fragment", [
    (lambda d: d["threads"][0].update(name="w" * 70_000),
     "threads[0].name has 70,000 characters; the most is 65,536"),
    (lambda d: d["records"][0].update(thread="\x1b[2Jwaiter1"),
     "records[0].thread holds the character U+001B"),
    (lambda d: d["records"][0].update(args=["\ud800"]),
     "records[0].args[0] holds the character U+D800"),
    (lambda d: d.update(colour="red"), "colour is not a field of a trace file"),
    (lambda d: d["threads"][1].update(state="asleep"),
     "threads[1].state must be one of ready, running, waiting, terminated or null"),
    (lambda d: d["processes"][0].update(pid=-4), "processes[0].pid must be from 0"),
])
def test_strings_and_fields_outside_the_format_are_refused(refused, edit, fragment):
    refused(edited(edit), TraceFileError, fragment)


def test_a_version_1_file_is_read_the_same_way(refused):
    data = json.loads((V1 / "notification_broadcast-kernel-set.json").read_text())
    assert data["version"] == 1 and data["actions"][1][1] == "KeSetEvent"
    data["actions"][1][1] = "__setattr__"
    refused(json.dumps(data).encode(), TraceFileError,
            "actions[1] calls '__setattr__', which is not a kernel routine")
