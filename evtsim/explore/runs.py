"""One run of a scenario: build it, replay a schedule, name the state it ended in.

A run of a `Machine` is a pure function of its build and of which ready thread takes
each step, so a *schedule* is just the list of thread names chosen at each choice point
(`Machine.choices()`), and `replay(build, schedule)` gives the same run back. The
explorer keeps no machine states (it is stateless, as CHESS and loom are): every
schedule is run from a fresh `build()`, and runs are compared by `state_key(m)`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from .. import scenarios
from ..errors import BadArgumentError
from ..machine import Machine
from ..scheduler import WAITING

# --- building and replaying ------------------------------------------------------------

def _resolve_build(build, params=None):
    """A zero-argument builder and, for scenarios, how to name it in a replay line."""
    params = dict(params or {})
    if isinstance(build, str):
        scenario = scenarios.get(build)
        return partial(scenario.build, **params), _scenario_label(scenario.name, params)
    if isinstance(build, scenarios.Scenario):
        return partial(build.build, **params), _scenario_label(build.name, params)
    if params:
        raise BadArgumentError("parameters go with a scenario name, such as "
                               "replay('trap_two_sets_one_wake', schedule, fixed=True)")
    if not callable(build):
        raise BadArgumentError("build must be a function that returns a fresh Machine "
                               "(with its threads started), or a scenario name")
    return build, None


def _scenario_label(name, params):
    return (name, tuple(sorted(params.items())))


def _make(build):
    m = build()
    if not isinstance(m, Machine):
        raise BadArgumentError(f"build() must return a Machine, not {type(m).__name__}")
    return m


def _find(ready, name):
    for thread in ready:
        if thread.name == name:
            return thread
    return None


def replay(build: Callable[[], Machine] | str | scenarios.Scenario,
           schedule: Iterable[str], *, trace: bool = True, **params: Any) -> Machine:
    """Build afresh and step the threads named in `schedule`, in order.

    Returns the Machine (trace on by default), ready to plot or step further. `build`
    is a builder function, a scenario or a scenario name (then `params` are passed to
    it). A name that cannot run at its turn raises `BadArgumentError`.
    """
    build, _ = _resolve_build(build, params)
    if isinstance(schedule, str) or not hasattr(schedule, "__iter__"):
        raise BadArgumentError("a schedule is a list of thread names, such as "
                               "['producer', 'consumer1']")
    m = _make(build)
    m.tracing = trace
    for index, name in enumerate(schedule):
        ready = m.choices()
        for thread in ready:
            if thread.name == name:
                break
        else:
            now = ", ".join(t.name for t in ready) or "none (the run has ended)"
            known = any(t.name == name for t in m.threads)
            why = "" if known else " (there is no thread of that name)"
            raise BadArgumentError(
                f"step {index} of the schedule is {name!r}, which cannot run at that "
                f"point{why}. Ready threads: {now}. Was the schedule made for a "
                f"different build?")
        m.step(thread)
    return m


# --- what a run ended in ---------------------------------------------------------------

def _freeze(value, depth=0):
    """A hashable, address-free stand-in for a thread result."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 6:
        return type(value).__name__
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(((repr(k), _freeze(v, depth + 1)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(_freeze(v, depth + 1)) for v in value))
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return (type(value).__name__, name)
    return type(value).__name__


def state_key(m: Machine) -> tuple:
    """The end state of a run: every thread's state, result and error, every dispatcher
    object's signal state and waiters, and the bug check (virtual time is left out)."""
    threads = []
    for t in m.threads:
        error = None if t.error is None else (type(t.error).__name__, str(t.error))
        wait = t.wait.describe() if t.state == WAITING and t.wait is not None else None
        threads.append((t.name, t.state, _freeze(t.result), error, wait))
    objects = tuple((o.name, o.SignalState, tuple(wb.thread.name for wb in o.wait_list))
                    for o in m.dispatcher_objects)
    crash = None if m.bugcheck is None else m.bugcheck.code
    return (tuple(threads), objects, crash)
