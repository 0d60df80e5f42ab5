"""Self-checked exercises with a hint ladder, as the lessons use them.

An exercise asks one question. The learner answers with a Python value (a number, a
list of thread names, a status code, or a function: a repaired driver routine, say).
`check(answer)` returns a `Feedback` that says plainly what is right or wrong; the
tests call the very same checker. `hint()` climbs the ladder: hint 1, hint 2, then
the answer. In a notebook `show()` draws the question with buttons for the hints;
without ipywidgets it prints text.

    from evtsim.exercises import check, get
    get("01-how-many-released").show()
    check("01-how-many-released", ["w1", "w2", "w3"])

`show_source(fn)` shows the real code of a scenario or helper in a lesson.
"""
from __future__ import annotations

from ..errors import BadArgumentError
from .base import REGISTRY, Exercise, Feedback, exercise
from .source import Source, show_source


def get(id: str) -> Exercise:
    """The exercise with this id (lesson modules load on first use)."""
    _load()
    if id not in REGISTRY:
        raise BadArgumentError(f"there is no exercise {id!r}; there are: "
                               f"{', '.join(sorted(REGISTRY))}")
    return REGISTRY[id]


def check(id: str, answer) -> Feedback:
    """Check an answer to the exercise with this id. A check cell names its exercise, so
    running it again, in any order, checks the same exercise."""
    return get(id).check(answer)


def all_exercises() -> list[Exercise]:
    _load()
    return list(REGISTRY.values())


def _load() -> None:
    """Import every lesson module in this package (each registers its exercises)."""
    import importlib
    import pkgutil
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


__all__ = ["Exercise", "Feedback", "exercise", "get", "check", "all_exercises", "REGISTRY",
           "Source", "show_source"]
