"""Show the real source of library code in a lesson, so the lesson cannot drift from it.

A lesson that must show a driver routine or a scenario's threads does not type them
again: it calls `show_source(fn)`, which reads the code the kit runs (inspect.getsource)
and shows it as a Python block (Markdown in Jupyter, plain text elsewhere), from its
`def` line: decorators are left out. `docstrings=False` leaves out the docstring too,
for code whose docstring says what the run will show before the learner has answered.
"""
from __future__ import annotations

import ast
import inspect
import textwrap

from ..errors import BadArgumentError


def _without_decorators(text: str) -> str:
    """The definition from its `def` or `class` line: a scenario's decorator holds the
    outcome text, which would tell the learner what the run is about to show."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(("def ", "async def ", "class ")):
            return "\n".join(lines[index:])
    return text


def _without_docstring(text: str) -> str:
    """The definition without the docstring of its first def or class."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    node = next((n for n in tree.body if isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))), None)
    if node is None or not node.body:
        return text
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return text
    lines = text.splitlines()
    return "\n".join(lines[: first.lineno - 1] + lines[first.end_lineno:])


class Source:
    """Source text that shows as a Python code block in a notebook."""

    def __init__(self, text: str, where: str):
        self.text = text
        self.where = where

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"# from {self.where}\n{self.text}"

    def _repr_markdown_(self) -> str:
        return f"*From `{self.where}`:*\n\n```python\n{self.text}\n```"


def show_source(*objects, docstrings: bool = True) -> Source:
    """The source of functions or classes from the kit, one after another. With
    `docstrings=False` each one is shown without its docstring."""
    if not objects:
        raise BadArgumentError("show_source takes at least one function or class")
    texts, places = [], []
    for obj in objects:
        # an Exercise shows its checker, a Scenario the function that builds it
        target = getattr(obj, "checker", None) or getattr(obj, "builder", None) or obj
        try:
            text = inspect.getsource(target)
            module = inspect.getmodule(target)
        except (TypeError, OSError) as error:
            raise BadArgumentError(f"show_source: no source for {obj!r} ({error})") from None
        text = _without_decorators(textwrap.dedent(text).rstrip())
        texts.append(text if docstrings else _without_docstring(text))
        name = module.__name__ if module is not None else "?"
        if name not in places:
            places.append(name)
    return Source("\n\n\n".join(texts), ", ".join(places))


__all__ = ["Source", "show_source"]
