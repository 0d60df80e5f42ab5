"""Counting classes by brute force: every interleaving, each named by its canonical form.

What DPOR promises can be checked: run every schedule (as "dfs" does), turn each run
into its events with the same `independence` rules and clock barriers DPOR uses, and
name its class by `dpor.canonical`. Optimal DPOR must run exactly one schedule per
distinct class, and reach the same end states. Only for small models: the work grows
with the number of interleavings. Used by the tests and `bench/explore.py`.
"""
from __future__ import annotations

from .dpor import canonical, robust
from .execution import choice_point, replay_prefix
from .independence import Footprints, Places
from .runs import _find, state_key


class Classes:
    """The result of `count_classes`: schedules run, classes and end states seen."""

    def __init__(self) -> None:
        self.schedules = 0
        self.classes: dict = {}         # canonical form -> the first schedule in it
        self.end_states: set = set()
        self.timeouts_close = False     # see dpor.robust
        self.delays_close = False

    def __repr__(self) -> str:
        return (f"<Classes {len(self.classes)} classes in {self.schedules} schedules, "
                f"{len(self.end_states)} end states>")


def count_classes(build, max_steps: int = 200, max_schedules: int = 200_000,
                  strict: bool = False) -> Classes:
    """Every schedule of `build` (depth first), with its class and end state."""
    places = Places()
    footprints = Footprints(places, strict=strict)
    out = Classes()

    def walk(prefix: list[str]) -> None:
        if out.schedules >= max_schedules:
            raise RuntimeError(f"more than {max_schedules} schedules")
        m, events, barriers, jumps = _run(build, prefix, footprints)
        ready = [t.name for t in m.choices()]
        if not ready or len(prefix) >= max_steps:
            out.schedules += 1
            key = canonical(events, frozenset(barriers))
            out.classes.setdefault(key, list(prefix))
            out.end_states.add(state_key(m))
            timeouts, delays = robust(jumps, len(prefix), m.step_time)
            out.timeouts_close |= timeouts
            out.delays_close |= delays
            return
        for name in ready:
            walk(prefix + [name])

    walk([])
    return out


class _Jump:
    """What `dpor.robust` reads of a choice point."""

    __slots__ = ("jump",)

    def __init__(self, jump) -> None:
        self.jump = jump


def class_of(build, schedule: list[str], places: Places, strict: bool = False) -> tuple:
    """The canonical form of `schedule`'s class (`dpor.canonical`), its places numbered
    by `places` (compare only forms made with the same `places`)."""
    _, events, barriers, _ = _run(build, schedule, Footprints(places, strict=strict))
    return canonical(events, frozenset(barriers))


def observe(build, schedule: list[str], places: Places | None = None,
            strict: bool = False) -> tuple:
    """Run `schedule` with every step observed: (m, events, places). For tests and for
    people who want to see what each step read and wrote (`places.decode(event.w)`)."""
    places = places or Places()
    m, events, _, _ = _run(build, schedule, Footprints(places, strict=strict))
    return m, events, places


def _run(build, schedule: list[str], footprints: Footprints):
    """Run `schedule` with every step observed: (m, events, barrier indices, jumps)."""
    m, _ = replay_prefix(build, schedule, 0)
    m.tracing = True
    footprints.begin(m)
    events = []
    barriers = []
    jumps = []
    woken: frozenset = frozenset()
    for index, name in enumerate(schedule):
        ready, jump = choice_point(m)
        jumps.append(_Jump(jump))
        if jump is not None:
            if jump[1] > jump[0]:
                barriers.append(index)
            elif jump[4]:
                woken = woken | jump[4]
        thread = _find(ready, name)
        if thread is None:
            raise ValueError(f"step {index}: {name!r} is not ready")
        events.append(footprints.step(m, thread, woken))
        woken = woken - {name}
    return m, events, barriers, jumps
