"""An exercise and its feedback: one question, a checker, a hint ladder (the registry).

The lesson modules register their exercises here with `@exercise`; evtsim.exercises
finds them by id. `check(answer)` returns a `Feedback` that says plainly what is right
or wrong; the tests call the very same checker. Questions, hints and feedback are plain
text (code in Markdown backticks), so they read the same printed and in the widget.
An exercise may name its `starter`: the code the lesson's answer cell starts with. A
cell that still holds it gets "change it first", not a verdict that gives the answer away.
"""
from __future__ import annotations

import ast
import html
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import BadArgumentError

UNTOUCHED = ("This is still the code the lesson gave you. Change it above as the "
             "question asks, then run this cell again.")
NO_ANSWER = "Write your answer in place of None, then run the cell again."


@dataclass
class Feedback:
    """What the checker says about one answer."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        mark = "Right." if self.ok else "Not yet."
        return f"{mark} {self.message}"

    def _repr_markdown_(self) -> str:
        mark = "✅ **Right.**" if self.ok else "❌ **Not yet.**"
        return f"{mark} {self.message}"


def as_html(text: str) -> str:
    """Plain text with `code` spans as HTML for the widget: escaped, code in <code>,
    line breaks kept."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return escaped.replace("\n", "<br>")


def _shape(source: str) -> str | None:
    """A function's parameters and body without its name and docstring, as ast.dump:
    two functions with the same shape are the same code."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if fn is None:
        return None
    body = fn.body
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        body = body[1:]
    return ast.dump(fn.args) + ast.dump(ast.Module(body=body, type_ignores=[]))


def _source_of(obj) -> str | None:
    if isinstance(obj, str):
        return obj
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError):
        return None


@dataclass
class Exercise:
    """One question, its checker, and a hint ladder that ends with the answer."""

    id: str
    question: str
    checker: Callable[[Any], Feedback | tuple | bool]
    hints: list[str]
    answer: str
    lesson: str = ""
    starter: str | Callable | None = None
    none_is_answer: bool = False
    _next_hint: int = field(default=0, repr=False)

    def untouched(self, answer) -> bool:
        """True if `answer` is a function with the same code as the lesson's starter."""
        if self.starter is None or not callable(answer):
            return False
        mine, theirs = _source_of(answer), _source_of(self.starter)
        if mine is None or theirs is None:
            return False
        shape = _shape(mine)
        return shape is not None and shape == _shape(theirs)

    def check(self, answer) -> Feedback:
        """Check an answer; a checker that raises still gives a plain Feedback."""
        if answer is None and not self.none_is_answer:
            return Feedback(False, NO_ANSWER)
        if self.untouched(answer):
            return Feedback(False, UNTOUCHED)
        try:
            result = self.checker(answer)
        except Exception as error:          # the learner's code may raise: say so
            return Feedback(False, f"Checking your answer raised {type(error).__name__}: "
                                   f"{error}")
        if isinstance(result, Feedback):
            return result
        if isinstance(result, tuple):
            return Feedback(bool(result[0]), str(result[1]))
        return Feedback(bool(result), "" if result else "That is not it.")

    def ladder(self) -> list[str]:
        """The hints, then the answer: plain text."""
        return [*self.hints, f"Answer: {self.answer}"]

    def hint(self, n: int | None = None) -> str:
        """Hint n (1-based), or the next one; after the hints comes the answer."""
        ladder = self.ladder()
        if n is None:
            n = min(self._next_hint + 1, len(ladder))
            self._next_hint = n
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(ladder):
            raise BadArgumentError(f"this exercise has hints 1 to {len(ladder)}; "
                                   f"write hint(1), for example")
        return ladder[n - 1]

    def show(self) -> None:
        """Show the question, with buttons for the hints when ipywidgets is there."""
        try:
            import ipywidgets as widgets
            from IPython.display import display
        except ImportError:
            print(f"Exercise {self.id}. {self.question}")
            return None
        question = widgets.HTML(f"<b>Exercise {self.id}.</b> {as_html(self.question)}")
        shown = widgets.HTML("")
        ladder = self.ladder()
        buttons = []
        for i in range(len(ladder)):
            label = f"Hint {i + 1}" if i < len(self.hints) else "Show the answer"
            button = widgets.Button(description=label, tooltip=label)

            def reveal(_button, i=i):
                shown.value = "<br>".join(as_html(step) for step in ladder[: i + 1])
            button.on_click(reveal)
            buttons.append(button)
        box = widgets.VBox([question, widgets.HBox(buttons), shown])
        display(box)
        return box

    def __repr__(self) -> str:
        return f"<Exercise {self.id}: {self.question}>"


REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, question: str, hints: list[str], answer: str, lesson: str = "",
             starter: str | Callable | None = None,
             none_is_answer: bool = False) -> Callable[[Callable], Exercise]:
    """Register a checker function as an exercise. `starter` is the code (source text or
    a function) that the lesson's answer cell starts with, if the answer is code. An
    answer None means "not answered yet", unless `none_is_answer` (a NULL, a timeout)."""
    def register(checker: Callable) -> Exercise:
        entry = Exercise(id, question, checker, list(hints), answer, lesson, starter,
                         none_is_answer)
        REGISTRY[id] = entry
        return entry
    return register


__all__ = ["Exercise", "Feedback", "exercise", "REGISTRY", "UNTOUCHED", "NO_ANSWER",
           "as_html"]
