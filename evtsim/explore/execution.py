"""One run of a systematic search: build, replay the path's prefix, grow the rest.

Every run starts from a fresh `build()` (the explorer keeps no machine states, as CHESS
and loom do not) and replays the choices of the path up to the point where it differs
from the run before. Replayed steps run with the trace off; from the first new step on
the trace is on, because the step record is what `independence` reads. At each choice
point the clock is watched too: a timer that fires and a jump of the clock while every
thread waits are what `dpor.robust` and the barriers of `dpor` are made from.

A thread that `Machine.choices()` has just offered is stepped with `Machine._step_thread`:
that is what `Machine.step` does after its checks, which the choice point has made.
"""
from __future__ import annotations

from ..errors import EvtsimError
from ..records import TraceRecord
from ..scheduler import READY, WAITING
from .runs import _find, _make

_OP = TraceRecord._fields.index("op")
_RELEASED = TraceRecord._fields.index("released")


def not_ready(index: int, name: str, ready) -> EvtsimError:
    return EvtsimError(
        f"the build is not deterministic: at step {index} the schedule chose {name!r}, "
        f"which is not ready in this run (ready: "
        f"{', '.join(t.name for t in ready) or 'none'}). A build must give the same "
        f"machine every time (seed any randomness).")


def replay_prefix(build, choices, count: int) -> tuple:
    """A fresh machine with the first `count` choices stepped: (m, first_error).

    When no timer is due, no DPC is queued and no thread holds the CPU at a raised
    IRQL, the choice point has nothing to do but offer the ready threads, so the named
    thread is taken directly if it is ready (as `Machine.run` does); otherwise
    `m.choices()` runs the choice point in full."""
    m = _make(build)
    m.tracing = False
    first_error = None
    ready_queue = m.scheduler.ready
    heap = m.timers.heap
    dpcs = m.dpc_queue
    threads = {t.name: t for t in m.threads}
    for index in range(count):
        name = choices[index]
        thread = threads.get(name)
        if thread is None or len(threads) != len(m.threads):
            threads = {t.name: t for t in m.threads}
            thread = threads.get(name)
        if (thread is None or thread.state != READY or not ready_queue or dpcs
                or m.raised is not None or (heap and heap[0][0] <= m.time)):
            ready = m.choices()
            thread = _find(ready, name)
            if thread is None:
                raise not_ready(index, name, ready)
        m._step_thread(thread)
        if first_error is None and thread.error is not None:
            first_error = (thread, index + 1)
    return m, first_error


def choice_point(m) -> tuple:
    """`m.choices()` with what the clock did there: (ready, jump).

    `jump` is None when no timer fired and the clock did not move, else (time before,
    time after, the kinds of what fired, the next live timer as (due, kind) or None,
    the threads a timeout released). A kind is "delay" (a wait on no object: Sleep,
    KeDelayExecutionThread), "timeout" (a wait on objects) or "timer" (a kernel
    timer, or a DPC that ran)."""
    rows = m._rows
    before, count = m.time, len(rows)
    ready = m.choices()
    after = m.time
    if len(rows) == count and after == before:
        return ready, None
    kinds = []
    woken = []
    for row in rows[count:]:
        if row[_OP] == "Timeout":
            for name in row[_RELEASED]:
                thread = m._thread_named(name)
                wait = thread.wait if thread is not None else None
                if wait is not None and not wait.objects:
                    kinds.append("delay")
                else:
                    kinds.append("timeout")
                    woken.append(name)
        else:
            kinds.append("timer")
    return ready, (before, after, tuple(kinds), _next_timer(m), frozenset(woken))


def _next_timer(m):
    """The next live timer as (due, kind), or None."""
    best = None
    for when, _, action, (target, generation) in m.timers.heap:
        if action == "wait":
            if target.state != WAITING or target.wait_generation != generation:
                continue
            kind = "timeout" if target.wait.objects else "delay"
        elif getattr(target, "generation", None) == generation:
            kind = "timer"
        else:
            continue
        if best is None or when < best[0]:
            best = (when, kind)
    return best


def dpor_run(build, stack, diverge: int, tree, footprints, max_steps: int) -> tuple:
    """One DPOR run: replay `stack[:diverge]`, then step `stack[diverge]` and grow.

    Returns (m, steps, first_error, blocked): `blocked` is the point where every ready
    thread was asleep (a redundant run, not counted as a schedule; it is not put on
    the path), else None."""
    choices = [n.choice for n in stack]
    m, first_error = replay_prefix(build, choices, diverge)
    steps = diverge
    m.tracing = True
    if diverge == len(stack):               # the first run: the root is new
        ready, jump = choice_point(m)
        if not ready:
            return m, steps, first_error, None
        node = tree.root([t.name for t in ready], jump)
        stack.append(node)
    else:
        node = stack[diverge]
        ready = m.choices()
    footprints.begin(m)
    blocked = None
    while True:
        thread = _find(ready, node.choice)
        if thread is None:
            raise not_ready(len(stack) - 1, node.choice, ready)
        tree.stepped(node, footprints.step(m, thread, node.woken))
        steps += 1
        if first_error is None and thread.error is not None:
            first_error = (thread, steps)
        ready, jump = choice_point(m)
        if not ready or steps >= max_steps:
            break
        child = tree.child(node, [t.name for t in ready], jump)
        if child.choice is None:
            blocked = child
            break
        stack.append(child)
        node = child
    return m, steps, first_error, blocked
