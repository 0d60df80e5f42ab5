"""Performance figures for the schedule explorer (issues 7 and 19).

Seconds to a verdict (issue 19): every scenario at its defaults and with `fixed=True`,
and the larger models a learner makes by turning one parameter up, each explored with
strategy "dpor" in a fresh interpreter and timed in CPU seconds (`time.process_time`,
best of `--repeats`). Goals: every scenario <= 0.25 s; notification_broadcast waiters=4
<= 0.3 s and waiters=5 <= 2 s; hardware_lock rounds=4 <= 0.3 s; stretch, with
`symmetry=True`, waiters=6 <= 5 s. Each row also says how many schedules DPOR ran and,
for the models DFS can finish (at most `--dfs-limit` schedules), whether DFS found the
same end states and failures.

Older figures (issue 7), kept for comparison:

* schedules per second with strategy "bounded" (2 preemptions) on a 3-thread x 10-call
  model: three System threads, each making 10 non-blocking calls (KeSetEvent,
  KeResetEvent, KeReadStateEvent) on two shared events. Every schedule is run from a
  fresh build (the explorer is stateless), so this is roughly 1 / (build + 30 steps).
* the reduction DPOR achieves against DFS on a model DFS can finish
  (trap_two_sets_one_wake: 3 threads, 15 steps a run); both must find the same end
  states.

Prints a table, writes bench/results/explore.json, exits 0 whatever the figures.
`python bench/explore.py --quick` skips the old figures and the DFS runs.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOAL_SCENARIO = 0.25            # CPU seconds to a verdict, every scenario
# (scenario, parameters, symmetry, goal in CPU seconds): the larger models
LARGER = [
    ("notification_broadcast", {"waiters": 4}, False, 0.3),
    ("notification_broadcast", {"waiters": 5}, False, 2.0),
    ("hardware_lock", {"rounds": 4}, False, 0.3),
    ("notification_broadcast", {"waiters": 6}, True, 5.0),     # stretch
    ("notification_broadcast", {"waiters": 6}, False, None),
    ("hardware_lock", {"rounds": 6}, False, None),
]
GOAL_RATE = 20_000
GOAL_RATIO = 100.0

_TIMED = r"""
import json, sys, time
from functools import partial
from evtsim import scenarios
from evtsim.explore import explore
name, params, symmetry, strategy = json.loads(sys.argv[1])
build = partial(scenarios.get(name).build, **params)
start = time.process_time()
report = explore(build, strategy, symmetry=symmetry)
seconds = time.process_time() - start
print(json.dumps({"seconds": seconds, "schedules": report.schedules,
                  "pruned": report.pruned, "verdict": report.verdict,
                  "exhaustive": report.exhaustive, "end_states": len(report.end_states),
                  "failures": sorted(f.kind for f in report.failures)}))
"""


def timed(name: str, params: dict, symmetry: bool = False, strategy: str = "dpor",
          repeats: int = 3) -> dict:
    """Explore one model in fresh interpreters; the best CPU time of `repeats`."""
    best = None
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _TIMED, json.dumps([name, params, symmetry, strategy])],
            cwd=str(REPO), capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def scenario_cases() -> list[tuple[str, dict]]:
    from evtsim import scenarios
    cases = []
    for name in scenarios.names():
        cases.append((name, {}))
        if "fixed" in scenarios.get(name).defaults:
            cases.append((name, {"fixed": True}))
    return cases


def agrees_with_dfs(name: str, params: dict, limit: int) -> str:
    """'yes' / 'NO' when DFS finishes within `limit` schedules, else 'too big'."""
    from functools import partial

    from evtsim import scenarios
    from evtsim.explore import explore
    build = partial(scenarios.get(name).build, **params)
    dfs = explore(build, "dfs", max_schedules=limit)
    if not dfs.exhaustive:
        return "too big"
    dpor = explore(build, "dpor")
    same = (dpor.end_states == dfs.end_states
            and {f.key for f in dpor.failures} == {f.key for f in dfs.failures})
    return f"yes ({dfs.schedules:,})" if same else "NO"


def verdict_table(repeats: int, dfs_limit: int | None) -> list[dict]:
    rows = []
    for name, params in scenario_cases():
        rows.append({"model": name, "params": params, "symmetry": False,
                     "goal": GOAL_SCENARIO, **timed(name, params, repeats=repeats)})
    for name, params, symmetry, goal in LARGER:
        rows.append({"model": name, "params": params, "symmetry": symmetry,
                     "goal": goal, **timed(name, params, symmetry, repeats=repeats)})
    for row in rows:
        row["dfs"] = (agrees_with_dfs(row["model"], row["params"], dfs_limit)
                      if dfs_limit and not row["symmetry"] else "-")
    return rows


def print_verdicts(rows: list[dict]) -> None:
    print(f"{'model':<48} {'schedules':>9} {'CPU s':>7}  {'goal':<8} {'':<7} DFS agrees")
    for row in rows:
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        label = row["model"] + (f" ({params})" if params else "")
        if row["symmetry"]:
            label += " symmetry"
        goal = f"<= {row['goal']:g}" if row["goal"] is not None else "-"
        met = "" if row["goal"] is None else ("met" if row["seconds"] <= row["goal"]
                                              else "NOT met")
        print(f"{label:<48} {row['schedules']:>9,} {row['seconds']:>7.3f}  {goal:<8} "
              f"{met:<7} {row['dfs']}")


# --- the issue 7 figures -------------------------------------------------------------

def three_by_ten(calls: int = 10, boot: bool = True):
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
    parser.add_argument("--quick", action="store_true",
                        help="only the seconds to a verdict, without DFS")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dfs-limit", type=int, default=20_000,
                        help="DFS agreement for models DFS finishes in this many schedules")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--max-schedules", type=int, default=20_000)
    parser.add_argument("--ratio-model", default="trap_two_sets_one_wake")
    args = parser.parse_args(argv)
    rows = verdict_table(args.repeats, None if args.quick else args.dfs_limit)
    print_verdicts(rows)
    results = {"verdicts": rows, "python": platform.python_version(),
               "machine": platform.machine(), "processor": platform.processor()}
    if not args.quick:
        booted = bounded_rate(args.calls, args.max_schedules, True, args.repeats)
        ratio = dpor_ratio(args.ratio_model)
        print()
        print(f"bounded, 3 threads x {args.calls} calls: {booted['schedules_per_s']:,} "
              f"schedules/s (goal >= {GOAL_RATE:,}/s: "
              f"{'met' if booted['schedules_per_s'] >= GOAL_RATE else 'NOT met'})")
        print(f"DFS/DPOR schedules on {ratio['model']}: {ratio['dfs_schedules']:,}/"
              f"{ratio['dpor_schedules']:,} = {ratio['ratio']}x (goal >= {GOAL_RATIO:g}x: "
              f"{'met' if ratio['ratio'] >= GOAL_RATIO else 'NOT met'}; same end states: "
              f"{ratio['same_end_states']})")
        results.update({"bounded_booted": booted, "dpor_vs_dfs": ratio})
    out = BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    (out / "explore.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
