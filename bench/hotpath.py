"""The hot path, side by side: evtsim against a minimal dispatcher and traced SimPy.

Issue 14's figure: evtsim's steps per CPU second on the ping-pong (two System threads,
two synchronization events, trace on), divided by the same for the minimal step-atomic
dispatcher in bench/minimal.py (goal >= 0.8), and beside it SimPy's events per CPU
second with SimPy's documented `env.step` tracing recipe. Each contender runs in a
fresh interpreter, timed with CPU time (time.process_time), best of --repeats,
interleaved. Informative only: it prints and always exits 0; no test reads it.

    .venv/bin/python bench/hotpath.py                 # about half a minute
    .venv/bin/python bench/hotpath.py --round-trips 50000 --repeats 5
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONTENDERS = {
    "evtsim": '''
import time
from evtsim import Machine
from evtsim.api.kernel import SynchronizationEvent, Executive, KernelMode
m = Machine()
a = m.kernel.KeInitializeEvent(SynchronizationEvent, False)
b = m.kernel.KeInitializeEvent(SynchronizationEvent, False)
def ping(k):
    for _ in range(N):
        yield k.KeSetEvent(a, 0, False)
        yield k.KeWaitForSingleObject(b, Executive, KernelMode, False, None)
def pong(k):
    for _ in range(N):
        yield k.KeWaitForSingleObject(a, Executive, KernelMode, False, None)
        yield k.KeSetEvent(b, 0, False)
m.system.start(ping, name="ping"); m.system.start(pong, name="pong")
before = len(m.trace)
t = time.process_time(); m.run(max_steps=10**9); t = time.process_time() - t
steps = len(m.trace) - before
''',
    "minimal": '''
import time, sys
sys.path.insert(0, BENCH)
import minimal
t = time.process_time(); steps = minimal.pingpong(N); t = time.process_time() - t
''',
    "simpy": '''
import time
from functools import wraps
import simpy
env = simpy.Environment()
trace = []
def tracing(env, callback):                    # SimPy's documented env.step recipe
    step = env.step
    @wraps(step)
    def traced():
        if len(env._queue):
            t, prio, eid, event = env._queue[0]
            callback(t, prio, eid, event)
        return step()
    env.step = traced
tracing(env, lambda t, prio, eid, event: trace.append((t, prio, eid, type(event).__name__)))
box = {"pong": env.event()}                    # the event each side waits on next
def ping(env):
    for _ in range(N):
        mine = box["ping"] = env.event()
        box["pong"].succeed()
        yield mine
def pong(env):
    for _ in range(N):
        yield box["pong"]
        box["pong"] = env.event()
        box["ping"].succeed()
env.process(ping(env)); env.process(pong(env))
t = time.process_time(); env.run(); t = time.process_time() - t
steps = len(trace)
''',
}


def measure(name: str, round_trips: int) -> dict:
    code = (f"N = {round_trips}\nBENCH = {str(ROOT / 'bench')!r}\n" + CONTENDERS[name]
            + "\nimport json; print(json.dumps({'seconds': t, 'steps': steps}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-trips", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    best: dict[str, float] = {}
    steps: dict[str, int] = {}
    for _ in range(args.repeats):
        for name in CONTENDERS:
            r = measure(name, args.round_trips)
            rate = r["steps"] / r["seconds"] if r["seconds"] > 0 else float("inf")
            best[name] = max(best.get(name, 0.0), rate)
            steps[name] = r["steps"]
    for name in CONTENDERS:
        unit = "events" if name == "simpy" else "steps"
        print(f"{name:8} {best[name]:>12,.0f} {unit}/s  ({steps[name]:,} per run)")
    print(f"evtsim / minimal dispatcher: {best['evtsim'] / best['minimal']:.2f}  (goal >= 0.8)")
    print(f"evtsim / traced SimPy:       {best['evtsim'] / best['simpy']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
