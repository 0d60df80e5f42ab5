#!/usr/bin/env python3
"""Redraw cost of the timeline (issue 5): what a widget pays after every click.

    python bench/redraw.py                 # 10 threads, about 1,000 segments
    python bench/redraw.py --threads 20 --segments 5000 --repeats 10

Times, with the Agg canvas: a new figure (build the model, make the artists, render),
and a redraw into the same figure after one more step (`Timeline.update` + render).
Prints the medians against the goals (redraw < 50 ms, new figure < 150 ms) and always
exits 0: the figures are informative, and no test asserts a timing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from evtsim import Machine, plot  # noqa: E402
from evtsim.api.kernel import (Executive, KernelMode, SynchronizationEvent)  # noqa: E402
from evtsim.timeline import build  # noqa: E402

GOALS = {"redraw": 0.050, "new figure": 0.150}


def ping_ring(threads: int, segments: int) -> Machine:
    """`threads` System threads in a ring, each setting the next one's event and
    waiting on its own, until the timeline has about `segments` spans."""
    m = Machine()
    events = [m.kernel.KeInitializeEvent(SynchronizationEvent, False, name=f"E{i}")
              for i in range(threads)]
    rounds = max(1, segments // (threads * 4))

    def worker(k, i):
        mine, theirs = events[i], events[(i + 1) % threads]
        for _ in range(rounds):
            yield k.KeSetEvent(theirs, 0, False)
            yield k.KeWaitForSingleObject(mine, Executive, KernelMode, False, None)

    for i in range(threads):
        m.system.start(worker, i, name=f"t{i}")
    return m


def measure(threads: int = 10, segments: int = 1000, repeats: int = 15) -> dict:
    m = ping_ring(threads, segments)
    m.run(max_steps=segments // 3 * 2)          # leave steps for the redraws
    spans = len(build(m).spans)
    new_times, redraw_times = [], []
    for _ in range(max(3, repeats // 3)):
        start = time.perf_counter()
        fig = plot.timeline(m)
        fig.canvas.draw()
        new_times.append(time.perf_counter() - start)
    picture = plot.Timeline(m)
    picture.draw()
    for _ in range(repeats):
        m.step()
        start = time.perf_counter()
        picture.update(m)
        picture.draw()
        redraw_times.append(time.perf_counter() - start)
    return {"threads": threads, "segments": spans,
            "new figure": statistics.median(new_times),
            "redraw": statistics.median(redraw_times)}


def report(result: dict) -> str:
    lines = [f"timeline of {result['threads']} threads, {result['segments']} segments (Agg)"]
    for key in ("redraw", "new figure"):
        value, goal = result[key], GOALS[key]
        verdict = "ok" if value < goal else "SLOWER than the goal"
        lines.append(f"  {key:<11} median {value * 1000:7.1f} ms   goal < {goal * 1000:.0f} ms"
                     f"   {verdict}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    print(report(measure(args.threads, args.segments, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
