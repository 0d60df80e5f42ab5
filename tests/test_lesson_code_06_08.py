"""Lessons 06-08 run the library's code instead of typing it again.

A lesson cell may define only code the learner is meant to write or change (lesson 07's
stepping example and its three repair cells). Everything else the lessons run or show
comes from evtsim (`show_source` displays it), so the lesson and the checkers cannot
drift. The repair cells of lesson 07 must start from the very bug the level runs.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from evtsim.api.kernel import NotificationEvent
from evtsim.exercises.lesson07 import LEVELS
from evtsim.exercises.lesson08 import (open_and_wait, pulse_machine, pulse_sync_released,
                                       set_set_reset, sync_on_notification,
                                       two_drivers_one_name, waitall_machine, waitall_set)
from evtsim.status import GENERIC_EXECUTE, GENERIC_READ, SYNCHRONIZE

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# What the learner writes or changes: the stepping example and the three repairs.
LEARNER_CODE = {
    "06": set(),
    "07": {"waiter", "setter", "signaller", "producer", "driver"},
    "08": set(),
}


def code_cells(number: str) -> list[ast.Module]:
    import jupytext
    (path,) = NOTEBOOKS.glob(f"{number}-*.md")
    return [ast.parse(cell.source) for cell in jupytext.read(path).cells
            if cell.cell_type == "code"]


def definitions(number: str) -> dict[str, ast.AST]:
    found = {}
    for tree in code_cells(number):
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                found[node.name] = node
    return found


def body_without_docstring(node: ast.FunctionDef) -> str:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


@pytest.mark.parametrize("number", sorted(LEARNER_CODE))
def test_a_lesson_defines_only_the_code_the_learner_writes(number):
    extra = set(definitions(number)) - LEARNER_CODE[number]
    assert not extra, (f"lesson {number} types {sorted(extra)} itself: import it from "
                       "evtsim and show it with show_source instead")


@pytest.mark.parametrize("n", sorted(LEVELS))
def test_each_repair_cell_of_lesson_07_starts_from_the_bug_the_level_runs(n):
    level = LEVELS[n]
    cell = definitions("07")[level.routine]
    library = ast.parse(textwrap.dedent(inspect.getsource(level.buggy))).body[0]
    assert [a.arg for a in cell.args.args] == [a.arg for a in library.args.args]
    assert body_without_docstring(cell) == body_without_docstring(library), (
        f"the level {n} repair cell no longer starts from {level.buggy.__name__}")


def test_lesson_08_models_give_what_the_checkers_expect():
    assert set_set_reset() == (0, 1, 1)
    pulse = next(r for r in pulse_machine(NotificationEvent).trace if r.op == "KePulseEvent")
    assert list(pulse.released) == ["w1", "w2", "w3"]
    assert pulse_sync_released() == ["w1"]
    assert waitall_set() == (["wait_any"], ["wait_all"])
    assert waitall_machine().thread("wait_any").state == "terminated"
    m = two_drivers_one_name()
    assert m.thread("driver1").result == NotificationEvent == sync_on_notification()


def test_open_and_wait_carries_the_last_error_from_one_open_to_the_next():
    alone = open_and_wait(GENERIC_EXECUTE)
    after_a_failure = open_and_wait(GENERIC_READ, GENERIC_EXECUTE)
    assert alone[0][:2] == after_a_failure[1][:2]           # same access, same wait
    assert alone[0][2] != after_a_failure[1][2]             # the old error stays
    assert open_and_wait(GENERIC_READ | SYNCHRONIZE)[0][1] == 0
