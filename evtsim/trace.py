"""Trace records: one per step, the raw material of every view.

A record says who ran (`thread`, `process`), what it called (`op`, `args`), what came
back (`result`), which threads the call released (`released`), the thread's state after
the step, the learner's source line, and which objects changed signal state. Values are
kept as Python objects for speed; `to_dict` turns them into plain JSON values whose text
never depends on memory addresses, so the same run gives the same bytes.
"""
from __future__ import annotations

from typing import Any

from collections.abc import Sequence

__all__ = ["TraceRecord", "Trace", "describe"]


def describe(value: Any):
    """A JSON-ready, address-free description of an argument or result."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    qualname = getattr(value, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return type(value).__name__


class TraceRecord:
    """What one step did."""

    __slots__ = ("seq", "time", "thread", "process", "op", "args", "result",
                 "released", "state", "line", "changes", "note")

    def __init__(self, seq, time, thread, process, op, args, result, released,
                 state, line, changes, note=None):
        self.seq = seq
        self.time = time
        self.thread = thread
        self.process = process
        self.op = op
        self.args = args
        self.result = result
        self.released = released
        self.state = state
        self.line = line
        self.changes = changes
        self.note = note

    def to_dict(self) -> dict:
        return {
            "seq": self.seq, "time": self.time, "thread": self.thread,
            "process": self.process, "op": self.op,
            "args": describe(self.args), "result": describe(self.result),
            "released": list(self.released), "state": self.state, "line": self.line,
            "changes": [list(c) for c in self.changes], "note": self.note,
        }

    def row(self) -> tuple:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other) -> bool:
        return isinstance(other, TraceRecord) and self.row() == other.row()

    __hash__ = None

    def __repr__(self) -> str:
        released = f" released={list(self.released)}" if self.released else ""
        note = f" ({self.note})" if self.note else ""
        return (f"<#{self.seq} t={self.time} {self.thread}: {self.op} -> "
                f"{describe(self.result)!r}{released}{note}>")


class Trace(Sequence):
    """The machine's trace: reads as a list of TraceRecord.

    Steps append plain tuples (cheap, and invisible to the cyclic garbage collector
    once they hold only names and numbers); a TraceRecord is made when one is read.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows=None):
        self._rows: list[tuple] = rows if rows is not None else []

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [TraceRecord(*row) for row in self._rows[index]]
        return TraceRecord(*self._rows[index])

    def __iter__(self):
        for row in self._rows:
            yield TraceRecord(*row)

    def append(self, record: TraceRecord) -> None:
        self._rows.append(record.row())

    def to_dicts(self) -> list[dict]:
        return [record.to_dict() for record in self]

    def __eq__(self, other) -> bool:
        """Same steps, compared as their JSON form (so runs of two machines compare)."""
        if isinstance(other, Trace):
            return self._rows == other._rows or self.to_dicts() == other.to_dicts()
        try:
            return self.to_dicts() == [record.to_dict() for record in other]
        except AttributeError:
            return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Trace of {len(self)} records>"


# --- trace files ---------------------------------------------------------------------
# A trace file is one JSON object: what built the run (scenario name and parameters,
# policy, seed), what was done to it from outside (`actions`, in order), who took part
# (processes, threads, dispatcher objects) and every record. `replay` builds the
# scenario again and repeats the actions; the engine is deterministic, so the records
# come out the same, and `replay` checks that they do.

FORMAT = "evtsim-trace"
VERSION = 1
RECORD_FIELDS = TraceRecord.__slots__

from .errors import BadArgumentError, BugCheckError, MachineStateError  # noqa: E402


class TraceFileError(BadArgumentError):
    """A trace file that cannot be read: the message names the file and the field."""


class ReplayError(MachineStateError):
    """A saved run that cannot be replayed, or whose replay came out different."""


class SavedTrace(Trace):
    """A run read back from a trace file: reads as a list of TraceRecord, like
    `m.trace`, and carries what is needed to draw it and to replay it."""

    __slots__ = ("scenario", "params", "policy", "seed", "step_time", "namespace", "time",
                 "actions", "processes", "threads", "objects", "bugcheck", "evtsim",
                 "source")

    def __init__(self, rows, **meta):
        super().__init__(rows)
        for key in self.__slots__:
            setattr(self, key, meta.get(key))

    @property
    def replayable(self) -> bool:
        return why_not_replayable(self.scenario, self.actions) is None

    def run_view(self):
        from .timeline import RunView
        return RunView(self._rows, self.threads, self.objects,
                       [p["name"] for p in self.processes], self.step_time, self.time,
                       self.bugcheck, self.scenario)

    def to_data(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION, "evtsim": self.evtsim,
            "scenario": ({"name": self.scenario, "params": self.params}
                         if self.scenario is not None else None),
            "policy": self.policy, "seed": self.seed, "step_time": self.step_time,
            "namespace": self.namespace, "time": self.time,
            "replayable": self.replayable,
            "why_not_replayable": why_not_replayable(self.scenario, self.actions),
            "actions": [list(a) for a in self.actions],
            "processes": list(self.processes),
            "threads": [t._asdict() for t in self.threads],
            "objects": [o._asdict() for o in self.objects],
            "bugcheck": self.bugcheck,
            "records": self.to_dicts(),
        }

    def __eq__(self, other) -> bool:
        if isinstance(other, Trace) or isinstance(other, (list, tuple)):
            return self.to_dicts() == [r.to_dict() for r in other]
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        what = f"scenario {self.scenario!r}" if self.scenario else "a hand-built machine"
        return f"<SavedTrace of {len(self)} records: {what}, policy {self.policy}, seed {self.seed}>"


def why_not_replayable(scenario, actions) -> str | None:
    """None when a saved run can be rebuilt, else the reason in words. (A thread
    started from outside code is found by `replay`: the engine also records the
    threads it starts itself, and only a replay can tell the two apart.)"""
    if scenario is None:
        return ("the machine was not built with evtsim.scenarios.build, so a file cannot "
                "say how to build it again (it holds records, not code)")
    return None


def to_data(machine) -> dict:
    """The trace file's content for a machine (or a SavedTrace), as plain JSON values."""
    if isinstance(machine, SavedTrace):
        return machine.to_data()
    from . import __version__
    from .timeline import view_of
    view = view_of(machine)
    name, params = machine.scenario if machine.scenario is not None else (None, None)
    actions = [list(describe(list(a))) for a in machine.actions]
    threads = []
    for t, info in zip(machine.threads, view.threads):
        entry = info._asdict()
        threads.append(entry)
    return {
        "format": FORMAT, "version": VERSION, "evtsim": __version__,
        "scenario": {"name": name, "params": describe(params)} if name else None,
        "policy": machine.policy.name, "seed": machine.seed,
        "step_time": machine.step_time, "namespace": machine.namespace,
        "time": machine.time,
        "replayable": why_not_replayable(name, machine.actions) is None,
        "why_not_replayable": why_not_replayable(name, machine.actions),
        "actions": actions,
        "processes": [{"name": p.name, "pid": p.pid, "session": p.session,
                       "user": p.user, "kernel": p.kernel} for p in machine.processes],
        "threads": threads,
        "objects": [o._asdict() for o in view.objects],
        "bugcheck": view.bugcheck,
        "records": machine.trace.to_dicts(),
    }


def dumps(data: dict) -> str:
    """JSON text with one record per line (readable, and diffs well)."""
    import json
    records = data.get("records", [])
    head = json.dumps({k: v for k, v in data.items() if k != "records"}, indent=1)
    body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in records)
    return head[:-2] + ',\n "records": [\n' + body + ("\n" if body else "") + " ]\n}\n"


def save(machine, path) -> str:
    """Write a run (a Machine, or a SavedTrace) to `path` as a trace file."""
    text = dumps(to_data(machine))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def load(path) -> SavedTrace:
    """Read a trace file. A truncated, hand-edited or newer file raises TraceFileError
    naming the field that is wrong."""
    import json
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise TraceFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TraceFileError(f"{path}: cannot be read ({error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        end = "" if text.rstrip().endswith("}") else " (it looks cut off: was the file truncated?)"
        raise TraceFileError(f"{path}: not valid JSON at line {error.lineno} column "
                             f"{error.colno}{end}") from None
    return from_data(data, source=str(path))


def from_data(data, source: str = "trace") -> SavedTrace:
    """A SavedTrace from a trace file's parsed JSON, checking every field."""
    def bad(field, problem):
        raise TraceFileError(f"{source}: {field} {problem}")

    def shown(value):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."

    def need(obj, field, kinds, where, optional=False):
        if not isinstance(obj, dict):
            bad(where, f"must be a JSON object, found {shown(obj)}")
        if field not in obj:
            bad(f"{where}.{field}" if where else field, "is missing")
        value = obj[field]
        if value is None and optional:
            return None
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in
                                                 (kinds if isinstance(kinds, tuple) else (kinds,)))
        if not ok:
            names = {int: "a whole number", str: "a string", list: "a list",
                     dict: "a JSON object", bool: "true or false"}
            kinds_t = kinds if isinstance(kinds, tuple) else (kinds,)
            want = " or ".join(names.get(k, k.__name__) for k in kinds_t)
            if optional:
                want += " or null"
            bad(f"{where}.{field}" if where else field, f"must be {want}, found {shown(value)}")
        return value

    if not isinstance(data, dict):
        bad("the top level", "must be a JSON object (this is not an evtsim trace file)")
    if data.get("format") != FORMAT:
        bad("format", f"must be {FORMAT!r}, found {shown(data.get('format'))} (this is not "
                      f"an evtsim trace file)")
    version = need(data, "version", int, "")
    if version != VERSION:
        newer = " (written by a newer evtsim: upgrade evtsim)" if version > VERSION else ""
        bad("version", f"is {version}; this evtsim reads version {VERSION}{newer}")
    scenario = data.get("scenario")
    name, params = None, None
    if scenario is not None:
        name = need(scenario, "name", str, "scenario")
        params = need(scenario, "params", dict, "scenario")
    policy = need(data, "policy", str, "")
    from .scheduler import POLICIES
    if policy not in POLICIES:
        bad("policy", f"must be one of {', '.join(POLICIES)}, found {policy!r}")
    seed = need(data, "seed", int, "")
    step_time = need(data, "step_time", int, "")
    time = need(data, "time", int, "")
    if step_time < 0 or time < 0:
        bad("step_time" if step_time < 0 else "time", "must not be negative")
    namespace = data.get("namespace", "modern")
    actions = []
    for i, action in enumerate(need(data, "actions", list, "")):
        where = f"actions[{i}]"
        arity = {"run": 3, "step": 2, "kernel": 4, "start": 4, "exit": 3}
        if not isinstance(action, list) or not action or action[0] not in arity:
            bad(where, f"must be a list starting with one of {', '.join(arity)}, "
                       f"found {shown(action)}")
        if len(action) != arity[action[0]]:
            bad(where, f"a {action[0]!r} action has {arity[action[0]]} items, found "
                       f"{len(action)}")
        actions.append(tuple(action))
    processes = []
    for i, p in enumerate(need(data, "processes", list, "")):
        where = f"processes[{i}]"
        need(p, "name", str, where)
        need(p, "pid", int, where)
        processes.append(p)
    from .timeline import ObjectInfo, ThreadInfo
    threads = []
    for i, t in enumerate(need(data, "threads", list, "")):
        where = f"threads[{i}]"
        mode = need(t, "mode", str, where)
        if mode not in ("kernel", "user"):
            bad(f"{where}.mode", f"must be 'kernel' or 'user', found {mode!r}")
        threads.append(ThreadInfo(need(t, "name", str, where), need(t, "process", str, where),
                                  mode, need(t, "created_time", int, where),
                                  need(t, "created_seq", int, where),
                                  need(t, "state", str, where, optional=True)))
    objects = []
    for i, o in enumerate(need(data, "objects", list, "")):
        where = f"objects[{i}]"
        objects.append(ObjectInfo(need(o, "name", str, where), need(o, "kind", str, where),
                                  need(o, "type", int, where),
                                  need(o, "created_state", int, where),
                                  need(o, "created_seq", int, where),
                                  need(o, "state", int, where, optional=True),
                                  need(o, "path", str, where, optional=True)))
    bugcheck = data.get("bugcheck")
    if bugcheck is not None:
        for field in ("code", "seq", "time"):
            need(bugcheck, field, int, "bugcheck")
        for field in ("name", "rule", "thread"):
            need(bugcheck, field, str, "bugcheck")
    rows = []
    last_seq, last_time = 0, 0
    for i, r in enumerate(need(data, "records", list, "")):
        where = f"records[{i}]"
        if not isinstance(r, dict):
            bad(where, f"must be a JSON object, found {shown(r)}")
        extra = set(r) - set(RECORD_FIELDS)
        if extra:
            bad(f"{where}.{sorted(extra)[0]}", "is not a record field")
        seq = need(r, "seq", int, where)
        t = need(r, "time", int, where)
        if seq <= last_seq:
            bad(f"{where}.seq", f"must be larger than the previous record's ({last_seq}), "
                                f"found {seq}")
        if t < last_time:
            bad(f"{where}.time", f"must not go back in time (previous {last_time}, "
                                 f"found {t})")
        last_seq, last_time = seq, t
        thread = need(r, "thread", str, where)
        process = need(r, "process", str, where)
        op = need(r, "op", str, where)
        args = need(r, "args", list, where)
        if "result" not in r:
            bad(f"{where}.result", "is missing")
        released = need(r, "released", list, where)
        if not all(isinstance(n, str) for n in released):
            bad(f"{where}.released", "must be a list of thread names")
        state = need(r, "state", str, where, optional=True)
        line = need(r, "line", int, where, optional=True)
        changes = need(r, "changes", list, where)
        for j, c in enumerate(changes):
            if not (isinstance(c, list) and len(c) == 3 and isinstance(c[0], str)
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in c[1:])):
                bad(f"{where}.changes[{j}]", f"must be [object, old, new], found {shown(c)}")
        note = need(r, "note", str, where, optional=True)
        rows.append((seq, t, thread, process, op, args, r["result"], tuple(released),
                     state, line, tuple(tuple(c) for c in changes), note))
    return SavedTrace(rows, scenario=name, params=params, policy=policy, seed=seed,
                      step_time=step_time, namespace=namespace, time=time,
                      actions=actions, processes=processes, threads=threads,
                      objects=objects, bugcheck=bugcheck, evtsim=data.get("evtsim"),
                      source=source)


def _resolve(machine, value, key=None):
    """A described argument back as a live value: object and thread labels become the
    machine's objects (a `name=` keyword stays a string)."""
    if isinstance(value, list):
        return [_resolve(machine, v) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(machine, v, k) for k, v in value.items()}
    if isinstance(value, str) and key != "name":
        found = machine.find(value)
        if found is not None:
            return found
    return value


def replay(trace, check: bool = True):
    """A Machine that ran the same schedule: the scenario built again, then the same
    outside actions. With `check` (default) the new trace must equal the saved one;
    otherwise ReplayError names the first step that differs."""
    from . import scenarios
    if isinstance(trace, (str, bytes)) or hasattr(trace, "__fspath__"):
        trace = load(trace)
    elif not isinstance(trace, SavedTrace):
        if hasattr(trace, "dispatcher_objects"):
            trace = from_data(to_data(trace), source="machine")
        else:
            raise BadArgumentError("replay takes a trace loaded with evtsim.trace.load, "
                                   "a path, or a Machine")
    reason = why_not_replayable(trace.scenario, trace.actions)
    if reason:
        raise ReplayError(f"cannot replay {trace.source}: {reason}.")
    if trace.scenario not in scenarios.names():
        raise ReplayError(f"cannot replay {trace.source}: this evtsim has no scenario "
                          f"{trace.scenario!r} (it has {', '.join(scenarios.names())})")
    params = dict(trace.params or {})
    machine = scenarios.build(trace.scenario, **params)
    for i, action in enumerate(trace.actions):
        kind = action[0]
        try:
            if kind == "run":
                machine.run(max_steps=action[1], until=action[2])
            elif kind == "step":
                machine.step(machine.thread(action[1]) if action[1] is not None else None)
            elif kind == "start":
                # The engine records threads it starts itself (a work item's worker)
                # too; those exist again by now. Any other came from outside code.
                if not any(t.name == action[3] for t in machine.threads):
                    raise ReplayError(
                        f"cannot replay {trace.source}: thread {action[3]} was started "
                        f"from outside the scenario with function {action[2]}; a trace "
                        f"file cannot carry code, so the run cannot be replayed (it can "
                        f"still be drawn and printed)")
            elif kind == "kernel":
                routine = getattr(machine.kernel, action[1])
                try:
                    routine(*_resolve(machine, action[2]), **_resolve(machine, action[3]))
                except BugCheckError:
                    pass                 # the instructor's call crashed it the first time too
            elif kind == "exit":
                machine.terminate_process(_process_named(machine, action[1]), action[2])
        except ReplayError:
            raise
        except MachineStateError:
            if kind != "step":           # a refused step was refused the first time too
                raise ReplayError(f"cannot replay {trace.source}: actions[{i}] "
                                  f"{list(action)} was refused this time") from None
        except BadArgumentError as error:
            if kind != "step":
                raise ReplayError(f"cannot replay {trace.source}: actions[{i}] "
                                  f"{list(action)} failed: {error}") from None
    if check:
        mine, theirs = machine.trace.to_dicts(), trace.to_dicts()
        for a, b in zip(theirs, mine):
            if a != b:
                raise ReplayError(f"the replay of {trace.source} differs at step "
                                  f"{a['seq']}: the file has {a}, the replay has {b}")
        if len(mine) != len(theirs):
            raise ReplayError(f"the replay of {trace.source} has {len(mine)} records; the "
                              f"file has {len(theirs)}")
    return machine


def _process_named(machine, name: str):
    for process in machine.processes:
        if process.name == name:
            return process
    raise ReplayError(f"the replay has no process named {name!r}")


def text_timeline(machine_or_trace, **options) -> str:
    """The timeline as text, one line per step (see `evtsim.timeline.text`)."""
    from .timeline import text
    return text(machine_or_trace, **options)


# --- Chrome / Perfetto ---------------------------------------------------------------
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
    from . import __version__
    from .timeline import DPC_GROUP, EVENTS_GROUP, OUTSIDE, build, view_of, wait_objects
    view = view_of(machine_or_trace)
    model = build(view, axis="time", pseudo=True)
    by_seq = {row[0]: row for row in view.rows}
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
                event["args"] = {"seq": row[0], "args": describe(row[5]),
                                 "result": describe(row[6]), "line": row[9],
                                 "note": row[11]}
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
            states = {}
            for name, old, new in row[10]:
                states.setdefault(name, {"before": old})["after"] = new
            if not states:
                for obj in row[5] if isinstance(row[5], (list, tuple)) else ():
                    obj = describe(obj)
                    if isinstance(obj, str):
                        states[obj] = {"unchanged": True}
            event["args"] = {"events": states, "released": list(row[7])}
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


__all__ += ["FORMAT", "VERSION", "TraceFileError", "ReplayError", "SavedTrace", "save",
            "load", "from_data", "to_data", "dumps", "replay", "text_timeline",
            "to_perfetto", "why_not_replayable"]
