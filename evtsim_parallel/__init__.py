"""Spread a DPOR search over the machine's cores, with the same report as one core.

Not for the browser: this package starts processes (`multiprocessing`, imported only when
a search starts), so it stands outside `evtsim`, whose engine uses no threads, processes
or network; call `explore_parallel` or use `evtsim explore ... --workers N`.

The search itself stays in this process and makes exactly the decisions `explore`
makes, in the same order: that is what keeps the report the same, byte for byte. Only
runs move. Whenever the walk picks its next run, the branches still waiting in the
wake-up trees of the path are known, and so is the first run each will start: its
prefix, its branch, and the threads asleep where it starts (as `DporTree` will have
them by then). Worker processes run those first runs ahead of time and send back what
the run saw: the ready threads, the choice, the step's reads and writes and the clock
at each point, and how the run ended. When the walk gets to such a run, it checks that
the threads asleep are the ones predicted, grows the path from the worker's record
(making its own choices, which must agree) and skips running it; on any difference it
runs the run itself. Workers are forked, so the build and the check need not be
picklable; where fork is missing, and for "dfs", "bounded", "random" and "pct", the
search runs in this process only.
"""
from __future__ import annotations

import os
from collections.abc import Callable

from evtsim.errors import BadArgumentError
from evtsim.explore.independence import Event, Footprints, Places
from evtsim.explore.report import Report
from evtsim.explore.search import _Explorer, explore
from evtsim.explore.tree import _Node
from evtsim.explore.wakeup import WNode

_STATE: dict = {}               # what forked workers inherit: the search being run


def explore_parallel(build, strategy: str = "dpor", check: Callable | None = None,
                     max_schedules: int | None = None, seed: int = 0, *,
                     workers: int | None = None, wait: bool = False,
                     **options) -> Report:
    """`explore()` on several processes: the same arguments, the same report.

    `workers` (default: the number of cores) processes run planned DPOR runs ahead of
    the walk; `report.worker_runs` counts the runs they did. A run the walk needs before
    its worker is done, the walk runs itself, unless `wait` (then it waits: every
    planned run comes from a worker, which makes the split the same every time).
    Strategies other than "dpor" run in this process."""
    import multiprocessing
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadArgumentError("workers must be a whole number >= 1")
    if workers == 1 or strategy != "dpor" or \
            "fork" not in multiprocessing.get_all_start_methods():
        return explore(build, strategy, check, max_schedules, seed, **options)
    context = multiprocessing.get_context("fork")

    def make(*args, **kwargs):
        return _ParallelExplorer(context, workers, wait, *args, **kwargs)
    return explore(build, strategy, check, max_schedules, seed, _explorer=make, **options)


class _ParallelExplorer(_Explorer):
    """`_Explorer` whose DPOR runs may come from worker processes."""

    def __init__(self, context, workers: int, wait: bool, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.context = context
        self.workers = workers
        self.wait = wait
        self.pool = None
        self.sent: dict = {}        # job key -> (predicted sleep, AsyncResult)
        self.local = 0              # runs the walk made itself
        self.taken = 0              # runs taken from workers
        self.late = 0               # planned runs a worker had not finished in time
        self.missed = 0             # planned runs whose prediction did not hold

    # --- the walk's hooks -------------------------------------------------------------
    def dpor(self):
        _STATE.update(build=self.build, check=self.check, max_steps=self.max_steps,
                      strict=self.strict, symmetry=self.symmetry)
        pool = self.pool = self.context.Pool(self.workers)
        try:
            return super().dpor()
        finally:
            pool.terminate()
            pool.join()
            self.pool = None

    def dpor_once(self, stack, diverge, tree, footprints):
        entry = self.sent.pop(_key(stack, diverge), None)
        if entry is not None:
            predicted, pending = entry
            if not pending.ready() and not self.wait:
                self.late += 1
            elif _sleep_names(stack[diverge], tree.places) != predicted:
                self.missed += 1
            else:
                answer = _answer(pending)
                if answer[0] == "ok":
                    applied = self._apply(stack, diverge, tree, answer[1])
                    if applied is not None:
                        self.taken += 1
                        self.report.worker_runs = self.taken
                        return applied
                self.missed += 1
        self.local += 1
        return super().dpor_once(stack, diverge, tree, footprints)

    def planned(self, stack, tree) -> None:
        """Send first runs of waiting branches to the workers, those needed last first
        (they will be done in time), keeping a few per worker in flight. A run the walk
        needs before its worker is done, the walk runs itself."""
        if self.pool is None:
            return
        busy = sum(1 for _, pending in self.sent.values() if not pending.ready())
        room = 4 * self.workers - busy
        if room <= 0:
            return
        for key, predicted, make_job in _plans(stack, tree, self.sent):
            self.sent[key] = (predicted, self.pool.apply_async(_work, (make_job(),)))
            room -= 1
            if room <= 0:
                return

    def _apply(self, stack, diverge, tree, data):
        """Grow the path from what a worker saw, making the walk's own choices; None,
        with the path as it was, if any choice differs."""
        nodes, steps, blocked, timing, outcome = data
        places = tree.places
        node = stack[diverge]
        keep = len(stack)
        _, first_choice, first_event, _ = nodes[0]
        if node.choice != first_choice:
            return None
        tree.stepped(node, _decode(places, first_choice, first_event))
        for enabled, choice, event, jump in nodes[1:]:
            child = tree.child(node, enabled, jump)
            if child.choice != choice:
                del stack[keep:]
                stack[diverge].event = None
                return None
            if choice is None:
                break
            stack.append(child)
            tree.stepped(child, _decode(places, choice, event))
            node = child
        return steps, blocked, timing, outcome


def _answer(pending, timeout: float = 120.0):
    """A worker's answer; ("lost", ...) when none came (a worker that died): the walk
    then runs the run itself."""
    import multiprocessing
    try:
        return pending.get(timeout)
    except multiprocessing.TimeoutError:
        return ("lost", "no answer from the worker")


# --- planning runs -----------------------------------------------------------------------

def _key(stack, diverge: int) -> tuple:
    return tuple(n.choice for n in stack[:diverge + 1])


def _sleep_names(node, places: Places) -> tuple:
    return tuple(sorted((name, places.decode(e.r), places.decode(e.w))
                        for name, e in node.sleep.items()))


def _plans(stack, tree, sent):
    """(key, predicted sleep, job maker) for the first run of each waiting branch:
    the point nearest the root first, then left to right."""
    places = tree.places
    for index in range(len(stack)):
        node = stack[index]
        if len(node.wut) < 2:
            continue
        head = node.wut[0]
        event = node.event if node.event is not None else head.event
        if event is None:
            continue
        probe = _Probe(node, dict(node.sleep))
        probe.sleep[head.thread] = event
        tree._close_symmetric(probe)
        prefix = tuple(n.choice for n in stack[:index])
        for branch in node.wut[1:]:
            if branch.event is None:
                break                       # its step is known only once it ran
            if branch.thread in probe.sleep or branch.thread not in node.enabled:
                continue                    # the walk will drop it
            key = prefix + (branch.thread,)
            if key not in sent:
                yield (key, _sleep_names(probe, places),
                       _job_maker(prefix, node, dict(probe.sleep), branch, places))
            probe.sleep[branch.thread] = branch.event
            tree._close_symmetric(probe)


def _job_maker(prefix, node, sleep, branch, places):
    def make():
        seed = (list(node.enabled), node.last, node.index, node.floor, node.jump,
                tuple(node.started), tuple(node.woken),
                {name: (places.decode(e.r), places.decode(e.w)) for name, e in sleep.items()})
        return prefix, seed, _tree(branch, places)
    return make


class _Probe:
    """A stand-in for a point of the path while its sleep set is predicted."""

    __slots__ = ("sleep", "started", "enabled")

    def __init__(self, node: _Node, sleep: dict) -> None:
        self.sleep = sleep
        self.started = node.started
        self.enabled = node.enabled


def _tree(branch: WNode, places: Places) -> tuple:
    event = None if branch.event is None else (places.decode(branch.event.r),
                                               places.decode(branch.event.w))
    return (branch.thread, event, [_tree(c, places) for c in branch.children])


def _decode(places: Places, thread: str, names) -> Event:
    r, w = names
    return Event(thread, places.encode(r), places.encode(w))


# --- in a worker -------------------------------------------------------------------------

def _work(job):
    """Run one planned run in this (forked) process; send back what it saw."""
    try:
        return ("ok", _run_job(job))
    except Exception as error:                  # the walk runs it again and sees it
        return ("error", f"{type(error).__name__}: {error}")


def _run_job(job):
    from evtsim.explore.dpor import DporTree, robust
    from evtsim.explore.execution import dpor_run
    from evtsim.explore.outcome import classify
    from evtsim.explore.runs import _make
    from evtsim.explore.symmetry import orbits
    prefix, seed, branch = job
    build = _STATE["build"]
    places = Places()
    groups = orbits(_make(build)) if _STATE["symmetry"] else []
    tree = DporTree(places, groups)
    footprints = Footprints(places, strict=_STATE["strict"])
    stack = []
    for name in prefix:
        done = _Node([], None, 0)
        done.choice = name
        stack.append(done)
    enabled, last, index, floor, jump, started, woken, sleep = seed
    node = _Node(enabled, last, 0)
    node.index, node.floor, node.jump = index, floor, jump
    node.started, node.woken = frozenset(started), frozenset(woken)
    node.sleep = {name: _decode(places, name, fp) for name, fp in sleep.items()}
    node.wut = [_wnode(branch, places)]
    node.choice = branch[0]
    stack.append(node)
    diverge = len(prefix)
    max_steps = _STATE["max_steps"]
    m, steps, first_error, blocked = dpor_run(build, stack, diverge, tree, footprints,
                                              max_steps)
    timing = robust(stack, steps, m.step_time)
    nodes: list[tuple] = [
        (list(n.enabled), n.choice, (places.decode(n.event.r), places.decode(n.event.w)),
         n.jump) for n in stack[diverge:]]
    if blocked is not None:
        nodes.append((list(blocked.enabled), None, None, blocked.jump))
        return nodes, steps, True, timing, None
    outcome = classify(m, [n.choice for n in stack], steps, first_error, max_steps,
                       _STATE["check"])
    return nodes, steps, False, timing, outcome


def _wnode(data, places: Places) -> WNode:
    thread, event, children = data
    decoded = None if event is None else _decode(places, thread, event)
    return WNode(thread, decoded, [_wnode(c, places) for c in children])
