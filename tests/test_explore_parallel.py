"""The parallel runner (issue 19): worker processes run planned DPOR runs, and the
report is the same as on one core, byte for byte (docs/explore.md section 7). It is
outside the engine that runs in the browser: importing the explorer starts nothing."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
from functools import partial

import pytest
from test_explore import handoff, two_locks
from test_explore_dpor import readers, win32_handles

from evtsim import scenarios
from evtsim.explore import explore, main
from evtsim_parallel import explore_parallel

FORK = "fork" in multiprocessing.get_all_start_methods()


def scenario(name, **params):
    return partial(scenarios.build, name, **params)


def same_report(one, many):
    assert many.describe(seconds=False) == one.describe(seconds=False)
    assert (many.schedules, many.pruned, many.steps) == (one.schedules, one.pruned, one.steps)
    assert many.end_states == one.end_states and many.examples == one.examples
    assert [f.schedule for f in many.failures] == [f.schedule for f in one.failures]
    assert [f.count for f in many.failures] == [f.count for f in one.failures]


@pytest.mark.parametrize("build,options", [
    (scenario("trap_two_sets_one_wake"), {}),
    (scenario("notification_broadcast", waiters=4), {}),
    (scenario("trap_two_sets_one_wake"), {"symmetry": True}),
    (win32_handles(), {}),
    (two_locks(), {}),
    (handoff(timeout=-30), {}),                 # strict timing: the search starts again
], ids=["two_sets", "broadcast4", "two_sets_symmetry", "win32", "two_locks", "timeout"])
def test_workers_give_the_same_report_as_one_core(build, options):
    one = explore(build, "dpor", **options)
    many = explore_parallel(build, "dpor", workers=2, wait=True, **options)
    same_report(one, many)
    if FORK:
        assert many.worker_runs > 0             # the workers did some of the runs
    else:
        assert many.worker_runs == 0            # no fork (Windows): one process


def test_workers_that_fall_behind_change_nothing():
    build = scenario("trap_two_sets_one_wake", fixed=True)
    one = explore(build, "dpor", max_schedules=120)
    many = explore_parallel(build, "dpor", workers=2, max_schedules=120)
    same_report(one, many)
    assert many.limited and "stopped early" in many.verdict


def test_a_check_runs_in_the_workers_too():
    def check(m):
        return m.thread("r1").result != (258, 1) or "r1 saw the flag only the second time"
    one = explore(readers(2), "dpor", check=check)
    many = explore_parallel(readers(2), "dpor", check=check, workers=2, wait=True)
    same_report(one, many)
    assert [f.kind for f in many.failures] == ["check"]


def test_other_strategies_and_one_worker_run_in_this_process():
    for strategy in ("dfs", "bounded", "random"):
        one = explore(two_locks(), strategy, max_schedules=50)
        many = explore_parallel(two_locks(), strategy, workers=2, max_schedules=50)
        same_report(one, many)
        assert many.worker_runs == 0
    assert explore_parallel(two_locks(), "dpor", workers=1).worker_runs == 0


def test_command_line_with_workers_prints_the_same(capsys):
    assert main(["trap_two_sets_one_wake", "--quiet"]) == 1
    alone = capsys.readouterr().out
    assert main(["trap_two_sets_one_wake", "--quiet", "--workers", "2"]) == 1
    spread = capsys.readouterr().out

    def strip(text):        # the seconds differ
        return [line for line in text.splitlines() if " s (dpor)." not in line]
    assert strip(spread) == strip(alone) and "stranded" in alone


def test_importing_the_explorer_starts_no_processes():
    code = ("import sys, evtsim.explore; "
            "print('multiprocessing' in sys.modules, 'evtsim_parallel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False False"
