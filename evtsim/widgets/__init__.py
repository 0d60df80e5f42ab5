"""Lab panels for Jupyter: play with events and threads by hand and watch the timeline.

`EventLab(machine_or_scenario)` shows every event and thread of a machine with buttons
(Set / Reset event / Clear / Pulse an event as the instructor, Step a thread), Run,
Undo, Start over, Add waiter, a policy and seed chooser, a verdict banner, the shared
state, a thread's routine with its current line, the live timeline and a log. It is
the view over a `evtsim.lab.LabSession`, which holds the machine and does every action
in plain Python (no widgets, so it also runs in Pyodide without matplotlib).

The smaller widgets the lessons need: `EventDemo` (one event, a few waiters, Set and
Reset event), `Predict` (tick the threads a signal will release, reveal, try again) and
`TraceFiles` (download the trace, upload it again after a culled Binder session).

The modules: `panel` (what every panel shares: log, status, badges, banner, scaling,
guarded callbacks), `rows` (the lab's event and thread rows, routine and shared-state
views), `picture` (the lab's timeline, SVG or PNG), `eventlab` (EventLab), `files`
(TraceFiles) and `small` (EventDemo, Predict). They import ipywidgets (and matplotlib
through `evtsim.plot` for a PNG timeline); the session below them imports neither.
"""
from __future__ import annotations

from ..lab import (  # noqa: F401
    RUN_BUDGET,
    added_waiter,
    event_text,
    replay_actions,
    source_line,
    thread_text,
)
from .eventlab import EventLab
from .files import TraceFiles
from .panel import (  # noqa: F401
    BLUE,
    GREEN,
    GREY,
    KERNEL_OPS,
    LOG_SHOWN,
    ORANGE,
    SKY,
    THREAD_BADGES,
    VERMILLION,
)
from .small import EventDemo, Predict

__all__ = ["EventLab", "EventDemo", "Predict", "TraceFiles", "added_waiter",
           "source_line", "event_text", "thread_text"]
