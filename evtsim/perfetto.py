"""Export a run as Chrome / Perfetto trace-event JSON (open it in ui.perfetto.dev).

Built from the timeline model (evtsim.timeline) of a machine or a loaded trace file:
each process is a Perfetto process and each thread a track; running spans are complete
events carrying the step's record, waits are async slices on an Events track, an
event's signaled state is a counter, and a flow goes from every signal to each thread
it released. The format is Google's Trace Event Format (JSON object form).
"""
from __future__ import annotations

from .records import describe
from .timeline import DPC_GROUP, EVENTS_GROUP, OUTSIDE, build, view_of, wait_objects
from .version import __version__


def to_perfetto(machine_or_trace) -> dict:
    """The run in the Chrome Trace Event Format (JSON), which Perfetto and
    chrome://tracing open.

    Processes and threads are named with "M" metadata events. Each step is an "X"
    slice on its thread; waiting and ready time are "X" slices too (cat "waiting",
    "ready"). A thread on an event's wait list is also an async slice ("b"/"e") on the
    Events process, so overlapping waits on one event show side by side. Each
    Set/Pulse/Reset is an "i" instant with the event's state before and after; each
    event's signaled state is a "C" counter; a flow ("s" then "f", same id) goes from
    every signal to each thread it released. Timestamps are microseconds (10 units
    of virtual time).
    """
    view = view_of(machine_or_trace)
    model = build(view, axis="time", pseudo=True)
    by_seq = {row.seq: row for row in view.rows}
    pids = {}
    meta_pids = getattr(machine_or_trace, "processes", None) or []
    for p in meta_pids:
        name = p["name"] if isinstance(p, dict) else p.name
        pid = p["pid"] if isinstance(p, dict) else p.pid
        pids[name] = pid
    special = {OUTSIDE: 1, DPC_GROUP: 2, EVENTS_GROUP: 3}
    next_pid = max([8, *pids.values()]) + 4

    def pid_of(group):
        nonlocal next_pid
        if group in special:
            return special[group]
        if group not in pids:
            pids[group] = next_pid
            next_pid += 4
        return pids[group]

    def us(x):
        return x / 10

    events = []
    tids = {}
    for index, lane in enumerate(model.lanes):
        tids[lane.name] = 100 + index
    used_groups = []
    for lane in model.lanes:
        if lane.kind == "event":
            continue
        if lane.group not in used_groups:
            used_groups.append(lane.group)
    used_groups.append(EVENTS_GROUP)
    for order, group in enumerate(used_groups):
        pid = pid_of(group)
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": group}})
        events.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0,
                       "args": {"sort_index": order}})
    for order, lane in enumerate(model.lanes):
        if lane.kind == "event":
            continue
        pid, tid = pid_of(lane.group), tids[lane.name]
        label = lane.label if lane.mode is None else f"{lane.label} ({lane.mode} mode)"
        events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                       "args": {"name": label}})
        events.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid,
                       "args": {"sort_index": order}})
    lane_of = {lane.name: lane for lane in model.lanes}
    for span in model.spans:
        lane = lane_of[span.lane]
        pid, tid = pid_of(lane.group), tids[span.lane]
        event = {"ph": "X", "ts": us(span.x0), "dur": us(span.x1 - span.x0), "pid": pid,
                 "tid": tid, "cat": span.kind}
        if span.kind == "running":
            row = by_seq.get(span.seq)
            event["name"] = span.label
            if row is not None:
                event["args"] = {"seq": row.seq, "args": describe(row.args),
                                 "result": describe(row.result), "line": row.line,
                                 "note": row.note}
        elif span.kind == "waiting":
            event["name"] = f"waits: {span.label}"
        else:
            event["name"] = "ready"
        events.append(event)
    # Waits as async slices on the Events process, one per (wait, object).
    events_pid = pid_of(EVENTS_GROUP)
    async_id = 0
    for span in model.spans:
        if span.kind != "waiting":
            continue
        names, wait_all = wait_objects(span.label)
        for obj in names:
            async_id += 1
            common = {"cat": "wait", "name": f"{obj} wait list", "id": f"0x{async_id:x}",
                      "pid": events_pid, "tid": 0}
            events.append({**common, "ph": "b", "ts": us(span.x0),
                           "args": {"thread": span.lane, "wait": span.label,
                                    "wait_all": wait_all}})
            events.append({**common, "ph": "e", "ts": us(span.x1)})
    # Instants with before/after state; timeouts, errors, bug checks.
    for marker in model.markers:
        lane = lane_of[marker.lane]
        if lane.kind == "event":
            continue
        pid, tid = pid_of(lane.group), tids[marker.lane]
        event = {"ph": "i", "s": "t", "ts": us(marker.x), "pid": pid, "tid": tid,
                 "cat": marker.kind, "name": marker.label}
        row = by_seq.get(marker.seq)
        if marker.kind in ("set", "pulse", "reset") and row is not None:
            states: dict[str, dict[str, int]] = {}
            for name, old, new in row.changes:
                states.setdefault(name, {"before": old})["after"] = new
            if not states:
                for obj in row.args if isinstance(row.args, (list, tuple)) else ():
                    obj = describe(obj)
                    if isinstance(obj, str):
                        states[obj] = {"unchanged": True}
            event["args"] = {"events": states, "released": list(row.released)}
        if marker.kind == "bugcheck":
            event["s"] = "g"
            if view.bugcheck:
                b = view.bugcheck
                event["name"] = f"BUG CHECK 0x{b['code']:X} {b['name']}"
                event["args"] = {"rule": b["rule"], "explanation": b.get("explanation")}
        events.append(event)
    # Counters: the signaled state of each event.
    for seg in model.states:
        events.append({"ph": "C", "name": seg.lane, "pid": events_pid, "tid": 0,
                       "ts": us(seg.x0), "args": {"signaled": seg.state}})
    for marker in model.markers:
        if marker.kind == "blip":
            events.append({"ph": "C", "name": marker.lane, "pid": events_pid, "tid": 0,
                           "ts": us(marker.x - model.step_time), "args": {"signaled": 1}})
            events.append({"ph": "C", "name": marker.lane, "pid": events_pid, "tid": 0,
                           "ts": us(marker.x), "args": {"signaled": 0}})
    # Flows: from each releasing step to each thread it released.
    flow_id = 0
    for arrow in model.arrows:
        flow_id += 1
        src, dst = lane_of[arrow.src], lane_of[arrow.dst]
        name = f"{arrow.op} releases {arrow.dst}"
        events.append({"ph": "s", "id": flow_id, "cat": f"release.{arrow.kind}",
                       "name": name, "pid": pid_of(src.group), "tid": tids[arrow.src],
                       "ts": us(arrow.x0)})
        events.append({"ph": "f", "bp": "e", "id": flow_id, "cat": f"release.{arrow.kind}",
                       "name": name, "pid": pid_of(dst.group), "tid": tids[arrow.dst],
                       "ts": us(arrow.x1)})
    other = {"evtsim": __version__, "title": view.title}
    for key in ("policy", "seed"):
        value = getattr(machine_or_trace, key, None)
        other[key] = getattr(value, "name", value)
    return {"traceEvents": events, "displayTimeUnit": "ns", "otherData": other}


__all__ = ["to_perfetto"]
