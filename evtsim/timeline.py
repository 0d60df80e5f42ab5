"""The timeline as data: lanes, spans, arrows, markers and event-state segments.

Built from a trace (a live `Machine`, a trace file loaded with `evtsim.trace.load`, or
a bare list of records) and shared by every view of a run: the matplotlib picture
(`evtsim.plot`), the text rendering (`text`, the accessible equivalent the lessons print
next to the picture) and the Chrome/Perfetto export (`evtsim.trace.to_perfetto`).
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
"""
from __future__ import annotations

from typing import NamedTuple

from .status import name_of
from .trace import describe

PSEUDO_THREADS = ("instructor", "clock")
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
    kind: str          # "set", "pulse", "reset", "timeout", "alert", "apc", "call", "error", "bugcheck", "blip"
    label: str
    seq: int


class StateSegment(NamedTuple):
    """An event lane's signal state (0 or 1) from x0 to x1."""
    lane: str
    x0: float
    x1: float
    state: int


class ThreadInfo(NamedTuple):
    name: str
    process: str
    mode: str          # "kernel" or "user"
    created_time: int
    created_seq: int
    state: str | None = None


class ObjectInfo(NamedTuple):
    name: str
    kind: str          # "KEVENT", "KTIMER"
    type: int          # 0 notification, 1 synchronization
    created_state: int
    created_seq: int
    state: int | None = None
    path: str | None = None


class RunView:
    """What every view needs from a run, read the same way from a Machine or a file."""

    def __init__(self, rows, threads, objects, processes, step_time=10, time=None,
                 bugcheck=None, title=None):
        self.rows = rows                    # trace tuples, TraceRecord field order
        self.threads = threads              # [ThreadInfo]
        self.objects = objects              # [ObjectInfo]
        self.processes = processes          # process names in creation order
        self.step_time = step_time
        self.time = time if time is not None else (rows[-1][1] if rows else 0)
        self.bugcheck = bugcheck            # dict: code, name, rule, thread, seq, time ...
        self.title = title


def view_of(source) -> RunView:
    """A RunView of a Machine, a loaded trace file, a RunView, or a list of records."""
    if isinstance(source, RunView):
        return source
    if hasattr(source, "dispatcher_objects") and hasattr(source, "trace"):
        return _view_of_machine(source)
    if hasattr(source, "run_view"):
        return source.run_view()
    return _view_of_records(source)


def _mode(thread) -> str:
    return "user" if thread.mode == 1 else "kernel"


def _view_of_machine(m) -> RunView:
    threads = [ThreadInfo(t.name, t.process.name, _mode(t), t.created_time, t.created_seq,
                          t.state) for t in m.threads]
    objects = [ObjectInfo(o.name, o.kind, o.Type, o.created_state, o.created_seq,
                          o.SignalState, o.header.path if o.header is not None else None)
               for o in m.dispatcher_objects]
    bugcheck = None
    if m.bugcheck is not None:
        b = m.bugcheck
        bugcheck = {"code": b.code, "name": b.name, "rule": b.rule, "thread": b.thread,
                    "process": b.process, "line": b.line, "time": b.time, "seq": b.seq,
                    "explanation": b.explanation}
    title = None
    if m.scenario is not None:
        title = m.scenario[0]
    return RunView(m.trace._rows, threads, objects, [p.name for p in m.processes],
                   m.step_time, m.time, bugcheck, title)


def _view_of_records(records) -> RunView:
    """Best effort for a bare list of records: threads and events inferred."""
    rows = [r.row() if hasattr(r, "row") else tuple(r) for r in records]
    threads, seen, processes, objects, known = [], set(), [], [], set()
    for index, row in enumerate(rows):
        thread, process = row[2], row[3]
        if process not in processes:
            processes.append(process)
        if thread not in seen and thread not in PSEUDO_THREADS and not thread.startswith("DPC:"):
            seen.add(thread)
            threads.append(ThreadInfo(thread, process, "kernel", row[1], index))
        for name, old, _new in row[10]:
            if name not in known:
                known.add(name)
                objects.append(ObjectInfo(name, "KEVENT", 0, old, index))
    return RunView(rows, threads, objects, processes)


# --- classifying ops -----------------------------------------------------------------
def op_kind(op: str) -> str:
    """What kind of thing an op does, for arrows and markers."""
    if "Pulse" in op:
        return "pulse"
    if op in ("KeSetEvent", "SetEvent", "ZwSetEvent", "NtSetEvent", "SignalObjectAndWait"):
        return "set"
    if op in ("KeResetEvent", "KeClearEvent", "ResetEvent", "ZwResetEvent", "ZwClearEvent"):
        return "reset"
    if "Alert" in op:
        return "alert"
    if "Apc" in op or "APC" in op:
        return "apc"
    if op == "IoCompleteRequest":
        return "complete"
    if op == "TimerExpired":
        return "timer"
    if op == "Timeout":
        return "timeout"
    return "other"


def _is_wait_op(op: str) -> bool:
    return "Wait" in op or "Delay" in op or "Sleep" in op


def result_text(op: str, result) -> str:
    """The result in words: NTSTATUS / WAIT_* names for waits and Zw calls."""
    if result is None:
        return "None"
    if isinstance(result, bool):
        return str(result)
    if isinstance(result, int):
        if op == "Timeout" or op.startswith(("Ke", "Zw", "Nt")) and _is_wait_op(op):
            return name_of(result, "status")
        if _is_wait_op(op):
            return name_of(result, "wait")
        if op.startswith(("Zw", "Nt")):
            return name_of(result, "status")
        return _short(result)
    if isinstance(result, (list, tuple)) and result and isinstance(result[0], int) \
            and not isinstance(result[0], bool) and op.startswith(("Zw", "Nt", "Ob")):
        return "(" + ", ".join([name_of(result[0], "status")]
                               + [_short(v) for v in result[1:]]) + ")"
    return _short(result)


def _short(value) -> str:
    value = describe(value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"0x{value:X}" if value > 0xFFFF else str(value)
    if isinstance(value, list):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return str(value)


def call_text(op: str, args, limit: int = 48) -> str:
    """`KeSetEvent(DataReady, 0, False)`, shortened to `limit` characters."""
    inner = ", ".join(_short(a) for a in (args or ()))
    if len(inner) > limit:
        inner = inner[:limit - 3] + "..."
    return f"{op}({inner})"


def waits_on(note) -> str | None:
    """`Wait(Go)` from a blocking record's note `waits: Wait(Go)` (None otherwise)."""
    if not note or not note.startswith("waits: "):
        return None
    text = note[7:]
    cut = text.find("; woke ")
    return text if cut < 0 else text[:cut]


def rechecked(note) -> list[str]:
    """Thread names in a note's `woke A, B to re-check`."""
    if not note:
        return []
    start = note.find("woke ")
    if start < 0:
        return []
    end = note.find(" to re-check", start)
    if end < 0:
        return []
    return [n for n in note[start + 5:end].split(", ") if n]


def wait_objects(description: str) -> tuple[list[str], bool]:
    """(`[EvA, EvB]`, wait_all) from `WaitAll(EvA, EvB)`; `Delay` waits on nothing."""
    if "(" not in description:
        return [], False
    head, _, rest = description.partition("(")
    return [n for n in rest.rstrip(")").split(", ") if n], head == "WaitAll"


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
    from .errors import BadArgumentError
    if axis not in ("steps", "time"):
        raise BadArgumentError("axis is 'steps' (one column per trace record) or 'time'")
    view = view_of(source)
    rows = view.rows
    step = view.step_time
    model = TimelineModel()
    model.axis = axis
    model.bugcheck = view.bugcheck
    model.title = view.title
    model.time = view.time
    model.step_time = step
    by_steps = axis == "steps"

    def bounds(index, row):
        if by_steps:
            return float(index), float(index + 1)
        time = row[1]
        thread = row[2]
        return float(time), float(time + (0 if thread in PSEUDO_THREADS else step))

    n = len(rows)
    end_x = float(n) if by_steps else float(max(view.time, rows[-1][1] if rows else 0))

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
    state: dict[str, list] = {}       # name -> [kind, since_x, label, seq]
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
            start = float(rows[created][1]) if created < n else end_x
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
        seq, time, thread, process, op, args, result, released, after, _line, changes, note = row
        x0, x1 = bounds(index, row)
        kind = op_kind(op)
        if thread in PSEUDO_THREADS:
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
                is_dpc = thread.startswith("DPC:")
                lane_of[thread] = Lane(thread, "dpc" if is_dpc else "thread",
                                       DPC_GROUP if is_dpc else process, "kernel", thread)
                state[thread] = ["ready", x0, "ready", None]
            close(thread, x0)
            waited = waits_on(note)
            if note and note.startswith("returns from its wait"):
                label = f"{op} -> {result_text(op, result)}"
            else:
                label = op
            spans.append(Span(thread, x0, x1, "running", label, seq))
            if after == "waiting":
                state[thread] = ["waiting", x1, waited or op, seq]
            elif after == "terminated" or after is None:
                state[thread] = None
                if thread.startswith("DPC:"):
                    pass
            else:
                state[thread] = ["ready", x1, "ready", seq]
            if kind in ("set", "pulse", "reset", "alert", "apc"):
                markers.append(Marker(thread, (x0 + x1) / 2, kind, call_text(op, args), seq))
            if isinstance(result, str) and result.endswith("Error"):
                markers.append(Marker(thread, (x0 + x1) / 2, "error",
                                      f"{result}: {note or ''}", seq))
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
        for name in rechecked(note):
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
            for name, old in first.items():
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


def _xlim(rows, window, by_steps, end_x, step):
    from .errors import BadArgumentError
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
    first = next((i for i, r in enumerate(rows) if r[1] >= t0), len(rows))
    last = next((i for i in range(len(rows) - 1, -1, -1) if rows[i][1] <= t1), -1)
    return (float(first), float(max(last + 1, first + 1)))


# --- wait queues at a moment ---------------------------------------------------------
class WaitQueues(NamedTuple):
    """Each object's state and FIFO waiters, and each waiting thread's wait."""
    at_seq: int
    objects: list          # [(name, type_label, state, [(thread, wait_all), ...])]
    waiting: dict          # thread -> description (`WaitAny(A, B)`, `Delay`)


def wait_queues(source, at: int | None = None) -> WaitQueues:
    """Wait queues after record `at` (a seq; default the end of the trace).

    For a live machine at its current moment the engine's own lists are used; any
    other moment is rebuilt from the trace (waiters join at the tail of each object's
    list when they block and leave when released).
    """
    if at is None and hasattr(source, "dispatcher_objects"):
        objects = []
        for o in source.dispatcher_objects:
            waiters = [(wb.thread.name, wb.wait_type == 0) for wb in o.wait_list]
            objects.append((o.name, _type_label(o.kind, o.Type), o.SignalState, waiters))
        waiting = {t.name: t.wait.describe() for t in source.threads
                   if t.state == "waiting" and t.wait is not None}
        return WaitQueues(source.seq, objects, waiting)
    view = view_of(source)
    info = {o.name: o for o in view.objects}
    signal = {o.name: o.created_state for o in view.objects}
    queues: dict[str, list] = {o.name: [] for o in view.objects}
    waiting: dict[str, str] = {}
    last = 0
    for row in view.rows:
        seq = row[0]
        if at is not None and seq > at:
            break
        last = seq
        thread, released, after, changes, note = row[2], row[7], row[8], row[10], row[11]
        ended = list(released) + rechecked(note)
        for name in ended:
            waiting.pop(name, None)
            for queue in queues.values():
                queue[:] = [w for w in queue if w[0] != name]
        if after == "waiting":
            desc = waits_on(note) or "?"
            waiting[thread] = desc
            names, wait_all = wait_objects(desc)
            for obj in names:
                queues.setdefault(obj, []).append((thread, wait_all))
        for name, _old, new in changes:
            signal[name] = new
    objects = []
    for name, waiters in queues.items():
        o = info.get(name)
        label = _type_label(o.kind, o.type) if o else "event"
        objects.append((name, label, signal.get(name, 0), waiters))
    return WaitQueues(last, objects, waiting)


def _type_label(kind: str, type_: int) -> str:
    if kind == "KTIMER":
        return "synchronization timer" if type_ == 1 else "notification timer"
    return "synchronization event" if type_ == 1 else "notification event"


def wait_queues_text(source, at: int | None = None) -> str:
    q = wait_queues(source, at)
    lines = [f"Wait queues after step {q.at_seq}:"]
    if not q.objects:
        lines.append("  (no dispatcher objects)")
    for name, label, signaled, waiters in q.objects:
        who = ", ".join(f"{t}{' (wait-all)' if all_ else ''}" for t, all_ in waiters)
        lines.append(f"  {name} ({label}, {'signaled' if signaled else 'not signaled'}): "
                     f"{'waiters, head first: ' + who if waiters else 'no waiters'}")
    if q.waiting:
        lines.append("Waiting threads:")
        for thread, desc in q.waiting.items():
            lines.append(f"  {thread} waits on {desc}")
    return "\n".join(lines)


# --- the text rendering --------------------------------------------------------------
def text(source, threads=None, events=None, window=None, last: int | None = None,
         width: int | None = None) -> str:
    """The timeline as text: one line per step, one aligned column per thread.

    Each thread's column says what it is doing after the step: `RUN` for the thread
    that took the step, `wait`, `ready`, `woken` (released by this step), `ended`, or
    blank before it exists. Each event's column shows its state, `0->1` when the step
    changed it, `0->1->0` for a set consumed at once. The last column says what
    happened in words. `last=N` shows only the last N steps.
    """
    from .errors import BadArgumentError
    view = view_of(source)
    rows = view.rows
    names = [t.name for t in view.threads]
    if threads is not None:
        for name in threads:
            if name not in names and name not in PSEUDO_THREADS:
                raise BadArgumentError(f"no thread named {name!r} in this run")
        names = list(threads)
    objects = [o.name for o in view.objects]
    if events is False:
        objects = []
    elif events is not None:
        for name in events:
            if name not in objects:
                raise BadArgumentError(f"no event named {name!r} in this run")
        objects = list(events)
    created = {t.name: t.created_seq for t in view.threads}
    created_obj = {o.name: o.created_seq for o in view.objects}
    obj_value = {o.name: o.created_state for o in view.objects}
    status = {name: "" for name in names}
    widths = [max(8, len(name)) for name in names]
    ewidths = [max(7, len(name)) for name in objects]
    head = (f"{'step':>5} {'time(us)':>9} | " + "  ".join(
        f"{name:<{w}}" for name, w in zip(names, widths)) + " | "
            + ("  ".join(f"{name:<{w}}" for name, w in zip(objects, ewidths)) + " | "
               if objects else "") + "what happened")
    lines = []
    t0, t1 = window if window is not None else (None, None)
    for index, row in enumerate(rows):
        seq, time, thread, process, op, args, result, released, after, line, changes, note = row
        for name in names:
            if status[name] == "" and created.get(name, 0) <= index:
                status[name] = "ready"
            if status[name] in ("RUN", "woken"):
                status[name] = "ready"
        if thread in status:
            status[thread] = {"waiting": "wait", "terminated": "ended"}.get(after, "RUN")
            if after == "ready" or after == "running":
                status[thread] = "RUN"
        woken = list(released) + rechecked(note)
        for name in woken:
            if name in status:
                status[name] = "woken"
        cells = []
        for name, w in zip(names, widths):
            cell = status[name]
            if name == thread and cell == "wait":
                cell = "RUN>wait"
            elif name == thread and cell == "ended":
                cell = "RUN>end"
            cells.append(f"{cell:<{w}}")
        ecells = []
        moved: dict[str, list] = {}
        for name, old, new in changes:
            moved.setdefault(name, [old]).append(new)
        for name, w in zip(objects, ewidths):
            if name in moved:
                path = moved[name]
                obj_value[name] = path[-1]
                cell = "->".join(str(v) for v in path)
            elif created_obj.get(name, 0) > index:
                cell = ""
            else:
                cell = str(obj_value.get(name, 0))
            ecells.append(f"{cell:<{w}}")
        if t0 is not None and not (t0 <= time <= t1):
            continue
        what = _what_happened(row)
        lines.append(f"{seq:>5} {time / 10:>9.1f} | " + "  ".join(cells) + " | "
                     + ("  ".join(ecells) + " | " if objects else "") + what)
    if last is not None:
        lines = lines[-last:]
    text_lines = [head, "-" * min(len(head), 160)] + lines
    if view.bugcheck:
        b = view.bugcheck
        text_lines.append(f"BUG CHECK 0x{b['code']:X} ({b['name']}) in {b['thread']} at step "
                          f"{b['seq']}: {b['rule']}")
    if width:
        text_lines = [ln[:width] for ln in text_lines]
    return "\n".join(text_lines)


def _what_happened(row) -> str:
    seq, time, thread, process, op, args, result, released, after, line, changes, note = row
    if op == "Timeout":
        return f"clock: the wait of {describe(args[0]) if args else '?'} timed out"
    if note and note.startswith(("returns from its wait", "returns from the driver")):
        text = f"{thread} returns from {op} -> {result_text(op, result)}"
    else:
        text = f"{thread}: {call_text(op, args)}"
        waited = waits_on(note)
        if note and note.startswith("calls "):
            text += f" enters {note[len('calls '):].split(';')[0]}"
            if waited:
                text += f"; the driver pended it: waits on {waited}"
        elif waited:
            text += f" blocks: waits on {waited}"
        elif result == "bug check":
            text += " -> BUG CHECK"
        elif isinstance(result, str) and result.endswith("Error"):
            text += f" raised {result}: {note}"
            note = None
        elif after != "waiting":
            text += f" -> {result_text(op, result)}"
    if released:
        text += f"; releases {', '.join(released)}"
    again = rechecked(note)
    if again:
        text += f"; wakes {', '.join(again)} to re-check"
    moved: dict[str, list] = {}
    for name, old, new in changes:
        moved.setdefault(name, [old]).append(new)
    for name, path in moved.items():
        text += f"; {name} " + "->".join(str(v) for v in path)
    if line:
        text += f"  [line {line}]"
    return text


__all__ = ["Lane", "Span", "Arrow", "Marker", "StateSegment", "ThreadInfo", "ObjectInfo",
           "RunView", "TimelineModel", "WaitQueues", "build", "text", "view_of",
           "wait_queues", "wait_queues_text", "op_kind", "result_text", "call_text",
           "waits_on", "rechecked", "wait_objects"]
