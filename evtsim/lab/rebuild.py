"""Building a lab's machine again and repeating what was done to it.

`buildable` tells what a lab was given (a scenario name, a Scenario, a Machine or a
build function) and how to build it again; `call_builder` calls a build function with
the policy and seed it takes. `replay_actions` repeats recorded outside actions on a
new machine with `evtsim.replay.run_actions` (the one replay of actions, for Undo and
upload alike), and `start_again` starts the lab's own `added_waiter` threads again,
which a trace alone cannot.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Generator, Mapping
from typing import Any

from .. import scenarios
from .. import trace as tracefiles
from ..api.kernel import Executive, KernelMode
from ..errors import BadArgumentError, EvtsimError
from ..machine import Machine

__all__ = ["added_waiter", "buildable", "call_builder", "replay_actions", "start_again"]

_ADDED = re.compile(r"^added\((?P<event>.*)\)(#\d+)?$")


def added_waiter(k: Any, event: Any) -> Generator[Any, Any, int]:
    """A waiter the lab added: waits once on `event` (kernel mode, no timeout)."""
    status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
    return status


def buildable(source: object) -> tuple[Callable[..., Machine] | None, Machine | None,
                                       str | None, dict[str, Any]]:
    """(build(policy, seed) -> Machine or None, machine, scenario name or None, params)."""
    if isinstance(source, str):
        source = scenarios.get(source)
    if isinstance(source, scenarios.Scenario):
        entry = source
        return None, None, entry.name, dict(entry.defaults)
    if isinstance(source, Machine):
        if source.scenario is not None:
            name, params = source.scenario
            return None, source, name, dict(params)
        return None, source, None, {"policy": source.policy.name, "seed": source.seed}
    if callable(source):
        return source, None, None, {"policy": "round_robin", "seed": 0}
    raise BadArgumentError(f"EventLab takes a scenario name (see evtsim.scenarios.names()), a "
                      f"Scenario, a Machine, or a function that builds a Machine, not "
                      f"{type(source).__name__} {source!r:.40}")


def call_builder(fn: Callable[..., Machine], policy: str, seed: int) -> Machine:
    """`fn(policy=..., seed=...)`, passing only the arguments it takes; a Machine."""
    accepted: Mapping[str, object]
    try:
        accepted = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        accepted = {}
    kwargs: dict[str, Any] = {}
    if "policy" in accepted:
        kwargs["policy"] = policy
    if "seed" in accepted:
        kwargs["seed"] = seed
    machine = fn(**kwargs)
    if not isinstance(machine, Machine):
        raise EvtsimError(f"the build function returned {type(machine).__name__}, not a "
                          f"Machine")
    return machine


def replay_actions(machine: Machine, actions: list,
                   source: str = "the lab's actions") -> Machine:
    """Repeat outside actions on a freshly built machine (used by Undo and upload).

    Each action is done by `evtsim.replay.run_actions`, the one replay of recorded
    actions (every refusal a ReplayError naming the action). `start` actions of
    threads the machine starts itself are skipped (they exist again by then); threads
    the lab added (`added_waiter`) are started again by `start_again`; any other thread
    started from outside cannot be rebuilt and raises ReplayError.
    """
    return tracefiles.run_actions(machine, list(actions), source=source,
                                  start_again=start_again)


def start_again(machine: Machine, action: tuple) -> None:
    """Start a thread the lab added (`added_waiter`) again; any other cannot be."""
    name = action[3]
    match = _ADDED.match(name)
    event = machine.find(match.group("event")) if match else None
    if match and action[2] == added_waiter.__qualname__ and event is not None:
        machine.system.start(added_waiter, event, name=f"added({match.group('event')})")
    else:
        raise tracefiles.ReplayError(
            f"thread {name} was started from outside the scenario with {action[2]}; its "
            f"code is not in the file, so this run cannot be rebuilt")
