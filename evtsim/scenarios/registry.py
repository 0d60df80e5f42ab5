"""The scenario registry: a builder registered with `@scenario` and what it carries.

Each scenario is a builder that takes keyword parameters (always `policy` and `seed`,
plus its own) and returns a `Machine`. It carries a title, the source it follows and the
outcome a learner should observe. The modules patterns, sharing and traps register
theirs here; evtsim.scenarios lists and builds them. Every parameter is checked before
anything is built: it must have the type of its default (a whole number, True/False or a
string) and lie in the limits of `RULES`, so a wrong value gets a plain
BadArgumentError that says what is allowed, never a traceback from deep inside. Every
whole-number parameter must have its range in RULES (a builder without one is refused
when it registers), so no number, from a notebook, `--param` or a trace file, is
unbounded: `waiters=10**8` is refused before anything is built.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from ..errors import BadArgumentError
from ..namespace import MAX_NAME_CHARS
from ..scheduler import POLICIES

if TYPE_CHECKING:
    from ..machine import Machine


class Rule(NamedTuple):
    """What one scenario parameter may be: a range of whole numbers, or some choices."""

    means: str                          # what the parameter is, in words
    low: int | None = None              # whole numbers: the smallest allowed
    high: int | None = None             # ... and the largest (keeps a notebook quick)
    choices: tuple | None = None        # strings: the allowed ones (None: any string)
    longest: int | None = None          # strings: the most characters


# The limits of every parameter the scenarios take (docs/engine.md lists them too).
RULES: dict[str, Rule] = {
    "policy": Rule("the scheduling policy", choices=tuple(POLICIES)),
    "seed": Rule("the seed of the random policy", 0, 2**31 - 1),
    "waiters": Rule("how many threads wait on the event", 1, 64),
    "rounds": Rule("how many times each driver uses the hardware", 1, 50),
    "due_ms": Rule("when the hardware timer fires, in milliseconds", 0, 60_000),
    "namespace": Rule("which Windows namespace the machine has", choices=("modern", "nt4")),
    "create_in": Rule("where the driver creates the event",
                      choices=("DriverEntry", "dispatch")),
    "app_name": Rule("the name the app passes to CreateEvent", longest=MAX_NAME_CHARS),
}
# A string parameter with no rule of its own still has its default's type checked and
# this length. A whole-number parameter must have its rule above: `scenario` refuses to
# register one without it, so no number a file or --param gives is ever unbounded.
_ANY_TEXT = Rule("a text", longest=MAX_NAME_CHARS)


def _bounded(name: str, default) -> bool:
    """Whether a parameter's values are bounded: a flag, a string, or a whole number
    with a range in RULES."""
    if isinstance(default, int) and not isinstance(default, bool):
        rule = RULES.get(name)
        return rule is not None and rule.low is not None and rule.high is not None
    return True


def allowed(name: str, default) -> str:
    """What `name` may be, in words: `a whole number from 1 to 64`, `True or False`..."""
    rule = RULES.get(name)
    if isinstance(default, bool):
        return "True or False"
    if isinstance(default, int):
        assert rule is not None and rule.low is not None and rule.high is not None, \
            f"the parameter {name} has no range in RULES"
        return f"a whole number from {rule.low:,} to {rule.high:,} ({rule.means})"
    rule = rule or _ANY_TEXT
    if rule.choices is not None:
        return "one of " + ", ".join(repr(c) for c in rule.choices) + f" ({rule.means})"
    return f"a string of at most {rule.longest:,} characters ({rule.means})"


def problem(name: str, value, default) -> str | None:
    """Why `value` is not allowed for the parameter `name` (None if it is)."""
    rule = RULES.get(name)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        assert rule is not None, f"the parameter {name} has no rule in RULES"
        low, high = rule.low, rule.high
        assert low is not None and high is not None, f"the rule for {name} has no range"
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    elif isinstance(default, str):
        rule = rule or _ANY_TEXT
        if not isinstance(value, str):
            ok = False
        elif rule.choices is not None:
            ok = value in rule.choices
        else:
            assert rule.longest is not None, f"the rule for {name} has no length"
            ok = len(value) <= rule.longest
    else:
        return None                     # a default of another kind: the builder checks
    if ok:
        return None
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{name}={shown} is not allowed: {name} must be {allowed(name, default)}"


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

    def check(self, params: dict) -> None:
        """Refuse unknown or wrong parameters at once, naming each and what is allowed."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise BadArgumentError(
                f"scenario {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                f"it takes {', '.join(sorted(self.defaults))}")
        problems = [p for p in (problem(k, v, self.defaults[k]) for k, v in params.items())
                    if p is not None]
        if problems:
            raise BadArgumentError(f"scenario {self.name!r}: " + "; ".join(problems) + ".")

    def build(self, **params: Any) -> Machine:
        """A fresh Machine for this scenario (unknown or wrong parameters are refused)."""
        self.check(params)
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


def scenario(name: str, title: str, source: str,
             outcome: str) -> Callable[[Callable], Scenario]:
    """Register a builder; its keyword defaults become the scenario's parameters."""
    def register(builder: Callable) -> Scenario:
        defaults = {p.name: p.default for p in inspect.signature(builder).parameters.values()
                    if p.default is not inspect.Parameter.empty}
        unbounded = [k for k, v in defaults.items() if not _bounded(k, v)]
        if unbounded:
            raise TypeError(f"scenario {name!r}: the whole-number parameter "
                            f"{unbounded[0]!r} has no limits; add its Rule to RULES in "
                            f"evtsim/scenarios/registry.py (and to docs/engine.md)")
        entry = Scenario(name, title, source, outcome, builder, defaults)
        REGISTRY[name] = entry
        return entry
    return register


__all__ = ["Scenario", "scenario", "REGISTRY", "RULES", "Rule", "allowed", "problem"]
