"""Lessons 00-02 import the kit's code instead of typing it again.

A lesson cell that re-typed a scenario's thread or an exercise helper could drift from
the code the kit runs and the checkers use. So the lessons import `waiter`, `setter`,
`build`, the scenario `hardware_lock` and `hasty_driver`, and show them with
`show_source`. These tests check that no lesson cell defines a function that the
library already has (an answer cell, which the learner edits, may), and that the
shared pieces behave as the lessons say.
"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from evtsim import scenarios
from evtsim.api.kernel import NotificationEvent, SynchronizationEvent
from evtsim.exercises import get, lesson00, lesson01, lesson02
from evtsim.machine import Machine
from evtsim.scenarios import patterns

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = {"00": "00-start-here", "01": "01-signaled-state-and-waiting",
           "02": "02-io-create-synchronization-event"}
LIBRARY = (patterns, lesson00, lesson01, lesson02)


def library_functions() -> set[str]:
    """The module-level functions of the modules these lessons mirror."""
    return {name for module in LIBRARY for name, obj in vars(module).items()
            if inspect.isfunction(obj) and obj.__module__ == module.__name__}


def code_cells(lesson: str) -> list[str]:
    import jupytext
    notebook = jupytext.read(NOTEBOOKS / f"{LESSONS[lesson]}.md")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def defined_functions(source: str) -> set[str]:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("%")]
    tree = ast.parse("\n".join(lines))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_no_lesson_cell_retypes_a_library_function(lesson):
    known = library_functions()
    for source in code_cells(lesson):
        if "check(" in source:
            continue                      # the learner's answer cell: theirs to write
        retyped = defined_functions(source) & known
        assert not retyped, (f"{LESSONS[lesson]}.md defines {sorted(retyped)} again; "
                             f"import it and show it with show_source:\n{source}")


@pytest.mark.parametrize("lesson,shown", [
    ("00", ["waiter"]),
    ("01", ["waiter", "setter", "build"]),
    ("02", ['scenarios.get("hardware_lock")', "hasty_driver"]),
])
def test_the_lesson_shows_the_real_source_of_what_it_runs(lesson, shown):
    calls = [s for s in code_cells(lesson) if "show_source(" in s]
    text = "\n".join(calls)
    for name in shown:
        assert name in text, f"{LESSONS[lesson]}.md does not show the source of {name}"


def test_the_lesson_01_checkers_run_the_lessons_machine():
    released, state, machine = lesson01.one_set(NotificationEvent)
    assert [t.name for t in machine.threads] == ["w1", "w2", "w3", "setter"]
    assert all(t.gen.gi_code is lesson00.waiter.__code__ for t in machine.threads[:3])
    assert (released, state) == (["w1", "w2", "w3"], 1)
    assert lesson01.one_set(SynchronizationEvent)[:2] == (["w1"], 0)


def test_hardware_lock_without_the_lock_lets_both_drivers_in():
    with_lock = scenarios.build("hardware_lock")
    with_lock.run()
    without = scenarios.build("hardware_lock", use_lock=False)
    without.run()
    assert with_lock.hardware["overlaps"] == 0
    assert without.hardware["overlaps"] > 0
    ops = {r.op for r in without.trace}
    assert "KeWaitForSingleObject" not in ops and "KeSetEvent" not in ops


def test_hasty_driver_is_what_the_02_irql_checker_runs():
    machine = Machine()
    machine.system.start(lesson02.hasty_driver, name="hasty")
    assert machine.run().reason == "bugcheck"
    assert get("02-irql").check(machine.bugcheck.code).ok
