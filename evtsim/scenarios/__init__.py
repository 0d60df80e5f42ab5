"""Ready-made scenarios: the documented patterns, built and ready to run.

Each scenario is a builder registered with `@scenario`: it takes keyword parameters
(always `policy` and `seed`, plus its own) and returns a `Machine` with its drivers,
processes and threads started. Each carries a title, the source it follows and the
outcome a learner should observe, so lessons, the lab widget, the command line and the
schedule explorer can all list and build them the same way.

    from evtsim import scenarios
    scenarios.names()                       # what there is
    m = scenarios.build("notification_broadcast", waiters=3)
    m.run()
"""
from __future__ import annotations

from typing import Any

from ..errors import BadArgumentError
from ..machine import Machine
from . import patterns, sharing, traps  # noqa: F401  (each registers its scenarios)
from .registry import REGISTRY, Scenario, scenario


def names() -> list[str]:
    """The scenario names, in the order the lessons use them."""
    return list(REGISTRY)


def get(name: str) -> Scenario:
    if name not in REGISTRY:
        raise BadArgumentError(f"there is no scenario {name!r}; choose one of "
                               f"{', '.join(REGISTRY)}")
    return REGISTRY[name]


def build(name: str, **params: Any) -> Machine:
    """Build a scenario by name: `build("notification_broadcast", waiters=5)`."""
    return get(name).build(**params)


def describe() -> str:
    """One line per scenario: its name and title."""
    return "\n".join(f"{s.name:<28} {s.title}" for s in REGISTRY.values())


__all__ = ["Scenario", "scenario", "names", "get", "build", "describe", "REGISTRY"]
