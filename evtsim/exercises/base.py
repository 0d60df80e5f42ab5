"""An exercise and its feedback: one question, a checker, a hint ladder (the registry).

The lesson modules register their exercises here with `@exercise`; evtsim.exercises
finds them by id. `check(answer)` returns a `Feedback` that says plainly what is right
or wrong; the tests call the very same checker.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import BadArgumentError


@dataclass
class Feedback:
    """What the checker says about one answer."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        mark = "Right" if self.ok else "Not yet"
        return f"{mark}: {self.message}"

    def _repr_markdown_(self) -> str:
        mark = "✅ **Right.**" if self.ok else "❌ **Not yet.**"
        return f"{mark} {self.message}"


@dataclass
class Exercise:
    """One question, its checker, and a hint ladder that ends with the answer."""

    id: str
    question: str
    checker: Callable[[Any], Feedback | tuple | bool]
    hints: list[str]
    answer: str
    lesson: str = ""
    _next_hint: int = field(default=0, repr=False)

    def check(self, answer) -> Feedback:
        """Check an answer; a checker that raises still gives a plain Feedback."""
        try:
            result = self.checker(answer)
        except Exception as error:          # the learner's code may raise: say so
            return Feedback(False, f"checking your answer raised {type(error).__name__}: "
                                   f"{error}")
        if isinstance(result, Feedback):
            return result
        if isinstance(result, tuple):
            return Feedback(bool(result[0]), str(result[1]))
        return Feedback(bool(result), "" if result else "that is not it.")

    def hint(self, n: int | None = None) -> str:
        """Hint n (1-based), or the next one; after the hints comes the answer."""
        ladder = [*self.hints, f"Answer: {self.answer}"]
        if n is None:
            n = min(self._next_hint + 1, len(ladder))
            self._next_hint = n
        if not 1 <= n <= len(ladder):
            raise BadArgumentError(f"this exercise has hints 1 to {len(ladder)}")
        return ladder[n - 1]

    def show(self):
        """Show the question, with buttons for the hints when ipywidgets is there."""
        try:
            import ipywidgets as widgets
            from IPython.display import display
        except ImportError:
            print(self.question)
            return None
        question = widgets.HTML(f"<b>Exercise {self.id}.</b> {self.question}")
        shown = widgets.HTML("")
        ladder = [*self.hints, f"Answer: {self.answer}"]
        buttons = []
        for i in range(len(ladder)):
            label = f"Hint {i + 1}" if i < len(self.hints) else "Show the answer"
            button = widgets.Button(description=label, tooltip=label)

            def reveal(_button, i=i):
                shown.value = "<br>".join(ladder[: i + 1])
            button.on_click(reveal)
            buttons.append(button)
        box = widgets.VBox([question, widgets.HBox(buttons), shown])
        display(box)
        return box

    def __repr__(self) -> str:
        return f"<Exercise {self.id}: {self.question}>"


REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, question: str, hints: list[str], answer: str, lesson: str = ""):
    """Register a checker function as an exercise."""
    def register(checker):
        entry = Exercise(id, question, checker, list(hints), answer, lesson)
        REGISTRY[id] = entry
        return entry
    return register


__all__ = ["Exercise", "Feedback", "exercise", "REGISTRY"]
