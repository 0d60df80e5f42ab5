"""The timeline with the state now: one more column, right of the cursor.

`evtsim.timeline.build` ends every span and every event state at `now`, the end of
the last record. The state a thread or an event is in *after* that record starts at
`now`, so it has no width and is drawn nowhere: the picture showed each click's
effect only after the next click (the lab's "one click behind": after Set the badge
said SIGNALED while the event's lane was still drawn low). `timeline_now(m)` adds
that state as a column from `now` to `now + 1` step: each thread as it is now (ready,
or waiting on what) and each event's signal state now, read from the machine. It also
keeps the instructor's lane on the picture from the start (the lab's buttons act
there), so the first Set does not change the picture's layout.
"""
from __future__ import annotations

from typing import Any

from .. import timeline as tl

__all__ = ["timeline_now", "add_now_column", "column_width", "INSTRUCTOR_LABEL"]

INSTRUCTOR_LABEL = "notebook (m.kernel)"       # as evtsim.timeline names the lane


def column_width(model) -> float:
    """One step on the steps axis; on the time axis a step, or 4 % of the picture."""
    if model.axis == "steps":
        return 1.0
    x0, x1 = model.xlim
    return max(float(model.step_time), (x1 - x0) * 0.04, 1.0)


def _add_instructor_lane(model) -> None:
    if any(lane.name == "instructor" for lane in model.lanes):
        return
    lane = tl.Lane("instructor", "instructor", tl.OUTSIDE, "kernel", INSTRUCTOR_LABEL)
    model.lanes.insert(0, lane)
    if model.groups and model.groups[0][0] == tl.OUTSIDE:
        model.groups[0][1].insert(0, "instructor")
    else:
        model.groups.insert(0, (tl.OUTSIDE, ["instructor"]))


def add_now_column(model: tl.TimelineModel, m: Any,
                   instructor: bool = True) -> tl.TimelineModel:
    """Add the state after the last record, from `now` to `now + column_width`.

    A lane that already has something drawn after `now` is left as it is, so this is
    harmless on a model that shows the state now by itself.
    """
    if instructor:
        _add_instructor_lane(model)
    now = model.now
    end = now + column_width(model)
    lanes = {lane.name for lane in model.lanes}
    drawn = {s.lane for s in model.spans if s.x1 > now}
    drawn |= {s.lane for s in model.states if s.x1 > now}
    last_wait = {s.lane: s.seq for s in model.spans if s.kind == "waiting"}
    for t in m.threads:
        if t.name not in lanes or t.name in drawn or t.state == "terminated":
            continue
        if t.state == "waiting" and t.wait is not None:
            model.spans.append(tl.Span(t.name, now, end, "waiting", t.wait.describe(),
                                       last_wait.get(t.name)))
        else:
            model.spans.append(tl.Span(t.name, now, end, "ready", "ready", None))
    for obj in m.dispatcher_objects:
        if obj.name in lanes and obj.name not in drawn:
            model.states.append(tl.StateSegment(obj.name, now, end,
                                                1 if obj.SignalState else 0))
    x0, x1 = model.xlim
    model.xlim = (x0, max(x1, end))
    return model


def timeline_now(m: Any, **options: Any) -> tl.TimelineModel:
    """`evtsim.timeline.build(m, **options)` with the state now as its last column."""
    instructor = options.get("threads") is None and options.get("pseudo") is not False
    return add_now_column(tl.build(m, **options), m, instructor=instructor)
