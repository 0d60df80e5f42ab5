"""The instructor's kernel routines: the only calls a trace file's `kernel` action makes.

A trace file is data, never code. A `kernel` action (`["kernel", routine, args, kwargs]`)
records a call the person at the notebook made through `m.kernel`, so a replay has to
make it again; but the routine's name comes from the file, and a name looked up freely
on the kernel surface could reach any attribute of it (`__setattr__`, `_verifier`...).
So the replay calls only the routines of `INSTRUCTOR_ROUTINES`: the ones the kit
documents for the instructor (docs/engine.md, "Trace files"). The lab's buttons call
KeSetEvent, KeResetEvent, KeClearEvent and KePulseEvent; the lessons also call
KeInitializeEvent and KeReadStateEvent. Each argument has a kind, checked before the
call: an event is named by its label and must be a KEVENT of the machine; a number must
be a whole number in its range; a flag must be true or false.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from .dispatcher import KEVENT, NotificationEvent, SynchronizationEvent
from .errors import BadArgumentError
from .namespace import MAX_NAME_CHARS

_REQUIRED = object()

# What each kind of argument may be, in words (the error messages and the docs say this).
KINDS = {
    "event": "the label of an event of the machine (a string, like \"DataReady\")",
    "event_type": f"NotificationEvent ({NotificationEvent}) or SynchronizationEvent "
                  f"({SynchronizationEvent})",
    "flag": "true or false",
    "state": "true or false (or 1 or 0)",
    "increment": "a whole number from 0 to 31 (a priority boost)",
    "label": f"a string of 1 to {MAX_NAME_CHARS:,} characters, or null",
}


class Arg(NamedTuple):
    """One parameter of an instructor routine: its Windows name, its kind, its default."""

    name: str
    kind: str
    default: Any = _REQUIRED


_EVENT = Arg("Event", "event")
_INCREMENT = Arg("Increment", "increment", 0)
_WAIT = Arg("Wait", "flag", False)

# The routines a replay may call on `m.kernel`, with their parameters in Windows order.
INSTRUCTOR_ROUTINES: dict[str, tuple[Arg, ...]] = {
    "KeInitializeEvent": (Arg("Type", "event_type"), Arg("State", "state"),
                          Arg("name", "label", None)),
    "KeSetEvent": (_EVENT, _INCREMENT, _WAIT),
    "KeResetEvent": (_EVENT,),
    "KeClearEvent": (_EVENT,),
    "KePulseEvent": (_EVENT, _INCREMENT, _WAIT),
    "KeReadStateEvent": (_EVENT,),
}


def allowed_routines() -> str:
    """The routines a `kernel` action may name, for error messages."""
    return ", ".join(INSTRUCTOR_ROUTINES)


def _kind_problem(kind: str, value: Any) -> bool:
    """True when `value` is not of the kind (checked without a machine)."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if kind == "event":
        return not (isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS)
    if kind == "event_type":
        return not (whole and value in (NotificationEvent, SynchronizationEvent))
    if kind == "flag":
        return not isinstance(value, bool)
    if kind == "state":
        return not (isinstance(value, bool) or (whole and value in (0, 1)))
    if kind == "increment":
        return not (whole and 0 <= value <= 31)
    if kind == "label":
        return not (value is None or (isinstance(value, str)
                                      and 0 < len(value) <= MAX_NAME_CHARS))
    raise AssertionError(f"no argument kind {kind!r}")


def bound(routine: Any, args: Any, kwargs: Any) -> dict[str, Any]:
    """The arguments of a recorded instructor call, by parameter name, checked against
    the table (no machine needed); BadArgumentError says what is wrong."""
    if routine not in INSTRUCTOR_ROUTINES:
        shown = repr(routine) if len(repr(routine)) <= 40 else repr(routine)[:37] + "..."
        raise BadArgumentError(f"{shown} is not an instructor routine; a trace file may "
                               f"call only {allowed_routines()}")
    params = INSTRUCTOR_ROUTINES[routine]
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise BadArgumentError(f"{routine} takes its arguments as a list and its keyword "
                               f"arguments as a JSON object")
    if len(args) > len(params):
        raise BadArgumentError(f"{routine} takes at most {len(params)} arguments "
                               f"({', '.join(p.name for p in params)}), found {len(args)}")
    values = {p.name: v for p, v in zip(params, args, strict=False)}
    names = {p.name for p in params}
    for key, value in kwargs.items():
        if key not in names:
            raise BadArgumentError(f"{routine} has no parameter {key!r}; it takes "
                                   f"{', '.join(p.name for p in params)}")
        if key in values:
            raise BadArgumentError(f"{routine}: {key} is given twice")
        values[key] = value
    for p in params:
        if p.name not in values:
            if p.default is _REQUIRED:
                raise BadArgumentError(f"{routine}: {p.name} is missing")
            continue
        if _kind_problem(p.kind, values[p.name]):
            shown = repr(values[p.name])
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise BadArgumentError(f"{routine}: {p.name} must be {KINDS[p.kind]}, "
                                   f"found {shown}")
    return values


def prepare(machine: Any, routine: Any, args: Any, kwargs: Any) -> tuple[list, dict]:
    """The live arguments of a recorded instructor call on `machine`: checked against
    the table, each event label resolved to a KEVENT of this machine (BadArgumentError
    otherwise). The positional and keyword split is kept, so the new trace records the
    call as the file did."""
    values = bound(routine, args, kwargs)
    params = INSTRUCTOR_ROUTINES[routine]
    live = dict(values)
    for p in params:
        if p.kind == "event" and p.name in live:
            found = machine.find(live[p.name])
            if not isinstance(found, KEVENT) or found.machine is not machine:
                raise BadArgumentError(f"{routine}: this machine has no event "
                                       f"{live[p.name]!r}")
            live[p.name] = found
    return [live[p.name] for p in params[:len(args)]], {key: live[key] for key in kwargs}


def call(machine: Any, routine: Any, args: Any, kwargs: Any) -> Any:
    """Make a recorded instructor call again on `machine` through `m.kernel`: only a
    routine of the table, and only once its arguments are checked (`prepare`)."""
    positional, keywords = prepare(machine, routine, args, kwargs)
    return getattr(machine.kernel, routine)(*positional, **keywords)


__all__ = ["INSTRUCTOR_ROUTINES", "Arg", "KINDS", "allowed_routines", "bound", "prepare", "call"]
