"""The schedule explorer: run a scenario under many interleavings, report what breaks.

A run of a `Machine` is a pure function of its build and of which ready thread takes
each step, so a *schedule* is just the list of thread names chosen at each choice point
(`Machine.choices()`), and `replay(build, schedule)` gives the same run back. The
explorer walks the tree of schedules without keeping machine states (CHESS and loom
are stateless the same way): every schedule is run from a fresh `build()`. Strategies:
"dfs", "bounded" (CHESS preemption bounding), "dpor" (the default), "random", "pct".

    report = explore("trap_two_sets_one_wake")
    print(report)                    # ... replay("trap_two_sets_one_wake", ['producer', ...])
    m = replay("trap_two_sets_one_wake", report.failures[0].schedule)

Modules, each importing only those above it in this list:
    runs          build a run, replay a schedule, `state_key` of its end
    tree          a choice point of the schedule tree
    independence  step footprints: which steps commute (the relation DPOR needs)
    report        `Failure` and `Report`, the verdict in words
    stories       replay a failure and explain it (deadlock, stranded, bug check)
    progress      the progress bar (ipywidgets, only in a notebook) or stderr line
    dpor          sleep sets and source-set backtracking (Flanagan and Godefroid 2005)
    sampling      the random and PCT choosers (Burckhardt et al. 2010)
    search        `explore()`: the tree walk, the sampling loop, classifying each end
    cli           `main`, the `evtsim explore` command line
"""
from .cli import main
from .report import Failure, Report
from .runs import replay, state_key
from .search import STRATEGIES, explore

__all__ = ["explore", "replay", "Report", "Failure", "STRATEGIES", "state_key", "main"]
