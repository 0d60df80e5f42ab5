"""Trace files: save a run as JSON, load it back, replay it, and export it.

A machine's trace is a list of records (evtsim.records). This module writes the run
around them to a file (what built it, what was done to it from outside, who took part),
reads such files back, and replays them; the engine is deterministic, so a replay
gives the same records.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BadArgumentError, BugCheckError, MachineStateError
from .perfetto import to_perfetto  # the export lives there; the contract names it here
from .records import KINDS, RESUMED, Trace, TraceRecord, describe, from_note
from .version import __version__

if TYPE_CHECKING:
    from .machine import Machine
    from .timeline import ObjectInfo, RunView, ThreadInfo

# --- trace files ---------------------------------------------------------------------
# A trace file is one JSON object: what built the run (scenario name and parameters,
# policy, seed), what was done to it from outside (`actions`, in order), who took part
# (processes, threads, dispatcher objects) and every record. `replay` builds the
# scenario again and repeats the actions; the engine is deterministic, so the records
# come out the same, and `replay` checks that they do.

FORMAT = "evtsim-trace"
VERSION = 2                 # version 2: typed record fields; version 1 (0.1.0): a note
READS = (1, 2)
RECORD_FIELDS = TraceRecord._fields
V1_RECORD_FIELDS = RECORD_FIELDS[:11] + ("note",)


class TraceFileError(BadArgumentError):
    """A trace file that cannot be read: the message names the file and the field."""


class ReplayError(MachineStateError):
    """A saved run that cannot be replayed, or whose replay came out different."""


class SavedTrace(Trace):
    """A run read back from a trace file: reads as a list of TraceRecord, like
    `m.trace`, and carries what is needed to draw it and to replay it."""

    __slots__ = ("scenario", "params", "policy", "seed", "step_time", "namespace", "time",
                 "actions", "processes", "threads", "objects", "bugcheck", "evtsim",
                 "source", "version")
    # What from_data read and checked (each one is a JSON value of the file).
    scenario: str | None
    params: dict[str, Any] | None
    policy: str
    seed: int
    step_time: int
    namespace: str
    time: int
    actions: list[tuple]
    processes: list[dict[str, Any]]
    threads: list[ThreadInfo]
    objects: list[ObjectInfo]
    bugcheck: dict[str, Any] | None
    evtsim: str | None
    source: str
    version: int

    def __init__(self, rows: list[tuple], **meta: Any) -> None:
        super().__init__(rows)
        for key in self.__slots__:
            setattr(self, key, meta.get(key))

    @property
    def replayable(self) -> bool:
        return why_not_replayable(self.scenario, self.actions) is None

    def run_view(self) -> RunView:
        from .timeline import RunView
        return RunView(self, self.threads, self.objects,
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

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trace) or isinstance(other, (list, tuple)):
            return self.to_dicts() == [r.to_dict() for r in other]
        return NotImplemented

    # Defining __eq__ leaves __hash__ None: a SavedTrace is not hashable (as Trace).

    def __repr__(self) -> str:
        what = f"scenario {self.scenario!r}" if self.scenario else "a hand-built machine"
        return (f"<SavedTrace of {len(self)} records: {what}, policy {self.policy}, "
                f"seed {self.seed}>")


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
    from .timeline import view_of
    view = view_of(machine)
    name, params = machine.scenario if machine.scenario is not None else (None, None)
    actions = [list(describe(list(a))) for a in machine.actions]
    threads = []
    for _thread, info in zip(machine.threads, view.threads, strict=False):
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
    except json.JSONDecodeError as error:
        end = ("" if text.rstrip().endswith("}")
               else " (it looks cut off: was the file truncated?)")
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
    if version not in READS:
        newer = " (written by a newer evtsim: upgrade evtsim)" if version > VERSION else ""
        bad("version", f"is {version}; this evtsim reads versions "
                       f"{', '.join(map(str, READS))}{newer}")
    fields = V1_RECORD_FIELDS if version == 1 else RECORD_FIELDS
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
        extra = set(r) - set(fields)
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
        if version == 1:
            typed = from_note(need(r, "note", str, where, optional=True), thread)
        else:
            typed = _typed_fields(r, where, need, bad, shown)
        rows.append(tuple(TraceRecord(seq, t, thread, process, op, args, r["result"],
                                      tuple(released), state, line,
                                      tuple(tuple(c) for c in changes), **typed)))
    return SavedTrace(rows, scenario=name, params=params, policy=policy, seed=seed,
                      step_time=step_time, namespace=namespace, time=time,
                      actions=actions, processes=processes, threads=threads,
                      objects=objects, bugcheck=bugcheck, evtsim=data.get("evtsim"),
                      source=source, version=version)


def _typed_fields(r: dict, where: str, need, bad, shown) -> dict:
    """The version-2 fields of one record, each checked against the format."""
    def names(field):
        value = need(r, field, list, where)
        if not all(isinstance(n, str) for n in value):
            bad(f"{where}.{field}", f"must be a list of strings, found {shown(value)}")
        return tuple(value)

    kind = need(r, "kind", str, where)
    if kind not in KINDS:
        bad(f"{where}.kind", f"must be one of {', '.join(KINDS)}, found {kind!r}")
    waits = need(r, "waits", list, where, optional=True)
    if waits is not None:
        if not (len(waits) == 2 and waits[0] in ("Wait", "WaitAny", "WaitAll", "Delay")
                and isinstance(waits[1], list)
                and all(isinstance(n, str) for n in waits[1])):
            bad(f"{where}.waits", f"must be [Wait|WaitAny|WaitAll|Delay, [object names]], "
                                  f"found {shown(waits)}")
        waits = (waits[0], tuple(waits[1]))
    resumed = need(r, "resumed", str, where, optional=True)
    if resumed is not None and resumed not in RESUMED:
        bad(f"{where}.resumed", f"must be one of {', '.join(RESUMED)} or null, "
                                f"found {resumed!r}")
    return {"kind": kind, "rechecked": names("rechecked"), "waits": waits,
            "resumed": resumed, "enters": need(r, "enters", str, where, optional=True),
            "remarks": names("remarks"), "reads": names("reads"), "writes": names("writes")}


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


def apply_action(machine, action) -> bool:
    """Do one recorded outside action (an entry of `Machine.actions`) on `machine` again.

    False for a `start` of a thread the machine does not have: the engine records the
    threads it starts itself too (a work item's worker), and those exist again by now;
    any other was started by outside code, which an action cannot carry, so the caller
    decides. A kernel call that bug-checks is done (it crashed the first time too); any
    other refusal is raised (MachineStateError, BadArgumentError) for the caller to judge.
    """
    kind = action[0]
    if kind == "run":
        machine.run(max_steps=action[1], until=action[2])
    elif kind == "step":
        machine.step(machine.thread(action[1]) if action[1] is not None else None)
    elif kind == "start":
        return any(t.name == action[3] for t in machine.threads)
    elif kind == "kernel":
        routine = getattr(machine.kernel, action[1])
        try:
            routine(*_resolve(machine, action[2]), **_resolve(machine, action[3]))
        except BugCheckError:
            pass                 # the instructor's call crashed it the first time too
    elif kind == "exit":
        machine.terminate_process(_process_named(machine, action[1]), action[2])
    return True


def replay(trace: SavedTrace, check: bool = True) -> Machine:
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
            if not apply_action(machine, action):
                raise ReplayError(
                    f"cannot replay {trace.source}: thread {action[3]} was started "
                    f"from outside the scenario with function {action[2]}; a trace "
                    f"file cannot carry code, so the run cannot be replayed (it can "
                    f"still be drawn and printed)")
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
        if trace.version == 1:          # a 0.1.0 file says each step in a note only
            mine, theirs = _as_v1(machine.trace), _as_v1(trace)
        for a, b in zip(theirs, mine, strict=False):
            if a != b:
                raise ReplayError(f"the replay of {trace.source} differs at step "
                                  f"{a['seq']}: the file has {a}, the replay has {b}")
        if len(mine) != len(theirs):
            raise ReplayError(f"the replay of {trace.source} has {len(mine)} records; the "
                              f"file has {len(theirs)}")
    return machine


def _as_v1(records) -> list[dict]:
    """Records as a version-1 file held them: the common fields and the note, but not
    the source line. A version-1 file was written by evtsim 0.1.0, whose scenarios'
    code has been edited since: the same schedule now runs from other lines."""
    out = []
    for record in records:
        d = record.to_dict()
        out.append({**{k: d[k] for k in V1_RECORD_FIELDS[:11] if k != "line"},
                    "note": record.note})
    return out


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
__all__ = ["TraceRecord", "Trace", "describe", "FORMAT", "VERSION", "TraceFileError",
           "ReplayError", "SavedTrace", "save", "load", "from_data", "to_data", "dumps",
           "replay", "apply_action", "text_timeline", "to_perfetto", "why_not_replayable"]
