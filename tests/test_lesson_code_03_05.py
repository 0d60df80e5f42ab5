"""Lessons 03-05 show the kit's own code; they do not type it again.

A lesson that re-types a driver routine or a scenario drifts from the library the
checks run. So lessons 03, 04 and 05 import the library objects and show them with
`show_source`; only code the learner writes or breaks on purpose stays in a cell. These
tests read the MyST sources (as jupytext does) and check that no code cell defines a
function that the library already has, and that the library code the lessons show
behaves as their text says.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from evtsim import scenarios
from evtsim.errors import BadArgumentError
from evtsim.exercises import get, lesson03, lesson04, lesson05, show_source
from evtsim.scenarios import patterns, sharing, traps
from evtsim.status import (ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE, STATUS_SUCCESS,
                           WAIT_OBJECT_0)

ROOT = Path(__file__).resolve().parent.parent
LESSONS = {"03": lesson03, "04": lesson04, "05": lesson05}


def lesson_source(number: str) -> Path:
    [path] = sorted((ROOT / "notebooks").glob(f"{number}-*.md"))
    return path


def code_cells(number: str) -> list[str]:
    """The code cells of a lesson, IPython magics left out so that ast can read them."""
    import jupytext
    notebook = jupytext.read(lesson_source(number))
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            cells.append("\n".join(ln for ln in lines if not ln.lstrip().startswith("%")))
    return cells


def defined_functions(tree: ast.AST) -> list[ast.FunctionDef]:
    """Every function defined in a tree, nested ones too."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [n for n in ast.walk(tree) if isinstance(n, kinds)]


def body_shape(fn: ast.FunctionDef) -> str:
    """A function's body without its docstring, as ast.dump: two functions with the same
    shape are the same code typed twice."""
    body = fn.body
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def library_functions() -> dict[str, list[str]]:
    """Body shape -> where, for every function in the scenario and lesson modules."""
    modules = [lesson03, lesson04, lesson05, sharing, patterns, traps]
    shapes: dict[str, list[str]] = {}
    for module in modules:
        tree = ast.parse(inspect.getsource(module))
        for fn in defined_functions(tree):
            shapes.setdefault(body_shape(fn), []).append(f"{module.__name__}.{fn.name}")
    return shapes


@pytest.mark.parametrize("number", sorted(LESSONS))
def test_no_lesson_cell_redefines_a_function_of_its_library_module(number):
    module = LESSONS[number]
    own = {name for name, obj in vars(module).items()
           if inspect.isfunction(obj) and obj.__module__ == module.__name__}
    own |= {name for name, obj in vars(sharing).items()
            if inspect.isfunction(obj) and obj.__module__ == sharing.__name__}
    for source in code_cells(number):
        for fn in defined_functions(ast.parse(source)):
            assert fn.name not in own, (
                f"lesson {number} defines {fn.name}, which {module.__name__} or "
                f"evtsim.scenarios.sharing already has: import it and show_source it")


@pytest.mark.parametrize("number", sorted(LESSONS))
def test_no_lesson_cell_retypes_library_code(number):
    shapes = library_functions()
    for source in code_cells(number):
        for fn in defined_functions(ast.parse(source)):
            same = shapes.get(body_shape(fn))
            assert not same, f"lesson {number}: {fn.name} is a copy of {same}"


def test_lessons_show_the_library_code_they_teach():
    cells = {n: "\n".join(code_cells(n)) for n in LESSONS}
    assert "show_source(waiter)" in cells["03"]
    assert ("show_source(DriverEntry, DispatchDeviceControl, HardwareDpc, DispatchCleanup)"
            in cells["04"])
    assert "show_source(app_main, build)" in cells["04"]
    for name in ("driverstudio_tip", "driver_created_event", "boot_start_driver"):
        assert f'show_source(scenarios.get("{name}")' in cells["05"]
    for retyped in ("KEvent(", "IoCreateNotificationEvent(", "CTL_CODE("):
        assert retyped not in cells["05"], retyped
    assert "CTL_CODE(" not in cells["04"] and "KEEP_REFERENCE" not in cells["04"]


def test_show_source_gives_the_code_the_lessons_name():
    text = str(show_source(lesson04.DriverEntry, lesson04.DispatchDeviceControl,
                           lesson04.HardwareDpc, lesson04.DispatchCleanup))
    for name in ("DriverEntry", "DispatchDeviceControl", "HardwareDpc", "DispatchCleanup"):
        assert f"def {name}(" in text
    assert "def waiter(k, event):" in str(show_source(lesson03.waiter))
    assert "KEvent(KUstring" in str(show_source(scenarios.get("driverstudio_tip")))


# --- the library code behaves as the lessons say ------------------------------------------
def late_waiter_state(cleared: bool) -> str:
    from evtsim import Machine
    from evtsim.api.kernel import NotificationEvent
    m = Machine()
    event = m.kernel.KeInitializeEvent(NotificationEvent, False, name="DataReady")
    m.kernel.KeSetEvent(event, 0, False)
    if cleared:
        m.kernel.KeClearEvent(event)
    late = m.system.start(lesson03.waiter, event, name="late")
    m.run()
    return late.state


def test_03_a_late_waiter_passes_until_the_event_is_cleared():
    assert late_waiter_state(cleared=False) == "terminated"
    assert late_waiter_state(cleared=True) == "waiting"


@pytest.mark.parametrize("send, result", [("event", (True, WAIT_OBJECT_0)),
                                          ("wait only", (False, ERROR_ACCESS_DENIED)),
                                          ("device", (False, ERROR_INVALID_HANDLE))])
def test_04_the_app_gets_what_the_lesson_says(send, result):
    m = lesson04.build(send=send)
    assert m.run().reason == "done"
    assert m.find("main").result == result
    assert m.bugcheck is None


def test_04_an_app_that_exits_early_leaves_no_reference_and_no_dpc():
    m = lesson04.build(then="exit")
    assert m.run().reason == "done" and m.bugcheck is None
    assert not [r for r in m.trace if r.op == "KeSetEvent"]
    event = m.find("AppEvent")
    assert event.header.deleted


def test_04_the_shown_dispatch_routine_is_a_right_answer_of_04_dispatch():
    feedback = get("04-dispatch").check(lesson04.DispatchDeviceControl)
    assert feedback.ok, feedback.message


def test_04_a_dispatch_routine_that_drops_its_reference_lets_the_dpc_touch_freed_memory():
    from evtsim.api.kernel import IO_NO_INCREMENT, ExEventObjectType
    from evtsim.status import EVENT_MODIFY_STATE

    def check_only(k, device, irp):
        ext = device.DeviceExtension
        status, event = yield k.ObReferenceObjectByHandle(
            irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
        if status == STATUS_SUCCESS:
            ext["Event"] = event
            yield k.ObDereferenceObject(event)
            yield k.KeSetTimer(ext["Timer"], -10 * lesson04.MS, ext["Dpc"])
        irp.IoStatus.Status = status
        yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
        return status

    m = lesson04.build(then="close event", dispatch=check_only)
    m.run()
    assert m.bugcheck is not None and m.bugcheck.code == 0xCC


def test_04_build_refuses_a_choice_it_does_not_know():
    with pytest.raises(BadArgumentError):
        lesson04.build(send="the name")
    with pytest.raises(BadArgumentError):
        lesson04.build(then="sleep")


def test_05_the_tip_wakes_the_app_on_nt4_and_waits_for_ever_on_a_modern_windows():
    m = scenarios.build("driverstudio_tip", namespace="nt4")
    assert m.run().reason == "done" and m.thread("main").result == WAIT_OBJECT_0
    m = scenarios.build("driverstudio_tip", namespace="modern")
    assert m.run().reason == "deadlock" and m.thread("main").state == "waiting"


def test_body_shape_ignores_the_docstring_only():
    a = ast.parse(textwrap.dedent('''
        def f(k):
            """Why."""
            yield k.KeSetEvent(e, 0, False)
        ''')).body[0]
    b = ast.parse("def g(k):\n    yield k.KeSetEvent(e, 0, False)\n").body[0]
    c = ast.parse("def h(k):\n    yield k.KeClearEvent(e)\n").body[0]
    assert body_shape(a) == body_shape(b) != body_shape(c)
