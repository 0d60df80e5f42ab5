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

import inspect
from dataclasses import dataclass, field
from typing import Callable

from ..errors import BadArgumentError


@dataclass
class Scenario:
    """A documented pattern: how to build it, where it comes from, what it shows."""

    name: str
    title: str
    source: str
    outcome: str
    builder: Callable
    defaults: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return inspect.getdoc(self.builder) or ""

    def build(self, **params):
        """A fresh Machine for this scenario (unknown parameters are refused)."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise BadArgumentError(
                f"scenario {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                f"it takes {', '.join(sorted(self.defaults))}")
        merged = {**self.defaults, **params}
        machine = self.builder(**merged)
        machine.scenario = (self.name, merged)
        machine.actions.clear()         # building is the scenario's part, not an action
        return machine

    def __call__(self, **params):
        return self.build(**params)

    def __repr__(self) -> str:
        return f"<Scenario {self.name}: {self.title}>"


REGISTRY: dict[str, Scenario] = {}


def scenario(name: str, title: str, source: str, outcome: str):
    """Register a builder; its keyword defaults become the scenario's parameters."""
    def register(builder: Callable) -> Scenario:
        defaults = {p.name: p.default for p in inspect.signature(builder).parameters.values()
                    if p.default is not inspect.Parameter.empty}
        entry = Scenario(name, title, source, outcome, builder, defaults)
        REGISTRY[name] = entry
        return entry
    return register


def names() -> list[str]:
    """The scenario names, in the order the lessons use them."""
    _load()
    return list(REGISTRY)


def get(name: str) -> Scenario:
    _load()
    if name not in REGISTRY:
        raise BadArgumentError(f"there is no scenario {name!r}; choose one of "
                               f"{', '.join(REGISTRY)}")
    return REGISTRY[name]


def build(name: str, **params):
    """Build a scenario by name: `build("notification_broadcast", waiters=5)`."""
    return get(name).build(**params)


def describe() -> str:
    """One line per scenario: its name and title."""
    _load()
    return "\n".join(f"{s.name:<28} {s.title}" for s in REGISTRY.values())


def _load() -> None:
    """Import the modules whose builders register themselves (once)."""
    from . import patterns, sharing, traps  # noqa: F401


__all__ = ["Scenario", "scenario", "names", "get", "build", "describe", "REGISTRY"]
