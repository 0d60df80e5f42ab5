"""Hostile scenario parameters are refused before anything is built (issue 18;
docs/engine.md, "Scenarios and their parameters").

`evtsim run NAME --param k=v` reads each value as JSON with the trace files' bounds
(nesting and digits), then the scenario checks it against its rule; a notebook's
`scenarios.build`, the lab and a trace file's parameters go through the same check. Each
hostile value is tried on the command line (a real `python -m evtsim` once per class,
and `cli.main` for the rest: exit status 2, one `evtsim: error:` line naming the
parameter, no traceback) and in Python (a BadArgumentError), and no Machine is built.
"""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from evtsim import BadArgumentError, cli, scenarios
from evtsim.lab import LabSession
from evtsim.machine import Machine
from evtsim.scenarios.registry import REGISTRY, RULES, scenario

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["x", "1.5", "[1]", "10**8", "true", "-1", "100000000", "0", "65", "null",
           '{"a": 1}', "1e400", "NaN", "9" * 5_000, "[" * 100_000]
_SPAWNED: set[str] = set()


@pytest.fixture
def machines(monkeypatch):
    """How many Machines were built during the test."""
    count = {"n": 0}
    init = Machine.__init__

    def counted(self, *args, **kwargs):
        count["n"] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(Machine, "__init__", counted)
    return count


def command(request, *argv: str) -> tuple[int, str, str]:
    """`evtsim ARGV`: a real process once per test function, else `cli.main`."""
    name = request.node.originalname
    if name not in _SPAWNED:
        _SPAWNED.add(name)
        out = subprocess.run([sys.executable, "-m", "evtsim", *argv], capture_output=True,
                             text=True, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)
        return out.returncode, out.stdout, out.stderr
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = cli.main(list(argv), out=stdout)
    return code, stdout.getvalue(), stderr.getvalue()


def assert_one_error_line(code: int, stdout: str, stderr: str, *fragments: str) -> None:
    assert code == 2, stderr
    assert stderr.startswith("evtsim: error:") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and stdout == ""
    for fragment in fragments:
        assert fragment in stderr, stderr


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: v[:12])
def test_a_hostile_waiters_value_ends_as_one_error_line(request, machines, value):
    code, stdout, stderr = command(request, "run", "notification_broadcast", "--param",
                                   f"waiters={value}")
    assert_one_error_line(code, stdout, stderr, "waiters")
    assert machines["n"] == 0


@pytest.mark.parametrize("value", [10**8, "x", 1.5, [1], True, -1, None, 0, 65, float("nan")],
                         ids=repr)
def test_a_hostile_waiters_value_is_refused_in_python_before_building(machines, value):
    for build in (lambda: scenarios.build("notification_broadcast", waiters=value),
                  lambda: LabSession("notification_broadcast", waiters=value)):
        with pytest.raises(BadArgumentError, match=r"waiters=.* is not allowed: waiters must "
                                                   r"be a whole number from 1 to 64"):
            build()
    assert machines["n"] == 0


def whole_number_parameters() -> list[tuple[str, str, int, int]]:
    found = []
    for name, entry in REGISTRY.items():
        for key, default in entry.defaults.items():
            if isinstance(default, int) and not isinstance(default, bool):
                rule = RULES[key]
                assert rule.low is not None and rule.high is not None
                found.append((name, key, rule.low, rule.high))
    return found


@pytest.mark.parametrize("name,key,low,high", whole_number_parameters(),
                         ids=lambda v: str(v))
def test_every_whole_number_parameter_has_limits_both_ways(machines, name, key, low, high):
    for value in (low - 1, high + 1, 10**100):
        with pytest.raises(BadArgumentError, match=rf"{key}={value!r:.20}"):
            scenarios.build(name, **{key: value})
    assert machines["n"] == 0
    assert scenarios.build(name, **{key: low}).scenario[1][key] == low


def test_a_scenario_with_an_unbounded_whole_number_parameter_cannot_register():
    before = dict(REGISTRY)
    with pytest.raises(TypeError, match="the whole-number parameter 'count' has no limits"):
        @scenario("unbounded_test", "t", "s", "o")
        def unbounded(policy="round_robin", seed=0, count=3):
            raise AssertionError("never built")
    assert REGISTRY == before


@pytest.mark.parametrize("argv,fragments", [
    (["run", "hardware_lock", "--param", "rounds=51"], ["rounds=51", "from 1 to 50"]),
    (["run", "handle_by_ioctl", "--param", "due_ms=-5"], ["due_ms=-5", "from 0 to 60,000"]),
    (["run", "hardware_lock", "--param", "seed=99999999999"], ["seed=99999999999"]),
    (["run", "driverstudio_tip", "--param", "app_name=" + "A" * 40_000],
     ["app_name=", "at most 32,767 characters"]),
    (["run", "hardware_lock", "--param", "policy=[1]"], ["policy=[1] is not allowed"]),
])
def test_other_hostile_parameters_end_as_one_error_line(request, machines, argv, fragments):
    assert_one_error_line(*command(request, *argv), *fragments)
    assert machines["n"] == 0


@pytest.mark.parametrize("argv,fragment", [
    (["--max-steps", "1000000000000"], "argument --max-steps: must be a whole number from "
                                       "0 to 100,000"),
    (["--max-steps", "-1"], "argument --max-steps: must be a whole number"),
    (["--font-scale", "1e308", "--png", "never.png"], "argument --font-scale: must be from "
                                                      "0.25 to 8"),
    (["--font-scale", "nan", "--svg", "never.svg"], "argument --font-scale: must be from"),
    (["--seed", "10**8"], "argument --seed: invalid int value"),
])
def test_command_line_numbers_have_limits_too(request, machines, tmp_path, argv, fragment):
    argv = [str(tmp_path / a) if a.startswith("never.") else a for a in argv]
    code, stdout, stderr = command(request, "run", "notification_broadcast", *argv)
    assert code == 2 and "Traceback" not in stderr and stdout == ""
    assert stderr.splitlines()[-1].startswith(f"evtsim: error: {fragment}"), stderr
    assert machines["n"] == 0
    assert list(tmp_path.iterdir()) == []
