"""Exercises for lesson 06, pitfalls and races, and two small models the lesson runs.

Sources: Microsoft's PulseEvent / KePulseEvent pages (unreliable: a waiter taken out of
its wait for a moment by a kernel APC misses the pulse), SetEvent (setting a signaled
event does nothing), KeWaitForSingleObject (IRQL rules; Driver Verifier's 0xC4),
ObReferenceObjectByHandle / ObDereferenceObject and ZwClose (references and handles
must be given back). The traps themselves are in `evtsim.scenarios.traps`; the two
models below (a clear that races a set, a handle a driver forgets to close) are small
enough to read, and the lesson shows their source with `show_source`.
"""
from __future__ import annotations

from ..api.kernel import (DISPATCH_LEVEL, Executive, KernelMode, NotificationEvent,
                          SynchronizationEvent)
from ..machine import Machine
from ..status import (STATUS_SUCCESS, STATUS_TIMEOUT, name_of)
from .base import exercise

LESSON = "06-pitfalls-and-races"


def clear_race(policy: str = "round_robin", seed: int = 0, fixed: bool = False) -> Machine:
    """A worker drains a job list each time the notification event WorkReady is set.

    The producer adds job1 and sets the event, then adds job2 and sets it again. The
    buggy worker takes one job and *then* clears the event: a set that lands between
    the take and the clear is erased, and job2 waits for ever. The fixed worker clears
    first and then takes every job in the list.
    """
    m = Machine(policy=policy, seed=seed)
    work = m.kernel.KeInitializeEvent(NotificationEvent, False, name="WorkReady")
    jobs: list[str] = []
    done: list[str] = []
    m.jobs, m.done = jobs, done

    def producer(k):
        for job in ("job1", "job2"):
            jobs.append(job)
            yield k.KeSetEvent(work, 0, False)

    def worker(k):
        while len(done) < 2:
            yield k.KeWaitForSingleObject(work, Executive, KernelMode, False, None)
            if fixed:
                yield k.KeClearEvent(work)           # clear first ...
                done.extend(jobs)                   # ... then take everything
                jobs.clear()
            else:
                if jobs:
                    done.append(jobs.pop(0))        # take one job ...
                yield k.KeClearEvent(work)           # ... then clear: too late
        return list(done)

    m.system.start(worker, name="worker")
    m.system.start(producer, name="producer")
    return m


def leaked_handle(fixed: bool = False) -> Machine:
    """A driver creates a named notification event in DriverEntry and keeps the handle.

    Its DriverUnload forgets `ZwClose` (fixed: it closes the handle). The machine is
    returned after the unload, so you can look for the name in `m.objects`.
    """
    m = Machine()
    name = r"\BaseNamedObjects\EvtsimLeak"
    state = {}
    m.leak = state

    def driver_entry(k, driver):
        event, handle = yield k.IoCreateNotificationEvent(name)
        yield k.KeClearEvent(event)
        state["handle"] = handle
        driver.DriverUnload = driver_unload
        return STATUS_SUCCESS

    def driver_unload(k, driver):
        if fixed:
            yield k.ZwClose(state["handle"])

    driver = m.driver("leaky.sys", driver_entry)
    m.unload_driver(driver)
    return m


def pulse_race(policy: str = "round_robin", seed: int = 0, fixed: bool = False) -> Machine:
    """A waiter waits on the notification event Work; a signaller pulses it once
    (fixed: sets it). If the pulse comes before the wait, nobody is there to get it."""
    m = Machine(policy=policy, seed=seed)
    work = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Work")

    def waiter(k):
        return (yield k.KeWaitForSingleObject(work, Executive, KernelMode, False, None))

    def signaller(k):
        if fixed:
            yield k.KeSetEvent(work, 0, False)
        else:
            yield k.KePulseEvent(work, 0, False)

    m.system.start(waiter, name="waiter")
    m.system.start(signaller, name="signaller")
    return m


def play(machine: Machine, schedule) -> Machine:
    """Step the threads named in `schedule` in that order, then let the rest run.

    The machine must use `policy="manual"`. After the schedule the first ready thread
    runs each time, until nothing can run (a plain, repeatable finish).
    """
    if isinstance(schedule, str) or not hasattr(schedule, "__iter__"):
        raise TypeError("a schedule is a list of thread names, like ['worker', 'producer']")
    for name in schedule:
        machine.choices()                   # fire what is due first
        machine.step(machine.thread(name))
        if machine.bugcheck:
            return machine
    for _ in range(10_000):
        ready = machine.choices()
        if not ready:
            break
        machine.step(ready[0])
    return machine


@exercise(
    "06-pulse-why",
    "In <code>trap_pulse_lost_wakeup</code> the waiter missed the pulse. Why? Answer "
    "with one letter.<br>"
    "a) KePulseEvent works only on synchronization events.<br>"
    "b) When the pulse came, the waiter was out of its wait for a moment, running a "
    "kernel APC.<br>"
    "c) The signaller called KePulseEvent at the wrong IRQL.<br>"
    "d) The pulse was too short: the waiter's CPU did not see it in time.",
    ["Look at the text timeline: what did the waiter do at the step just before the "
     "pulse, and at the step after?",
     "A pulse releases only the threads that are in the wait list at that moment, then "
     "leaves the event not signaled."],
    "b",
    LESSON)
def pulse_why(answer):
    answer = str(answer).strip().lower().rstrip(")")
    wrong = {
        "a": "no: KePulseEvent works on both types. Here the event is a notification event.",
        "c": "no: the signaller runs at PASSIVE_LEVEL; there is no bug check.",
        "d": ("no: time is not the problem. A pulse is one atomic step; the question is "
              "who is in the wait list at that step."),
    }
    if answer == "b":
        return True, ("the APC took the waiter off the wait list; the pulse found nobody, "
                      "set the state back to 0, and the waiter waited again for ever. "
                      "That is why Microsoft calls PulseEvent unreliable.")
    return False, wrong.get(answer, "answer a, b, c or d.")


@exercise(
    "06-pulse-before-wait",
    "A pulse can be lost even with no APC. In <code>pulse_race(policy=\"manual\")</code>, "
    "give an order of steps (a list of the thread names <code>\"waiter\"</code> and "
    "<code>\"signaller\"</code>) in which the waiter never gets the pulse.",
    ["The pulse only releases threads that are already waiting.",
     "Step the signaller first."],
    "['signaller', 'waiter'] (or any order where the signaller runs before the waiter)",
    LESSON)
def pulse_before_wait(answer):
    schedule = list(answer)
    if "signaller" not in schedule:
        return False, "your schedule must step the signaller (it does the pulse)."
    m = play(pulse_race(policy="manual"), schedule)
    if m.thread("waiter").state == "waiting":
        return True, ("the pulse found no waiter, left the event 0, and the waiter's "
                      "wait then blocked for ever. A set (not a pulse) would have stayed.")
    return False, ("in that order the waiter was already waiting when the pulse came, so "
                   "it woke. Move the signaller earlier.")


@exercise(
    "06-two-sets",
    "In <code>trap_two_sets_one_wake</code> the producer calls <code>SetEvent</code> "
    "twice on an auto-reset event before either consumer waits. How many consumers "
    "return from <code>WaitForSingleObject</code>? Answer with a number.",
    ["The event has only two states, 0 and 1. It does not count.",
     "What does SetEvent do to an event that is already signaled?"],
    "1: the second SetEvent finds the event signaled and does nothing",
    LESSON)
def two_sets(answer):
    from .. import scenarios
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "answer with a number."
    m = scenarios.build("trap_two_sets_one_wake")
    m.run()
    right = sum(m.thread(n).state == "terminated" for n in ("consumer1", "consumer2"))
    if answer == right:
        return True, ("one. An event is not a counter: the second set on a signaled "
                      "event is lost, and one consumer waits for ever.")
    if answer == 2:
        return False, ("the second SetEvent found the event already signaled and did "
                       "nothing: one signal, one consumer.")
    return False, "the first SetEvent leaves the event signaled, and one wait takes it."


@exercise(
    "06-clear-order",
    "In <code>clear_race</code> a worker handles jobs each time <code>WorkReady</code> "
    "(a notification event) is set. Which worker loop never loses a job, in every "
    "schedule? Answer with one letter.<br>"
    "a) wait; take one job; KeClearEvent<br>"
    "b) wait; KeClearEvent; take every job in the list<br>"
    "c) wait; take every job in the list; KeClearEvent<br>"
    "d) wait; KeResetEvent; take one job",
    ["A set that lands between 'take' and 'clear' is erased by the clear.",
     "Clear first: then a set that comes later stays, and the next wait sees it. And "
     "take everything, because one set may stand for several jobs."],
    "b",
    LESSON)
def clear_order(answer):
    answer = str(answer).strip().lower().rstrip(")")
    wrong = {
        "a": ("a set between 'take one job' and the clear is erased: the next job waits "
              "for ever. That is the race in this lesson."),
        "c": ("better, but a job added after the take and before the clear still has its "
              "set erased."),
        "d": ("KeResetEvent clears just like KeClearEvent (it only returns the old state). "
              "Clearing first is right, but taking one job leaves the other job behind "
              "when two sets became one."),
    }
    if answer == "b":
        m = clear_race(fixed=True)
        m.run()
        return True, (f"clear first, then drain: the worker got {m.done} and no set can "
                      "fall into a gap.")
    return False, wrong.get(answer, "answer a, b, c or d.")


def wait_at_dispatch(timeout) -> Machine:
    """A driver thread at DISPATCH_LEVEL waits on an unsignaled event with `timeout`."""
    m = Machine()
    event = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Ready")

    def driver(k):
        old = yield k.KeRaiseIrql(DISPATCH_LEVEL)
        status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, timeout)
        yield k.KeLowerIrql(old)
        return status

    m.system.start(driver, name="driver")
    m.run()
    return m


@exercise(
    "06-dispatch-timeout",
    "A driver runs at DISPATCH_LEVEL (it holds a spin lock). Which <code>Timeout</code> "
    "may it pass to <code>KeWaitForSingleObject</code> without a bug check? Answer with "
    "the value (<code>None</code>, a negative number, 0, ...).",
    ["At DISPATCH_LEVEL the thread cannot give up the CPU, so it must not block.",
     "Only a wait that tests the event and returns at once is allowed."],
    "0: a poll, which returns STATUS_TIMEOUT at once if the event is not signaled",
    LESSON)
def dispatch_timeout(answer):
    if isinstance(answer, bool) or not (answer is None or isinstance(answer, int)):
        return False, "answer with None or a whole number (100 ns units)."
    m = wait_at_dispatch(answer)
    if m.bugcheck is None and m.thread("driver").result == STATUS_TIMEOUT:
        return True, ("0 is a poll: the wait returns STATUS_TIMEOUT at once and never "
                      "blocks.")
    if m.bugcheck is not None and answer is None:
        return False, (f"None means wait for ever: bug check 0x{m.bugcheck.code:X} "
                       f"({m.bugcheck.name}). That is the worst choice at DISPATCH_LEVEL.")
    if m.bugcheck is not None:
        return False, (f"any non-zero timeout may block: bug check 0x{m.bugcheck.code:X} "
                       f"({m.bugcheck.name}).")
    return False, f"the wait returned {name_of(m.thread('driver').result)}."


@exercise(
    "06-leaked-reference",
    "In <code>trap_leaked_reference</code> (not fixed) the app has closed the device "
    "and its event handle. What is the event's <code>header.pointer_count</code> now? "
    "Answer with a number.",
    ["Each handle holds one pointer reference. How many handles are left?",
     "The driver's ObReferenceObjectByHandle added a reference. Did anybody call "
     "ObDereferenceObject?"],
    "1: the driver's reference, never dropped, so the event is never freed",
    LESSON)
def leaked_reference(answer):
    from .. import scenarios
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "answer with a number."
    m = scenarios.build("trap_leaked_reference")
    m.run()
    right = m.seen["event"].header.pointer_count
    if answer == right:
        return True, ("one reference is left: the driver's. The event stays in memory for "
                      "ever (a leak). Cleanup must call ObDereferenceObject.")
    if answer == 0:
        return False, "0 would mean the event was freed. Who still holds a reference?"
    return False, "the app's handles are gone; count what the driver took."


@exercise(
    "06-leaked-handle",
    "In <code>leaked_handle()</code> the driver's DriverUnload forgets <code>ZwClose</code>. "
    "After the unload, how many handles does <code>\\BaseNamedObjects\\EvtsimLeak</code> "
    "still have? Answer with a number.",
    ["IoCreateNotificationEvent returned a kernel handle. Kernel handles stay open until "
     "someone closes them, even after the driver is gone.",
     "Print <code>m.objects</code> after the unload."],
    "1: the forgotten kernel handle keeps the name (and the old state) alive",
    LESSON)
def leaked_handle_checker(answer):
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "answer with a number."
    event = leaked_handle().objects.lookup(r"\BaseNamedObjects\EvtsimLeak")
    right = event.header.handle_count
    if answer == right:
        return True, ("one handle is left, so the name stays. When the driver loads again, "
                      "IoCreateNotificationEvent opens this old event, in whatever state "
                      "it was left. DriverUnload must ZwClose it.")
    if answer == 0:
        return False, ("0 would remove the name. Look at m.objects: the event is still "
                       "there.")
    return False, "the driver opened one handle and closed none."


__all__ = ["pulse_race", "clear_race", "leaked_handle", "play", "wait_at_dispatch"]
