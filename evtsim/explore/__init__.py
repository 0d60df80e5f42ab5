"""The schedule explorer: run a scenario under many interleavings, report what breaks.

A run of a `Machine` is a pure function of its build and of which ready thread takes
each step, so a *schedule* is just the list of thread names chosen at each choice point
(`Machine.choices()`), and `replay(build, schedule)` gives the same run back. The
explorer walks the tree of schedules without keeping machine states (CHESS and loom
are stateless the same way): every schedule is run from a fresh `build()`. Strategies:
"dfs", "bounded" (CHESS preemption bounding), "dpor" (the default: optimal DPOR, one
run per class of equivalent interleavings), "random", "pct". The rules DPOR follows,
and what the verdict words mean, are in docs/explore.md.

    report = explore("trap_two_sets_one_wake")
    print(report)                    # ... replay("trap_two_sets_one_wake", ['producer', ...])
    m = replay("trap_two_sets_one_wake", report.failures[0].schedule)

Modules, each importing only those above it in this list:
    runs          build a run, replay a schedule, `state_key` of its end
    tree          a choice point of the schedule tree
    independence  each step's reads and writes (`Event`): which steps commute
    wakeup        wake-up trees: the sequences still to run from a point
    symmetry      interchangeable threads (`explore(..., symmetry=True)`)
    dpor          optimal DPOR: sleep sets, races, wake-up tree insertion; timers
    execution     one run of a systematic search: replay the prefix, grow the rest
    classes       counting classes by brute force (tests, bench)
    outcome       how a run ended: its end state and failure, as plain data
    report        `Failure` and `Report`, the verdict in words
    stories       replay a failure and explain it (deadlock, stranded, bug check)
    progress      the progress bar (ipywidgets, only in a notebook) or stderr line
    sampling      the random and PCT choosers (Burckhardt et al. 2010)
    search        `explore()`: the tree walks, the sampling loop, the report
    cli           `main`, the `evtsim explore` command line
(The runner over several cores, `explore_parallel`, starts processes, so it lives outside
the Pyodide-safe package, in `evtsim_parallel`.)
"""
from .cli import main
from .report import Failure, Report
from .runs import replay, state_key
from .search import STRATEGIES, explore

__all__ = ["explore", "replay", "Report", "Failure", "STRATEGIES", "state_key", "main"]
