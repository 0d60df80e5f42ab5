"""The schedule explorer (issue 7): finds the traps, passes their fixes exhaustively,
DPOR agrees with DFS, failures replay, bounded and seeded searches behave."""
from __future__ import annotations

import itertools
from functools import partial

import pytest

from evtsim import BadArgumentError, Machine, scenarios
from evtsim.api.kernel import (Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent)
from evtsim.explore import STRATEGIES, explore, main, replay


def scenario(name, **params):
    return partial(scenarios.build, name, **params)


# --- small models ----------------------------------------------------------------------

def independent(threads=3, calls=3):
    """Each thread works on its own event: every interleaving is equivalent."""
    def build():
        m = Machine()

        def worker(k, ev, n):
            for _ in range(n):
                yield k.KeSetEvent(ev, 0, False)
        for i in range(threads):
            ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name=f"E{i}")
            m.system.start(worker, ev, calls, name=f"t{i}")
        return m
    return build


def set_reset_race():
    """A setter, a resetter and a poller on one event, plus an unrelated counter."""
    def build():
        m = Machine()
        ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ev")
        other = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Other")

        def setter(k):
            yield k.KeSetEvent(ev, 0, False)
            yield k.KeSetEvent(other, 0, False)

        def resetter(k):
            yield k.KeResetEvent(other)
            return (yield k.KeResetEvent(ev))

        def poller(k):
            first = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)
            second = yield k.KeReadStateEvent(ev)
            return first, second
        m.system.start(setter, name="setter")
        m.system.start(resetter, name="resetter")
        m.system.start(poller, name="poller")
        return m
    return build


def two_locks():
    """Two auto-reset events used as locks, taken in opposite orders: can deadlock."""
    def build():
        m = Machine()
        a = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="LockA")
        b = m.kernel.KeInitializeEvent(SynchronizationEvent, True, name="LockB")

        def worker(k, first, second):
            yield k.KeWaitForSingleObject(first, Executive, KernelMode, False, None)
            yield k.KeWaitForSingleObject(second, Executive, KernelMode, False, None)
            yield k.KeSetEvent(second, 0, False)
            yield k.KeSetEvent(first, 0, False)
        m.system.start(worker, a, b, name="left")
        m.system.start(worker, b, a, name="right")
        return m
    return build


def handoff(timeout=None):
    """A consumer waits (optionally with a timeout) for a producer that works first."""
    def build():
        m = Machine()
        ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Item")
        scratch = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Scratch")

        def producer(k):
            yield k.KeSetEvent(scratch, 0, False)
            yield k.KeResetEvent(scratch)
            yield k.KeSetEvent(ev, 0, False)

        def consumer(k):
            return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, timeout))

        def bystander(k):
            yield k.KeReadStateEvent(scratch)
            return (yield k.KeReadStateEvent(ev))
        m.system.start(producer, name="producer")
        m.system.start(consumer, name="consumer")
        m.system.start(bystander, name="bystander")
        return m
    return build


def asserting():
    """A thread asserts the event is set; it is only if the setter ran first."""
    def build():
        m = Machine()
        ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ready")

        def setter(k):
            yield k.KeSetEvent(ev, 0, False)

        def checker(k):
            state = yield k.KeReadStateEvent(ev)
            assert state == 1, "Ready was not set yet"
            return state
        m.system.start(checker, name="checker")
        m.system.start(setter, name="setter")
        return m
    return build


SMALL_MODELS = {
    "independent": independent(3, 2),
    "set_reset_race": set_reset_race(),
    "two_locks": two_locks(),
    "handoff": handoff(),
    "handoff_with_timeout": handoff(timeout=-30),
    "asserting": asserting(),
    "trap_initially_signaled": scenario("trap_initially_signaled"),
    "trap_initially_signaled_fixed": scenario("trap_initially_signaled", fixed=True),
    "hardware_lock": scenario("hardware_lock"),
    "trap_wrong_context": scenario("trap_wrong_context"),
    "trap_pulse_lost_wakeup": scenario("trap_pulse_lost_wakeup"),
}


def all_schedules(build, max_steps=200):
    """Every schedule by brute force (independent of the explorer), with the ready
    threads at each step."""
    out = []

    def walk(prefix, readies):
        m = replay(build, prefix, trace=False)
        ready = [t.name for t in m.choices()]
        if not ready or len(prefix) >= max_steps:
            out.append((prefix, readies))
            return
        for name in ready:
            walk(prefix + [name], readies + [ready])
    walk([], [])
    return out


def preemptions(schedule, readies):
    count = 0
    for last, name, ready in zip(schedule, schedule[1:], readies[1:]):
        if name != last and last in ready:
            count += 1
    return count


# --- the traps -------------------------------------------------------------------------

@pytest.mark.parametrize("strategy", ["dpor", "bounded"])
def test_finds_two_sets_before_two_waits_stranding(strategy):
    report = explore("trap_two_sets_one_wake", strategy)
    assert [f.kind for f in report.failures] == ["stranded"]
    story = report.failures[0].story
    assert "waits forever on ItemReady" in story
    assert "both SetEvent calls ran before either wait" in story


def test_finds_pulse_lost_wakeup():
    report = explore("trap_pulse_lost_wakeup", "dpor")
    [failure] = report.failures
    assert failure.kind == "stranded"
    assert failure.story.startswith("waiter waits forever on Work")
    assert "KePulseEvent" in failure.story and "APC" in failure.story
    assert report.exhaustive


def test_finds_handle_from_wrong_context():
    report = explore("trap_wrong_context", "dfs")
    [failure] = report.failures
    assert failure.kind == "stranded"
    assert "STATUS_INVALID_HANDLE" in failure.story
    assert report.exhaustive


@pytest.mark.parametrize("name", ["trap_two_sets_one_wake", "trap_pulse_lost_wakeup",
                                  "trap_wrong_context"])
def test_fixed_versions_pass_exhaustively(name):
    report = explore(scenario(name, fixed=True), "dpor")
    assert report.failures == []
    assert report.exhaustive
    assert report.verdict.startswith("PASSES")


def test_two_locks_in_opposite_order_deadlock():
    report = explore(two_locks(), "dpor")
    [failure] = report.failures
    assert failure.kind == "deadlock"
    assert "left" in failure.story and "right" in failure.story


def test_assertion_in_thread_code_is_an_error_failure():
    report = explore(asserting(), "dpor")
    [failure] = report.failures
    assert failure.kind == "error"
    assert "AssertionError" in failure.message and "Ready was not set yet" in failure.message
    assert failure.schedule == ["checker"]


def test_bug_check_is_a_failure():
    report = explore("trap_wait_at_dispatch", "dfs")
    [failure] = report.failures
    assert failure.kind == "bugcheck" and "0xC4" in failure.story


def test_step_budget_is_a_failure_and_not_exhaustive():
    def build():
        m = Machine()
        ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Spin")

        def spinner(k):
            while True:
                yield k.KeSetEvent(ev, 0, False)
        m.system.start(spinner, name="spinner")
        return m
    report = explore(build, "dfs", max_steps=50)
    [failure] = report.failures
    assert failure.kind == "budget" and "spinner" in failure.message
    assert not report.exhaustive


def test_check_returning_a_message_is_a_failure():
    def check(m):
        return m.shared["read"] == "sensor reading 42" or f"consumer read {m.shared['read']!r}"
    broken = explore("trap_initially_signaled", "dpor", check=check)
    assert [f.kind for f in broken.failures] == ["check"]
    assert "consumer read None" in broken.failures[0].message
    fixed = explore(scenario("trap_initially_signaled", fixed=True), "dpor", check=check)
    assert fixed.failures == [] and fixed.exhaustive


def test_check_returning_false_is_a_failure():
    report = explore(set_reset_race(), "dpor", check=lambda m: False)
    assert {f.message for f in report.failures} == {"check(m) returned False"}


# --- DPOR against DFS ------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SMALL_MODELS))
def test_dpor_finds_every_end_state_dfs_finds(name):
    build = SMALL_MODELS[name]
    dfs = explore(build, "dfs", max_schedules=20_000)
    dpor = explore(build, "dpor")
    assert dfs.exhaustive and dpor.exhaustive
    assert dpor.end_states == dfs.end_states
    assert {f.kind for f in dpor.failures} == {f.kind for f in dfs.failures}
    assert dpor.schedules <= dfs.schedules


def test_dpor_runs_far_fewer_schedules():
    build = independent(3, 3)
    dfs = explore(build, "dfs")
    dpor = explore(build, "dpor")
    assert dfs.schedules == 1680            # 9! / (3! 3! 3!)
    assert dpor.schedules == 1
    locks_dfs, locks_dpor = explore(two_locks(), "dfs"), explore(two_locks(), "dpor")
    assert locks_dpor.schedules < locks_dfs.schedules
    # (bench/explore.py measures the ratio on trap_two_sets_one_wake: DFS needs 15,456)


def test_dpor_matches_brute_force_on_a_small_model():
    build = set_reset_race()
    brute = {tuple(s) for s, _ in all_schedules(build)}
    from evtsim.explore import state_key
    states = {state_key(replay(build, list(s), trace=False)) for s in brute}
    assert explore(build, "dpor").end_states == states
    assert explore(build, "dfs").schedules == len(brute)


# --- replay ----------------------------------------------------------------------------

@pytest.mark.parametrize("build", [scenario("trap_two_sets_one_wake"),
                                   scenario("trap_pulse_lost_wakeup"),
                                   scenario("trap_wrong_context"), two_locks(), asserting(),
                                   scenario("trap_wait_at_dispatch")])
def test_replay_of_each_failure_reproduces_it(build):
    report = explore(build, "dpor")
    assert report.failures
    for failure in report.failures:
        m = replay(build, failure.schedule)
        assert [r.to_dict() for r in m.trace] == [r.to_dict() for r in failure.trace]
        if failure.kind in ("stranded", "deadlock"):
            assert m.choices() == []
            assert any(t.state == "waiting" for t in m.threads)
        elif failure.kind == "error":
            assert any(t.error is not None for t in m.threads)
        elif failure.kind == "bugcheck":
            assert m.bugcheck is not None
        again = failure.replay()
        assert [r.to_dict() for r in again.trace] == [r.to_dict() for r in m.trace]


def test_failure_prints_a_pasteable_replay_line():
    report = explore(scenario("trap_two_sets_one_wake"), "dpor")
    text = repr(report)
    line = [l.strip() for l in text.splitlines() if l.strip().startswith("replay(")][0]
    m = eval(line, {"replay": replay})
    assert m.choices() == [] and m.thread("consumer2").state == "waiting" or \
        m.thread("consumer1").state == "waiting"
    fixed = explore(scenario("trap_two_sets_one_wake", fixed=True), "bounded")
    assert fixed.failures == []
    broken = explore(scenario("trap_pulse_lost_wakeup"), "dpor")
    assert "replay('trap_pulse_lost_wakeup', [" in repr(broken)
    custom = explore(asserting(), "dpor")
    assert "replay(build, ['checker'])" in repr(custom)


def test_replay_refuses_a_thread_that_cannot_run():
    with pytest.raises(BadArgumentError, match="cannot run"):
        replay(two_locks(), ["left", "nobody"])
    with pytest.raises(BadArgumentError, match="no thread of that name"):
        replay(two_locks(), ["ghost"])


def test_replay_with_a_scenario_name_and_parameters():
    m = replay("trap_two_sets_one_wake", ["producer"], fixed=True)
    assert m.scenario[1]["fixed"] is True
    assert len(m.trace) == 1


# --- bounded, random, pct --------------------------------------------------------------

@pytest.mark.parametrize("k", [0, 1])
def test_bounded_explores_exactly_the_schedules_with_at_most_k_preemptions(k):
    build = set_reset_race()
    every = all_schedules(build)
    wanted = [s for s, r in every if preemptions(s, r) <= k]
    from evtsim.explore import state_key
    states = {state_key(replay(build, s, trace=False)) for s in wanted}
    report = explore(build, "bounded", preemptions=k)
    assert report.schedules == len(wanted)
    assert report.end_states == states
    assert not report.exhaustive
    assert "no proof" in report.verdict


def test_bounded_zero_on_independent_threads_is_one_run_per_order():
    report = explore(independent(3, 2), "bounded", preemptions=0)
    assert report.schedules == len(list(itertools.permutations(range(3))))


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_seeded_searches_are_deterministic(strategy):
    build = scenario("trap_two_sets_one_wake")
    a = explore(build, strategy, seed=7, max_schedules=40)
    b = explore(build, strategy, seed=7, max_schedules=40)
    assert a.schedules == b.schedules == 40
    assert a.end_states == b.end_states
    assert [f.schedule for f in a.failures] == [f.schedule for f in b.failures]
    assert not a.exhaustive and "no proof" in a.verdict


def test_random_and_pct_find_the_deadlock():
    for strategy in ("random", "pct"):
        report = explore(two_locks(), strategy, seed=1, max_schedules=200)
        assert [f.kind for f in report.failures] == ["deadlock"]


# --- reporting, limits, interruption ---------------------------------------------------

def test_max_schedules_stops_without_claiming_a_proof():
    report = explore(independent(3, 3), "dfs", max_schedules=10)
    assert report.schedules == 10 and not report.exhaustive
    assert "stopped early at max_schedules" in report.verdict


def test_keyboard_interrupt_returns_the_partial_report():
    builds = []

    def build():
        builds.append(1)
        if len(builds) == 6:
            raise KeyboardInterrupt
        return independent(3, 3)()
    report = explore(build, "dfs")
    assert report.interrupted and not report.exhaustive
    assert report.schedules == 5
    assert "interrupted" in report.verdict


def test_report_counts_and_describes():
    report = explore(set_reset_race(), "dfs")
    assert report.schedules > 1 and report.seconds >= 0 and report.steps > 0
    assert len(report.end_states) > 1
    assert "distinct end states" in report.describe()


def test_bad_arguments_are_refused():
    with pytest.raises(BadArgumentError, match="unknown strategy"):
        explore(two_locks(), "bfs")
    with pytest.raises(BadArgumentError):
        explore(two_locks(), "bounded", preemptions=-1)
    with pytest.raises(BadArgumentError):
        explore(lambda: 42, "dfs")
    assert set(STRATEGIES) == {"dfs", "bounded", "dpor", "random", "pct"}


def test_command_line(capsys):
    assert main(["trap_two_sets_one_wake", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "stranded" in out and "replay('trap_two_sets_one_wake'" in out
    assert main(["trap_two_sets_one_wake", "--param", "fixed=True", "--strategy",
                 "bounded", "--quiet"]) == 0
    assert "no proof" in capsys.readouterr().out
    assert main(["no_such_scenario", "--quiet"]) == 2


def test_command_line_through_evtsim_cli(capsys):
    from evtsim import cli
    assert cli.main(["explore", "trap_wrong_context", "--quiet"]) == 1
    assert "STATUS_INVALID_HANDLE" in capsys.readouterr().out


def test_explore_does_not_import_matplotlib():
    import subprocess
    import sys
    code = ("import sys, evtsim.explore; "
            "print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False False"
