"""What a search found: the failures, each with its shortest schedule, and the verdict.

Failures: a thread blocked forever ("deadlock" when waiting threads wait for each other,
"stranded" otherwise), an exception or assertion in thread code ("error"), a simulated
bug check ("bugcheck"), the per-run step budget ("budget") and `check(m)` returning False
or a message at the end of a run ("check"). Each keeps the shortest schedule found and
prints as a line you can paste to see it again. The `Report` says how much was covered
and whether that amounts to a proof, in words (`Report.verdict`).
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import BadArgumentError
from ..machine import Machine
from .runs import replay


class Failure:
    """One way the scenario breaks, with the shortest schedule found that shows it."""

    def __init__(self, kind: str, message: str, schedule: list, key: tuple,
                 label: tuple | None = None) -> None:
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

    def replay(self, build: Callable[[], Machine] | None = None) -> Machine:
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

    def __init__(self, strategy: str, options: dict, label: tuple | None) -> None:
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
        self.strict_timing = False  # DPOR: timeouts were close, so timed steps kept order
        self.close_delays = False   # DPOR: delays ended within a few steps of each other
        self.worker_runs = 0        # runs that worker processes did (parallel runner)
        self._label = label

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def stopped_early(self) -> bool:
        """The search ended before it had tried everything it set out to try."""
        return (self.interrupted or self.limited or self.budget_hit
                or (self.strategy in ("dfs", "dpor", "bounded") and not self.exhaustive))

    @property
    def verdict(self) -> str:
        """One line: PASSES only for a search that tried every class and found
        nothing; FAILS when something broke; otherwise "No failure found" and why
        that is no proof (a search that stopped early says so)."""
        n = f"{self.schedules:,} schedule{'s' if self.schedules != 1 else ''}"
        s = self.strategy
        no_proof = "not every schedule was tried, so this is no proof"
        if self.interrupted:
            scope = f"stopped early: interrupted after {n}; {no_proof}"
        elif self.limited:
            scope = f"stopped early at max_schedules after {n}; {no_proof}"
        elif self.budget_hit:
            scope = (f"stopped early: some runs hit the step budget (max_steps) in {n}; "
                     f"{no_proof}")
        elif self.exhaustive and s == "dfs":
            scope = f"every interleaving was run ({n})"
        elif self.exhaustive and s == "dpor":
            names = (", up to renaming interchangeable threads"
                     if self.options.get("symmetry") else "")
            scope = (f"every class of equivalent interleavings was run{names} ({n}, "
                     f"DPOR; this assumes threads share state only through kernel "
                     f"objects")
            if self.close_delays:
                scope += ("; some delays ended only a few steps apart, and DPOR took "
                          "their order as it came: strategy=\"dfs\" tries every order")
            scope += ")"
        elif self.exhaustive and s == "bounded":
            k = self.options.get("preemptions")
            scope = (f"every interleaving was run ({n}); none needed more than {k} "
                     f"preemption{'s' if k != 1 else ''}")
        elif s == "bounded":
            k = self.options.get("preemptions")
            scope = (f"stopped early at the preemption bound: every schedule with at most "
                     f"{k} preemption{'s' if k != 1 else ''} was run ({n}); schedules "
                     f"with more were not, so this is no proof")
        elif s in ("random", "pct"):
            scope = (f"{n} {'random' if s == 'random' else 'PCT'} schedules "
                     f"(seed {self.options.get('seed')}); a sample, so this is no proof")
        else:
            scope = f"stopped early after {n}; {no_proof}"
        if self.failures:
            kinds = ", ".join(sorted({f.kind for f in self.failures}))
            return (f"FAILS: {len(self.failures)} distinct failure"
                    f"{'s' if len(self.failures) != 1 else ''} ({kinds}); {scope}.")
        if self.exhaustive and not self.stopped_early:
            return f"PASSES: no failure in any schedule; {scope}."
        return f"No failure found; {scope}."

    def describe(self, seconds: bool = True) -> str:
        """The verdict, the coverage line and each failure. `seconds=False` leaves the
        time out (two searches that did the same then print the same)."""
        took = f"{self.seconds:.2f} s " if seconds else ""
        lines = [self.verdict,
                 f"{self.schedules:,} schedules, {len(self.end_states)} distinct end "
                 f"state{'s' if len(self.end_states) != 1 else ''}, {self.steps:,} steps, "
                 f"{took}({self.strategy})."]
        for f in self.failures:
            lines.append(f.describe())
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        return self.describe()

    def _repr_pretty_(self, p, cycle) -> None:      # IPython
        p.text(self.describe())
