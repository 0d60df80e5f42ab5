"""The exercises of lessons 05-08: each checker accepts the right answer and rejects the
common wrong ones with a plain message. The checkers are the ones the notebooks call.
"""
import ast

import pytest

from evtsim.api.kernel import NotificationEvent, SynchronizationEvent
from evtsim.exercises import all_exercises, get
from evtsim.exercises.lesson06 import clear_race, leaked_handle, pulse_race
from evtsim.exercises.lesson07 import LEVELS, REPAIRS
from evtsim.status import (EVENT_ALL_ACCESS, EVENT_MODIFY_STATE, EVENT_QUERY_STATE,
                           GENERIC_EXECUTE, GENERIC_WRITE, STATUS_SUCCESS, STATUS_TIMEOUT,
                           SYNCHRONIZE)


def lazy_signaller(k, work):            # "repairs" by doing nothing: the worker starves
    yield k.KeReadStateEvent(work)


def no_lock_driver(k, who, hw):         # "repairs" by dropping the lock
    yield from hw.use(k, who)


def leaky_driver(k, who, hw):           # the right lock, but the handle is never closed
    from evtsim.api.kernel import Executive, KernelMode
    from evtsim.exercises.lesson07 import LOCK_NAME
    lock, handle = yield k.IoCreateSynchronizationEvent(LOCK_NAME)
    yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)
    yield from hw.use(k, who)
    yield k.KeSetEvent(lock, 0, False)


def set_and_forget_producer(k, ready, taken, items):   # notification event thinking
    items.extend(["item1", "item2"])
    yield k.KeSetEvent(ready, 0, False)
    yield k.KeSetEvent(ready, 0, False)


RIGHT = {
    "05-session-path": r"\Sessions\1\BaseNamedObjects\SynchEvent",
    "05-global-name": r"Global\SynchEvent",
    "05-standard-user": 5,
    "05-admin-rights": {EVENT_QUERY_STATE, SYNCHRONIZE},
    "05-create-in-dispatch": "dispatch",
    "05-boot-start": (None, None),
    "06-pulse-why": "b",
    "06-pulse-before-wait": ["signaller", "waiter"],
    "06-two-sets": 1,
    "06-clear-order": "b",
    "06-dispatch-timeout": 0,
    "06-leaked-reference": 1,
    "06-leaked-handle": 1,
    # The break schedules are the ones the hint ladders show, and the repairs are the
    # library's: the tests below check both against the explorer, so neither goes stale.
    **{f"07-level{n}-break": ast.literal_eval(get(f"07-level{n}-break").answer)
       for n in LEVELS},
    **{f"07-level{n}-repair": fix for n, fix in REPAIRS.items()},
    "08-keset-return": 1,
    "08-pulse-sync": 1,
    "08-waitall-recheck": ["wait_all", "wait_any"],
    "08-new-signaled": STATUS_SUCCESS,
    "08-type-not-checked": NotificationEvent,
    "08-dispatch-stop-code": 0xC4,
    "08-generic-read": SYNCHRONIZE,
}

WRONG = {
    "05-session-path": [r"\BaseNamedObjects\SynchEvent",
                        r"\sessions\1\basenamedobjects\synchevent", "SynchEvent", None],
    "05-global-name": ["SynchEvent", r"global\SynchEvent", r"Local\SynchEvent",
                       r"\BaseNamedObjects\SynchEvent", 7],
    "05-standard-user": [2, 0, 0xC0000022, True],
    "05-admin-rights": [{SYNCHRONIZE}, {EVENT_QUERY_STATE, SYNCHRONIZE, EVENT_MODIFY_STATE},
                        set(), {EVENT_MODIFY_STATE}, "SYNCHRONIZE"],
    "05-create-in-dispatch": ["DriverEntry", "dispatcher", None],
    "05-boot-start": [0xC000003A, None, (0, 0), "NULL"],
    "06-pulse-why": ["a", "c", "d", "", None],
    "06-pulse-before-wait": [["waiter", "signaller"], [], ["waiter"], "signaller"],
    "06-two-sets": [2, 0, True, "1"],
    "06-clear-order": ["a", "c", "d", "x"],
    "06-dispatch-timeout": [None, -10_000, 10_000, "0", False],
    "06-leaked-reference": [0, 2, None],
    "06-leaked-handle": [0, 2, None],
    "07-level1-break": [[], ["worker", "signaller"], ["nobody"], "signaller"],
    "07-level2-break": [[], ["consumer1", "consumer2", "producer"], ["producer", "ghost"]],
    "07-level3-break": [[], ["driverA", "driverB", "driverA", "driverB"], ["driverB"]],
    "07-level1-repair": [LEVELS[1].buggy, lazy_signaller, "KeSetEvent", None],
    "07-level2-repair": [LEVELS[2].buggy, set_and_forget_producer, print],
    "07-level3-repair": [LEVELS[3].buggy, no_lock_driver, leaky_driver],
    "08-keset-return": [True, 0, 2, "1"],
    "08-pulse-sync": [3, 0, 2],
    "08-waitall-recheck": [["wait_any"], ["wait_all"], [], "wait_any"],
    "08-new-signaled": [STATUS_TIMEOUT, None, 1],
    "08-type-not-checked": [SynchronizationEvent, "NotificationEvent", None],
    "08-dispatch-stop-code": [0xB8, 0x0A, 0xC, "0xC4"],
    "08-generic-read": [EVENT_MODIFY_STATE, GENERIC_WRITE, EVENT_QUERY_STATE, 0, None],
}

LESSON_IDS = sorted(e.id for e in all_exercises() if e.id[:2] in ("05", "06", "07", "08"))


def test_every_exercise_of_lessons_05_to_08_is_tested():
    assert LESSON_IDS == sorted(RIGHT) == sorted(WRONG)


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_checker_accepts_the_right_answer(exercise_id):
    feedback = get(exercise_id).check(RIGHT[exercise_id])
    assert feedback.ok, feedback.message
    assert feedback.message


@pytest.mark.parametrize("exercise_id,answer",
                         [(i, a) for i, answers in sorted(WRONG.items()) for a in answers],
                         ids=lambda v: v if isinstance(v, str) and "-" in v else None)
def test_checker_rejects_a_common_wrong_answer_with_a_plain_message(exercise_id, answer):
    feedback = get(exercise_id).check(answer)
    assert not feedback.ok
    assert feedback.message and "Traceback" not in feedback.message


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_hint_ladder_ends_with_the_answer(exercise_id):
    ex = get(exercise_id)
    ex._next_hint = 0
    ladder = [ex.hint() for _ in range(len(ex.hints) + 1)]
    assert len(ex.hints) >= 2
    assert ladder[-1].startswith("Answer:")
    assert ex.hint() == ladder[-1]          # it stays at the answer


def test_alternative_right_answers_are_accepted():
    assert get("05-admin-rights").check(EVENT_QUERY_STATE | SYNCHRONIZE).ok
    assert get("06-pulse-before-wait").check(["signaller"]).ok
    assert get("08-generic-read").check(GENERIC_EXECUTE).ok
    assert get("08-generic-read").check(EVENT_ALL_ACCESS).ok


def test_wrong_answers_get_specific_explanations():
    assert "session" in get("05-session-path").check(r"\BaseNamedObjects\SynchEvent").message
    assert "capital" in get("05-global-name").check(r"global\SynchEvent").message
    assert "already signaled" in get("06-two-sets").check(2).message
    assert "0xC4" in get("06-dispatch-timeout").check(None).message
    assert "one" in get("08-pulse-sync").check(3).message
    assert "nonzero" in get("08-keset-return").check(True).message
    assert "ZwClose" in get("07-level3-repair").check(leaky_driver).message


# --- the models the lessons run ---------------------------------------------------------
def test_pulse_before_the_wait_is_lost_and_a_set_is_not():
    m = pulse_race(policy="manual")
    m.step(m.thread("signaller"))
    m.step(m.thread("waiter"))
    assert m.run().reason == "deadlock"
    m = pulse_race(policy="manual", fixed=True)
    m.step(m.thread("signaller"))
    m.step(m.thread("waiter"))
    m.run()
    assert m.thread("waiter").result == STATUS_SUCCESS


def test_clear_after_take_loses_a_job_and_clear_first_does_not():
    from evtsim.explore import explore
    m = clear_race()
    assert m.run().reason == "deadlock" and m.jobs == ["job2"]
    assert explore(clear_race, strategy="dfs", progress=False).failures
    fixed = explore(lambda: clear_race(fixed=True), strategy="dfs", progress=False)
    assert fixed.exhaustive and not fixed.failures


def test_a_forgotten_zwclose_keeps_the_named_event():
    assert leaked_handle().objects.lookup(r"\BaseNamedObjects\EvtsimLeak") is not None
    assert leaked_handle(fixed=True).objects.lookup(r"\BaseNamedObjects\EvtsimLeak") is None


@pytest.mark.parametrize("n", [1, 2, 3])
def test_each_level_passes_its_friendly_test_but_not_every_schedule(n):
    level = LEVELS[n]
    m = level.build(policy=level.friendly)
    m.run()
    assert level.verdict(m) is True
    report = level.verify(level.buggy)
    assert report.exhaustive and report.failures


@pytest.mark.parametrize("n", sorted(LEVELS))
def test_every_schedule_the_explorer_finds_breaking_a_level_is_accepted(n):
    """The break checker agrees with the explorer: each failing schedule it reports,
    given as the learner's answer, breaks the level."""
    report = LEVELS[n].verify(LEVELS[n].buggy)
    assert report.failures
    for failure in report.failures:
        feedback = get(f"07-level{n}-break").check(failure.schedule)
        assert feedback.ok, (failure.schedule, feedback.message)


@pytest.mark.parametrize("n,fix", sorted(REPAIRS.items()))
def test_each_repair_survives_every_interleaving_not_only_dpor(n, fix):
    report = LEVELS[n].verify(fix, strategy="dfs")
    assert report.exhaustive and not report.failures, report.verdict
