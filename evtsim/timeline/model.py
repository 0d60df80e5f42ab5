"""The timeline model: lanes, spans, arrows, markers and event-state segments.

Built by `build` from a `RunView` (see `runview`) by following the engine's rules (the
package docstring says how): one lane per thread, pseudo-thread, DPC and event, each
thread's running / ready / waiting spans, an arrow from every step that released a
thread, markers for signals, timeouts, errors and bug checks, and each event's signal
state, all in x coordinates (steps or virtual time). Every picture reads this model.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..records import TraceRecord
from .notes import call_text, op_kind, result_text
from .runview import PSEUDO_THREADS, ObjectInfo, RunView, view_of

OUTSIDE = "outside the machine"
DPC_GROUP = "DPCs (any process)"
EVENTS_GROUP = "Events"


class Lane(NamedTuple):
    """One row of the picture: a thread (or pseudo-thread) or a dispatcher object."""
    name: str
    kind: str          # "thread", "instructor", "clock", "dpc" or "event"
    group: str         # process name, OUTSIDE, DPC_GROUP or EVENTS_GROUP
    mode: str | None   # "kernel" or "user" for threads; None for events
    label: str


class Span(NamedTuple):
    """A thread in one state from x0 to x1 ("running", "ready" or "waiting")."""
    lane: str
    x0: float
    x1: float
    kind: str
    label: str
    seq: int | None    # the record of a running span, or the one that began the wait


class Arrow(NamedTuple):
    """The step at `seq` (on lane `src`, at x0) ended the wait of `dst` (at x1)."""
    src: str
    dst: str
    x0: float
    x1: float
    kind: str          # "set", "pulse", "alert", "apc", "complete", "timer", "recheck", "other"
    op: str
    seq: int


class Marker(NamedTuple):
    """Something that happened at one moment on a lane."""
    lane: str
    x: float
    # "set", "pulse", "reset", "timeout", "alert", "apc", "call", "error", "bugcheck", "blip"
    kind: str
    label: str
    seq: int


class StateSegment(NamedTuple):
    """An event lane's signal state (0 or 1) from x0 to x1."""
    lane: str
    x0: float
    x1: float
    state: int


# --- the model -----------------------------------------------------------------------
class TimelineModel:
    """Lanes, spans, arrows, markers and event states of a run, in x coordinates."""

    def __init__(self):
        self.axis = "steps"
        self.lanes: list[Lane] = []
        self.groups: list[tuple[str, list[str]]] = []
        self.spans: list[Span] = []
        self.arrows: list[Arrow] = []
        self.markers: list[Marker] = []
        self.states: list[StateSegment] = []
        self.now = 0.0
        self.xlim = (0.0, 1.0)
        self.bugcheck = None
        self.title = None
        self.time = 0
        self.seq = 0               # the last record's seq: the current column
        self.step_time = 10

    def lane(self, name: str) -> Lane:
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(name)

    def spans_of(self, lane: str, kind: str | None = None) -> list[Span]:
        return [s for s in self.spans if s.lane == lane and (kind is None or s.kind == kind)]

    def __repr__(self) -> str:
        return (f"<TimelineModel {len(self.lanes)} lanes, {len(self.spans)} spans, "
                f"{len(self.arrows)} arrows, {len(self.markers)} markers>")


def build(source, threads=None, events=None, window=None, axis: str = "steps",
          pseudo: bool | None = None) -> TimelineModel:
    """The timeline model of a run.

    threads: thread names to show, in this order (default: all, grouped by process).
    events: event names to show (default all; `False` or `[]` for none).
    window: `(t0, t1)` in virtual time (100 ns units): the part to show.
    axis: "steps" (one column per trace record) or "time" (virtual time).
    pseudo: show the instructor and clock lanes (default: only when they released a
    thread or changed an object).
    """
    from ..errors import BadArgumentError
    if axis not in ("steps", "time"):
        raise BadArgumentError("axis is 'steps' (one column per trace record) or 'time'")
    threads = _names_option(threads, "threads", "waiter1")
    events = _names_option(events, "events", "DataReady")
    if pseudo not in (None, True, False):
        raise BadArgumentError("pseudo is True, False or None (show the instructor and "
                               "clock lanes only when they did something)")
    view = checked_view(source)
    rows = view.rows
    step = view.step_time
    model = TimelineModel()
    model.axis = axis
    model.bugcheck = view.bugcheck
    model.title = view.title
    model.time = view.time
    model.seq = rows[-1].seq if rows else 0
    model.step_time = step
    by_steps = axis == "steps"

    def bounds(index, row):
        if by_steps:
            return float(index), float(index + 1)
        time = row.time
        return float(time), float(time + (0 if row.kind in PSEUDO_THREADS else step))

    n = len(rows)
    end_x = float(n) if by_steps else float(max(view.time, rows[-1].time if rows else 0))

    def x_at_index(index, time):
        """The x where something that exists from record `index` (or `time`) starts."""
        if by_steps:
            return float(min(index, n))
        return float(time)

    # Lanes: known threads first (by process), pseudo and DPC lanes as they appear.
    info = {t.name: t for t in view.threads}
    lane_of: dict[str, Lane] = {}
    for t in view.threads:
        lane_of[t.name] = Lane(t.name, "thread", t.process, t.mode, t.name)
    state: dict[str, list | None] = {}    # name -> [kind, since_x, label, seq]
    for t in view.threads:
        start = x_at_index(t.created_seq, t.created_time)
        state[t.name] = ["ready", start, "ready", None]
    spans, arrows, markers = model.spans, model.arrows, model.markers
    pseudo_active = {"instructor": False, "clock": False}

    obj_state: dict[str, list] = {}   # name -> [state, since_x]
    obj_info = {o.name: o for o in view.objects}
    for o in view.objects:
        created = o.created_seq
        if by_steps:
            start = float(min(created, n))
        else:
            start = float(rows[created].time) if created < n else end_x
        obj_state[o.name] = [o.created_state, start]
    states = model.states

    def close(name, x):
        current = state.get(name)
        if current is None:
            return
        kind, since, label, seq = current
        if x > since:
            spans.append(Span(name, since, x, kind, label, seq))

    for index, row in enumerate(rows):
        seq, thread, process, op, args, result = (row.seq, row.thread, row.process, row.op,
                                                  row.args, row.result)
        released, after, changes = row.released, row.state, row.changes
        x0, x1 = bounds(index, row)
        kind = op_kind(op)
        if row.kind in PSEUDO_THREADS:
            if released or changes:
                if thread == "instructor" or op != "Timeout":
                    pseudo_active[thread] = True
            if thread not in lane_of:
                lane_of[thread] = Lane(thread, thread, OUTSIDE, "kernel",
                                       "notebook (m.kernel)" if thread == "instructor"
                                       else "clock")
            if thread == "instructor":
                markers.append(Marker(thread, x0, "call", call_text(op, args), seq))
            elif op != "Timeout":
                markers.append(Marker(thread, x0, "timer", call_text(op, args), seq))
            src_x = x0
        else:
            if thread not in lane_of:
                is_dpc = row.kind == "dpc"
                lane_of[thread] = Lane(thread, "dpc" if is_dpc else "thread",
                                       DPC_GROUP if is_dpc else process, "kernel", thread)
                state[thread] = ["ready", x0, "ready", None]
            close(thread, x0)
            waited = row.wait_label
            if row.resumed == "wait" and row.enters is None:
                label = f"{op} -> {result_text(op, result)}"
            else:
                label = op
            spans.append(Span(thread, x0, x1, "running", label, seq))
            if after == "waiting":
                state[thread] = ["waiting", x1, waited or op, seq]
            elif after == "terminated" or after is None:
                state[thread] = None
            else:
                state[thread] = ["ready", x1, "ready", seq]
            if kind in ("set", "pulse", "reset", "alert", "apc"):
                markers.append(Marker(thread, (x0 + x1) / 2, kind, call_text(op, args), seq))
            if isinstance(result, str) and result.endswith("Error"):
                markers.append(Marker(thread, (x0 + x1) / 2, "error",
                                      f"{result}: {row.note or ''}", seq))
            src_x = (x0 + x1) / 2
        if result == "bug check":
            markers.append(Marker(thread, (x0 + x1) / 2, "bugcheck", "bug check", seq))
        for name in released:
            close(name, x1)
            if name not in state and name not in info:
                continue
            state[name] = ["ready", x1, "ready", seq]
            if op == "Timeout":
                markers.append(Marker(name, x1, "timeout",
                                      f"timeout -> {result_text(op, result)}", seq))
            else:
                arrows.append(Arrow(thread, name, src_x, x1, kind, op, seq))
        for name in row.rechecked:
            if name in state and state[name] is not None:
                close(name, x1)
                state[name] = ["ready", x1, "ready", seq]
                arrows.append(Arrow(thread, name, src_x, x1, "recheck", op, seq))
        if changes:
            first: dict[str, int] = {}
            for name, old, new in changes:
                first.setdefault(name, old)
                current = obj_state.get(name)
                if current is None:        # an object the metadata does not list
                    obj_state[name] = current = [old, x0]
                    obj_info[name] = ObjectInfo(name, "KEVENT", 0, old, index)
                current.append(new)
            for name in first:
                current = obj_state[name]
                final = current[-1]
                del current[2:]
                if final != current[0]:
                    if x1 > current[1]:
                        states.append(StateSegment(name, current[1], x1, current[0]))
                    current[0], current[1] = final, x1
                else:
                    markers.append(Marker(name, x1, "blip",
                                          f"{op}: signaled and consumed at once", seq))
    for name in list(state):
        close(name, end_x)
    for name, (value, since, *_rest) in obj_state.items():
        if end_x > since:
            states.append(StateSegment(name, since, end_x, value))

    # Which lanes, in which order.
    show_pseudo = pseudo
    wanted = list(threads) if threads is not None else None
    thread_lanes = []
    if wanted is not None:
        for name in wanted:
            if name not in lane_of:
                raise BadArgumentError(f"no thread named {name!r} in this run; it has "
                                       f"{', '.join(lane_of) or 'none'}")
            thread_lanes.append(lane_of[name])
    else:
        for lane in lane_of.values():
            if lane.kind in PSEUDO_THREADS:
                if show_pseudo is False or (show_pseudo is None
                                            and not pseudo_active[lane.kind]):
                    continue
            thread_lanes.append(lane)
    group_order = [OUTSIDE] + list(view.processes) + [DPC_GROUP]
    for lane in thread_lanes:
        if lane.group not in group_order:
            group_order.append(lane.group)
    if wanted is None:
        thread_lanes.sort(key=lambda lane: group_order.index(lane.group))
    groups: list[tuple[str, list[str]]] = []
    for lane in thread_lanes:
        if not groups or groups[-1][0] != lane.group:
            groups.append((lane.group, []))
        groups[-1][1].append(lane.name)
    if events is None:
        event_names = list(obj_info)
    elif events is False:
        event_names = []
    else:
        event_names = list(events)
        for name in event_names:
            if name not in obj_info:
                raise BadArgumentError(f"no event named {name!r} in this run; it has "
                                       f"{', '.join(obj_info) or 'none'}")
    event_lanes = []
    for name in event_names:
        o = obj_info[name]
        if o.kind == "KTIMER":
            what = "timer"
        else:
            what = "synchronization" if o.type == 1 else "notification"
        event_lanes.append(Lane(name, "event", EVENTS_GROUP, None, f"{name} ({what})"))
    if event_lanes:
        groups.append((EVENTS_GROUP, event_names))
    model.lanes = thread_lanes + event_lanes
    model.groups = groups
    shown = {lane.name for lane in model.lanes}
    model.spans = [s for s in spans if s.lane in shown]
    model.states = [s for s in states if s.lane in shown]
    model.markers = [mk for mk in markers if mk.lane in shown]
    model.arrows = [a for a in arrows if a.dst in shown and a.src in shown]
    # Arrows whose source is hidden still tell the released thread why it woke.
    for a in arrows:
        if a.dst in shown and a.src not in shown:
            model.markers.append(Marker(a.dst, a.x1, "woken", f"{a.op} by {a.src}", a.seq))
    model.now = end_x
    model.xlim = _xlim(rows, window, by_steps, end_x, step)
    return model


def checked_view(source) -> RunView:
    """The RunView of `source`, or a clear BadArgumentError when it is not a run.

    A run is a Machine, a trace file loaded with `evtsim.trace.load`, a RunView or a
    list of trace records (`m.trace`). Anything else (a name, a number) would fail deep
    inside with a TypeError, so it is refused here, at once.
    """
    from ..errors import BadArgumentError
    if isinstance(source, RunView) or hasattr(source, "run_view") or (
            hasattr(source, "dispatcher_objects") and hasattr(source, "trace")):
        return view_of(source)
    if isinstance(source, Sequence) and not isinstance(source, (str, bytes)) and all(
            isinstance(r, TraceRecord) or (isinstance(r, (tuple, list)) and len(r) >= 11
                                           and isinstance(r[0], int))
            for r in source):
        try:
            return view_of(source)
        except (TypeError, ValueError, AttributeError, IndexError):
            pass
    shown = repr(source)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    raise BadArgumentError(
        f"a timeline draws a run: a Machine (m), a trace loaded with evtsim.trace.load, "
        f"or m.trace; {shown} (a {type(source).__name__}) is none of these")


def _names_option(option, what: str, example: str):
    """`threads` / `events`: None, a list of names (or False for no events)."""
    from ..errors import BadArgumentError
    if option is None or (option is False and what == "events"):
        return option
    if isinstance(option, (list, tuple)) and all(isinstance(n, str) for n in option):
        return option
    extra = ", or False for none" if what == "events" else ""
    raise BadArgumentError(f"{what} is a list of names, for example [{example!r}]{extra}; "
                           f"not {option!r}")


def _xlim(rows, window, by_steps, end_x, step):
    from ..errors import BadArgumentError
    if window is None:
        return (0.0, max(end_x, 1.0))
    try:
        t0, t1 = window
        t0, t1 = float(t0), float(t1)
    except (TypeError, ValueError):
        raise BadArgumentError("window is a pair (t0, t1) of virtual times in 100 ns "
                               "units") from None
    if t1 <= t0:
        raise BadArgumentError(f"window ({t0:g}, {t1:g}) is empty: t1 must be after t0")
    if not by_steps:
        return (t0, t1)
    first = next((i for i, r in enumerate(rows) if r.time >= t0), len(rows))
    last = next((i for i in range(len(rows) - 1, -1, -1) if rows[i].time <= t1), -1)
    return (float(first), float(max(last + 1, first + 1)))
