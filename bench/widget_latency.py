#!/usr/bin/env python3
"""Click latency of the event lab (issue 6): from a Set click to the redrawn timeline.

    python bench/widget_latency.py                  # 10 threads, 15 clicks
    python bench/widget_latency.py --waiters 18 --clicks 30

Builds `EventLab("notification_broadcast", waiters=N)` (N waiters + poller + setter
threads), sets and resets the event once (so the instructor's lane is on the picture,
as after any first click), steps every waiter into its wait, then times `Set` clicks
on DataReady in the kernel, headless: the click runs KeSetEvent as the instructor,
updates every label and redraws the timeline into the Image widget (PNG bytes set),
all inside `click()`. Each timed click releases all N waiters; an untimed Undo between
clicks brings them back. Prints the median against the goal (< 100 ms), and apart
from it the first Set in a fresh lab, which lays the figure out anew (a new lane).
It always exits 0: the figure is informative, and no test asserts a timing.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

GOAL = 0.100


def measure(waiters: int = 8, clicks: int = 15) -> dict:
    from evtsim.widgets import EventLab
    lab = EventLab("notification_broadcast", waiters=waiters)
    # The instructor's lane appears on the picture with the first Set; after that a
    # click redraws only what changed. Time that first click separately.
    first = _first_set(waiters)
    lab.button("Set", "DataReady").click()
    lab.button("Reset", "DataReady").click()
    for i in range(1, waiters + 1):
        lab.button("Step", f"waiter{i}").click()
    set_button = lab.button("Set", "DataReady")
    undo = lab.button("Undo")
    times = []
    for i in range(clicks):
        before = lab.redraws
        start = time.perf_counter()
        set_button.click()
        elapsed = time.perf_counter() - start
        assert lab.redraws == before + 1, "the click did not redraw the timeline"
        assert all(lab.machine.thread(f"waiter{j}").state == "ready"
                   for j in range(1, waiters + 1)), "Set did not release every waiter"
        times.append(elapsed)
        undo.click()
        set_button = lab.button("Set", "DataReady")
    return {"threads": len(lab.machine.threads), "clicks": clicks,
            "median_s": statistics.median(times), "min_s": min(times),
            "max_s": max(times), "first_click_s": first, "goal_s": GOAL}


def _first_set(waiters: int) -> float:
    """Median of three first Set clicks in a fresh lab (the figure is laid out anew)."""
    from evtsim.widgets import EventLab
    found = []
    for _ in range(3):
        lab = EventLab("notification_broadcast", waiters=waiters)
        for i in range(1, waiters + 1):
            lab.button("Step", f"waiter{i}").click()
        start = time.perf_counter()
        lab.button("Set", "DataReady").click()
        found.append(time.perf_counter() - start)
    return statistics.median(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiters", type=int, default=8,
                        help="waiter threads (plus a poller and a setter); default 8")
    parser.add_argument("--clicks", type=int, default=15)
    args = parser.parse_args(argv)
    r = measure(args.waiters, args.clicks)
    verdict = "meets" if r["median_s"] < GOAL else "MISSES"
    print(f"event lab, {r['threads']} threads, {r['clicks']} Set clicks "
          f"({platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs)")
    print(f"  Set click -> redrawn timeline: median {r['median_s'] * 1000:.1f} ms "
          f"(min {r['min_s'] * 1000:.1f}, max {r['max_s'] * 1000:.1f}); goal < "
          f"{GOAL * 1000:.0f} ms: {verdict}")
    print(f"  first Set in a fresh lab (new lane, full redraw): "
          f"{r['first_click_s'] * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
