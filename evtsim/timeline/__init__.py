"""The timeline as data: lanes, spans, arrows, markers and event-state segments.

Built from a trace (a live `Machine`, a trace file loaded with `evtsim.trace.load`, or
a bare list of records) and shared by every view of a run: the matplotlib picture
(`evtsim.plot`), the SVG picture (`svg_timeline`, for the live lab), the text
rendering (`text`, the accessible equivalent the lessons print next to the picture)
and the Chrome/Perfetto export (`evtsim.trace.to_perfetto`).
Nothing here imports matplotlib, so the engine stays light.

How a trace becomes a timeline (the engine's rules, see docs/engine.md):

* A thread exists from its creation and is *ready* until its first step.
* Each record of a thread is one step: a *running* span. After it the thread is in the
  record's `state`: ready, waiting (the note says on what: `waits: WaitAny(A, B)`) or
  terminated.
* A record's `released` names end waits: an arrow goes from the releasing step to each
  released thread, whose waiting span ends there. A note "woke X to re-check" (a
  wait-all waiter, a kernel APC) ends the wait too, with a dashed arrow. A clock
  `Timeout` ends a wait without an arrow: the thread gets a timeout marker.
* `changes` move the events' signal state; a change that is undone in the same step
  (a synchronization event set and consumed at once) is a *blip*.

The x axis is either the step number (`axis="steps"`, the default: one column per
trace record, so a 1 ms delay is as wide as a KeSetEvent) or virtual time
(`axis="time"`, 100 ns units).

The modules: `runview` (a run read the same way from a Machine, a file or records),
`notes` (what one record's op, result and note say), `model` (`build` and the model),
`queues` (wait queues at a moment), `textview` (`text`, the text timeline) and `svg`
with `svg_layout` (`svg_timeline`, the picture as SVG text, with no matplotlib).
"""
from __future__ import annotations

# The lane groups and PSEUDO_THREADS are public too (trace.py, tests), outside __all__.
from .model import (  # noqa: F401
                    DPC_GROUP,
                    EVENTS_GROUP,
                    OUTSIDE,
                    Arrow,
                    Lane,
                    Marker,
                    Span,
                    StateSegment,
                    TimelineModel,
                    build,
)
from .notes import call_text, op_kind, result_text, wait_objects
from .queues import WaitQueues, wait_queues, wait_queues_text
from .runview import PSEUDO_THREADS, ObjectInfo, RunView, ThreadInfo, view_of  # noqa: F401
from .svg import svg_timeline
from .textview import text

__all__ = ["Lane", "Span", "Arrow", "Marker", "StateSegment", "ThreadInfo", "ObjectInfo",
           "RunView", "TimelineModel", "WaitQueues", "build", "text", "view_of",
           "wait_queues", "wait_queues_text", "op_kind", "result_text", "call_text",
           "wait_objects", "svg_timeline"]
