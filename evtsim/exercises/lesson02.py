"""Exercises of notebook 02, IoCreateSynchronizationEvent: a new named event starts
Signaled and an existing one is only opened; one waiter per signal; PASSIVE_LEVEL only;
the pointer is valid only while the handle is open.

Source: Microsoft's IoCreateSynchronizationEvent reference page (wdm.h). The lesson's
two drivers are the scenario `hardware_lock`; `hasty_driver` is here because the lesson
shows it and the checker of 02-irql runs it.
"""
from __future__ import annotations

from ..api.kernel import DISPATCH_LEVEL
from ..scenarios.patterns import MS
from .base import Feedback, exercise
from .lesson00 import (
    as_status,
    joined,
    need_generator_function,
    no_answer,
    status_text,
    thread_names,
    thread_problem,
)

LESSON = "02-io-create-synchronization-event"
LOCK = r"\BaseNamedObjects\EvtsimLesson02"


def hasty_driver(k):
    """A driver that raises the IRQL to DISPATCH_LEVEL, as holding a spin lock does,
    and then calls IoCreateSynchronizationEvent."""
    yield k.KeRaiseIrql(DISPATCH_LEVEL)
    yield k.IoCreateSynchronizationEvent(LOCK)


# The lesson's answer cell starts with this driver: it closes the handle, then sets.
STARTER_TIMER_DRIVER = '''
def timer_driver(k):
    event, handle = yield k.IoCreateSynchronizationEvent(r"\\BaseNamedObjects\\EvtsimLesson02")
    yield k.ZwClose(handle)
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    yield k.KeSetEvent(event, 0, False)
'''


def first_waits():
    """driverA creates the named event and waits with a zero timeout; later driverB
    opens the same name and waits with a zero timeout. Returns (A's status, B's)."""
    from ..api.kernel import Executive, KernelMode
    from ..machine import Machine
    machine = Machine()

    def driver_a(k):
        event, handle = yield k.IoCreateSynchronizationEvent(LOCK)
        status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, 0)
        yield k.KeDelayExecutionThread(KernelMode, False, -2 * MS)
        yield k.ZwClose(handle)
        return status

    def driver_b(k):
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        event, handle = yield k.IoCreateSynchronizationEvent(LOCK)
        status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, 0)
        yield k.ZwClose(handle)
        return status

    a = machine.system.start(driver_a, name="driverA")
    b = machine.system.start(driver_b, name="driverB")
    machine.run()
    return a.result, b.result


@exercise(
    "02-first-wait",
    "`driverA` calls `IoCreateSynchronizationEvent` with a new name, then at once "
    "`KeWaitForSingleObject` with a zero timeout. A moment later `driverB` calls "
    "`IoCreateSynchronizationEvent` with the SAME name (`driverA` still has its handle "
    "open) and also waits with a zero timeout. What status does each wait return? "
    "Answer with a pair `(a, b)`, for example `(STATUS_TIMEOUT, STATUS_TIMEOUT)`.",
    hints=["Which state does the Microsoft page give a NEW synchronization event? "
           "And what does a wait on a synchronization event do to that state?",
           "When the name already exists, the call only opens the event. It does not "
           "change its state."],
    answer="(STATUS_SUCCESS, STATUS_TIMEOUT): the new event starts Signaled, so driverA "
           "passes and consumes the signal; driverB only opens the existing event, which "
           "is now not signaled.",
    lesson=LESSON)
def check_first_wait(answer):
    from ..status import STATUS_SUCCESS, STATUS_TIMEOUT
    if answer is None:
        return no_answer(answer)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return Feedback(False, "Answer with a pair (a, b) of statuses, for example "
                               "(STATUS_SUCCESS, STATUS_SUCCESS).")
    if any(v is None for v in answer):
        return no_answer(None)
    a, b = (as_status(v) for v in answer)
    if a is None or b is None:
        return Feedback(False, "Each status is a number or a name, such as "
                               "STATUS_SUCCESS or STATUS_TIMEOUT.")
    right_a, right_b = first_waits()
    if (a, b) == (right_a, right_b):
        return Feedback(True, "A new named event starts Signaled, so driverA's first "
                              "wait passes and takes the signal. The call of driverB only "
                              "opens the event: it stays not signaled.")
    wrong = []
    if a != right_a:
        if a == STATUS_TIMEOUT:
            wrong.append("for driverA: IoCreateSynchronizationEvent makes a new event in "
                         "the Signaled state, so the first wait passes")
        else:
            wrong.append(f"the wait of driverA does not return {status_text(a)}")
    if b != right_b:
        if b == STATUS_SUCCESS:
            wrong.append("for driverB: the name exists, so the call only opens the event; "
                         "it does not make it Signaled again, and driverA took the "
                         "signal")
        else:
            wrong.append(f"the wait of driverB does not return {status_text(b)}")
    return Feedback(False, joined(wrong))


@exercise(
    "02-one-per-signal",
    "`driverA` holds the hardware (it took the signal). `driverB`, then `driverC`, wait "
    "on the same synchronization event. `driverA` finishes and calls `KeSetEvent` once. "
    "Which drivers does this call release? Answer with a list of names.",
    hints=["The lock must never let two drivers use the hardware together.",
           "One waiter per signal, taken from the head of the wait list."],
    answer='["driverB"]: one signal releases one waiter, the first in the list, and the '
           "event resets itself at once, so driverC keeps waiting.",
    lesson=LESSON)
def check_one_per_signal(answer):
    from ..api.kernel import SynchronizationEvent
    from .lesson01 import one_set
    if answer is None:
        return no_answer(answer)
    names = thread_names(answer)
    if names is None:
        return Feedback(False, 'Answer with a list of names, for example ["driverC"].')
    released, _, _ = one_set(SynchronizationEvent, waiters=2)
    right = [{"w1": "driverB", "w2": "driverC"}[n] for n in released]
    if names == right:
        return Feedback(True, "One signal, one waiter: driverB gets the hardware and "
                              "the event is not signaled again, so driverC waits for "
                              "driverB's KeSetEvent.")
    if sorted(names) == ["driverB", "driverC"]:
        return Feedback(False, "Then two drivers would use the hardware at once. A "
                               "synchronization event releases one waiter per signal.")
    if names == ["driverC"]:
        return Feedback(False, "One driver is right, but the wait list is served from "
                               "the head: driverB waited first.")
    if "driverA" in names:
        return Feedback(False, "`driverA` is the one that sets the event; it does not "
                               "wait.")
    return Feedback(False, "A synchronization event releases exactly one waiter.")


@exercise(
    "02-irql",
    "A driver holds a spin lock, so it runs at DISPATCH_LEVEL, and calls "
    "`IoCreateSynchronizationEvent` there. Driver Verifier is on. What stop code does "
    "the machine show? Answer with a number, for example 0x0A.",
    hints=["The Microsoft page gives the IRQL for this call in its Requirements table.",
           "The call is allowed only at PASSIVE_LEVEL. The kit stops with Driver "
           "Verifier's own code, as in lesson 00."],
    answer="0xC4 (DRIVER_VERIFIER_DETECTED_VIOLATION): IoCreateSynchronizationEvent "
           "must be called at PASSIVE_LEVEL.",
    lesson=LESSON)
def check_irql(answer):
    from ..machine import Machine
    if answer is None:
        return no_answer(answer)
    machine = Machine()
    machine.system.start(hasty_driver, name="driver")
    machine.run()
    crash = machine.bugcheck
    assert crash is not None, "hasty_driver always crashes the machine"
    right = crash.code
    if isinstance(answer, str):
        text = answer.strip().upper()
        if text == crash.name:
            return Feedback(True, f"0x{right:X}, {crash.name}.")
        try:
            answer = int(text, 16) if text.startswith("0X") else int(text)
        except ValueError:
            return Feedback(False, "Answer with a number such as 0x0A (hex is fine).")
    if isinstance(answer, bool) or not isinstance(answer, int):
        return Feedback(False, "Answer with a number such as 0x0A.")
    if answer == right:
        return Feedback(True, "0xC4: Driver Verifier saw IoCreateSynchronizationEvent "
                              "called above PASSIVE_LEVEL.")
    if answer == 0x0A:
        return Feedback(False, "0x0A (IRQL_NOT_LESS_OR_EQUAL) is what a real page fault "
                               "at a high IRQL gives. Here Driver Verifier checks the "
                               "call's documented IRQL first and stops with its own code.")
    if answer == 0:
        return Feedback(False, "The call does not simply fail: the page says "
                               "PASSIVE_LEVEL, and Driver Verifier stops the machine.")
    return Feedback(False, f"Not 0x{answer:X}. Which code does Driver Verifier use?")


@exercise(
    "02-fix-use-after-close",
    "`timer_driver` closes its handle with `ZwClose` and THEN sets the event, which "
    "stops the machine with bug check 0xCC. Repair it: it must set the event once, and "
    "at the end leave no open handle and no reference. Check it with "
    "`check(\"02-fix-use-after-close\", timer_driver)`.",
    hints=["The pointer that IoCreateSynchronizationEvent returns holds no reference of "
           "its own: it is valid only while the handle is open.",
           "Either close the handle only after the last use of the pointer, or take your "
           "own reference with ObReferenceObjectByHandle before ZwClose and drop it with "
           "ObDereferenceObject after the last use."],
    answer="Move ZwClose to the end:\n"
           "def timer_driver(k):\n"
           "    event, handle = yield k.IoCreateSynchronizationEvent(NAME)\n"
           "    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)\n"
           "    yield k.KeSetEvent(event, 0, False)\n"
           "    yield k.ZwClose(handle)",
    lesson=LESSON, starter=STARTER_TIMER_DRIVER)
def check_fix_use_after_close(fn):
    from ..machine import Machine
    if fn is None:
        return no_answer(fn)
    wrong = need_generator_function(fn, "timer_driver(k)")
    if wrong is not None:
        return wrong
    machine = Machine()
    thread = machine.system.start(fn, name="timer_driver")
    run = machine.run(max_steps=10_000)
    if (run.reason == "bugcheck" and machine.bugcheck is not None
            and machine.bugcheck.code == 0xCC):
        return Feedback(False, "Still bug check 0xCC: the driver used the event after "
                               "its handle was closed, so the event was already freed.")
    problem = thread_problem(thread, run)
    if problem:
        return Feedback(False, problem)
    if thread.state != "terminated":
        return Feedback(False, f"`timer_driver` did not end (the run stopped with "
                               f"{run.reason}). It should not wait for anybody.")
    created = [r for r in machine.trace if r.op == "IoCreateSynchronizationEvent"]
    if not created:
        return Feedback(False, "`timer_driver` must open the event with "
                               "IoCreateSynchronizationEvent.")
    event = created[0].result[0] if isinstance(created[0].result, tuple) else None
    if event is None:
        return Feedback(False, "IoCreateSynchronizationEvent returned NULL: use a name "
                               r"in \BaseNamedObjects, as the lesson does.")
    sets = [r for r in machine.trace if r.op == "KeSetEvent"]
    if len(sets) != 1:
        return Feedback(False, f"`timer_driver` must set the event once; it called "
                               f"KeSetEvent {len(sets)} times.")
    header = event.header
    if header.handle_count:
        return Feedback(False, "The handle is still open at the end: a driver releases "
                               "the event with ZwClose when it no longer needs it.")
    if header.pointer_count or not header.deleted:
        return Feedback(False, "A reference is left at the end: every "
                               "ObReferenceObjectByHandle needs one ObDereferenceObject.")
    return Feedback(True, "The event was set while the driver still held it, and at "
                          "the end no handle and no reference are left.")


@exercise(
    "02-null",
    "A driver calls `IoCreateSynchronizationEvent(r\"\\NoSuchDirectory\\Lock\")`: that "
    "directory does not exist. In evtsim the call returns a pair `(event, handle)`. What "
    "pair does it return?",
    hints=["The page says what the call returns when the event cannot be created or "
           "opened.",
           "C returns a NULL pointer; in Python NULL is None. There is no handle either."],
    answer="(None, None): the call fails and returns NULL. A driver must check the "
           "pointer before it uses it.",
    lesson=LESSON, none_is_answer=True)
def check_null(answer):
    from ..machine import Machine
    if answer is None:
        return Feedback(False, "One None is not enough: the call returns a pair "
                               "(event, handle). Write a pair.")
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return Feedback(False, "Answer with a pair (event, handle).")
    machine = Machine()

    def driver(k):
        return (yield k.IoCreateSynchronizationEvent(r"\NoSuchDirectory\Lock"))

    thread = machine.system.start(driver, name="driver")
    machine.run()
    if tuple(answer) == tuple(thread.result):
        return Feedback(True, "NULL (None) and no handle: always check the pointer.")
    if any(isinstance(v, int) and not isinstance(v, bool) for v in answer):
        return Feedback(False, "The call does not return a status. On failure it returns "
                               "NULL, which is None in Python.")
    return Feedback(False, "When the event cannot be created, the call returns NULL: "
                           "no event and no handle.")


__all__ = ["hasty_driver", "first_waits", "check_first_wait", "check_one_per_signal", "check_irql",
           "check_fix_use_after_close", "check_null", "LOCK"]
