"""The learner's loop in the lessons: predict, act, get a verdict that does not depend on
the order the cells ran in, and see no answer before answering.

- `check(id, answer)`: a check cell names its exercise, so it checks that exercise in
  whatever order the cells run (issue: right answers marked wrong after Run All).
- Each lesson runs top to bottom with nbclient (as tests/test_notebooks.py runs it);
  then every check cell and every show cell runs again in the same kernel and must
  print exactly what it printed the first time.
- No text a cell printed before an exercise's check cell contains that exercise's
  answer, where the answer is a distinctive value (SPOILERS below), and no check cell
  left as the lesson gives it prints any answer.
- Questions, hints and feedback are plain text; feedback starts with a capital letter;
  an answer cell that still holds the lesson's code asks for a change; level 3 of
  lesson 07 refuses a repair that leaks its handle, as lesson 02 does.
"""
import ast
import dataclasses
import functools
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

from evtsim.api.kernel import Executive, KernelMode
from evtsim.errors import BadArgumentError
from evtsim.exercises import all_exercises, check, get
from evtsim.exercises.base import NO_ANSWER, UNTOUCHED, as_html
from evtsim.exercises.lesson07 import LEVELS, LOCK_NAME, good_driver

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_notebooks import (ADDRESS, CELL_TIMEOUT, NOTEBOOK_DIR, kernel_env,  # noqa: E402
                            run_notebook, text_outputs)

LESSONS = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if re.match(r"\d\d-", p.name))
CHECKS = re.compile(r'\bcheck\("(\d\d-[^"]+)"')
SHOWS = re.compile(r'\bget\("(\d\d-[^"]+)"\)\.show\(\)')


# --- check(id, answer) ----------------------------------------------------------------
def test_check_names_its_exercise_so_running_others_first_changes_nothing():
    first = get("01-how-many-released")
    wrong_then = check("01-how-many-released", ["w1", "w2", "w3"])
    for other in all_exercises():          # as if Run All had shown every other exercise
        other.check(None)
    assert check("01-how-many-released", ["w1", "w2", "w3"]) == wrong_then
    assert wrong_then == first.check(["w1", "w2", "w3"])


def test_check_of_an_unknown_exercise_says_which_exist():
    with pytest.raises(BadArgumentError, match="there is no exercise '99-none'; there are: 00-"):
        check("99-none", 1)


# --- the lessons, run as a learner runs them ------------------------------------------
def shown(cell) -> str:
    """What a code cell showed as text: streams, text/markdown and text/plain results,
    with memory addresses masked. Back-to-back pieces of one stream count as one: how a
    kernel cuts its output into messages depends on the machine's load, not the lesson."""
    parts = []
    last_stream = None
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            if last_stream == out.name:
                parts[-1] += out.text
            else:
                parts.append(f"[{out.name}]{out.text}")
            last_stream = out.name
            continue
        last_stream = None
        if out.output_type == "error":
            parts.append(f"[error]{out.ename}: {out.evalue}")
        else:
            data = out.get("data", {})
            parts.extend(data[kind] for kind in ("text/markdown", "text/plain") if kind in data)
    return ADDRESS.sub("0x…", "\n".join(parts))


def run_all_then_again(nb, again):
    """Run every code cell of `nb` in order in one kernel, then run the cells whose
    indexes are in `again` once more. Returns (text after Run All per code cell index,
    text of the second run per index in `again`, Run All's text as test_notebooks
    compares it)."""
    from nbclient import NotebookClient
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    with client.setup_kernel(env=kernel_env()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        first = {i: shown(c) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
        streams = text_outputs(nb)
        second = {}
        for index in again:
            client.execute_cell(nb.cells[index], index)
            second[index] = shown(nb.cells[index])
    return first, second, streams


def check_and_show_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and ("check(" in c.source or SHOWS.search(c.source))]


@functools.lru_cache(maxsize=None)
def lesson_run_with_text(name: str):
    """One Run All of a lesson, then its check and show cells again:
    (cells, first, again, Run All's text per code cell)."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    again = check_and_show_cells(nb)
    first, second, streams = run_all_then_again(nb, again)
    return nb.cells, first, second, streams


def lesson_run(name: str):
    """One Run All of a lesson, then its check and show cells again: (cells, first, again)."""
    return lesson_run_with_text(name)[:3]


@pytest.mark.notebook
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_top_to_bottom_twice_with_the_same_text(path):
    """A second Run All in a fresh kernel prints what the first printed (the first is
    this file's cached run; tests/test_notebooks.py does the same for the other notebooks)."""
    first = lesson_run_with_text(path.name)[3]
    second, failure = run_notebook(path)
    if failure:
        pytest.fail(f"{path.name} failed on its second run:\n{failure}", pytrace=False)
    for i, (a, b) in enumerate(zip(first, text_outputs(second))):
        assert a == b, f"{path.name}: code cell {i} printed something else the second time"


@pytest.mark.notebook
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_check_and_show_cell_prints_the_same_when_run_again_after_run_all(path):
    cells, first, again = lesson_run(path.name)
    assert any(CHECKS.search(cells[i].source) for i in again), f"{path.name}: no check cell"
    assert any(SHOWS.search(cells[i].source) for i in again), f"{path.name}: no show cell"
    errors = [i for i, text in first.items() if "[error]" in text]
    assert not errors, f"{path.name}: cells {errors} raised"
    for index, text in again.items():
        assert text == first[index], (
            f"{path.name}: cell {index} printed something else when run again after Run "
            f"All:\n{cells[index].source}\n--- first:\n{first[index]}\n--- again:\n{text}")


def test_every_check_cell_names_its_exercise_and_no_cell_keeps_one_in_a_variable():
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert not re.search(r"\bex\s*=\s*get\(", cell.source), (path.name, cell.source)
            if "check(" in cell.source:
                assert CHECKS.search(cell.source), (path.name, cell.source)


@pytest.mark.notebook
def test_the_rerun_test_would_see_a_check_cell_that_depends_on_another_cell():
    """The harness can fail: a lesson written the old way (`ex = get(...)` in the show
    cell, `ex.check(...)` in the check cell) prints something else when its first check
    cell runs again after Run All."""
    from nbformat.v4 import new_code_cell, new_notebook
    nb = new_notebook(cells=[
        new_code_cell('from evtsim.exercises import get\nex = get("01-how-many-released")'),
        new_code_cell('ex.check(["w1", "w2", "w3"])'),
        new_code_cell('ex = get("01-sync-released")'),
        new_code_cell('ex.check(["w1"])'),
    ])
    first, again, _ = run_all_then_again(nb, [1])
    assert "Right" in first[1] and "Right" not in again[1]


# --- no spoilers ------------------------------------------------------------------------
# Text that gives an exercise's answer away, as the lesson's own cells print it. Only
# exercises whose answer is a distinctive value are here (a letter or a bare 1 is not).
SPOILERS = {
    "01-how-many-released": ["released ['w1', 'w2', 'w3']", "releases w1, w2, w3"],
    "01-sync-released": ["released ['w1']", "releases w1;"],
    "01-state-after": ["state after: ", "state of Go at the end: "],
    "02-irql": ["0xC4"],
    "02-null": ["(None, None)"],
    "03-clear-vs-reset": ["KeClearEvent ->", "KeClearEvent   -> None"],
    "04-failures": ["STATUS_INVALID_HANDLE", "STATUS_OBJECT_TYPE_MISMATCH"],
    "05-session-path": [r"\Sessions\1\BaseNamedObjects\SynchEvent",
                        "SynchEvent  Event (Synchronization, state 0"],
    "05-global-name": [r"Global\SynchEvent"],
    "05-standard-user": ["ERROR_ACCESS_DENIED"],
    "05-admin-rights": ["admin {'SYNCHRONIZE': 'opened'"],
    "05-create-in-dispatch": ["dispatch     open to wait: ok"],
    "05-boot-start": ["(None, None)"],
    "06-pulse-before-wait": ["['signaller', 'waiter']"],
    "06-two-sets": ["consumer2 (app.exe) waits on Wait(ItemReady)"],
    "06-dispatch-timeout": ["the poll returned"],
    "06-leaked-reference": ["pointers=1"],
    "06-leaked-handle": ["EvtsimLeak  Event"],
    **{f"07-level{n}-break": [str(ast.literal_eval(get(f"07-level{n}-break").answer)),
                              "The schedule: ["] for n in LEVELS},
    "07-level1-repair": ["yield k.KeSetEvent(work, 0, False)"],
    "07-level2-repair": ["yield k.KeWaitForSingleObject(taken"],
    "07-level3-repair": ["yield k.IoCreateSynchronizationEvent(LOCK_NAME)"],
    "08-keset-return": ["second KeSetEvent returns 1"],
    "08-pulse-sync": ["released: ['w1']"],
    "08-waitall-recheck": ["wakes wait_all to re-check"],
    "08-type-not-checked": ["asked for synchronization, got NotificationEvent"],
    "08-dispatch-stop-code": ["0xc4", "0xC4"],
    "08-generic-read": ["GENERIC_READ | SYNCHRONIZE"],
}


def spoilers_before_checks(cells, texts) -> list[str]:
    """For each check cell, the earlier outputs that hold its exercise's answer; and any
    check cell whose own output holds an answer (of any exercise)."""
    found, printed = [], []
    every = [(ex_id, marker) for ex_id, markers in SPOILERS.items() for marker in markers]
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        for ex_id in CHECKS.findall(cell.source):
            for marker in SPOILERS.get(ex_id, []):
                for where, text in printed:
                    if marker in text:
                        found.append(f"cell {where} prints {marker!r} before the check "
                                     f"of {ex_id} (cell {index})")
            for other, marker in every:
                if marker in texts[index]:
                    found.append(f"the check cell of {ex_id} (cell {index}) prints "
                                 f"{marker!r}, the answer to {other}")
        printed.append((index, texts[index]))
    return found


def test_the_spoiler_rule_finds_an_answer_printed_before_its_check():
    from nbformat.v4 import new_code_cell
    cells = [new_code_cell("print(released)"), new_code_cell('check("01-sync-released", a)')]
    assert spoilers_before_checks(cells, {0: "KeSetEvent released ['w1']", 1: ""})
    assert not spoilers_before_checks(cells, {0: "KeSetEvent released ['w2']", 1: ""})
    assert spoilers_before_checks(cells, {0: "", 1: "The schedule: ['signaller', 'worker']"})


def test_every_spoiler_names_an_exercise_a_lesson_checks():
    checked = set()
    for path in LESSONS:
        checked |= set(CHECKS.findall(path.with_suffix(".md").read_text(encoding="utf-8")))
    assert set(SPOILERS) <= checked, sorted(set(SPOILERS) - checked)


@pytest.mark.notebook
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_nothing_printed_before_a_check_gives_its_answer_away(path):
    cells, first, _ = lesson_run(path.name)
    found = spoilers_before_checks(cells, first)
    assert not found, f"{path.name}:\n  " + "\n  ".join(found)


@pytest.mark.notebook
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_the_lesson_shows_each_distinctive_answer_after_its_check(path):
    """The markers are real: after its check, the lesson's "Now see it run" cells (or,
    for lesson 07, the give-up cells once asked) print what SPOILERS looks for."""
    cells, first, _ = lesson_run(path.name)
    for index, cell in enumerate(cells):
        for ex_id in CHECKS.findall(cell.source) if cell.cell_type == "code" else []:
            if ex_id not in SPOILERS or ex_id.startswith("07-"):
                continue
            later = "\n".join(text for i, text in first.items() if i > index)
            assert any(m in later for m in SPOILERS[ex_id]), (
                f"{path.name}: nothing after the check of {ex_id} shows its answer: "
                f"{SPOILERS[ex_id]}")


@pytest.mark.notebook
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_an_answer_cell_left_as_the_lesson_gives_it_gets_no_verdict(path):
    cells, first, _ = lesson_run(path.name)
    for index, cell in enumerate(cells):
        for ex_id in CHECKS.findall(cell.source) if cell.cell_type == "code" else []:
            expected = UNTOUCHED if get(ex_id).starter is not None else None
            if expected is None and "= None" in cell.source and not get(ex_id).none_is_answer:
                expected = NO_ANSWER
            if expected:
                assert expected in first[index], (path.name, ex_id, first[index])
            assert "Right" not in first[index], (path.name, ex_id, first[index])


# --- plain text and its look ------------------------------------------------------------
MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?>|&[A-Za-z]+;|&#\d+;")


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_question_hints_and_answer_are_plain_text(exercise):
    steps = [exercise.hint(n) for n in range(1, len(exercise.hints) + 2)]
    for text in [exercise.question, *steps]:
        assert not MARKUP.search(text), (exercise.id, text)


def test_the_widget_renders_code_spans_and_escapes_the_rest():
    assert as_html("Use `KeSetEvent` when a < b\nthen") == \
        "Use <code>KeSetEvent</code> when a &lt; b<br>then"


def test_a_hint_number_out_of_range_says_which_exist():
    with pytest.raises(BadArgumentError, match="hints 1 to 3"):
        get("00-set-returns").hint(0)
    with pytest.raises(BadArgumentError, match="hints 1 to 3"):
        get("00-set-returns").hint("2")


def any_thread(k, *args):
    yield k.KeReadStateEvent(args[0]) if args else None


ANSWERS = [None, 0, 1, 2, -1, True, "x", "", "?", [], ["w1"], ["nobody"], {}, {"a": 1},
           (None, None), (1, 2), [1, None, 0], 3.5, any_thread, print, lambda *a: None]


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_feedback_is_a_sentence_that_starts_with_a_capital_and_checks_its_input(exercise):
    for answer in ANSWERS:
        message = exercise.check(answer).message
        assert message and not message[0].islower(), (exercise.id, answer, message)
        assert not message.startswith("Checking your answer raised"), (exercise.id, answer,
                                                                         message)
        assert not MARKUP.search(message), (exercise.id, answer, message)


# --- answer cells that still hold the lesson's code -------------------------------------
def starter_function(ex, tmp_path):
    """The exercise's starter as a function with a source file, as a notebook cell is."""
    if callable(ex.starter):
        return ex.starter
    module = ex.checker.__module__
    path = tmp_path / f"starter_{ex.id.replace('-', '_')}.py"
    path.write_text(f"from {module} import *\nfrom evtsim.api.kernel import *\n"
                    f"from evtsim.status import *\n{ex.starter}", encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    name = re.search(r"def (\w+)\(", ex.starter).group(1)
    return getattr(loaded, name)


STARTED = [e for e in all_exercises() if e.starter is not None]


def test_every_code_exercise_of_a_lesson_names_its_starter():
    assert sorted(e.id for e in STARTED) == [
        "00-write-a-waiter", "02-fix-use-after-close", "03-set-then-close", "04-dispatch",
        "07-level1-repair", "07-level2-repair", "07-level3-repair"]


@pytest.mark.parametrize("exercise", STARTED, ids=lambda e: e.id)
def test_the_starter_is_wrong_and_the_check_asks_to_change_it_without_saying_why(exercise,
                                                                                 tmp_path):
    fn = starter_function(exercise, tmp_path)
    verdict = dataclasses.replace(exercise, starter=None).check(fn)
    assert not verdict.ok, f"{exercise.id}: the lesson's starter already passes"
    assert verdict.message != UNTOUCHED
    assert exercise.check(fn).message == UNTOUCHED


def test_a_changed_starter_gets_a_verdict():
    def waiter(k, ev):
        status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
        return status
    assert check("00-write-a-waiter", waiter).ok


# --- the two odd messages ---------------------------------------------------------------
def test_a_relative_timeout_is_told_as_a_relative_time_in_microseconds():
    def waiter(k, ev):
        status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, -100)
        return status
    message = check("00-write-a-waiter", waiter).message
    assert "A timeout of -100 is relative: the wait ends 10 µs from now" in message
    assert "only tests" not in message


def test_a_zero_timeout_is_told_that_it_only_tests_the_event():
    def waiter(k, ev):
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0))
    assert "A timeout of 0 only tests the event" in check("00-write-a-waiter", waiter).message


def test_a_called_function_is_told_how_to_write_def_and_pass_the_name():
    def waiter(k, ev):
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None))
    message = check("00-write-a-waiter", waiter(None, None)).message
    assert "write `def waiter(k, ev):`" in message and ")(" not in message


# --- level 3 is as strict as lesson 02 --------------------------------------------------
def driver_without_zwclose(k, who, hw):
    lock, handle = yield k.IoCreateSynchronizationEvent(LOCK_NAME)
    yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)
    yield from hw.use(k, who)
    yield k.KeSetEvent(lock, 0, False)


def test_a_level3_repair_that_never_closes_its_handle_is_refused_with_the_reason():
    feedback = check("07-level3-repair", driver_without_zwclose)
    assert not feedback.ok
    assert "leaks its handle" in feedback.message and "ZwClose" in feedback.message
    assert check("07-level3-repair", good_driver).ok


def test_lesson_02_refuses_the_same_leak():
    def timer_driver(k):
        event, handle = yield k.IoCreateSynchronizationEvent(
            r"\BaseNamedObjects\EvtsimLesson02")
        yield k.KeSetEvent(event, 0, False)
    assert "ZwClose" in check("02-fix-use-after-close", timer_driver).message
