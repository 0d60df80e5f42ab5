"""bench/run.py still runs: its functions at tiny sizes report every figure and the
ping-pong really alternates. No timing is asserted here (a figure is only checked to be a
number): the bench itself reports the timings."""
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("evtsim_bench_run", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evtsim_pingpong_alternates_set_event_between_the_two_threads(bench):
    seconds, m = bench.evtsim_pingpong(200)
    assert isinstance(seconds, float)
    turns = bench.set_event_turns(m)
    assert len(turns) == 2 * 200
    assert turns == ["ping", "pong"] * 200


def test_evtsim_pingpong_releases_the_other_thread_at_every_set_after_the_first(bench):
    _, m = bench.evtsim_pingpong(50)
    sets = [r for r in m.trace if r.op == "KeSetEvent"]
    # ping's first set finds nobody waiting yet; every later set wakes the other side.
    for record in sets[1:]:
        other = "pong" if bench._thread_name(record.thread) == "ping" else "ping"
        assert tuple(record.released) == (other,)


def test_simpy_pingpong_alternates(bench):
    import simpy  # noqa: F401  (the test extra installs it; missing is a failure)
    seconds, turns = bench.simpy_pingpong(200)
    assert isinstance(seconds, float)
    assert turns == ["pong", "ping"] * 200


def test_bench_pingpong_reports_every_rate(bench):
    import simpy  # noqa: F401  (the test extra installs it; missing is a failure)
    p = bench.bench_pingpong(round_trips=200, repeats=2)
    for key in ("evtsim_round_trips_per_s", "simpy_round_trips_per_s", "ratio"):
        assert isinstance(p[key], float), key
    assert isinstance(p["pass"], bool)


def test_bench_waiters_releases_every_waiter_with_one_set(bench):
    w = bench.bench_waiters(1_000)
    assert w["released"] == 1_000
    for key in ("start_threads_seconds", "run_into_waits_seconds", "set_event_seconds",
                "run_to_completion_seconds"):
        assert isinstance(w[key], float), key


def test_bench_import_measures_a_fresh_interpreter_and_finds_no_heavy_module(bench):
    i = bench.bench_import(repeats=1)
    assert isinstance(i["median_ms"], float)
    assert i["heavy_modules_imported"] == []


def test_bench_report_and_json_cover_every_figure(bench, tmp_path):
    out = tmp_path / "latest.json"
    assert bench.main(["--round-trips", "50", "--repeats", "1", "--waiters", "100",
                       "--import-repeats", "1", "--out", str(out)]) == 0
    import json
    data = json.loads(out.read_text())
    assert data["errors"] == {}
    assert {"pingpong", "waiters", "import"} <= set(data)


def test_the_minimal_dispatcher_takes_the_same_steps_as_evtsim_on_the_ping_pong():
    """bench/hotpath.py divides evtsim's steps/s by the minimal dispatcher's: the two
    must do the same work, step for step (6 steps a round trip, trace rows included)."""
    spec = importlib.util.spec_from_file_location("evtsim_bench_minimal",
                                                  BENCH.parent / "minimal.py")
    minimal = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(minimal)
    from evtsim import Machine
    from evtsim.api.kernel import Executive, KernelMode, SynchronizationEvent
    m = Machine()
    a = m.kernel.KeInitializeEvent(SynchronizationEvent, False)
    b = m.kernel.KeInitializeEvent(SynchronizationEvent, False)

    def ping(k):
        for _ in range(50):
            yield k.KeSetEvent(a, 0, False)
            yield k.KeWaitForSingleObject(b, Executive, KernelMode, False, None)

    def pong(k):
        for _ in range(50):
            yield k.KeWaitForSingleObject(a, Executive, KernelMode, False, None)
            yield k.KeSetEvent(b, 0, False)

    m.system.start(ping, name="ping")
    m.system.start(pong, name="pong")
    before = len(m.trace)
    m.run()
    assert minimal.pingpong(50) == len(m.trace) - before == 6 * 50 - 1
