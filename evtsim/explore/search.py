"""The search: run a scenario under many schedules, classify each end, report.

Strategies
    "dfs"      every interleaving; a proof when it finishes (the sound fallback).
    "bounded"  every interleaving with at most `preemptions` preemptions (CHESS, Musuvathi
               and Qadeer 2007: a preemption is switching away from a thread that could
               still run; most bugs need at most two). Never a proof.
    "dpor"     dynamic partial-order reduction with sleep sets (Flanagan and Godefroid
               2005; source sets as in Abdulla et al. 2014), see `dpor`.
    "random"   seeded uniformly random choices.           Never a proof.
    "pct"      probabilistic concurrency testing (Burckhardt et al. 2010), see `sampling`.

`explore()` checks its options, walks the schedule tree (dfs, bounded, dpor) or samples
it (random, pct), turns every run's end into an end state and maybe a `Failure`, then
replays each failure for its story (`stories`). Each run is built afresh (`runs`).
"""
from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable

from .. import scenarios
from ..errors import BadArgumentError, EvtsimError, learner_frames
from ..machine import Machine
from ..scheduler import WAITING
from .dpor import choose_dpor, observed_step, races
from .progress import _Progress
from .report import Failure, Report
from .runs import _find, _make, _resolve_build, _scenario_label, state_key
from .sampling import _PctChooser, _RandomChooser
from .stories import _tell
from .tree import _Node

STRATEGIES = ("dfs", "bounded", "dpor", "random", "pct")
DEFAULT_MAX_SCHEDULES = 100_000
DEFAULT_RANDOM_RUNS = 1_000
GC_EVERY = 256                  # runs between collections of the machines thrown away


class _Explorer:
    def __init__(self, build, strategy, check, max_schedules, max_steps, seed,
                 preemptions, depth, report, progress):
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
        self.failures: dict = {}
        self.dpor = strategy == "dpor"
        self.bound_cut = False          # bounded: some schedule needed more preemptions
        self.runs_since_gc = 0

    # --- one run ----------------------------------------------------------------------
    def execute(self, stack, diverge, choose):
        """Build, replay the choices of `stack`, then extend it with `choose(node, m)`
        until the run ends. Steps from `diverge` on are new (DPOR records them)."""
        m = _make(self.build)
        m.tracing = False
        dpor = self.dpor
        report = self.report
        first_error = None
        steps = 0
        for index, node in enumerate(stack):
            ready = m.choices()
            thread = _find(ready, node.choice)
            if thread is None:
                raise EvtsimError(
                    f"the build is not deterministic: at step {index} the schedule "
                    f"chose {node.choice!r}, which is not ready in this run "
                    f"(ready: {', '.join(t.name for t in ready) or 'none'}). A build "
                    f"must give the same machine every time (seed any randomness).")
            if dpor and index >= diverge:
                node.event = observed_step(m, thread, stack, index)
            else:
                m.step(thread)
            steps += 1
            if first_error is None and thread.error is not None:
                first_error = (thread, steps)
        sleep_blocked = False
        while True:
            ready = m.choices()
            if not ready:
                break
            if steps >= self.max_steps:
                break
            last = stack[-1].choice if stack else None
            node = choose(m, ready, last, stack)
            if node is None:                    # every ready thread asleep (DPOR)
                sleep_blocked = True
                break
            stack.append(node)
            thread = _find(ready, node.choice)
            if dpor:
                node.event = observed_step(m, thread, stack, len(stack) - 1)
            else:
                m.step(thread)
            steps += 1
            if first_error is None and thread.error is not None:
                first_error = (thread, steps)
        report.steps += steps
        self.runs_since_gc += 1
        if self.runs_since_gc >= GC_EVERY:
            self.runs_since_gc = 0
            gc.collect(0)       # only what was made since: the dead machines
        if sleep_blocked:
            report.pruned += 1
            return
        report.schedules += 1
        self.finish(m, stack, steps, first_error)

    def finish(self, m, stack, steps, first_error):
        """Classify the end of a run, remember its end state and any failure."""
        schedule = [n.choice for n in stack]
        failure = None
        ended = not m.choices() if steps >= self.max_steps else True
        if m.bugcheck is not None:
            b = m.bugcheck
            failure = ("bugcheck", ("bugcheck", b.code, b.rule),
                       f"bug check 0x{b.code:X} ({b.name}) in {b.thread}: {b.rule}",
                       schedule)
        elif first_error is not None:
            thread, at = first_error
            err = thread.error
            line = _error_line(err)
            failure = ("error", ("error", thread.name, type(err).__name__, line),
                       f"{thread.name} stopped with {type(err).__name__}"
                       f"{f' at line {line}' if line else ''}: {err}", schedule[:at])
        elif not ended:
            self.report.budget_hit = True
            busiest = max(m.threads, key=lambda t: t.steps)
            failure = ("budget", ("budget", busiest.name),
                       f"no end after {self.max_steps} steps; {busiest.name} took "
                       f"{busiest.steps} of them (a loop that never waits?)", schedule)
        else:
            waiting = [t for t in m.threads if t.state == WAITING]
            if waiting:
                what = tuple(sorted((t.name, t.wait.describe(), t.wait.line)
                                    for t in waiting))
                text = "; ".join(f"{n} waits forever on {d}"
                                 f"{f' (line {line})' if line else ''}"
                                 for n, d, line in what)
                # keyed by where they wait, not who: two consumers stuck at the same
                # line on the same event are one failure
                where = tuple(sorted((d, line) for _, d, line in what))
                failure = ("hang", ("hang", where), text, schedule)
            elif self.check is not None:
                failure = self.run_check(m, schedule)
        for t in m.threads:
            if t.error is not None and failure is None:
                failure = ("error", ("error", t.name, type(t.error).__name__, None),
                           f"{t.name} stopped with {type(t.error).__name__}: {t.error}",
                           schedule)
        if ended:
            key = state_key(m)
            if key not in self.report.end_states:
                self.report.end_states.add(key)
                self.report.examples[key] = schedule
        if failure is not None:
            self.add_failure(*failure)

    def run_check(self, m, schedule):
        try:
            verdict = self.check(m)
        except Exception as error:           # the learner's check itself failed
            text = f"check(m) raised {type(error).__name__}: {error}"
            return ("check", ("check", text), text, schedule)
        if verdict is False:
            return ("check", ("check", None), "check(m) returned False", schedule)
        if isinstance(verdict, str) and verdict:
            return ("check", ("check", verdict), verdict, schedule)
        return None

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

    # --- the tree walk (dfs, bounded, dpor) -------------------------------------------
    def systematic(self):
        report = self.report
        stack: list[_Node] = []
        choose = {"dfs": self.choose_dfs, "bounded": self.choose_bounded,
                  "dpor": choose_dpor}[self.strategy]
        diverge = 0
        while True:
            if report.schedules + report.pruned >= self.max_schedules:
                report.limited = True
                return
            self.execute(stack, diverge, choose)
            if self.dpor:
                races(stack, diverge)
            self.progress.update(report)
            # backtrack to the deepest node with something left to try
            while stack:
                node = stack[-1]
                if self.dpor:
                    node.explored[node.choice] = node.event[1]
                node.done.append(node.choice)
                nxt = self.next_choice(node)
                if nxt is not None:
                    node.choice = nxt
                    node.event = None
                    diverge = len(stack) - 1
                    break
                stack.pop()
            else:
                report.exhaustive = not (report.budget_hit or self.bound_cut)
                return

    def next_choice(self, node):
        for name in node.todo:
            if name not in node.done and (node.sleep is None or name not in node.sleep):
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

    # --- sampling (random, pct) -------------------------------------------------------
    def sampled(self):
        rng = random.Random(self.seed)
        report = self.report
        horizon = 50
        for _ in range(self.max_schedules):
            if self.strategy == "random":
                choose = _RandomChooser(rng)
            else:
                choose = _PctChooser(rng, self.depth, horizon)
            stack: list[_Node] = []
            self.execute(stack, 0, choose)
            horizon = max(horizon, len(stack))
            self.progress.update(report)
        report.exhaustive = False


def _error_line(error):
    frames = learner_frames(error.__traceback__) if error.__traceback__ else []
    return frames[-1].lineno if frames else None


# --- the entry point -------------------------------------------------------------------

def explore(build: Callable[[], Machine] | str | scenarios.Scenario,
            strategy: str = "dpor",
            check: Callable[[Machine], bool | str | None] | None = None,
            max_schedules: int | None = None,
            seed: int = 0, *, preemptions: int = 2, depth: int = 3,
            max_steps: int = 10_000, progress: bool | None = False) -> Report:
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
    build, label = _resolve_build(build)
    options = {"seed": seed, "max_schedules": max_schedules, "max_steps": max_steps}
    if strategy == "bounded":
        options["preemptions"] = preemptions
    if strategy == "pct":
        options["depth"] = depth
    report = Report(strategy, options, label)
    bar = _Progress(progress, strategy, max_schedules)
    explorer = _Explorer(build, strategy, check, max_schedules, max_steps, seed,
                         preemptions, depth, report, bar)
    collecting = gc.isenabled()
    gc.disable()
    start = time.perf_counter()
    try:
        if strategy in ("random", "pct"):
            explorer.sampled()
        else:
            explorer.systematic()
    except KeyboardInterrupt:
        report.interrupted = True
        report.exhaustive = False
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
