"""The schedule explorer: run a scenario under many interleavings, report what breaks.

A run of a `Machine` is a pure function of its build and of which ready thread takes
each step, so a *schedule* is just the list of thread names chosen at each choice point
(`Machine.choices()`), and `replay(build, schedule)` gives the same run back. The
explorer walks the tree of schedules without keeping machine states (CHESS and loom
are stateless the same way): every schedule is run from a fresh `build()`.

Strategies
    "dfs"      every interleaving; a proof when it finishes (the sound fallback).
    "bounded"  every interleaving with at most `preemptions` preemptions (CHESS, Musuvathi
               and Qadeer 2007: a preemption is switching away from a thread that could
               still run; most bugs need at most two). Never a proof.
    "dpor"     dynamic partial-order reduction with sleep sets (Flanagan and Godefroid
               2005; source sets as in Abdulla et al. 2014): one schedule per class of
               interleavings that differ only in the order of independent steps. It
               finds every end state "dfs" finds, provided threads share state only
               through kernel objects (see "Independence" below).
    "random"   seeded uniformly random choices.           Never a proof.
    "pct"      probabilistic concurrency testing (Burckhardt et al. 2010): random thread
               priorities with `depth - 1` priority change points. Never a proof.

Independence. Two steps of different threads are dependent when the dispatcher objects
they read or changed (`Machine.footprint`: events, timers, the namespace root "\\\\",
devices) overlap, when one of them woke, re-checked, started or queued an APC to the
other's thread, or when either ran while a timer or DPC was pending (virtual time orders
those against every step). A step that touched the namespace or a handle table ("\\\\")
is dependent with every other step, because handle look-ups are not in the footprint.
Python objects that learner threads share directly (a dict, a driver's attributes) are
invisible to the footprint: when threads talk through them, use `strategy="dfs"`.

Failures: a thread blocked forever ("deadlock" when waiting threads wait for each other,
"stranded" otherwise), an exception or assertion in thread code ("error"), a simulated
bug check ("bugcheck"), the per-run step budget ("budget") and `check(m)` returning False
or a message at the end of a run ("check"). Each keeps the shortest schedule found and
prints as a line you can paste to see it again:

    report = explore("trap_two_sets_one_wake")
    print(report)                    # ... replay("trap_two_sets_one_wake", ['producer', ...])
    m = replay("trap_two_sets_one_wake", report.failures[0].schedule)
"""
from __future__ import annotations

import gc
import random
import sys
import time
from functools import partial

from .errors import BadArgumentError, EvtsimError
from .scheduler import TERMINATED, WAITING
from .status import name_of

__all__ = ["explore", "replay", "Report", "Failure", "STRATEGIES", "state_key", "main"]

STRATEGIES = ("dfs", "bounded", "dpor", "random", "pct")
DEFAULT_MAX_SCHEDULES = 100_000
DEFAULT_RANDOM_RUNS = 1_000
PROGRESS_EVERY = 2.0            # seconds between progress updates
GC_EVERY = 256                  # runs between collections of the machines thrown away
_ANY = "*"                      # footprint mark: dependent with every other step


# --- building and replaying ------------------------------------------------------------

def _resolve_build(build, params=None):
    """A zero-argument builder and, for scenarios, how to name it in a replay line."""
    from . import scenarios
    params = dict(params or {})
    if isinstance(build, str):
        scenario = scenarios.get(build)
        return partial(scenario.build, **params), _scenario_label(scenario.name, params)
    if isinstance(build, scenarios.Scenario):
        return partial(build.build, **params), _scenario_label(build.name, params)
    if params:
        raise BadArgumentError("parameters go with a scenario name, such as "
                               "replay('trap_two_sets_one_wake', schedule, fixed=True)")
    if not callable(build):
        raise BadArgumentError("build must be a function that returns a fresh Machine "
                               "(with its threads started), or a scenario name")
    return build, None


def _scenario_label(name, params):
    return (name, tuple(sorted(params.items())))


def _make(build):
    from .machine import Machine
    m = build()
    if not isinstance(m, Machine):
        raise BadArgumentError(f"build() must return a Machine, not {type(m).__name__}")
    return m


def replay(build, schedule, *, trace: bool = True, **params):
    """Build afresh and step the threads named in `schedule`, in order.

    Returns the Machine (trace on by default), ready to plot or step further. `build`
    is a builder function, a scenario or a scenario name (then `params` are passed to
    it). A name that cannot run at its turn raises `BadArgumentError`.
    """
    build, _ = _resolve_build(build, params)
    if isinstance(schedule, str) or not hasattr(schedule, "__iter__"):
        raise BadArgumentError("a schedule is a list of thread names, such as "
                               "['producer', 'consumer1']")
    m = _make(build)
    m.tracing = trace
    for index, name in enumerate(schedule):
        ready = m.choices()
        for thread in ready:
            if thread.name == name:
                break
        else:
            now = ", ".join(t.name for t in ready) or "none (the run has ended)"
            known = any(t.name == name for t in m.threads)
            why = "" if known else " (there is no thread of that name)"
            raise BadArgumentError(
                f"step {index} of the schedule is {name!r}, which cannot run at that "
                f"point{why}. Ready threads: {now}. Was the schedule made for a "
                f"different build?")
        m.step(thread)
    return m


# --- what a run ended in ---------------------------------------------------------------

def _freeze(value, depth=0):
    """A hashable, address-free stand-in for a thread result."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 6:
        return type(value).__name__
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(((repr(k), _freeze(v, depth + 1)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(_freeze(v, depth + 1)) for v in value))
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return (type(value).__name__, name)
    return type(value).__name__


def state_key(m) -> tuple:
    """The end state of a run: every thread's state, result and error, every dispatcher
    object's signal state and waiters, and the bug check (virtual time is left out)."""
    threads = []
    for t in m.threads:
        error = None if t.error is None else (type(t.error).__name__, str(t.error))
        wait = t.wait.describe() if t.state == WAITING and t.wait is not None else None
        threads.append((t.name, t.state, _freeze(t.result), error, wait))
    objects = tuple((o.name, o.SignalState, tuple(wb.thread.name for wb in o.wait_list))
                    for o in m.dispatcher_objects)
    crash = None if m.bugcheck is None else m.bugcheck.code
    return (tuple(threads), objects, crash)


class Failure:
    """One way the scenario breaks, with the shortest schedule found that shows it."""

    def __init__(self, kind, message, schedule, key, label=None):
        self.kind = kind
        self.message = message
        self.schedule = list(schedule)
        self.key = key
        self.story = message
        self.trace = None
        self.count = 1          # how many explored schedules showed it
        self._label = label

    @property
    def replay_line(self) -> str:
        return _replay_line(self._label, self.schedule)

    def replay(self, build=None):
        """The failing run again (trace on), from the explorer's build or `build`."""
        if build is None:
            if self._build is None:
                raise BadArgumentError("pass the build function: failure.replay(build)")
            build = self._build
        return replay(build, self.schedule)

    _build = None

    def describe(self) -> str:
        return (f"{self.kind}: {self.story}\n"
                f"  seen in {self.count} schedule(s); shortest has {len(self.schedule)} "
                f"steps:\n  {self.replay_line}")

    __str__ = describe

    def __repr__(self) -> str:
        return f"<Failure {self.kind}: {self.story}>\n  {self.replay_line}"


def _replay_line(label, schedule) -> str:
    names = "[" + ", ".join(repr(n) for n in schedule) + "]"
    if label is None:
        return f"replay(build, {names})"
    name, params = label
    extra = "".join(f", {k}={v!r}" for k, v in params)
    return f"replay({name!r}, {names}{extra})"


class Report:
    """What a search found: failures, end states, how much it covered, and the verdict."""

    def __init__(self, strategy, options, label):
        self.strategy = strategy
        self.options = options
        self.schedules = 0          # complete runs (each one a schedule)
        self.steps = 0              # steps taken, replays included
        self.pruned = 0             # DPOR runs cut short by the sleep set (redundant)
        self.end_states: set = set()
        self.examples: dict = {}    # end state -> the first schedule that reached it
        self.failures: list[Failure] = []
        self.seconds = 0.0
        self.exhaustive = False
        self.interrupted = False
        self.limited = False        # stopped at max_schedules
        self.budget_hit = False     # some run was cut at max_steps
        self._label = label

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def verdict(self) -> str:
        n = f"{self.schedules:,} schedule{'s' if self.schedules != 1 else ''}"
        s = self.strategy
        if self.interrupted:
            scope = f"interrupted after {n}: not every schedule was tried, so this is no proof"
        elif self.limited:
            scope = (f"stopped at max_schedules after {n}: not every schedule was tried, "
                     f"so this is no proof")
        elif self.exhaustive and s == "dfs":
            scope = f"every interleaving was run ({n})"
        elif self.exhaustive and s == "dpor":
            scope = (f"every class of equivalent interleavings was run ({n}, DPOR; this "
                     f"assumes threads share state only through kernel objects)")
        elif self.exhaustive and s == "bounded":
            k = self.options.get("preemptions")
            scope = (f"every interleaving was run ({n}); none needed more than {k} "
                     f"preemption{'s' if k != 1 else ''}")
        elif s == "bounded":
            k = self.options.get("preemptions")
            scope = (f"every schedule with at most {k} preemption{'s' if k != 1 else ''} "
                     f"was run ({n}); schedules with more were not, so this is no proof")
        elif s in ("random", "pct"):
            scope = (f"{n} {'random' if s == 'random' else 'PCT'} schedules "
                     f"(seed {self.options.get('seed')}); a sample, so this is no proof")
        else:
            scope = f"{n} run; not every schedule was covered, so this is no proof"
        if self.budget_hit and not self.failures:
            scope += "; some runs hit the step budget"
        if self.failures:
            kinds = ", ".join(sorted({f.kind for f in self.failures}))
            return (f"FAILS: {len(self.failures)} distinct failure"
                    f"{'s' if len(self.failures) != 1 else ''} ({kinds}); {scope}.")
        if self.exhaustive:
            return f"PASSES: no failure in any schedule; {scope}."
        return f"No failure found; {scope}."

    def describe(self) -> str:
        lines = [self.verdict,
                 f"{self.schedules:,} schedules, {len(self.end_states)} distinct end "
                 f"state{'s' if len(self.end_states) != 1 else ''}, {self.steps:,} steps, "
                 f"{self.seconds:.2f} s ({self.strategy})."]
        for f in self.failures:
            lines.append(f.describe())
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        return self.describe()

    def _repr_pretty_(self, p, cycle) -> None:      # IPython
        p.text(self.describe())


# --- the search ------------------------------------------------------------------------

class _Node:
    """A choice point of the current path: who could run, who is still to try."""

    __slots__ = ("enabled", "todo", "done", "choice", "sleep", "explored", "event",
                 "preempts", "last")

    def __init__(self, enabled, last, preempts):
        self.enabled = enabled
        self.todo: list = []
        self.done: list = []
        self.choice = None
        self.sleep = None           # DPOR: thread -> its step's footprint, asleep here
        self.explored = None        # DPOR: thread -> footprint, children tried already
        self.event = None           # DPOR: (thread, footprint, clock) of `choice`
        self.last = last
        self.preempts = preempts


class _Stop(Exception):
    pass


class _Progress:
    """A progress bar in a notebook (ipywidgets), else a line on stderr every ~2 s."""

    def __init__(self, mode, strategy, total):
        self.mode = mode            # None: after 2 s; True: at once; False: never
        self.strategy = strategy
        self.total = total
        self.start = time.monotonic()
        self.next = self.start + (0.0 if mode else PROGRESS_EVERY)
        self.widget = None
        self.shown = False

    def update(self, report, final=False) -> None:
        if self.mode is False:
            return
        now = time.monotonic()
        if not final and now < self.next:
            return
        if final and not self.shown:
            return
        self.next = now + PROGRESS_EVERY
        text = (f"explore ({self.strategy}): {report.schedules:,} schedules, "
                f"{len(report.end_states)} end states, {len(report.failures)} failures, "
                f"{now - self.start:.1f} s")
        if not self.shown:
            self.shown = True
            self.widget = _notebook_bar(self.total)
        if self.widget is not None:
            bar, label = self.widget
            bar.value = min(report.schedules, bar.max)
            label.value = text + (" (done)" if final else "")
        else:
            end = "\n" if final else "\r"
            print(text + (" (done)" if final else ""), end=end, file=sys.stderr, flush=True)


def _notebook_bar(total):
    try:
        shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
        if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
            return None
        import ipywidgets
        from IPython.display import display
    except Exception:
        return None
    bar = ipywidgets.IntProgress(value=0, min=0, max=max(total, 1))
    label = ipywidgets.Label()
    display(ipywidgets.HBox([bar, label]))
    return bar, label


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
        if dpor:
            _watch_handles(m)
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
                node.event = self.observed_step(m, thread, stack, index)
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
                node.event = self.observed_step(m, thread, stack, len(stack) - 1)
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

    def observed_step(self, m, thread, stack, index):
        """Step `thread` and return its DPOR event: (thread, footprint, clock)."""
        name = thread.name
        others = [t for t in m.threads if t is not thread and t.state != TERMINATED]
        before = [(t, _signature(t), t.wait) for t in others]
        count = len(m.threads)
        timed, ktimer = _pending_timers(m)
        timers_made = m.timers.counter
        call = thread.next_call
        m.step(thread)
        fp = set(m.footprint)
        fp.add(name)
        if call is not None:
            _objects_in(call.args, fp)
        for t, signature, wait in before:
            if _signature(t) != signature:
                fp.add(t.name)
                if wait is not None:
                    fp.update(o.name for o in wait.objects)
        for t in m.threads[count:]:
            fp.add(t.name)
        # Virtual time pins timer expiries to a step count, not to a thread: a step
        # that starts a timed wait on objects or sets a kernel timer, runs while a
        # kernel timer or DPC is pending, or touches what a pending timeout will touch,
        # is ordered against every other step. A plain delay (Sleep) is not: its
        # expiry touches only its own thread.
        made = m.timers.counter != timers_made and not (
            thread.state == WAITING and thread.wait is not None and not thread.wait.objects)
        if ktimer or m.dpc_queue or made or (timed and not timed.isdisjoint(fp)):
            fp.add(_ANY)
        fp = frozenset(fp)
        # The clock: the latest step of each thread that happens before this one.
        clock = {}
        for j in range(index - 1, -1, -1):
            other = stack[j].event
            if other[0] == name:
                _join(clock, other[2])
                break
        for j in range(index - 1, -1, -1):
            other = stack[j].event
            if other[0] != name and clock.get(other[0], -1) < j and _dependent(fp, other[1]):
                _join(clock, other[2])
        clock[name] = index
        return (name, fp, clock)

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
                  "dpor": self.choose_dpor}[self.strategy]
        diverge = 0
        while True:
            if report.schedules + report.pruned >= self.max_schedules:
                report.limited = True
                return
            self.execute(stack, diverge, choose)
            if self.dpor:
                self.races(stack, diverge)
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

    def choose_dpor(self, m, ready, last, stack):
        names = [t.name for t in ready]
        node = _Node(names, last, 0)
        node.explored = {}
        if stack:
            parent = stack[-1]
            chosen = parent.event[1]
            asleep = {}
            for source in (parent.sleep, parent.explored):
                for name, fp in source.items():
                    if name != parent.choice and not _dependent(fp, chosen):
                        asleep[name] = fp
            node.sleep = asleep
        else:
            node.sleep = {}
        awake = [n for n in names if n not in node.sleep]
        if not awake:
            return None
        first = last if last in awake else awake[0]
        node.todo = [first]
        node.choice = first
        return node

    def races(self, stack, diverge):
        """Source-DPOR: for each race of a new step with an earlier one, make sure the
        reversed order will be tried from the point before the earlier step."""
        events = [n.event for n in stack]
        for j in range(max(diverge, 1), len(events)):
            name_j, fp_j, clock_j = events[j]
            # the clock of e_j without its direct dependencies on other threads
            base = {}
            for k in range(j - 1, -1, -1):
                if events[k][0] == name_j:
                    base = dict(events[k][2])
                    break
            candidates = [i for i in range(j - 1, -1, -1)
                          if events[i][0] != name_j and _dependent(fp_j, events[i][1])]
            for i in candidates:                       # latest first
                name_i = events[i][0]
                if base.get(name_i, -1) >= i:         # e_i happens before via others
                    continue
                self.reverse(stack, events, i, j)
                _join(base, events[i][2])

    def reverse(self, stack, events, i, j):
        node = stack[i]
        name_i, _, _ = events[i]
        # v: the steps after e_i that do not depend on it, then e_j
        v = [k for k in range(i + 1, j) if events[k][2].get(name_i, -1) < i]
        v.append(j)
        positions: dict = {}
        for k in v:
            positions.setdefault(events[k][0], []).append(k)
        initials = []
        for name, ks in positions.items():
            first = ks[0]
            clock = events[first][2]
            if not any(other != name and oks[0] < first and clock.get(other, -1) >= oks[0]
                       for other, oks in positions.items()):
                initials.append(name)
        initials = [n for n in initials if n in node.enabled]
        if not initials:
            return                      # not reversible: e_i made e_j's thread ready
        covered = set(node.todo) | set(node.done) | set(node.sleep)
        if any(n in covered for n in initials):
            return
        node.todo.append(initials[0])

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


class _RandomChooser:
    def __init__(self, rng):
        self.rng = rng

    def __call__(self, m, ready, last, stack):
        thread = ready[self.rng.randrange(len(ready))]
        node = _Node(None, last, 0)
        node.choice = thread.name
        return node


class _PctChooser:
    """PCT: distinct random priorities; at `depth - 1` random steps the running thread
    drops below every other (Burckhardt, Kothari, Musuvathi, Nagarakatte 2010)."""

    def __init__(self, rng, depth, horizon):
        self.rng = rng
        self.depth = depth
        self.priority: dict = {}
        changes = min(depth - 1, horizon)
        self.changes = dict(zip(sorted(rng.sample(range(1, horizon + 1), changes)),
                                range(changes, 0, -1))) if changes > 0 else {}
        self.step = 0

    def __call__(self, m, ready, last, stack):
        priority = self.priority
        for t in ready:
            if t.name not in priority:
                # new threads get a random rank above the change-point priorities
                priority[t.name] = self.depth + self.rng.random()
        self.step += 1
        best = max(ready, key=lambda t: priority[t.name])
        low = self.changes.get(self.step)
        if low is not None:
            priority[best.name] = low - 1 + self.rng.random() * 0.5
            best = max(ready, key=lambda t: priority[t.name])
        node = _Node(None, last, 0)
        node.choice = best.name
        return node


def _find(ready, name):
    for thread in ready:
        if thread.name == name:
            return thread
    return None


class _Mark:
    """Stands in `Machine.touched` for one handle-table slot."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _watch_handles(m) -> None:
    """Make handle look-ups, inserts and removals part of each step's footprint.

    The engine's footprint names the namespace ("\\") for creates, opens and closes,
    but not the handle slot a call looked up, so SetEvent(h) and another thread's
    CloseHandle(h) would look independent. Each process's table is switched to a
    subclass that also notes the slot ("handle:<pid>:<value>") it read or changed.
    """
    from .objects import HandleTable
    for process in m.processes:
        table = process.handles
        if type(table) is HandleTable:
            table.__class__ = _watched()


_WATCHED = []


def _watched():
    if not _WATCHED:
        _WATCHED.append(_watched_handles_class())
    return _WATCHED[0]


def _handle_mark(table, value):
    if isinstance(value, int) and not isinstance(value, bool):
        table.process.machine.touched.append(
            _Mark(f"handle:{table.process.pid}:{value & ~3 & 0x7FFFFFFF}"))


def _watched_handles_class():
    from .objects import HandleTable

    class WatchedHandles(HandleTable):
        __slots__ = ()

        def insert(self, obj, granted_access, attributes):
            value = HandleTable.insert(self, obj, granted_access, attributes)
            _handle_mark(self, value)
            return value

        def get(self, value):
            _handle_mark(self, value)
            return HandleTable.get(self, value)

        def remove(self, value):
            _handle_mark(self, value)
            return HandleTable.remove(self, value)

    return WatchedHandles


def _objects_in(args, names, depth=0) -> None:
    """Add the dispatcher objects a call names in its arguments: some reads (such as
    KeReadStateEvent) leave no footprint of their own."""
    for a in args:
        if hasattr(a, "SignalState") and hasattr(a, "wait_list"):
            names.add(a.name)
        elif isinstance(a, (list, tuple)) and depth < 2:
            _objects_in(a, names, depth + 1)
        else:
            inner = getattr(a, "event", None)
            if hasattr(inner, "SignalState") and hasattr(inner, "wait_list"):
                names.add(inner.name)


def _pending_timers(m):
    """Names a pending wait timeout will touch (the thread, its objects), and whether a
    kernel timer (whose DPC could touch anything) is pending."""
    timed = set()
    ktimer = False
    for _, _, action, payload in m.timers.heap:
        target, generation = payload
        if action == "wait":
            if target.state == WAITING and target.wait_generation == generation:
                timed.add(target.name)
                timed.update(o.name for o in target.wait.objects)
        elif getattr(target, "generation", None) == generation:
            ktimer = True
    return timed, ktimer


def _signature(t):
    """What another step can change about a thread without touching an object."""
    return (t.state, t.wait_generation, len(t.kernel_apcs), len(t.user_apcs),
            t.user_apc_pending, t.alerted[0], t.alerted[1])


def _dependent(a, b) -> bool:
    return _ANY in a or _ANY in b or not a.isdisjoint(b)


def _join(clock, other) -> None:
    for name, position in other.items():
        if clock.get(name, -1) < position:
            clock[name] = position


def _error_line(error):
    from .errors import learner_frames
    frames = learner_frames(error.__traceback__) if error.__traceback__ else []
    return frames[-1].lineno if frames else None


# --- the stories -----------------------------------------------------------------------

class _Footprints:
    """Observer that keeps each step's footprint during a replay."""

    def __init__(self, m):
        self.m = m
        self.rows = []

    def after_step(self, record):
        self.rows.append((record, frozenset(self.m.footprint)))


def _tell(failure, build):
    """Replay a failure with the trace on; set its story, trace and (for hangs) kind."""
    m = _make(build)
    watcher = _Footprints(m)
    m.add_observer(watcher)
    schedule = failure.schedule
    try:
        for name in schedule:
            ready = m.choices()
            thread = _find(ready, name)
            if thread is None:
                raise EvtsimError(f"replaying the failure found {name!r} not ready: the "
                                  f"build is not deterministic")
            m.step(thread)
        if failure.kind == "hang":
            m.choices()
    finally:
        m.remove_observer(watcher)
    failure.trace = list(m.trace)
    failure._build = build
    if failure.kind == "hang":
        failure.kind, failure.story = _hang_story(m, watcher.rows)
    elif failure.kind == "bugcheck" and m.bugcheck is not None:
        b = m.bugcheck
        where = f" at line {b.line}" if b.line else ""
        failure.story = (f"{b.thread} stops the machine{where} with bug check "
                         f"0x{b.code:X} ({b.name}): {b.rule}")
    else:
        failure.story = failure.message


_SETS = ("Set", "Pulse")


def _is_wait(op: str) -> bool:
    return "Wait" in op or op in ("Sleep", "SleepEx", "KeDelayExecutionThread")


def _hang_story(m, rows):
    waiting = [t for t in m.threads if t.state == WAITING]
    # who could still set what another waits on: a waiting thread that touched that
    # object before its current wait (approximate: we cannot see its future)
    setters = {}
    for t in waiting:
        mine = set()
        own = [fp for record, fp in rows if record.thread == t.name]
        for fp in own[:-1]:             # all but the wait it is stuck in: a lock it
            mine |= fp                  # took (a satisfied wait) counts
        setters[t.name] = mine
    graph = {t.name: [u.name for u in waiting if u is not t
                      and any(o.name in setters[u.name] for o in t.wait.objects)]
             for t in waiting}
    cycle = _find_cycle(graph)
    if cycle:
        parts = []
        for name in cycle:
            t = m.thread(name)
            objects = ", ".join(o.name for o in t.wait.objects)
            parts.append(f"{name} waits on {objects}")
        others = " and ".join(parts)
        return "deadlock", (f"{others}; each waits for the other to set its event, so "
                            f"none ever will")
    t = waiting[0]
    more = f" (and {', '.join(u.name for u in waiting[1:])})" if len(waiting) > 1 else ""
    objects = t.wait.objects
    label = ", ".join(o.name for o in objects) or "a delay"
    return "stranded", f"{t.name}{more} waits forever on {label}: {_why(t, objects, rows)}"


def _why(t, objects, rows) -> str:
    names = {o.name for o in objects}
    touching = [(r, fp) for r, fp in rows if names & fp]
    sets = [(i, r) for i, (r, fp) in enumerate(touching)
            if any(s in r.op for s in _SETS) and not _is_wait(r.op)]
    waits = [(i, r) for i, (r, fp) in enumerate(touching) if _is_wait(r.op)]
    pulses = [(i, r) for i, r in sets if "Pulse" in r.op and not r.released]
    if pulses:
        i, pulse = pulses[-1]
        woke = [r for r, _ in rows if r.note and f"woke {t.name} to re-check" in r.note]
        if woke:
            return (f"{pulse.thread}'s {pulse.op} came while a kernel APC "
                    f"({woke[-1].thread}'s {woke[-1].op}) had taken {t.name} out of its "
                    f"wait, so the pulse released nobody")
        return f"{pulse.thread}'s {pulse.op} came before {t.name} waited, so it released nobody"
    if sets:
        first_wait = min((i for i, _ in waits), default=None)
        op = sets[0][1].op
        if first_wait is not None and all(i < first_wait for i, _ in sets) and len(sets) > 1:
            n = len(sets)
            waiters = {r.thread for _, r in waits}
            count = "both" if n == 2 else f"all {n}"
            either = "either wait" if len(waiters) == 2 else (
                "any wait" if len(waiters) > 2 else "the wait")
            return (f"{count} {op} calls ran before {either}, so the event was already "
                    f"signaled for the later one{'s' if n > 2 else ''} and "
                    f"{'it was' if n == 2 else 'they were'} lost")
        last = sets[-1][1]
        if last.released and t.name not in last.released:
            return (f"the last {last.op} ({last.thread}) released "
                    f"{', '.join(last.released)} instead, and nothing sets it again")
        return f"the last {last.op} was by {last.thread}, and nothing sets it again"
    failed = _failed_call(rows)
    if failed is not None:
        r, status = failed
        return f"nothing ever sets it; {r.op} in {r.thread} returned {status}"
    return "nothing ever sets it"


def _failed_call(rows):
    for r, _ in rows:
        result = r.result
        if isinstance(result, (tuple, list)) and result:
            result = result[0]
        if isinstance(result, int) and not isinstance(result, bool) and \
                (result & 0xFFFFFFFF) >= 0xC0000000:
            return r, name_of(result, "status")
    return None


def _find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if nxt not in state:
                found = visit(nxt, path)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


# --- the entry point -------------------------------------------------------------------

def explore(build, strategy: str = "dpor", check=None, max_schedules: int | None = None,
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
    from . import scenarios
    name, params = scenario
    try:
        defaults = scenarios.get(name).defaults
    except EvtsimError:
        return
    changed = {k: v for k, v in params.items() if defaults.get(k) != v}
    report._label = _scenario_label(name, changed)
    for failure in report.failures:
        failure._label = report._label


# --- command line ----------------------------------------------------------------------

def main(argv=None, out=None) -> int:
    """`evtsim explore SCENARIO [--strategy dpor] [--param k=v ...]`: exit 1 on failure."""
    import argparse
    import ast
    from . import scenarios

    parser = argparse.ArgumentParser(
        prog="evtsim explore",
        description="Run a scenario under many schedules; print failures as replay lines.")
    parser.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    parser.add_argument("--strategy", default="dpor", choices=STRATEGIES)
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="a scenario parameter, e.g. --param fixed=True (repeatable)")
    parser.add_argument("--check", metavar="EXPR", default=None,
                        help="a Python expression in m that must be true at every end, "
                             "e.g. \"m.threads[0].result == 0\"")
    parser.add_argument("--max-schedules", type=int, default=None)
    parser.add_argument("--max-steps", type=int, default=10_000)
    parser.add_argument("--preemptions", type=int, default=2, help="for --strategy bounded")
    parser.add_argument("--depth", type=int, default=3, help="for --strategy pct")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if args.list or not args.scenario:
        print(scenarios.describe(), file=out)
        return 0 if args.list else 2
    params = {}
    for item in args.param:
        key, sep, text = item.partition("=")
        if not sep:
            parser.error(f"--param takes K=V, not {item!r}")
        try:
            params[key.strip()] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key.strip()] = text
    check = None
    if args.check:
        expression = compile(args.check, "--check", "eval")

        def check_expression(m):
            return bool(eval(expression, {"m": m}))   # noqa: S307 (the user's own line)
        check = check_expression
    try:
        build = (args.scenario if not params
                 else partial(scenarios.get(args.scenario).build, **params))
        report = explore(build, args.strategy, check, args.max_schedules, args.seed,
                         preemptions=args.preemptions, depth=args.depth,
                         max_steps=args.max_steps, progress=False if args.quiet else None)
    except EvtsimError as error:
        print(f"evtsim: error: {error}", file=sys.stderr)
        return 2
    print(report.describe(), file=out)
    return 1 if report.failures else 0


if __name__ == "__main__":          # python -m evtsim.explore SCENARIO ...
    sys.exit(main())
