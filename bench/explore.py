"""Performance figures for the schedule explorer (issue 7).

* schedules per second with strategy "bounded" (2 preemptions) on a 3-thread x 10-call
  model: three System threads, each making 10 non-blocking calls (KeSetEvent,
  KeResetEvent, KeReadStateEvent) on two shared events. Goal: at least 20,000/s.
  Every schedule is run from a fresh build (the explorer is stateless), so this is
  roughly 1 / (build + 30 steps).
* the reduction DPOR achieves against DFS on a model DFS can finish
  (trap_two_sets_one_wake: 3 threads, 15 steps a run). Goal: at least 100x fewer
  schedules; both must find the same end states.

Prints a table, writes bench/results/explore.json, exits 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOAL_RATE = 20_000
GOAL_RATIO = 100.0


def three_by_ten(calls=10, boot=True):
    """The 3-thread x `calls`-call model (a builder)."""
    from evtsim import Machine
    from evtsim.api.kernel import NotificationEvent, SynchronizationEvent

    def build():
        m = Machine(boot=boot)
        a = m.kernel.KeInitializeEvent(NotificationEvent, False, name="A")
        b = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="B")

        def worker(k, i):
            for j in range(calls):
                op = (i + j) % 3
                ev = a if (i + j) % 2 else b
                if op == 0:
                    yield k.KeSetEvent(ev, 0, False)
                elif op == 1:
                    yield k.KeResetEvent(ev)
                else:
                    yield k.KeReadStateEvent(ev)
        for i in range(3):
            m.system.start(worker, i, name=f"t{i}")
        return m
    return build


def bounded_rate(calls=10, max_schedules=20_000, boot=True, repeats=3):
    from evtsim.explore import explore
    best = None
    for _ in range(repeats):
        report = explore(three_by_ten(calls, boot), "bounded", max_schedules=max_schedules,
                         progress=False)
        rate = report.schedules / report.seconds
        if best is None or rate > best[0]:
            best = (rate, report)
    rate, report = best
    return {"schedules": report.schedules, "seconds": round(report.seconds, 3),
            "schedules_per_s": round(rate), "steps_per_s": round(report.steps / report.seconds),
            "exhaustive": report.exhaustive, "boot": boot}


def dpor_ratio(name="trap_two_sets_one_wake"):
    from evtsim.explore import explore
    dfs = explore(name, "dfs", progress=False)
    dpor = explore(name, "dpor", progress=False)
    return {"model": name, "dfs_schedules": dfs.schedules, "dfs_seconds": round(dfs.seconds, 2),
            "dpor_schedules": dpor.schedules, "dpor_seconds": round(dpor.seconds, 2),
            "ratio": round(dfs.schedules / dpor.schedules, 1),
            "same_end_states": dfs.end_states == dpor.end_states,
            "both_exhaustive": dfs.exhaustive and dpor.exhaustive}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--max-schedules", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ratio-model", default="trap_two_sets_one_wake")
    args = parser.parse_args(argv)
    booted = bounded_rate(args.calls, args.max_schedules, True, args.repeats)
    bare = bounded_rate(args.calls, args.max_schedules, False, args.repeats)
    ratio = dpor_ratio(args.ratio_model)
    rows = [
        ("bounded, 3 threads x %d calls (booted Machine)" % args.calls,
         f"{booted['schedules_per_s']:,} schedules/s", f">= {GOAL_RATE:,}/s",
         booted["schedules_per_s"] >= GOAL_RATE),
        ("bounded, same model, Machine(boot=False)",
         f"{bare['schedules_per_s']:,} schedules/s", f">= {GOAL_RATE:,}/s",
         bare["schedules_per_s"] >= GOAL_RATE),
        (f"DFS/DPOR schedules on {ratio['model']}",
         f"{ratio['dfs_schedules']:,}/{ratio['dpor_schedules']:,} = {ratio['ratio']}x",
         f">= {GOAL_RATIO:g}x", ratio["ratio"] >= GOAL_RATIO),
    ]
    for what, figure, goal, met in rows:
        print(f"{what:<52} {figure:>26}  goal {goal:<12} {'met' if met else 'NOT met'}")
    print(f"(same end states: {ratio['same_end_states']}; both exhaustive: "
          f"{ratio['both_exhaustive']}; bounded search exhaustive: {booted['exhaustive']})")
    out = BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    (out / "explore.json").write_text(json.dumps(
        {"bounded_booted": booted, "bounded_boot_false": bare, "dpor_vs_dfs": ratio,
         "python": platform.python_version(), "machine": platform.machine(),
         "processor": platform.processor()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
