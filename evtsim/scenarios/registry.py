"""The scenario registry: a builder registered with `@scenario` and what it carries.

Each scenario is a builder that takes keyword parameters (always `policy` and `seed`,
plus its own) and returns a `Machine`. It carries a title, the source it follows and the
outcome a learner should observe. The modules patterns, sharing and traps register
theirs here; evtsim.scenarios lists and builds them.
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


__all__ = ["Scenario", "scenario", "REGISTRY"]
