"""The search: run a scenario under many schedules, classify each end, report.

Strategies
    "dfs"      every interleaving; a proof when it finishes (the sound fallback).
    "bounded"  every interleaving with at most `preemptions` preemptions (CHESS, Musuvathi
               and Qadeer 2007: a preemption is switching away from a thread that could
               still run; most bugs need at most two). Never a proof.
    "dpor"     optimal dynamic partial-order reduction (Abdulla et al. 2017: source sets,
               wake-up trees and sleep sets), see `dpor`; one run per class of
               equivalent interleavings.
    "random"   seeded uniformly random choices.           Never a proof.
    "pct"      probabilistic concurrency testing (Burckhardt et al. 2010), see `sampling`.

`explore()` checks its options, walks the schedule tree (dfs, bounded, dpor) or samples
it (random, pct), turns every run's end into an end state and maybe a `Failure`
(`outcome`), then replays each failure for its story (`stories`). Each run is built
afresh (`execution`). A DPOR search whose timers turn out to be close together starts
again with the strict timing rules (docs/explore.md, "Virtual time").
"""
from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable

from .. import scenarios
from ..errors import BadArgumentError, EvtsimError
from ..machine import Machine
from .dpor import DporTree, robust
from .execution import dpor_run, replay_prefix
from .independence import Footprints, Places
from .outcome import Outcome, classify
from .progress import _Progress
from .report import Failure, Report
from .runs import _find, _make, _resolve_build, _scenario_label
from .sampling import _PctChooser, _RandomChooser
from .stories import _tell
from .symmetry import orbits
from .tree import _Node

STRATEGIES = ("dfs", "bounded", "dpor", "random", "pct")
DEFAULT_MAX_SCHEDULES = 100_000
DEFAULT_RANDOM_RUNS = 1_000
GC_EVERY = 256                  # runs between collections of the machines thrown away


class _TimersClose(Exception):
    """A DPOR run showed timers too close for the relaxed timing rules: start again."""

class _Explorer:
    def __init__(self, build, strategy, check, max_schedules, max_steps, seed,
                 preemptions, depth, report, progress, symmetry=False, strict=False):
        self.build = build
        self.strategy = strategy
        self.check = check
        self.max_schedules = max_schedules
        self.max_steps = max_steps
        self.seed = seed
        self.preemptions = preemptions
        self.depth = depth
        self.report = report
        self.progress = progress
        self.symmetry = symmetry
        self.strict = strict
        self.failures: dict = {}
        self.bound_cut = False          # bounded: some schedule needed more preemptions
        self.runs_since_gc = 0
        self.tree: DporTree | None = None

    # --- one run (dfs, bounded, random, pct) ------------------------------------------
    def execute(self, stack, diverge, choose):
        """Build, replay the choices of `stack`, then extend it with `choose(node, m)`
        until the run ends."""
        m, first_error = replay_prefix(self.build, [n.choice for n in stack], len(stack))
        steps = len(stack)
        while True:
            ready = m.choices()
            if not ready or steps >= self.max_steps:
                break
            last = stack[-1].choice if stack else None
            node = choose(m, ready, last, stack)
            stack.append(node)
            thread = _find(ready, node.choice)
            m._step_thread(thread)
            steps += 1
            if first_error is None and thread.error is not None:
                first_error = (thread, steps)
        self.ran(steps)
        self.report.schedules += 1
        schedule = [n.choice for n in stack]
        self.record(self.classify(m, schedule, steps, first_error), schedule)

    def ran(self, steps: int) -> None:
        self.report.steps += steps
        self.runs_since_gc += 1
        if self.runs_since_gc >= GC_EVERY:
            self.runs_since_gc = 0
            gc.collect(0)       # only what was made since: the dead machines

    def classify(self, m, schedule, steps, first_error) -> Outcome:
        return classify(m, schedule, steps, first_error, self.max_steps, self.check)

    def record(self, outcome: Outcome, schedule: list) -> None:
        """Add a run's end to the report: its end state, its failure."""
        report = self.report
        if outcome.budget_hit:
            report.budget_hit = True
        key = outcome.key
        if key is not None and key not in report.end_states:
            report.end_states.add(key)
            report.examples[key] = schedule
        if outcome.failure is not None:
            self.add_failure(*outcome.failure)

    def add_failure(self, kind, key, message, schedule):
        found = self.failures.get(key)
        if found is None:
            failure = Failure(kind, message, schedule, key, self.report._label)
            self.failures[key] = failure
            self.report.failures.append(failure)
        else:
            found.count += 1
            if len(schedule) < len(found.schedule):
                found.schedule = list(schedule)
                found.message = found.story = message

    # --- the tree walk (dfs, bounded) -------------------------------------------------
    def systematic(self):
        if self.strategy == "dpor":
            return self.dpor()
        report = self.report
        stack: list[_Node] = []
        choose = {"dfs": self.choose_dfs, "bounded": self.choose_bounded}[self.strategy]
        diverge = 0
        while True:
            if report.schedules >= self.max_schedules:
                report.limited = True
                return
            self.execute(stack, diverge, choose)
            self.progress.update(report)
            # backtrack to the deepest node with something left to try
            while stack:
                node = stack[-1]
                node.done.append(node.choice)
                nxt = self.next_choice(node)
                if nxt is not None:
                    node.choice = nxt
                    diverge = len(stack) - 1
                    break
                stack.pop()
            else:
                report.exhaustive = not (report.budget_hit or self.bound_cut)
                return

    def next_choice(self, node):
        for name in node.todo:
            if name not in node.done:
                return name
        return None

    def choose_dfs(self, m, ready, last, stack):
        names = [t.name for t in ready]
        node = _Node(names, last, 0)
        node.todo = names
        node.choice = names[0]
        return node

    def choose_bounded(self, m, ready, last, stack):
        names = [t.name for t in ready]
        used = self.preempts_after(stack[-1]) if stack else 0
        if last is not None and last in names:
            if used < self.preemptions:
                todo = [last] + [n for n in names if n != last]
            else:
                todo = [last]
                if len(names) > 1:
                    self.bound_cut = True
        else:
            todo = names
        node = _Node(names, last, used)
        node.todo = todo
        node.choice = todo[0]
        return node

    def preempts_after(self, node):
        """Preemptions used on the path once `node.choice` has run."""
        extra = (node.last is not None and node.choice != node.last
                 and node.last in node.enabled)
        return node.preempts + (1 if extra else 0)

    # --- the DPOR walk ----------------------------------------------------------------
    def dpor(self):
        report = self.report
        places = Places()
        footprints = Footprints(places, strict=self.strict)
        groups = orbits(_make(self.build)) if self.symmetry else []
        tree = self.tree = DporTree(places, groups)
        stack: list[_Node] = []
        diverge: int | None = 0
        while diverge is not None:
            if report.schedules + report.pruned >= self.max_schedules:
                report.limited = True
                return
            steps, blocked, timing, outcome = self.dpor_once(stack, diverge, tree,
                                                             footprints)
            self.ran(steps)
            timeouts_close, delays_close = timing
            if timeouts_close and not self.strict:
                raise _TimersClose
            if delays_close:
                report.close_delays = True
            if blocked:
                report.pruned += 1
            else:
                report.schedules += 1
                self.record(outcome, [n.choice for n in stack])
            tree.analyse(stack, diverge)
            self.progress.update(report)
            diverge = tree.backtrack(stack)
            if diverge is not None:
                self.planned(stack, tree)
        report.exhaustive = not report.budget_hit

    def dpor_once(self, stack, diverge, tree, footprints):
        """One DPOR run from `stack[diverge]`: (steps, blocked, timing, outcome)."""
        m, steps, first_error, blocked = dpor_run(
            self.build, stack, diverge, tree, footprints, self.max_steps)
        timing = robust(stack, steps, m.step_time)
        if blocked is not None:
            return steps, True, timing, None
        outcome = self.classify(m, [n.choice for n in stack], steps, first_error)
        return steps, False, timing, outcome

    def planned(self, stack, tree) -> None:
        """Called when the next run is chosen (the parallel runner looks ahead here)."""

    # --- sampling (random, pct) -------------------------------------------------------
    def sampled(self):
        rng = random.Random(self.seed)
        report = self.report
        horizon = 50
        for _ in range(self.max_schedules):
            choose: _RandomChooser | _PctChooser
            if self.strategy == "random":
                choose = _RandomChooser(rng)
            else:
                choose = _PctChooser(rng, self.depth, horizon)
            stack: list[_Node] = []
            self.execute(stack, 0, choose)
            horizon = max(horizon, len(stack))
            self.progress.update(report)
        report.exhaustive = False


# --- the entry point -------------------------------------------------------------------

def explore(build: Callable[[], Machine] | str | scenarios.Scenario,
            strategy: str = "dpor",
            check: Callable[[Machine], bool | str | None] | None = None,
            max_schedules: int | None = None,
            seed: int = 0, *, preemptions: int = 2, depth: int = 3,
            max_steps: int = 10_000, progress: bool | None = False,
            symmetry: bool = False, _explorer=None) -> Report:
    """Run `build()` under many schedules and report what breaks.

    `build` returns a fresh Machine with its threads started (a scenario builder, a
    `Scenario`, or a scenario name). `strategy` is one of "dfs", "bounded" (at most
    `preemptions` preemptions), "dpor", "random" and "pct" (`depth` priority levels);
    the last two are seeded by `seed`. `check(m)` is called at the end of every run that
    ended without another failure; False or a message is a failure. `max_schedules`
    bounds the runs (default 100,000; 1,000 for random and pct), `max_steps` each run.
    `progress`: False (the default, so notebook outputs stay the same from run to
    run) never shows progress, None shows it once a search takes more than 2 s, True
    at once. Ctrl-C (KeyboardInterrupt) stops the search and returns what it found.
    `symmetry=True` (DPOR only) treats threads that run the same code with the same
    arguments as interchangeable (see `symmetry`): far fewer runs, end states and
    failures up to the threads' names; do not use it with a check that names threads.
    A DPOR search that finds timeouts close together starts again with the strict
    timing rules (`report.strict_timing`); docs/explore.md has the rules. (`_explorer`
    is for `parallel.explore_parallel`.)
    """
    if strategy not in STRATEGIES:
        raise BadArgumentError(f"unknown strategy {strategy!r}; choose one of "
                               f"{', '.join(STRATEGIES)}")
    if check is not None and not callable(check):
        raise BadArgumentError("check must be a function check(m) returning True, False "
                               "or a message")
    for label, value, low in (("preemptions", preemptions, 0), ("depth", depth, 1),
                              ("max_steps", max_steps, 1), ("seed", seed, None)):
        if isinstance(value, bool) or not isinstance(value, int) or (
                low is not None and value < low):
            raise BadArgumentError(f"{label} must be a whole number"
                                   f"{f' >= {low}' if low is not None else ''}")
    if max_schedules is None:
        max_schedules = (DEFAULT_RANDOM_RUNS if strategy in ("random", "pct")
                         else DEFAULT_MAX_SCHEDULES)
    if isinstance(max_schedules, bool) or not isinstance(max_schedules, int) \
            or max_schedules < 1:
        raise BadArgumentError("max_schedules must be a whole number >= 1")
    if not isinstance(symmetry, bool):
        raise BadArgumentError("symmetry is True or False")
    if symmetry and strategy != "dpor":
        raise BadArgumentError("symmetry=True works with strategy='dpor' only")
    build, label = _resolve_build(build)
    options = {"seed": seed, "max_schedules": max_schedules, "max_steps": max_steps}
    if strategy == "bounded":
        options["preemptions"] = preemptions
    if strategy == "pct":
        options["depth"] = depth
    if symmetry:
        options["symmetry"] = True
    bar = _Progress(progress, strategy, max_schedules)
    collecting = gc.isenabled()
    gc.disable()
    start = time.perf_counter()
    strict = False
    try:
        while True:
            report = Report(strategy, options, label)
            report.strict_timing = strict
            explorer = (_explorer or _Explorer)(
                build, strategy, check, max_schedules, max_steps, seed, preemptions, depth,
                report, bar, symmetry, strict)
            try:
                if strategy in ("random", "pct"):
                    explorer.sampled()
                else:
                    explorer.systematic()
            except _TimersClose:
                strict = True           # start again: every timed step keeps its place
                continue
            except KeyboardInterrupt:
                report.interrupted = True
                report.exhaustive = False
            break
    finally:
        report.seconds = time.perf_counter() - start
        if collecting:
            gc.enable()
    if report.failures or report.examples:
        _label_from_machine(report, build)
    for failure in report.failures:
        _tell(failure, build)
    bar.update(report, final=True)
    return report


def _label_from_machine(report, build) -> None:
    """Name a scenario-built machine in replay lines, even from a plain lambda."""
    if report._label is not None:
        return
    try:
        m = build()
    except Exception:
        return
    scenario = getattr(m, "scenario", None)
    if not scenario:
        return
    name, params = scenario
    try:
        defaults = scenarios.get(name).defaults
    except EvtsimError:
        return
    changed = {k: v for k, v in params.items() if defaults.get(k) != v}
    report._label = _scenario_label(name, changed)
    for failure in report.failures:
        failure._label = report._label
