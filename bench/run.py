"""Performance figures for evtsim, against the goals of issue 2.

Measures, in one process and one run:

* ping-pong: two System threads over two synchronization events (each side sets the
  other's event and waits on its own), evtsim with the trace on, against the same
  ping-pong in SimPy written the SimPy way; round trips per second and the ratio
  (goal: evtsim at least 1.5x SimPy). Best of 5, the two interleaved.
* one notification event releasing 100,000 waiting System threads: the time of the
  single KeSetEvent call (goal: under 0.5 s), plus the time to start the threads, to run
  them into their waits and to run them all to completion.
* `import evtsim` in a fresh interpreter (median of 5; goal: under 100 ms), and that it
  pulls in neither matplotlib nor ipywidgets.

Prints a table, writes bench/results/latest.json, and exits 0 whatever the figures:
the bench informs, CI does not run it. tests/test_bench_smoke.py runs these functions
at tiny sizes so the script cannot rot unnoticed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOAL_RATIO = 1.5            # evtsim round trips/s over SimPy's, trace on
GOAL_SET_SECONDS = 0.5      # one KeSetEvent releasing 100,000 waiters
GOAL_IMPORT_MS = 100.0      # `import evtsim` in a fresh interpreter
HEAVY_MODULES = ("matplotlib", "ipywidgets")


# --- ping-pong ---------------------------------------------------------------------------

def evtsim_pingpong(round_trips):
    """Run the evtsim ping-pong; return (seconds for m.run, the Machine)."""
    from evtsim import Machine
    from evtsim.api.kernel import Executive, KernelMode, SynchronizationEvent

    def ping(k, mine, theirs, n):
        for _ in range(n):
            yield k.KeSetEvent(theirs, 0, False)
            yield k.KeWaitForSingleObject(mine, Executive, KernelMode, False, None)

    def pong(k, mine, theirs, n):
        for _ in range(n):
            yield k.KeWaitForSingleObject(mine, Executive, KernelMode, False, None)
            yield k.KeSetEvent(theirs, 0, False)

    m = Machine()
    to_ping = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="ToPing")
    to_pong = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="ToPong")
    m.system.start(ping, to_ping, to_pong, round_trips, name="ping")
    m.system.start(pong, to_pong, to_ping, round_trips, name="pong")
    t0 = time.perf_counter()
    result = m.run(max_steps=8 * round_trips + 100)
    elapsed = time.perf_counter() - t0
    if result.reason != "done":
        raise RuntimeError(f"evtsim ping-pong stopped with {result.reason!r}: {result.message}")
    return elapsed, m


def simpy_pingpong(round_trips):
    """The same ping-pong in SimPy: each turn a side triggers the other's event and
    waits on a fresh event of its own. Return (seconds for env.run, turns taken)."""
    import simpy

    env = simpy.Environment()
    events = {"ping": env.event(), "pong": env.event()}
    turns = []

    def ping(env, n):
        for _ in range(n):
            events["pong"].succeed()
            yield events["ping"]
            events["ping"] = env.event()
            turns.append("ping")

    def pong(env, n):
        for _ in range(n):
            yield events["pong"]
            events["pong"] = env.event()
            turns.append("pong")
            events["ping"].succeed()

    env.process(ping(env, round_trips))
    env.process(pong(env, round_trips))
    t0 = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - t0
    if len(turns) != 2 * round_trips:
        raise RuntimeError(f"SimPy ping-pong took {len(turns)} turns, not {2 * round_trips}")
    return elapsed, turns


def set_event_turns(machine):
    """Names of the threads that called KeSetEvent, in trace order."""
    return [_thread_name(r.thread) for r in machine.trace if r.op == "KeSetEvent"]


def _thread_name(thread):
    return getattr(thread, "name", thread)


def bench_pingpong(round_trips=20_000, repeats=5):
    evtsim_best = simpy_best = float("inf")
    simpy_error = None
    for _ in range(repeats):                      # interleaved: evtsim, SimPy, evtsim, ...
        elapsed, _m = evtsim_pingpong(round_trips)
        evtsim_best = min(evtsim_best, elapsed)
        del _m
        try:
            elapsed, _turns = simpy_pingpong(round_trips)
            simpy_best = min(simpy_best, elapsed)
        except ImportError as exc:
            simpy_error = f"SimPy not installed ({exc}); pip install simpy"
    evtsim_rate = round_trips / evtsim_best
    simpy_rate = None if simpy_error else round_trips / simpy_best
    ratio = None if simpy_rate is None else evtsim_rate / simpy_rate
    return {
        "round_trips": round_trips, "repeats": repeats,
        "evtsim_seconds": evtsim_best, "evtsim_round_trips_per_s": evtsim_rate,
        "simpy_seconds": None if simpy_error else simpy_best,
        "simpy_round_trips_per_s": simpy_rate,
        "ratio": ratio, "goal_ratio": GOAL_RATIO,
        "pass": ratio is not None and ratio >= GOAL_RATIO,
        "note": simpy_error,
    }


# --- one notification event, many waiters --------------------------------------------------

def bench_waiters(waiters=100_000):
    from evtsim import Machine
    from evtsim.api.kernel import Executive, KernelMode, NotificationEvent

    def waiter(k, ev):
        status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
        return status

    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    t0 = time.perf_counter()
    threads = [m.system.start(waiter, ev, name=f"w{i}") for i in range(waiters)]
    start_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    r = m.run(max_steps=4 * waiters + 100)
    wait_run_s = time.perf_counter() - t0
    still_ready = sum(1 for t in threads if t.state != "waiting")
    if still_ready:
        raise RuntimeError(f"after run ({r.reason!r}) {still_ready} threads are not waiting")

    t0 = time.perf_counter()
    previous = m.kernel.KeSetEvent(ev, 0, False)
    set_s = time.perf_counter() - t0
    if previous != 0:
        raise RuntimeError(f"KeSetEvent returned {previous!r}, expected the previous state 0")

    t0 = time.perf_counter()
    r = m.run(max_steps=4 * waiters + 100)
    finish_s = time.perf_counter() - t0
    done = sum(1 for t in threads if t.state == "terminated" and t.result == 0)
    if r.reason != "done" or done != waiters:
        raise RuntimeError(f"after the set, run stopped with {r.reason!r}; "
                           f"{done} of {waiters} waiters finished with STATUS_SUCCESS")
    return {
        "waiters": waiters, "start_threads_seconds": start_s,
        "run_into_waits_seconds": wait_run_s, "set_event_seconds": set_s,
        "run_to_completion_seconds": finish_s, "released": done,
        "goal_set_event_seconds": GOAL_SET_SECONDS, "pass": set_s < GOAL_SET_SECONDS,
    }


# --- import time -------------------------------------------------------------------------------

_IMPORT_PROBE = (
    "import sys, time, json\n"
    "t0 = time.perf_counter()\n"
    "import evtsim\n"
    "t1 = time.perf_counter()\n"
    "heavy = sorted({n.split('.')[0] for n in sys.modules} & set(%r))\n"
    "print(json.dumps({'ms': (t1 - t0) * 1000, 'heavy': heavy, 'file': evtsim.__file__}))\n"
) % (HEAVY_MODULES,)


def bench_import(repeats=5):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # One untimed run first, so every timed run finds the bytecode cache already written.
    runs = []
    for i in range(repeats + 1):
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], cwd=str(REPO), env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"`import evtsim` failed in a fresh interpreter:\n{out.stderr}")
        if i:
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    median_ms = statistics.median(r["ms"] for r in runs)
    heavy = sorted({name for r in runs for name in r["heavy"]})
    return {
        "repeats": repeats, "median_ms": median_ms, "all_ms": [r["ms"] for r in runs],
        "goal_ms": GOAL_IMPORT_MS, "heavy_modules_imported": heavy,
        "pass": median_ms < GOAL_IMPORT_MS and not heavy,
    }


# --- report ---------------------------------------------------------------------------------------

def _verdict(ok):
    return "PASS" if ok else "FAIL"


def _fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def report(results):
    lines = [f"{'figure':<44}{'value':>16}  {'goal':<14}verdict", "-" * 84]

    def row(name, value, goal="", verdict=""):
        lines.append(f"{name:<44}{value:>16}  {goal:<14}{verdict}")

    p = results.get("pingpong")
    if p:
        row(f"ping-pong evtsim, trace on (N={p['round_trips']:,})",
            f"{p['evtsim_round_trips_per_s']:,.0f}/s")
        row("ping-pong SimPy", f"{_fmt(p['simpy_round_trips_per_s'], ',.0f')}/s")
        row("ratio evtsim / SimPy", f"{_fmt(p['ratio'], '.2f')}x",
            f">= {p['goal_ratio']}x", _verdict(p["pass"]))
        if p.get("note"):
            row("  note: " + p["note"], "")
    w = results.get("waiters")
    if w:
        row(f"start {w['waiters']:,} System threads", f"{w['start_threads_seconds']:.3f} s")
        row("run them into their waits", f"{w['run_into_waits_seconds']:.3f} s")
        row("one KeSetEvent releases them all", f"{w['set_event_seconds']:.3f} s",
            f"< {w['goal_set_event_seconds']} s", _verdict(w["pass"]))
        row("run them all to completion", f"{w['run_to_completion_seconds']:.3f} s")
    i = results.get("import")
    if i:
        row(f"import evtsim (median of {i['repeats']})", f"{i['median_ms']:.1f} ms",
            f"< {i['goal_ms']:.0f} ms", _verdict(i["median_ms"] < i["goal_ms"]))
        heavy = ", ".join(i["heavy_modules_imported"]) or "none"
        row("  matplotlib/ipywidgets imported", heavy, "none",
            _verdict(not i["heavy_modules_imported"]))
    for name, err in results.get("errors", {}).items():
        row(f"{name}: ERROR", "", "", "FAIL")
        lines.append("    " + err.replace("\n", "\n    "))
    return "\n".join(lines)


def run_all(round_trips=20_000, repeats=5, waiters=100_000, import_repeats=5):
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "platform": platform.platform(), "machine": platform.machine(),
        "errors": {},
    }
    for key, fn, kwargs in (
            ("pingpong", bench_pingpong, {"round_trips": round_trips, "repeats": repeats}),
            ("waiters", bench_waiters, {"waiters": waiters}),
            ("import", bench_import, {"repeats": import_repeats})):
        try:
            results[key] = fn(**kwargs)
        except Exception as exc:                  # report and go on: the bench informs
            results["errors"][key] = f"{type(exc).__name__}: {exc}"
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--round-trips", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--waiters", type=int, default=100_000)
    ap.add_argument("--import-repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "latest.json")
    args = ap.parse_args(argv)

    results = run_all(args.round_trips, args.repeats, args.waiters, args.import_repeats)
    print(report(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
