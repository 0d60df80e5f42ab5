"""Exercises of notebook 00, Start here: what KeSetEvent returns, and a first thread.

Source: Microsoft's KeSetEvent and KeWaitForSingleObject reference pages. Also the
thread `waiter`, which lesson 00 shows and lesson 01's machine runs, and the small
helpers the lessons 01-04 share: reading a status answer given as a number or a name,
and running a learner's thread function in a fresh Machine.
"""
from __future__ import annotations

import inspect

from .. import status as _status
from ..api.kernel import Executive, KernelMode
from ..status import STATUS_SUCCESS, STATUS_TIMEOUT, name_of
from .base import NO_ANSWER, Feedback, exercise

LESSON = "00-start-here"


# --- the first thread ------------------------------------------------------------------
def waiter(k, ev):
    """A thread that waits on the event ev with no time limit.
    It returns the status of the wait."""
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
    return status


# --- helpers for every lesson's checkers ----------------------------------------------
def as_status(value: object) -> int | None:
    """An NTSTATUS or wait result given as a number or as its name ("STATUS_TIMEOUT").

    Returns the number, or None when the value is neither.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        name = value.strip()
        number = getattr(_status, name, None)
        if isinstance(number, int) and not isinstance(number, bool):
            return number
    return None


def status_text(value) -> str:
    return name_of(value, "status") if isinstance(value, int) else repr(value)


def thread_names(value: object) -> list[str] | None:
    """A list of thread names, in order, or None if `value` is not one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None
    return [v.strip() for v in value]


def joined(parts: list[str]) -> str:
    """Reasons joined into one sentence that starts with a capital letter."""
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def no_answer(answer: object) -> Feedback | None:
    """A Feedback for an answer cell left as it was (None), else None."""
    if answer is None:
        return Feedback(False, NO_ANSWER)
    return None


def need_generator_function(fn: object, signature: str) -> Feedback | None:
    """None if `fn` is a generator function, else a Feedback saying what is wrong.
    `signature` is how the lesson writes the function, for example "waiter(k, ev)"."""
    name = signature.split("(")[0]
    if not callable(fn):
        return Feedback(False, f"The answer is a function: write `def {signature}:` and "
                               f"pass the function itself, `{name}`, without calling it "
                               f"(no brackets after the name).")
    if not inspect.isgeneratorfunction(fn):
        given = getattr(fn, "__name__", "")
        what = f"`{given}`" if given.isidentifier() else "This function"
        return Feedback(False, f"{what} is not a generator function. A simulated thread "
                               f"or routine must `yield` every call, for example "
                               f"`yield k.KeSetEvent(ev, 0, False)`.")
    return None


def thread_problem(thread, run) -> str | None:
    """Plain words for a thread that ended with an error or a machine that bug checked."""
    if run.reason == "bugcheck":
        b = thread.machine.bugcheck
        return (f"The machine stopped with bug check 0x{b.code:X} ({b.name}): "
                f"{b.rule.rstrip('.')}.")
    if thread.error is not None:
        return f"Your thread stopped with {type(thread.error).__name__}: {thread.error}"
    return None


# --- exercise 1: what KeSetEvent returns ----------------------------------------------
@exercise(
    "00-set-returns",
    "The notification event `Go` is signaled now (state 1): you set it and the three "
    "waiters woke up. You call `m.kernel.KeSetEvent(ev, 0, False)` once more. What "
    "number does this call return?",
    hints=["KeSetEvent does not return a status and does not count threads.",
           "KeSetEvent returns the state the event had BEFORE the call."],
    answer="1. KeSetEvent returns the previous state, and the event was already "
           "signaled. Nothing else happens: no thread is waiting, and the state stays 1.",
    lesson=LESSON)
def check_set_returns(answer):
    from ..api.kernel import NotificationEvent
    from ..machine import Machine
    machine = Machine()
    event = machine.kernel.KeInitializeEvent(NotificationEvent, True, name="Go")
    right = machine.kernel.KeSetEvent(event, 0, False)
    if answer is None:
        return no_answer(answer)
    if isinstance(answer, bool):
        return Feedback(False, "KeSetEvent returns a number (0 or 1), not True or False. "
                               "Win32 SetEvent is the one that returns TRUE.")
    if answer == right:
        return Feedback(True, "KeSetEvent returns the previous state. The event was "
                              "already signaled, so the call returns 1 and changes nothing.")
    if answer == 0:
        return Feedback(False, "0 is what the first KeSetEvent returned, when the event "
                               "was not signaled. What is the state before this call?")
    if answer == 3:
        return Feedback(False, "KeSetEvent does not count the threads it releases. It "
                               "returns the state before the call.")
    if isinstance(answer, str) and as_status(answer) is not None:
        return Feedback(False, "KeSetEvent does not return an NTSTATUS. It returns the "
                               "state before the call: 0 or 1.")
    if not isinstance(answer, int):
        return Feedback(False, "Answer with a number: KeSetEvent returns 0 or 1.")
    return Feedback(False, f"{answer} is not it. KeSetEvent returns 0 or 1.")


# --- exercise 2: write a waiting thread -----------------------------------------------
# The lesson's answer cell starts with this waiter, which has one mistake (timeout 0).
STARTER_WAITER = '''
def waiter(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)
    return status
'''


def timeout_words(timeout) -> str:
    """What a KeWaitForSingleObject timeout means, for a learner who used it."""
    from ..units import time_us
    if timeout == 0:
        return "A timeout of 0 only tests the event and returns at once."
    if isinstance(timeout, int) and timeout < 0:
        return (f"A timeout of {timeout} is relative: the wait ends {time_us(-timeout)} "
                f"from now if the event is not set.")
    return (f"A timeout of {timeout!r} is an absolute system time (100 ns units since "
            f"1 January 1601), and that time passed long ago, so the wait times out at "
            f"once. For a time from now, give a negative (relative) timeout.")


@exercise(
    "00-write-a-waiter",
    "Write a thread function `waiter(k, ev)`. It waits on the event `ev` with "
    "`KeWaitForSingleObject`, with no time limit, and returns the status that the wait "
    "gave. Check it with `check(\"00-write-a-waiter\", waiter)`.",
    hints=["The arguments are (ev, Executive, KernelMode, False, None). None means "
           "\"no time limit\".",
           "Every call needs `yield`: `status = yield k.KeWaitForSingleObject(...)`. "
           "Then `return status`."],
    answer="def waiter(k, ev):\n    status = yield k.KeWaitForSingleObject(ev, Executive, "
           "KernelMode, False, None)\n    return status",
    lesson=LESSON, starter=STARTER_WAITER)
def check_write_a_waiter(fn):
    from ..api.kernel import NotificationEvent
    from ..machine import Machine
    if fn is None:
        return no_answer(fn)
    wrong = need_generator_function(fn, "waiter(k, ev)")
    if wrong is not None:
        return wrong
    machine = Machine()
    event = machine.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
    thread = machine.system.start(fn, event, name="waiter")
    run = machine.run(max_steps=1000)
    problem = thread_problem(thread, run)
    if problem:
        return Feedback(False, problem)
    if thread.state == "terminated":
        if thread.result == STATUS_TIMEOUT:
            waits = [r for r in machine.trace
                     if r.thread == "waiter" and r.op == "KeWaitForSingleObject"]
            timeout = waits[0].args[4] if waits and len(waits[0].args) > 4 else 0
            return Feedback(False, "Your wait returned STATUS_TIMEOUT before the event was "
                                   f"set. {timeout_words(timeout)} Use None to wait with "
                                   "no time limit.")
        return Feedback(False, "Your thread ended before the event was set: it did not "
                               "wait on `ev`.")
    if thread.state != "waiting" or event not in thread.waiting_on:
        return Feedback(False, "Your thread should be waiting on `ev` now, but it is not.")
    machine.kernel.KeSetEvent(event, 0, False)
    run = machine.run(max_steps=1000)
    problem = thread_problem(thread, run)
    if problem:
        return Feedback(False, problem)
    if thread.state != "terminated":
        return Feedback(False, "After the set your thread did not end. Does it wait a "
                               "second time? Wait once, then return.")
    if thread.result is None:
        return Feedback(False, "Your thread waited and woke up, but it returned nothing. "
                               "Write `status = yield k.KeWaitForSingleObject(...)` and "
                               "then `return status`.")
    if thread.result != STATUS_SUCCESS:
        return Feedback(False, f"Your thread returned {thread.result!r}; the wait gave "
                               f"STATUS_SUCCESS. Return the status of the wait.")
    return Feedback(True, "Your thread waited until the event was set, then returned "
                          "STATUS_SUCCESS (0).")


__all__ = ["waiter", "check_set_returns", "check_write_a_waiter", "as_status", "status_text",
           "thread_names", "joined", "no_answer", "need_generator_function", "thread_problem",
           "timeout_words", "STARTER_WAITER"]
