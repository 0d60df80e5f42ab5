"""The lab's verdict banner and what Run and the status line say.

When nothing more can run, the banner says how the run ended: every thread ended (with
what each returned), a deadlock naming who waits for ever on what and at which line, a
bug check, or the lesson's own check (`verdict=`, lesson 07's `LEVELS[n].verdict`). A
thread that waits with a timeout is not stuck. In manual mode Run points to the Step
buttons and leaves nothing for Undo; the status line says time in microseconds.
"""
from __future__ import annotations

import functools
import re

import pytest

pytest.importorskip("ipywidgets")

from evtsim import scenarios  # noqa: E402
from evtsim.exercises.base import Feedback  # noqa: E402
from evtsim.exercises.lesson07 import LEVELS, good_producer, level2  # noqa: E402
from evtsim.lab import LabSession, check_result  # noqa: E402
from evtsim.units import time_us  # noqa: E402
from evtsim.widgets import EventLab  # noqa: E402

from test_widgets import click, plain  # noqa: E402

STRAND = ["producer", "producer", "consumer1", "consumer2", "consumer1"]


def level2_lab(**options):
    return EventLab(LEVELS[2].build, policy="manual", **options)


def test_when_every_thread_has_ended_the_banner_says_so_with_named_results():
    lab = EventLab("notification_broadcast", waiters=1)
    click(lab, "Run")
    banner = plain(lab.banner.value)
    assert banner.strip().startswith("\u2714 All threads have ended.")
    assert "waiter1 returned STATUS_SUCCESS" in banner
    assert "poller returned (STATUS_TIMEOUT, STATUS_SUCCESS)" in banner
    assert 'role="status"' in lab.banner.value and lab.verdict.ok


def test_a_stranded_consumer_is_a_deadlock_naming_the_thread_and_its_wait():
    lab = level2_lab()
    for name in STRAND:
        click(lab, "Step", name)
    banner = plain(lab.banner.value)
    line = lab.machine.thread("consumer2").line
    assert "\u2716 Deadlock: consumer2 waits for ever." in banner
    assert f"consumer2 (System) waits on Wait(ItemReady) at line {line}: yield " \
           f"k.KeWaitForSingleObject(ready" in banner
    assert 'role="alert"' in lab.banner.value and lab.verdict.tone == "deadlock"


def test_the_lessons_check_says_you_broke_it_only_once_nothing_can_run():
    asked = []

    def check(m):
        asked.append(len(m.trace))
        return LEVELS[2].verdict(m)

    lab = level2_lab(verdict=check)
    for name in STRAND[:-1]:
        click(lab, "Step", name)
        assert lab.banner.value == ""          # consumer2 waits, but consumer1 can run
    assert asked == []
    click(lab, "Step", STRAND[-1])
    banner = plain(lab.banner.value)
    assert "\u2716 You broke it: stranded consumer: consumer2 waits for ever on " \
           "ItemReady." in banner
    assert "consumer2 (System) waits on Wait(ItemReady)" in banner
    assert len(asked) >= 1 and lab.verdict.tone == "broken"
    click(lab, "Undo")                          # back to running: no verdict
    assert lab.banner.value == "" and lab.verdict is None


def test_the_lessons_check_says_it_works_for_the_repaired_producer():
    lab = EventLab(functools.partial(level2, producer=good_producer),
                   verdict=LEVELS[2].verdict)
    click(lab, "Run")
    assert plain(lab.banner.value).strip() == "\u2714 It works: the run does what it should."
    assert lab.verdict.tone == "passed"


def test_a_bug_check_is_told_by_the_machine_before_any_lesson_check():
    asked = []
    lab = EventLab("trap_wait_at_dispatch", verdict=lambda m: asked.append(m) or True)
    click(lab, "Run")
    b = lab.machine.bugcheck
    banner = plain(lab.banner.value)
    assert f"\u2716 BUG CHECK 0xC4 ({b.name}) in driver (System) at t = " \
           f"{time_us(b.time)}, line {b.line}: status = yield" in banner
    assert "Start over builds it again" in banner
    assert asked == [] and lab.verdict.tone == "crashed"


def test_a_check_that_raises_is_a_sentence_and_the_lab_goes_on():
    def broken(m):
        raise KeyError("consumer3")

    lab = level2_lab(verdict=broken)
    for name in STRAND:
        click(lab, "Step", name)
    assert "could not judge this run: KeyError: 'consumer3'" in plain(lab.banner.value)
    click(lab, "Undo")
    assert lab.banner.value == ""


@pytest.mark.parametrize("answer, expected", [
    (None, None),
    (True, (True, "the run does what it should")),
    (False, (False, "the run does not do what it should")),
    ("lost wake-up: the worker waits for ever", (False, "lost wake-up: the worker waits "
                                                 "for ever")),
    ((True, "each consumer got one item"), (True, "each consumer got one item")),
    (Feedback(False, "not yet"), (False, "not yet")),
])
def test_a_check_may_answer_in_any_of_the_lesson_forms(answer, expected):
    assert check_result(answer) == expected


def test_a_thread_that_waits_with_a_timeout_is_not_stuck():
    lab = EventLab("notification_broadcast", waiters=1)
    for name in ("waiter1", "poller", "poller", "setter"):
        click(lab, "Step", name)
    assert lab.machine.ready == []
    assert lab.banner.value == ""
    assert "a timer or a timeout is pending: Run lets the clock move on" in \
        plain(lab.status.value)
    click(lab, "Run")
    assert "All threads have ended" in plain(lab.banner.value)


def test_run_in_manual_mode_points_to_the_step_buttons_and_leaves_nothing_to_undo():
    lab = level2_lab()
    actions = list(lab.machine.actions)
    lines = click(lab, "Run")
    assert lines == ["Run: you are the scheduler (policy manual), so Run does not choose "
                     "threads. Click Step on a ready thread: producer, consumer1, "
                     "consumer2."]
    assert lab.machine.actions == actions and lab.checkpoints == []
    assert "nothing to undo" in click(lab, "Undo")[-1]
    assert "You are the scheduler: click Step on a ready thread." in plain(lab.status.value)


def test_a_run_that_changes_nothing_is_no_undo_point():
    lab = EventLab("notification_broadcast", waiters=1)
    click(lab, "Run")
    points, actions = list(lab.checkpoints), list(lab.machine.actions)
    lines = click(lab, "Run")
    assert lines[-1].startswith("Run: nothing could run (done).")
    assert lab.checkpoints == points and lab.machine.actions == actions
    click(lab, "Undo")                       # takes back the real Run
    assert lab.machine.trace == scenarios.build("notification_broadcast", waiters=1).trace


def test_the_status_line_says_time_in_microseconds():
    lab = EventLab("notification_broadcast", waiters=1)
    for name in ("waiter1", "poller", "poller", "setter"):
        click(lab, "Step", name)
    click(lab, "Run")
    status = plain(lab.status.value)
    assert f"t = {time_us(lab.machine.time)}." in status
    assert re.search(r"t=\d", status) is None
    assert any(line.startswith("Run: stopped (done) after") and line.endswith(
        f"t = {time_us(lab.machine.time)}") for line in lab.log_lines)


def test_the_session_gives_the_verdict_without_widgets():
    session = LabSession(LEVELS[2].build, policy="manual", verdict=LEVELS[2].verdict)
    for name in STRAND:
        session.step(name)
    verdict = session.verdict()
    assert (verdict.ok, verdict.tone) == (False, "broken")
    assert session.status()[0] == "blocked"
