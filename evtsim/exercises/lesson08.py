"""Exercises for lesson 08: where the documentation and the kernel disagree.

docs/semantics.md section 9 lists the disagreements; the simulator does what Windows does
(ReactOS `ke/eventobj.c`, `ke/wait.c`; Wine's conformance tests, run on Windows), and
each checker below runs the small model it asks about. The lesson runs the same models
and shows their source, so the lesson and its checkers cannot disagree. One more the team
found: for an event, Windows maps GENERIC_READ to READ_CONTROL | EVENT_QUERY_STATE with no
SYNCHRONIZE (Wine's advapi32 security tests), where ReactOS adds SYNCHRONIZE (see
docs/semantics.md section 4 and the comment in evtsim/security.py).
"""
from __future__ import annotations

from ..api.kernel import Executive, KernelMode, NotificationEvent, SynchronizationEvent, WaitAll
from ..machine import Machine
from ..status import (
    EVENT_MODIFY_STATE,
    GENERIC_EXECUTE,
    GENERIC_READ,
    GENERIC_WRITE,
    STATUS_TIMEOUT,
    SYNCHRONIZE,
    WAIT_OBJECT_0,
    access_names,
    name_of,
)
from .base import exercise

LESSON = "08-docs-versus-kernel"


def _number(answer):
    return not isinstance(answer, bool) and isinstance(answer, int)


def set_set_reset() -> tuple[int, int, int]:
    """KeSetEvent on a new unsignaled event, KeSetEvent again, then KeResetEvent.

    Returns the three return values. (The lesson shows this code before it asks what
    the second call returns, so this docstring does not say.)"""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ev")
    first = m.kernel.KeSetEvent(ev, 0, False)
    second = m.kernel.KeSetEvent(ev, 0, False)
    reset = m.kernel.KeResetEvent(ev)
    return first, second, reset


@exercise(
    "08-keset-return",
    "An event is already signaled. What does `KeSetEvent` return? Answer with the exact "
    "number.",
    ["Microsoft's page only promises 'nonzero' when the event was signaled. The kernel is "
     "more exact.",
     "KeSetEvent returns the previous state, and a state is 0 or 1."],
    "1",
    LESSON)
def keset_return(answer):
    if isinstance(answer, bool):
        return False, ("True is what the docs let you expect ('nonzero'); give the exact "
                       "number the kernel returns.")
    if not _number(answer):
        return False, "Answer with a number."
    right = set_set_reset()[1]          # the second KeSetEvent: the event was signaled
    if answer == right:
        return True, ("Exactly 1: the previous state. Still, test it as nonzero in real "
                      "code, because that is all the docs promise.")
    if answer == 0:
        return False, "0 is what the first KeSetEvent returns, on an unsignaled event."
    return False, "The kernel returns the previous state, which is 0 or 1."


def pulse_machine(event_type: int, waiters: int = 3) -> Machine:
    """Threads w1, w2, ... wait on one event of `event_type`; then one KePulseEvent.

    The machine runs until the waiters wait, the instructor pulses the event, and the
    machine runs again, so the trace shows who the pulse released."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(event_type, False, name="Ev")

    def waiter(k):
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None))

    for i in range(1, waiters + 1):
        m.system.start(waiter, name=f"w{i}")
    m.run()
    m.kernel.KePulseEvent(ev, 0, False)
    m.run()
    return m


def pulse_sync_released(waiters: int = 3) -> list[str]:
    """Names of the threads one KePulseEvent on a synchronization event releases."""
    m = pulse_machine(SynchronizationEvent, waiters)
    return list(next(r for r in m.trace if r.op == "KePulseEvent").released)


@exercise(
    "08-pulse-sync",
    "Three threads wait on a SYNCHRONIZATION event. The instructor calls `KePulseEvent` "
    "once. How many threads are released? Answer with a number.",
    ["The KePulseEvent page speaks of satisfying 'as many waits as possible'. Is that "
     "true for an auto-reset event?",
     "A pulse releases as a set would, then leaves the state 0. What does a set do to a "
     "synchronization event with waiters?"],
    "1 (the first waiter in the list)",
    LESSON)
def pulse_sync(answer):
    if not _number(answer):
        return False, "Answer with a number."
    right = len(pulse_sync_released())
    if answer == right:
        return True, ("One: the first waiter. A pulse on an auto-reset event releases one "
                      "thread, like a set, and then leaves the event not signaled.")
    if answer == 3:
        return False, ("That is what the docs' 'as many waits as possible' suggests. The "
                       "kernel releases one thread from a synchronization event.")
    return False, "Run the model in the notebook and count the released threads."


def waitall_machine() -> Machine:
    """A wait-all thread on (A, B) queued before a wait-any thread on A; KeSetEvent(A).

    A is a synchronization event, B a notification event that nobody sets. The machine
    runs until both threads wait, the instructor sets A, and the machine runs again."""
    m = Machine()
    a = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="A")
    b = m.kernel.KeInitializeEvent(NotificationEvent, False, name="B")

    def wait_for_both(k):
        return (yield k.KeWaitForMultipleObjects(2, [a, b], WaitAll, Executive, KernelMode,
                                                 False, None))

    def wait_for_a(k):
        return (yield k.KeWaitForSingleObject(a, Executive, KernelMode, False, None))

    m.system.start(wait_for_both, name="wait_all")
    m.system.start(wait_for_a, name="wait_any")
    m.run()
    m.kernel.KeSetEvent(a, 0, False)
    m.run()
    return m


def waitall_set() -> tuple[list[str], list[str]]:
    """What the KeSetEvent(A) of `waitall_machine` did: (released, woken to re-check)."""
    record = next(r for r in waitall_machine().trace if r.op == "KeSetEvent")
    return list(record.released), list(record.rechecked)


@exercise(
    "08-waitall-recheck",
    "`wait_all` waits for A AND B (WaitAll) and is first in A's wait list; `wait_any` "
    "waits for A alone. A is a synchronization event. The instructor calls "
    "`KeSetEvent(A)`. Which threads does that call wake up (released, or woken just to "
    "check again)? Answer with a list of names.",
    ["The docs say a synchronization event releases a single waiting thread. Which one "
     "returns from its wait?",
     "The kernel walks A's wait list from the head. A wait-all waiter it meets first is "
     "woken to re-check its objects; B is not signaled, so it waits again."],
    "['wait_all', 'wait_any']: wait_any is released, wait_all is woken to re-check",
    LESSON)
def waitall_recheck(answer):
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return False, "Answer with a list of thread names."
    given = set(answer)
    released, again = waitall_set()
    if given == set(released) | set(again):
        return True, (f"`{released[0]}` is released and takes A; `{', '.join(again)}` is woken, "
                      "finds B not signaled, and waits again at the end of the list.")
    if given == set(released):
        return False, ("That is the one thread released, as the docs say. The kernel wakes "
                       "one more thread for a moment. Look at the 'what happened' column.")
    if given == set(again):
        return False, ("`wait_all` cannot return: B is not signaled. It is only woken to "
                       "check again.")
    return False, "Use the names wait_all and wait_any."


def new_event_poll() -> int:
    """IoCreateSynchronizationEvent on a new name, then a zero-timeout wait: the status."""
    m = Machine()

    def driver(k):
        ev, handle = yield k.IoCreateSynchronizationEvent(r"\BaseNamedObjects\EvtsimNew")
        status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)
        yield k.ZwClose(handle)
        return status

    t = m.system.start(driver, name="driver")
    m.run()
    return t.result


@exercise(
    "08-new-signaled",
    "A driver creates a NEW event with `IoCreateSynchronizationEvent` and at once polls "
    "it: `KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)`. What status does "
    "the wait return?",
    ["KeInitializeEvent lets you choose the first state. Does IoCreateSynchronizationEvent?",
     "Read the Io page again: it says what state a new event gets."],
    "STATUS_SUCCESS (0): a new named event starts Signaled",
    LESSON)
def new_signaled(answer):
    if not _number(answer):
        return False, "Answer with a status, for example STATUS_TIMEOUT."
    right = new_event_poll()
    if answer == right:
        return True, ("STATUS_SUCCESS: the new event is Signaled, so the first wait passes "
                      "(and, on an auto-reset event, takes the signal). Clear it first if "
                      "that is not what you want.")
    if answer == STATUS_TIMEOUT:
        return False, ("That is what most people expect. The Io pages say a new named event "
                       "starts Signaled.")
    return False, f"{name_of(answer)} is not it; run the model."


def two_drivers_one_name() -> Machine:
    """Two drivers open one named event, each with a different Io call.

    driver1 creates EvtsimShared with IoCreateNotificationEvent; then driver2 asks for
    the same name with IoCreateSynchronizationEvent. Each thread returns the Type of the
    event it got. Returns the machine after the run."""
    m = Machine()
    name = r"\BaseNamedObjects\EvtsimShared"

    def driver1(k):
        ev, handle = yield k.IoCreateNotificationEvent(name)
        return ev.Type

    def driver2(k):
        ev, handle = yield k.IoCreateSynchronizationEvent(name)
        return ev.Type

    m.system.start(driver1, name="driver1")      # round robin: driver1 runs first
    m.system.start(driver2, name="driver2")
    m.run()
    return m


def sync_on_notification() -> int:
    """The Type of the event driver2 got in `two_drivers_one_name`."""
    return two_drivers_one_name().thread("driver2").result


@exercise(
    "08-type-not-checked",
    "Driver 1 created `\\BaseNamedObjects\\EvtsimShared` with "
    "`IoCreateNotificationEvent`. Driver 2 then calls `IoCreateSynchronizationEvent` "
    "with the same name. What is the `Type` of the event driver 2 gets? Answer "
    "`NotificationEvent` or `SynchronizationEvent`.",
    ["If the name exists, the Io call 'simply opens' it.",
     "Opening does not change an object, and the Io call does not compare types."],
    "NotificationEvent: driver 2 gets driver 1's event as it is",
    LESSON)
def type_not_checked(answer):
    if not _number(answer) or answer not in (NotificationEvent, SynchronizationEvent):
        return False, "Answer NotificationEvent or SynchronizationEvent."
    if answer == sync_on_notification():
        return True, ("NotificationEvent. Driver 2 asked for auto reset but got manual "
                      "reset: its waits will no longer take the signal. Agree on the type "
                      "(and the name) in both drivers.")
    return False, ("That is what driver 2 asked for, but the Io call does not check the "
                   "type of an existing event. It returns the event as it is.")


@exercise(
    "08-dispatch-stop-code",
    "A driver waits with a 1 ms timeout at DISPATCH_LEVEL. The Microsoft page forbids it "
    "but names no stop code. With Driver Verifier on, which bug check code stops the "
    "machine? Answer with a number, for example `0x0A`.",
    ["Run `scenarios.build(\"trap_wait_at_dispatch\")` and look at `m.bugcheck`.",
     "It is Driver Verifier's own stop code, DRIVER_VERIFIER_DETECTED_VIOLATION."],
    "0xC4",
    LESSON)
def dispatch_stop_code(answer):
    from .. import scenarios
    if not _number(answer):
        return False, "Answer with a number, such as 0x0A."
    m = scenarios.build("trap_wait_at_dispatch")
    m.run()
    crash = m.bugcheck
    assert crash is not None, "the trap always crashes the machine"
    if answer == crash.code:
        return True, (f"0x{crash.code:X}, {crash.name}: Verifier's check. Without "
                      "Verifier the same bug can show up later as another stop code, or as "
                      "a hang.")
    if answer == 0xB8:
        return False, ("0xB8 is for a thread that blocks inside a DPC. This wait is in a "
                       "thread at DISPATCH_LEVEL; Verifier reports it first.")
    if answer == 0x0A:
        return False, ("0xA (IRQL_NOT_LESS_OR_EQUAL) is a classic, but here Verifier checks "
                       "the rule and names it.")
    return False, f"0x{answer:X} is not it; look at `m.bugcheck`."


def open_and_wait(*accesses: int) -> list[tuple]:
    """A standard user's app creates the event Ev, then, for each access in turn, opens
    it with that access and polls it.

    Returns one (granted access, wait result, GetLastError after it) per access; a
    refused OpenEvent gives (None, None, error). It is one app, so the last error is
    carried on: Win32 functions set it only when they fail."""
    m = Machine()
    app = m.process("app.exe")

    def main(api):
        yield api.CreateEvent(None, True, True, "Ev")
        results: list[tuple] = []
        for access in accesses:
            h = yield api.OpenEvent(access, False, "Ev")
            if h is None:
                results.append((None, None, (yield api.GetLastError())))
                continue
            result = yield api.WaitForSingleObject(h, 0)
            error = yield api.GetLastError()
            entry = app.handles.get(h)              # the handle that OpenEvent just made
            assert entry is not None
            results.append((entry.granted_access, result, error))
        return results

    t = app.start(main, name="main")
    m.run()
    return t.result


@exercise(
    "08-generic-read",
    "An app opens an event with `OpenEvent(GENERIC_READ, False, \"Ev\")` and waits on "
    "it: `WAIT_FAILED`, `ERROR_ACCESS_DENIED`. Which right must it ADD to GENERIC_READ so "
    "that the wait works? Answer with one constant.",
    ["Print `access_names(granted)` for the GENERIC_READ handle. Which right does a wait "
     "need?",
     "ReactOS puts it into GENERIC_READ for events; Windows does not."],
    "SYNCHRONIZE",
    LESSON)
def generic_read(answer):
    if not _number(answer):
        return False, "Answer with a constant, for example EVENT_QUERY_STATE."
    granted, result, error = open_and_wait(GENERIC_READ | answer)[0]
    if result == WAIT_OBJECT_0:
        if answer == SYNCHRONIZE:
            return True, ("SYNCHRONIZE is the right a wait needs. Windows maps GENERIC_READ "
                          "on an event to READ_CONTROL | EVENT_QUERY_STATE, without it.")
        if answer == GENERIC_EXECUTE:
            return True, ("GENERIC_EXECUTE works: for an event it maps to READ_CONTROL | "
                          "SYNCHRONIZE. Asking for SYNCHRONIZE itself says it more plainly.")
        return True, (f"That works ({access_names(granted)}), but it asks for more than "
                      "the wait needs: SYNCHRONIZE alone is enough.")
    if answer in (EVENT_MODIFY_STATE, GENERIC_WRITE):
        return False, ("That lets the app set the event, not wait on it. Windows does not "
                       "put the wait right into generic write either.")
    if granted is None:
        return False, "OpenEvent refused that access."
    return False, (f"The handle has {access_names(granted)}, and the wait still fails "
                   f"({name_of(error, 'error')}).")


__all__ = ["set_set_reset", "pulse_machine", "pulse_sync_released", "waitall_machine",
           "waitall_set", "new_event_poll", "two_drivers_one_name", "sync_on_notification",
           "open_and_wait"]
