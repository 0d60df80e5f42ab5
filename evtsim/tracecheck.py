"""What a trace file may hold: every field of the format, its type and its limits.

`fields(data, source)` checks a parsed trace file (version 2, or version 1 read the same
way) and returns what it holds, ready for a SavedTrace. Nothing is trusted: every field
is checked, unknown fields are refused, each count and each string has a limit (LIMITS,
listed in docs/engine.md, "Trace files"), and each error names the field, the value
found and what is allowed. The numbers of a scenario's parameters go through the
scenario's own check (`evtsim.scenarios.registry`), the same as `scenarios.build`.
`evtsim.tracefile` reads the file and bounds the parse; this module sees only JSON values.
"""
from __future__ import annotations

import re
from typing import Any, NoReturn

from .errors import BadArgumentError
from .instructor import allowed_routines
from .namespace import MAX_NAME_CHARS
from .records import KINDS, RESUMED, TraceRecord, from_note

FORMAT = "evtsim-trace"
VERSION = 2                 # version 2: typed record fields; version 1 (0.1.0): a note
READS = (1, 2)
RECORD_FIELDS = TraceRecord._fields
V1_RECORD_FIELDS = RECORD_FIELDS[:11] + ("note",)

# The limits (docs/engine.md, "Trace files", lists each one).
MAX_FILE_BYTES = 16 * 1024 * 1024   # the whole file
MAX_DEPTH = 32                      # lists and objects inside each other
MAX_DIGITS = 40                     # digits of one number
MAX_RECORDS = 100_000
MAX_ACTIONS = 100_000
MAX_RUN_STEPS = 100_000             # max_steps of one `run` action (Machine.run's default)
MAX_THREADS = 256                   # a step looks its thread up among them all
MAX_OBJECTS = 256
MAX_PROCESSES = 100
MAX_PARAMS = 32                     # parameters of the scenario
MAX_TEXT = 2 * MAX_NAME_CHARS + 2   # characters of one string (a path holds a name)
MAX_TIME = 2**63 - 1                # virtual time, in 100 ns units
LIMITS = {
    "file size": f"{MAX_FILE_BYTES:,} bytes (16 MiB)", "nesting": f"{MAX_DEPTH} levels",
    "digits of a number": f"{MAX_DIGITS}", "records": f"{MAX_RECORDS:,}",
    "actions": f"{MAX_ACTIONS:,}", "max_steps of a run action": f"{MAX_RUN_STEPS:,}",
    "threads": f"{MAX_THREADS:,}", "objects": f"{MAX_OBJECTS:,}",
    "processes": f"{MAX_PROCESSES:,}", "scenario parameters": f"{MAX_PARAMS}",
    "characters of a string": f"{MAX_TEXT:,}",
}

# A kernel routine's name as Windows spells it: KeSetEvent, ZwCreateEvent...
_ROUTINE = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
# Characters no name or text of a run holds: control characters (a terminal would obey
# them) and lone surrogates (they cannot be printed or written as UTF-8).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_TOP = ("format", "version", "evtsim", "scenario", "policy", "seed", "step_time",
        "namespace", "time", "replayable", "why_not_replayable", "actions", "processes",
        "threads", "objects", "bugcheck", "records")
_PROCESS = ("name", "pid", "session", "user", "kernel")
_THREAD = ("name", "process", "mode", "created_time", "created_seq", "state")
_OBJECT = ("name", "kind", "type", "created_state", "created_seq", "state", "path")
_BUGCHECK = ("code", "name", "rule", "thread", "process", "line", "time", "seq",
             "explanation")
_ARITY = {"run": 3, "step": 2, "kernel": 4, "start": 4, "exit": 3}
_NAMES = {int: "a whole number", str: "a string", list: "a list", dict: "a JSON object",
          bool: "true or false"}


class TraceFileError(BadArgumentError):
    """A trace file that cannot be read: the message names the file and the field."""


def shown(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut at 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Checker:
    """The checks of one file; each failure is a TraceFileError naming the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def bad(self, where: str, problem: str) -> NoReturn:
        raise TraceFileError(f"{self.source}: {where} {problem}" if where
                             else f"{self.source}: {problem}")

    def kind(self, value: Any, where: str, kind: type, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.bad(where, f"must be {_NAMES[kind]}{' or null' if optional else ''}, "
                            f"found {shown(value)}")
        return value

    def whole(self, value: Any, where: str, low: int = 0, high: int = MAX_TIME,
              optional: bool = False) -> Any:
        value = self.kind(value, where, int, optional)
        if value is not None and not low <= value <= high:
            self.bad(where, f"must be from {low:,} to {high:,}, found {shown(value)}")
        return value

    def text(self, value: Any, where: str, optional: bool = False,
             longest: int = MAX_TEXT) -> Any:
        value = self.kind(value, where, str, optional)
        if value is not None:
            if len(value) > longest:
                self.bad(where, f"has {len(value):,} characters; the most is {longest:,}")
            found = _BAD_CHARS.search(value)
            if found:
                self.bad(where, f"holds the character U+{ord(found.group()):04X}, which "
                                f"no name or text of a run holds")
        return value

    def items(self, value: Any, where: str, most: int, what: str) -> list:
        value = self.kind(value, where, list)
        if len(value) > most:
            self.bad(where, f"has {len(value):,} {what}; the most is {most:,} (a limit "
                            f"of evtsim's trace files, see docs/engine.md): save a "
                            f"shorter run")
        return value

    def names(self, value: Any, where: str) -> tuple:
        value = self.kind(value, where, list)
        if not all(isinstance(n, str) for n in value):
            self.bad(where, f"must be a list of strings, found {shown(value)}")
        for j, name in enumerate(value):
            self.text(name, f"{where}[{j}]")
        return tuple(value)

    def entry(self, value: Any, where: str, allowed: tuple, required: tuple,
              what: str) -> dict:
        """A JSON object with only the `allowed` keys, and every `required` one."""
        if not isinstance(value, dict):
            self.bad(where, f"must be a JSON object, found {shown(value)}")
        for key in value:
            if key not in allowed:
                named = key if key.isidentifier() else shown(key)
                self.bad(f"{where}.{named}" if where else named, f"is not {what}")
        for key in required:
            if key not in value:
                self.bad(f"{where}.{key}" if where else key, "is missing")
        return value

    def free(self, value: Any, where: str) -> Any:
        """Any JSON value an argument or a result may be: its strings are checked too
        (its depth was bounded before parsing)."""
        if isinstance(value, str):
            self.text(value, where)
        elif isinstance(value, list):
            for j, item in enumerate(value):
                self.free(item, f"{where}[{j}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                self.text(key, f"{where} key")
                self.free(item, f"{where}.{key}")
        return value


def fields(data: Any, source: str) -> dict[str, Any]:
    """Everything a trace file holds, checked: the keyword arguments of a SavedTrace
    (the records as rows). A TraceFileError names the first wrong field."""
    c = _Checker(source)
    if not isinstance(data, dict):
        c.bad("the top level", "must be a JSON object (this is not an evtsim trace file)")
    if data.get("format") != FORMAT:
        c.bad("format", f"must be {FORMAT!r}, found {shown(data.get('format'))} (this is "
                        f"not an evtsim trace file)")
    if "version" not in data:
        c.bad("version", "is missing")
    version = c.kind(data["version"], "version", int)
    if version not in READS:
        newer = " (written by a newer evtsim: upgrade evtsim)" if version > VERSION else ""
        c.bad("version", f"is {version}; this evtsim reads versions "
                         f"{', '.join(map(str, READS))}{newer}")
    c.entry(data, "", _TOP, ("policy", "seed", "step_time", "time", "actions",
                             "processes", "threads", "objects", "records"),
            "a field of a trace file")
    name, params = _scenario(c, data.get("scenario"))
    from .scheduler import POLICIES
    policy = c.text(data["policy"], "policy")
    if policy not in POLICIES:
        c.bad("policy", f"must be one of {', '.join(POLICIES)}, found {policy!r}")
    namespace = c.text(data.get("namespace", "modern"), "namespace")
    if namespace not in ("modern", "nt4"):
        c.bad("namespace", f"must be 'modern' or 'nt4', found {shown(namespace)}")
    c.text(data.get("evtsim"), "evtsim", optional=True, longest=64)
    c.kind(data.get("replayable"), "replayable", bool, optional=True)
    c.text(data.get("why_not_replayable"), "why_not_replayable", optional=True)
    return {
        "scenario": name, "params": params, "policy": policy,
        "seed": c.whole(data["seed"], "seed", -MAX_TIME - 1, MAX_TIME),
        "step_time": c.whole(data["step_time"], "step_time"),
        "namespace": namespace, "time": c.whole(data["time"], "time"),
        "actions": _actions(c, data["actions"]), "processes": _processes(c, data),
        "threads": _threads(c, data["threads"]), "objects": _objects(c, data["objects"]),
        "bugcheck": _bugcheck(c, data.get("bugcheck")), "evtsim": data.get("evtsim"),
        "source": source, "version": version, "rows": _records(c, data["records"], version),
    }


def _scenario(c: _Checker, scenario: Any) -> tuple[str | None, dict | None]:
    """The scenario's name and parameters; a scenario this evtsim has checks them the
    way `scenarios.build` does (each number within its limits)."""
    if scenario is None:
        return None, None
    c.entry(scenario, "scenario", ("name", "params"), ("name", "params"),
            "a field of the scenario")
    name = c.text(scenario["name"], "scenario.name", longest=64)
    params = c.kind(scenario["params"], "scenario.params", dict)
    if len(params) > MAX_PARAMS:
        c.bad("scenario.params", f"has {len(params)} parameters; the most is {MAX_PARAMS}")
    for key, value in params.items():
        c.text(key, "scenario.params key", longest=64)
        c.free(value, f"scenario.params.{key}")
    from . import scenarios
    from .scenarios.registry import problem
    known = scenarios.get(name).defaults if name in scenarios.names() else None
    for key, value in params.items():
        if known is not None:
            if key not in known:
                c.bad(f"scenario.params.{key}", f"is not a parameter of scenario {name!r} "
                                                f"(it takes {', '.join(known)})")
            why = problem(key, value, known[key])
            if why is not None:
                c.bad("scenario.params:", why)
        elif not (value is None or isinstance(value, (bool, int, str))):
            c.bad(f"scenario.params.{key}", f"must be a whole number, true or false, or "
                                            f"a string, found {shown(value)}")
    return name, params


def _actions(c: _Checker, actions: Any) -> list[tuple]:
    out = []
    for i, action in enumerate(c.items(actions, "actions", MAX_ACTIONS, "actions")):
        where = f"actions[{i}]"
        if not isinstance(action, list) or not action or not isinstance(action[0], str) \
                or action[0] not in _ARITY:
            c.bad(where, f"must be a list starting with one of {', '.join(_ARITY)}, "
                         f"found {shown(action)}")
        kind = action[0]
        if len(action) != _ARITY[kind]:
            c.bad(where, f"a {kind!r} action has {_ARITY[kind]} items, found {len(action)}")
        if kind == "run":
            c.whole(action[1], f"{where}[1] (max_steps)", 0, MAX_RUN_STEPS)
            c.whole(action[2], f"{where}[2] (until)", optional=True)
        elif kind == "step":
            c.text(action[1], f"{where}[1] (the thread)", optional=True)
        elif kind == "kernel":
            routine = c.text(action[1], f"{where}[1] (the routine)")
            if not _ROUTINE.fullmatch(routine):
                c.bad(where, f"calls {shown(routine)}, which is not a kernel routine; a "
                             f"trace file may call only {allowed_routines()}")
            c.free(c.kind(action[2], f"{where}[2] (the arguments)", list), f"{where}[2]")
            c.free(c.kind(action[3], f"{where}[3] (the keyword arguments)", dict),
                   f"{where}[3]")
        elif kind == "start":
            for j, what in ((1, "the process"), (2, "the function"), (3, "the thread")):
                c.text(action[j], f"{where}[{j}] ({what})")
        else:
            c.text(action[1], f"{where}[1] (the process)")
            c.whole(action[2], f"{where}[2] (the exit code)", -2**31, 2**32 - 1)
        out.append(tuple(action))
    return out


def _processes(c: _Checker, data: dict) -> list[dict]:
    out = []
    for i, p in enumerate(c.items(data["processes"], "processes", MAX_PROCESSES,
                                  "processes")):
        where = f"processes[{i}]"
        c.entry(p, where, _PROCESS, ("name", "pid"), "a field of a process")
        c.text(p["name"], f"{where}.name")
        c.whole(p["pid"], f"{where}.pid", 0, 2**32 - 1)
        c.whole(p.get("session"), f"{where}.session", 0, 2**32 - 1, optional=True)
        c.text(p.get("user"), f"{where}.user", optional=True)
        c.kind(p.get("kernel"), f"{where}.kernel", bool, optional=True)
        out.append(p)
    return out


def _threads(c: _Checker, threads: Any) -> list:
    from .timeline import ThreadInfo
    out = []
    for i, t in enumerate(c.items(threads, "threads", MAX_THREADS, "threads")):
        where = f"threads[{i}]"
        c.entry(t, where, _THREAD, _THREAD[:5], "a field of a thread")
        mode = c.text(t["mode"], f"{where}.mode")
        if mode not in ("kernel", "user"):
            c.bad(f"{where}.mode", f"must be 'kernel' or 'user', found {shown(mode)}")
        out.append(ThreadInfo(c.text(t["name"], f"{where}.name"),
                              c.text(t["process"], f"{where}.process"), mode,
                              c.whole(t["created_time"], f"{where}.created_time"),
                              c.whole(t["created_seq"], f"{where}.created_seq"),
                              _thread_state(c, t.get("state"), f"{where}.state")))
    return out


def _thread_state(c: _Checker, state: Any, where: str) -> str | None:
    from .scheduler import READY, RUNNING, TERMINATED, WAITING
    states = (READY, RUNNING, WAITING, TERMINATED)
    if state is not None and state not in states:
        c.bad(where, f"must be one of {', '.join(states)} or null, found {shown(state)}")
    return state


def _objects(c: _Checker, objects: Any) -> list:
    from .timeline import ObjectInfo
    out = []
    for i, o in enumerate(c.items(objects, "objects", MAX_OBJECTS, "objects")):
        where = f"objects[{i}]"
        c.entry(o, where, _OBJECT, _OBJECT[:5], "a field of an object")
        out.append(ObjectInfo(c.text(o["name"], f"{where}.name"),
                              c.text(o["kind"], f"{where}.kind", longest=64),
                              c.whole(o["type"], f"{where}.type", 0, 1),
                              c.whole(o["created_state"], f"{where}.created_state", 0, 1),
                              c.whole(o["created_seq"], f"{where}.created_seq"),
                              c.whole(o.get("state"), f"{where}.state", 0, 1, optional=True),
                              c.text(o.get("path"), f"{where}.path", optional=True)))
    return out


def _bugcheck(c: _Checker, bugcheck: Any) -> dict | None:
    if bugcheck is None:
        return None
    c.entry(bugcheck, "bugcheck", _BUGCHECK, ("code", "seq", "time", "name", "rule",
                                              "thread"), "a field of the bug check")
    c.whole(bugcheck["code"], "bugcheck.code", 0, 2**32 - 1)
    c.whole(bugcheck["seq"], "bugcheck.seq")
    c.whole(bugcheck["time"], "bugcheck.time")
    c.whole(bugcheck.get("line"), "bugcheck.line", optional=True)
    for field in ("name", "rule", "thread"):
        c.text(bugcheck[field], f"bugcheck.{field}")
    for field in ("process", "explanation"):
        c.text(bugcheck.get(field), f"bugcheck.{field}", optional=True)
    return bugcheck


def _records(c: _Checker, records: Any, version: int) -> list[tuple]:
    allowed = V1_RECORD_FIELDS if version == 1 else RECORD_FIELDS
    rows = []
    last_seq, last_time = 0, 0
    for i, r in enumerate(c.items(records, "records", MAX_RECORDS, "records")):
        where = f"records[{i}]"
        c.entry(r, where, allowed, allowed[:11] if version == 1 else allowed,
                "a record field")
        seq = c.whole(r["seq"], f"{where}.seq")
        t = c.whole(r["time"], f"{where}.time")
        if seq <= last_seq:
            c.bad(f"{where}.seq", f"must be larger than the previous record's "
                                  f"({last_seq}), found {seq}")
        if t < last_time:
            c.bad(f"{where}.time", f"must not go back in time (previous {last_time}, "
                                   f"found {t})")
        last_seq, last_time = seq, t
        thread = c.text(r["thread"], f"{where}.thread")
        process = c.text(r["process"], f"{where}.process")
        op = c.text(r["op"], f"{where}.op")
        args = c.free(c.kind(r["args"], f"{where}.args", list), f"{where}.args")
        result = c.free(r["result"], f"{where}.result")
        released = c.kind(r["released"], f"{where}.released", list)
        if not all(isinstance(n, str) for n in released):
            c.bad(f"{where}.released", "must be a list of thread names")
        c.names(released, f"{where}.released")
        state = c.text(r["state"], f"{where}.state", optional=True)
        line = c.whole(r["line"], f"{where}.line", optional=True)
        changes = c.kind(r["changes"], f"{where}.changes", list)
        for j, ch in enumerate(changes):
            if not (isinstance(ch, list) and len(ch) == 3 and isinstance(ch[0], str)
                    and all(isinstance(v, int) and not isinstance(v, bool) and v in (0, 1)
                            for v in ch[1:])):
                c.bad(f"{where}.changes[{j}]", f"must be [object, old, new], found "
                                               f"{shown(ch)}")
            c.text(ch[0], f"{where}.changes[{j}][0]")
        if version == 1:
            typed = from_note(c.text(r.get("note"), f"{where}.note", optional=True), thread)
            _check_typed(c, typed, where)
        else:
            typed = _typed_fields(c, r, where)
        rows.append(tuple(TraceRecord(seq, t, thread, process, op, args, result,
                                      tuple(released), state, line,
                                      tuple(tuple(ch) for ch in changes), **typed)))
    return rows


def _typed_fields(c: _Checker, r: dict, where: str) -> dict:
    """The version-2 fields of one record, each checked against the format."""
    kind = c.text(r["kind"], f"{where}.kind")
    waits = c.kind(r["waits"], f"{where}.waits", list, optional=True)
    if waits is not None:
        if not (len(waits) == 2 and isinstance(waits[1], list)
                and all(isinstance(n, str) for n in waits[1])):
            c.bad(f"{where}.waits", f"must be [Wait|WaitAny|WaitAll|Delay, [object "
                                    f"names]], found {shown(waits)}")
        waits = (waits[0], c.names(waits[1], f"{where}.waits[1]"))
    typed = {"kind": kind, "rechecked": c.names(r["rechecked"], f"{where}.rechecked"),
             "waits": waits, "resumed": c.text(r["resumed"], f"{where}.resumed",
                                               optional=True),
             "enters": c.text(r["enters"], f"{where}.enters", optional=True),
             "remarks": c.names(r["remarks"], f"{where}.remarks"),
             "reads": c.names(r["reads"], f"{where}.reads"),
             "writes": c.names(r["writes"], f"{where}.writes")}
    _check_typed(c, typed, where)
    return typed


def _check_typed(c: _Checker, typed: dict, where: str) -> None:
    """The closed choices of the typed fields (a version-1 note is read into them)."""
    if typed["kind"] not in KINDS:
        c.bad(f"{where}.kind", f"must be one of {', '.join(KINDS)}, found "
                               f"{shown(typed['kind'])}")
    waits = typed["waits"]
    if waits is not None and waits[0] not in ("Wait", "WaitAny", "WaitAll", "Delay"):
        c.bad(f"{where}.waits", f"must be [Wait|WaitAny|WaitAll|Delay, [object names]], "
                                f"found {shown(list(waits))}")
    if typed["resumed"] is not None and typed["resumed"] not in RESUMED:
        c.bad(f"{where}.resumed", f"must be one of {', '.join(RESUMED)} or null, found "
                                  f"{shown(typed['resumed'])}")


__all__ = ["TraceFileError", "fields", "shown", "LIMITS", "FORMAT", "VERSION", "READS",
           "RECORD_FIELDS", "V1_RECORD_FIELDS", "MAX_FILE_BYTES", "MAX_DEPTH", "MAX_DIGITS",
           "MAX_RECORDS", "MAX_ACTIONS", "MAX_RUN_STEPS", "MAX_THREADS", "MAX_OBJECTS",
           "MAX_PROCESSES", "MAX_PARAMS", "MAX_TEXT", "MAX_TIME"]
