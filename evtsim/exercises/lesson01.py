"""Exercises of notebook 01, Signaled state and waiting: which waiters one KeSetEvent
releases on a notification and on a synchronization event, and the state after it.

Source: Microsoft's IoCreateNotificationEvent reference page (the two event types) and
the KeInitializeEvent, KeSetEvent and KeWaitForSingleObject pages. The lesson's machine
is `build` here: the notebook imports it and shows its source, and the checkers run the
very same machine (threads w1, w2, w3 wait, in that order; `setter` sets the event once).
"""
from __future__ import annotations

from ..api.kernel import KernelMode, NotificationEvent, SynchronizationEvent
from ..machine import Machine
from ..scenarios.patterns import MS
from .base import Feedback, exercise
from .lesson00 import joined, no_answer, thread_names, waiter

LESSON = "01-signaled-state-and-waiting"


def setter(k, ev):
    """A thread that waits 1 ms (the hardware is busy), then sets the event once.
    It returns what KeSetEvent returned: the state before the set."""
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    previous = yield k.KeSetEvent(ev, 0, False)
    return previous


def build(kind: int = NotificationEvent, waiters: int = 3) -> Machine:
    """A machine with one event Go of type kind, not signaled. The threads w1, w2, w3
    wait on it, and the thread setter sets it once."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(kind, False, name="Go")
    for i in range(1, waiters + 1):
        m.system.start(waiter, ev, name=f"w{i}")
    m.system.start(setter, ev, name="setter")
    return m


def one_set(kind: int, waiters: int = 3):
    """Run the lesson's machine (`build`) to its end. Returns (the threads its one
    KeSetEvent released, in order; the state of Go at the end; the machine)."""
    machine = build(kind, waiters)
    machine.run()
    released = [name for record in machine.trace if record.op == "KeSetEvent"
                for name in record.released]
    return released, machine.find("Go").SignalState, machine


def _released_feedback(answer, right, kind_words):
    if answer is None:
        return no_answer(answer)
    names = thread_names(answer)
    if names is None:
        return Feedback(False, 'Answer with a list of thread names, for example '
                               '["w2", "w3"].')
    unknown = [n for n in names if n not in ("w1", "w2", "w3")]
    if unknown:
        return Feedback(False, f"There is no thread {unknown[0]!r}: the waiters are "
                               f"w1, w2 and w3.")
    if names == right:
        return None
    if sorted(names) == sorted(right) and names != right:
        return Feedback(True, "Those are the threads (the order of your list does not "
                              "matter here).")
    return Feedback(False, "")


@exercise(
    "01-how-many-released",
    "Three threads `w1`, `w2`, `w3` wait, in this order, on a NOTIFICATION event that is "
    "not signaled. You call `KeSetEvent` once. Which threads does this call release? "
    'Answer with a list of names, for example `["w2"]`.',
    hints=["A notification event is the manual-reset kind.",
           "A manual-reset event does not reset itself when a thread passes. Think of a "
           "door that stays open."],
    answer='["w1", "w2", "w3"]: a notification event releases every waiter, and it '
           "stays signaled.",
    lesson=LESSON)
def check_how_many_released(answer):
    right, _, _ = one_set(NotificationEvent)
    feedback = _released_feedback(answer, right, "notification")
    if feedback is None:
        return Feedback(True, "One KeSetEvent on a notification event releases every "
                              "waiter. The event stays signaled after it.")
    if feedback.ok or feedback.message:
        return feedback
    names = thread_names(answer)
    if names == ["w1"]:
        return Feedback(False, "One waiter is what a synchronization (auto-reset) event "
                               "releases. This one is a notification event.")
    if not names:
        return Feedback(False, "KeSetEvent does release threads here: they wait on the "
                               "event it sets.")
    return Feedback(False, "A notification event does not choose among its waiters.")


@exercise(
    "01-sync-released",
    "The same three threads `w1`, `w2`, `w3` wait, in this order, on a SYNCHRONIZATION "
    "event that is not signaled. You call `KeSetEvent` once. Which threads does this "
    "call release? Answer with a list of names.",
    hints=["A synchronization event is the auto-reset kind: one thread passes, then it "
           "is not signaled again.",
           "The kernel keeps its waiters in a list and serves it from the head: first "
           "come, first served."],
    answer='["w1"]: a synchronization event releases one waiter, the first in the wait '
           "list, and goes back to not signaled.",
    lesson=LESSON)
def check_sync_released(answer):
    right, _, _ = one_set(SynchronizationEvent)
    feedback = _released_feedback(answer, right, "synchronization")
    if feedback is None:
        return Feedback(True, "One waiter, the first in the list (w1). The event is not "
                              "signaled again afterwards, so w2 and w3 keep waiting.")
    if feedback.ok or feedback.message:
        return feedback
    names = thread_names(answer)
    assert names is not None, "_released_feedback answered anything else"
    if len(names) == 3:
        return Feedback(False, "Every waiter is what a notification event releases. A "
                               "synchronization event releases only one.")
    if len(names) == 1:
        return Feedback(False, f"One thread is right, but not {names[0]}. The wait list is "
                               f"served from its head: who started to wait first?")
    if not names:
        return Feedback(False, "The set does release a thread: one of them.")
    return Feedback(False, "A synchronization event releases exactly one waiter.")


@exercise(
    "01-state-after",
    "After that one `KeSetEvent` (three waiters, as above), what is the state of each "
    'event? Answer with a dict: `{"notification": ..., "synchronization": ...}`, each '
    "0 or 1.",
    hints=["The notification event released every waiter. Does releasing a thread reset "
           "it?",
           "The synchronization event gave its signal to w1. A synchronization event "
           "resets itself when a waiter takes the signal."],
    answer='{"notification": 1, "synchronization": 0}: the notification event stays '
           "signaled until KeClearEvent or KeResetEvent; the synchronization event went "
           "back to 0 when w1 took its signal.",
    lesson=LESSON)
def check_state_after(answer):
    if answer is None:
        return no_answer(answer)
    if not isinstance(answer, dict) or set(answer) != {"notification", "synchronization"}:
        return Feedback(False, 'Answer with a dict with two keys: '
                               '{"notification": 0 or 1, "synchronization": 0 or 1}.')
    if any(v is None for v in answer.values()):
        return no_answer(None)
    right = {"notification": one_set(NotificationEvent)[1],
             "synchronization": one_set(SynchronizationEvent)[1]}
    given = {k: int(v) if isinstance(v, bool) else v for k, v in answer.items()}
    if given == right:
        return Feedback(True, "The notification event stays signaled (1); the "
                              "synchronization event was consumed by w1 (0).")
    wrong = []
    if given["notification"] != right["notification"]:
        wrong.append("a notification event stays signaled after it releases its "
                     "waiters, until someone calls KeClearEvent or KeResetEvent")
    if given["synchronization"] != right["synchronization"]:
        wrong.append("a synchronization event that releases a waiter goes back to "
                     "not signaled at once")
    return Feedback(False, joined(wrong))


__all__ = ["setter", "build", "one_set", "check_how_many_released", "check_sync_released",
           "check_state_after"]
