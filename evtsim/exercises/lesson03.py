"""Exercises of notebook 03, IoCreateNotificationEvent: polling with a zero timeout,
KeClearEvent versus KeResetEvent, and closing the gate again after a broadcast.

Source: Microsoft's IoCreateNotificationEvent reference page (wdm.h); the return values
follow the KeResetEvent / KeClearEvent pages and ReactOS `ke/eventobj.c`.
"""
from __future__ import annotations

from ..api.kernel import Executive, KernelMode
from .base import Feedback, exercise
from .lesson00 import as_status, joined, need_generator_function, no_answer, thread_problem

LESSON = "03-io-create-notification-event"


def waiter(k, event):
    """A driver thread that waits on `event` with no timeout and returns the status.
    The lesson starts it late, and the check of 03-set-then-close starts it before and
    after `publish`."""
    return (yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None))


@exercise(
    "03-poll",
    "In the scenario `notification_broadcast`, the `poller` tests the event with a zero "
    "timeout twice: once before the setter sets it, and once after the set (the event "
    "has not been cleared yet). What does each `KeWaitForSingleObject` return? Answer "
    "with a pair `(before, after)`.",
    hints=["A zero timeout never blocks: it tests the event and returns at once.",
           "If the event is not signaled, the poll returns STATUS_TIMEOUT. A notification "
           "event stays signaled after a set."],
    answer="(STATUS_TIMEOUT, STATUS_SUCCESS): before the set the event is not signaled, "
           "so the poll times out at once; after the set it stays signaled, so the poll "
           "passes.",
    lesson=LESSON)
def check_poll(answer):
    from ..scenarios import build
    from ..status import STATUS_SUCCESS, STATUS_TIMEOUT
    if answer is None:
        return no_answer(answer)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return Feedback(False, "Answer with a pair (before, after), for example "
                               "(STATUS_SUCCESS, STATUS_SUCCESS).")
    if any(v is None for v in answer):
        return no_answer(None)
    before, after = (as_status(v) for v in answer)
    if before is None or after is None:
        return Feedback(False, "Each item is a status: a number or a name such as "
                               "STATUS_TIMEOUT.")
    machine = build("notification_broadcast")
    machine.run()
    right = machine.find("poller").result
    if (before, after) == tuple(right):
        return Feedback(True, "The poll never waits: STATUS_TIMEOUT while the event is "
                              "not signaled, STATUS_SUCCESS once it is set, and it stays "
                              "set until KeClearEvent.")
    wrong = []
    if before != right[0]:
        if before == STATUS_SUCCESS:
            wrong.append("before: the event is not signaled yet (the scenario makes it "
                         "with State FALSE), and a zero timeout does not wait for it")
        else:
            wrong.append("before: a poll of an event that is not signaled returns at "
                         "once with the status for 'time is up'")
    if after != right[1]:
        if after == STATUS_TIMEOUT:
            wrong.append("after: a notification event stays signaled after the set, "
                         "so the poll passes")
        else:
            wrong.append("after: the event is signaled, so the wait succeeds")
    return Feedback(False, joined(wrong))


def clear_and_reset():
    """KeResetEvent, KeClearEvent, KeResetEvent on an event that starts signaled."""
    from ..api.kernel import NotificationEvent
    from ..machine import Machine
    machine = Machine()
    event = machine.kernel.KeInitializeEvent(NotificationEvent, True, name="Gate")
    k = machine.kernel
    return [k.KeResetEvent(event), k.KeClearEvent(event), k.KeResetEvent(event)]


@exercise(
    "03-clear-vs-reset",
    "The notification event `Gate` is signaled. You call, in this order, "
    "`KeResetEvent(Gate)`, `KeClearEvent(Gate)`, `KeResetEvent(Gate)`. What does each "
    "call return? Answer with a list of three values (use `None` for a call that "
    "returns nothing).",
    hints=["Both calls make the event not signaled. They differ only in what they give "
           "back.",
           "KeResetEvent returns the state before the call. KeClearEvent is declared "
           "VOID: it returns nothing."],
    answer="[1, None, 0]: KeResetEvent returns the previous state (1, then 0 because the "
           "event is already cleared); KeClearEvent returns nothing.",
    lesson=LESSON)
def check_clear_vs_reset(answer):
    if answer is None:
        return no_answer(answer)
    if not isinstance(answer, (list, tuple)) or len(answer) != 3:
        return Feedback(False, "Answer with a list of three values, for example "
                               "[0, 0, 0].")
    right = clear_and_reset()
    given = list(answer)
    if given == right and not any(isinstance(v, bool) for v in given):
        return Feedback(True, "KeResetEvent returns the previous state: 1, then 0. "
                              "KeClearEvent returns nothing; use it when you do not need "
                              "the old state.")
    if any(isinstance(v, bool) for v in given):
        return Feedback(False, "These kernel calls do not return TRUE/FALSE. KeResetEvent "
                               "returns a state, 0 or 1.")
    wrong = []
    if given[1] is not None:
        wrong.append("KeClearEvent returns nothing (None)")
    if given[0] != right[0]:
        wrong.append("the first KeResetEvent returns the state before it, and the event "
                     "was signaled")
    if given[2] != right[2]:
        wrong.append("the last KeResetEvent finds the event already cleared")
    return Feedback(False, joined(wrong))


# The lesson's answer cell starts with this publish: it sets, and leaves the gate open.
STARTER_PUBLISH = '''
def publish(k, event):
    yield k.KeSetEvent(event, 0, False)
'''


@exercise(
    "03-set-then-close",
    "Write `publish(k, event)` for a notification event `Gate` that three threads wait "
    "on. It must release EVERY waiter, and then close the gate again so that a thread "
    "that comes later waits for the next round. Check it with "
    "`check(\"03-set-then-close\", publish)`.",
    hints=["One KeSetEvent on a notification event releases every waiter. But the event "
           "stays signaled, so a later thread would pass too.",
           "After the set, make the event not signaled again with KeClearEvent (or "
           "KeResetEvent). Not before the set: then nobody is released."],
    answer="def publish(k, event):\n    yield k.KeSetEvent(event, 0, False)\n"
           "    yield k.KeClearEvent(event)",
    lesson=LESSON, starter=STARTER_PUBLISH)
def check_set_then_close(fn):
    from ..api.kernel import NotificationEvent
    from ..machine import Machine
    from ..status import STATUS_SUCCESS
    if fn is None:
        return no_answer(fn)
    wrong = need_generator_function(fn, "publish(k, event)")
    if wrong is not None:
        return wrong
    machine = Machine()
    gate = machine.kernel.KeInitializeEvent(NotificationEvent, False, name="Gate")
    waiters = [machine.system.start(waiter, gate, name=f"w{i}") for i in (1, 2, 3)]
    machine.run()
    publisher = machine.system.start(fn, gate, name="publish")
    run = machine.run(max_steps=10_000)
    problem = thread_problem(publisher, run)
    if problem:
        return Feedback(False, problem)
    if any(r.op == "KePulseEvent" for r in machine.trace):
        return Feedback(False, "KePulseEvent seems to work here, but Microsoft documents "
                               "it as unreliable: a waiter that is out of its wait for a "
                               "moment misses the pulse (lesson 06 shows it). Set, then "
                               "clear.")
    if publisher.state != "terminated":
        return Feedback(False, "`publish` did not end; it should not wait.")
    stuck = [t.name for t in waiters if t.state != "terminated"]
    if stuck:
        return Feedback(False, f"Threads still wait: {', '.join(stuck)}. `publish` must "
                               f"release every waiter. Did you clear the event before you "
                               f"set it?")
    if any(t.result != STATUS_SUCCESS for t in waiters):
        return Feedback(False, "A waiter did not get STATUS_SUCCESS.")
    late = machine.system.start(waiter, gate, name="late")
    machine.run()
    if late.state != "waiting":
        return Feedback(False, "Every waiter was released, but a thread that came later "
                               "passed too: the notification event stays signaled until "
                               "you clear it.")
    return Feedback(True, "Every waiter was released, and the gate is closed again for "
                          "the next round.")


__all__ = ["waiter", "check_poll", "clear_and_reset", "check_clear_vs_reset",
           "check_set_then_close"]
