"""Replaying a saved run: build its scenario again and repeat its outside actions.

The engine is deterministic, so the same scenario, parameters and actions give the same
records. `replay` checks that they do as it goes: after the build and after each action
the new records must equal the file's so far, so a difference is named with the action
that made it, and a replay never runs far past what the file holds. At the end the
run's time, processes, threads, objects and bug check must be the file's too.

What an action may do is bounded: a `kernel` action calls only an instructor routine
with arguments of the right kinds (`evtsim.instructor`), a `run` takes at most
MAX_RUN_STEPS steps (checked when the file is read), and the machine may grow to at most
MAX_THREADS threads and MAX_OBJECTS objects. Every refusal is a ReplayError that names
the action, with one exception the engine itself defines: a `step` the engine refused
(the thread was waiting, say). `Machine.step` records a step before it checks it, as a
refused step may still fire due timers, so a file of a real run can hold one; the replay
is refused there too and goes on, and the records check catches any difference. A step
of a thread the replay does not have is always an error. The CLI, `trace.replay` and the
lab's upload all replay through `replay`, so each says the same thing about a file.
"""
from __future__ import annotations

from typing import Any, Callable, NoReturn

from .errors import BadArgumentError, BugCheckError, EvtsimError, MachineStateError
from .instructor import prepare
from .tracecheck import MAX_OBJECTS, MAX_THREADS, V1_RECORD_FIELDS, shown
from .tracefile import SavedTrace, from_data, load, to_data, why_not_replayable

StartAgain = Callable[[Any, tuple], None]


class ReplayError(MachineStateError):
    """A saved run that cannot be replayed, or whose replay came out different."""


def apply_action(machine: Any, action: tuple | list) -> bool:
    """Do one recorded outside action (an entry of `Machine.actions`) on `machine` again.

    False for a `start` of a thread the machine does not have: the engine records the
    threads it starts itself too (a work item's worker), and those exist again by now;
    any other was started by outside code, which an action cannot carry, so the caller
    decides. A `kernel` action calls an instructor routine only (else ReplayError); one
    that bug-checks is done (it crashed the first time too). Any other refusal is raised
    as the engine raised it (MachineStateError, BadArgumentError) for the caller to judge.
    """
    kind = action[0]
    if kind == "run":
        machine.run(max_steps=action[1], until=action[2])
    elif kind == "step":
        thread = None
        if action[1] is not None:
            try:
                thread = machine.thread(action[1])
            except BadArgumentError:
                raise ReplayError(f"the replay has no thread {action[1]!r} to step") \
                    from None
        machine.step(thread)
    elif kind == "start":
        return any(t.name == action[3] for t in machine.threads)
    elif kind == "kernel":
        try:
            positional, keywords = prepare(machine, action[1], action[2], action[3])
        except BadArgumentError as error:
            raise ReplayError(str(error)) from None
        try:
            getattr(machine.kernel, action[1])(*positional, **keywords)
        except BugCheckError:
            pass                 # the instructor's call crashed it the first time too
    elif kind == "exit":
        machine.terminate_process(_process_named(machine, action[1]), action[2])
    else:
        raise ReplayError(f"{shown(list(action))} is not an action")
    return True


def _cannot_carry_code(source: str, where: str, action: tuple | list) -> NoReturn:
    raise ReplayError(f"cannot replay {source}: {where}: thread {action[3]} was started from "
                      f"outside the scenario with function {action[2]}; a trace file "
                      f"cannot carry code, so the run cannot be replayed (it can still "
                      f"be drawn and printed)")


def run_actions(machine: Any, actions: list, *, source: str = "the actions",
                expected: _Expected | None = None,
                start_again: StartAgain | None = None) -> Any:
    """Repeat outside actions on a freshly built machine, each checked (see above).

    `start_again(machine, action)` starts a thread that outside code started (the lab
    starts its own added waiters again); without it such a thread is a ReplayError.
    With `expected`, the records are compared with a file's after each action."""
    for i, action in enumerate(actions):
        where = f"actions[{i}] {shown(list(action))}"
        try:
            if not apply_action(machine, action):
                if start_again is None:
                    _cannot_carry_code(source, where, action)
                else:
                    start_again(machine, action)
        except ReplayError as error:
            text = str(error)
            raise ReplayError(text if text.startswith("cannot replay") else
                              f"cannot replay {source}: {where}: {text}") from None
        except MachineStateError as error:
            if action[0] != "step" or isinstance(error, BugCheckError):
                raise ReplayError(f"cannot replay {source}: {where} was refused this "
                                  f"time: {error}") from None
        except EvtsimError as error:
            raise ReplayError(f"cannot replay {source}: {where} was refused this time: "
                              f"{error}") from None
        if len(machine.threads) > MAX_THREADS or len(machine.dispatcher_objects) > MAX_OBJECTS:
            raise ReplayError(f"cannot replay {source}: after {where} the machine has "
                              f"{len(machine.threads):,} threads and "
                              f"{len(machine.dispatcher_objects):,} objects; a replay may "
                              f"have at most {MAX_THREADS:,} of each")
        if expected is not None:
            expected.check(machine, where)
    return machine


# What a bug check must repeat; its rule and explanation are words, which evtsim may
# improve. A version-1 file's source lines have moved since (see `_comparable`).
_BUGCHECK_FACTS = ("code", "name", "thread", "process", "time", "seq", "line")


class _Expected:
    """The file's records, compared with the replay's as they come."""

    def __init__(self, saved: SavedTrace) -> None:
        self.saved = saved
        self.v1 = saved.version == 1      # a 0.1.0 file says each step in a note only
        self.done = 0

    def check(self, machine: Any, where: str) -> None:
        mine, theirs = machine.trace, self.saved
        for k in range(self.done, min(len(mine), len(theirs))):
            a, b = _comparable(theirs[k], self.v1), _comparable(mine[k], self.v1)
            if a != b:
                raise ReplayError(f"the replay of {theirs.source} differs at step "
                                  f"{a['seq']} ({where}): the file has {a}, the replay "
                                  f"has {b}")
        if len(mine) > len(theirs):
            raise ReplayError(f"the replay of {theirs.source} has more steps than the "
                              f"file's {len(theirs):,} records ({where})")
        self.done = len(mine)

    def finish(self, machine: Any) -> None:
        """The whole run: as many records, and the same ending as the file says."""
        saved = self.saved
        if len(machine.trace) != len(saved):
            raise ReplayError(f"the replay of {saved.source} has {len(machine.trace)} "
                              f"records; the file has {len(saved)} (after its last action)")
        mine = to_data(machine)
        theirs = to_data(saved)
        for key in ("policy", "seed", "step_time", "namespace", "time", "processes",
                    "threads", "objects", "bugcheck"):
            a, b = theirs[key], mine[key]
            if key == "processes" and len(a) == len(b):
                b = [{k: p.get(k) for k in q} for p, q in zip(b, a, strict=True)]
            if key == "bugcheck" and a and b:     # the facts, not the words
                facts = _BUGCHECK_FACTS[:-1] if self.v1 else _BUGCHECK_FACTS
                a, b = ({k: d.get(k) for k in facts} for d in (a, b))
            if a != b:
                raise ReplayError(f"the replay of {saved.source} ends differently from "
                                  f"the file: its {key} is {shown(b)}, the file has "
                                  f"{shown(a)}")


def _comparable(record: Any, v1: bool) -> dict:
    """A record as a file of its version holds it. A version-1 file was written by
    evtsim 0.1.0, whose scenarios' code has been edited since: the same schedule now
    runs from other lines, so the line is left out and the note compared."""
    d = record.to_dict()
    if not v1:
        return d
    return {**{k: d[k] for k in V1_RECORD_FIELDS[:11] if k != "line"}, "note": record.note}


def build(saved: SavedTrace) -> Any:
    """The saved run's scenario, built again with its parameters (nothing done yet)."""
    from . import scenarios
    reason = why_not_replayable(saved.scenario, saved.actions)
    if reason:
        raise ReplayError(f"cannot replay {saved.source}: {reason}.")
    if saved.scenario not in scenarios.names():
        raise ReplayError(f"cannot replay {saved.source}: this evtsim has no scenario "
                          f"{saved.scenario!r} (it has {', '.join(scenarios.names())})")
    try:
        return scenarios.build(saved.scenario, **dict(saved.params or {}))
    except BadArgumentError as error:
        raise ReplayError(f"cannot replay {saved.source}: {error}") from None


def replay(trace: Any, check: bool = True, *, start_again: StartAgain | None = None) -> Any:
    """A Machine that ran the same schedule: the scenario built again, then the same
    outside actions. With `check` (default) the new trace must equal the saved one as
    it goes; otherwise ReplayError names the first step that differs and its action.
    `trace` is a SavedTrace (`evtsim.trace.load`), a path, or a Machine."""
    if isinstance(trace, (str, bytes)) or hasattr(trace, "__fspath__"):
        trace = load(trace)
    elif not isinstance(trace, SavedTrace):
        if hasattr(trace, "dispatcher_objects"):
            trace = from_data(to_data(trace), source="machine")
        else:
            raise BadArgumentError("replay takes a trace loaded with evtsim.trace.load, "
                                   "a path, or a Machine")
    machine = build(trace)
    expected = _Expected(trace) if check else None
    if expected is not None:
        expected.check(machine, "building the scenario")
    run_actions(machine, list(trace.actions), source=trace.source, expected=expected,
                start_again=start_again)
    if expected is not None:
        expected.finish(machine)
    return machine


def _process_named(machine: Any, name: str) -> Any:
    for process in machine.processes:
        if process.name == name:
            return process
    raise ReplayError(f"the replay has no process named {name!r}")


__all__ = ["ReplayError", "apply_action", "run_actions", "build", "replay"]
