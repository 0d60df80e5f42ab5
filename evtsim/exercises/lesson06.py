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

from ..api.kernel import (
    DISPATCH_LEVEL,
    Executive,
    KernelMode,
    NotificationEvent,
    SynchronizationEvent,
)
from ..errors import BadArgumentError, EvtsimError
from ..machine import Machine
from ..status import STATUS_SUCCESS, STATUS_TIMEOUT, name_of
from .base import exercise

LESSON = "06-pitfalls-and-races"


def job_producer(k, work, jobs):
    """Add two jobs to the list, and set WorkReady after each one."""
    for job in ("job1", "job2"):
        jobs.append(job)
        yield k.KeSetEvent(work, 0, False)


def job_worker(k, work, jobs, done):
    """Handle the jobs: wait for WorkReady, take one job, then clear the event."""
    while len(done) < 2:
        yield k.KeWaitForSingleObject(work, Executive, KernelMode, False, None)
        if jobs:
            done.append(jobs.pop(0))            # take one job ...
        yield k.KeClearEvent(work)               # ... then clear
    return list(done)


def job_worker_fixed(k, work, jobs, done):
    """The repair: wait for WorkReady, clear it first, then take every job."""
    while len(done) < 2:
        yield k.KeWaitForSingleObject(work, Executive, KernelMode, False, None)
        yield k.KeClearEvent(work)               # clear first ...
        done.extend(jobs)                       # ... then take everything
        jobs.clear()
    return list(done)


def clear_race(policy: str = "round_robin", seed: int = 0, fixed: bool = False) -> Machine:
    """A worker handles a job list each time the notification event WorkReady is set.

    `job_producer` adds job1 and sets the event, then adds job2 and sets it again. The
    worker is `job_worker`, or `job_worker_fixed` with `fixed`. `m.jobs` is the list,
    `m.done` the jobs handled.
    """
    m = Machine(policy=policy, seed=seed)
    work = m.kernel.KeInitializeEvent(NotificationEvent, False, name="WorkReady")
    jobs: list[str] = []
    done: list[str] = []
    m.jobs, m.done = jobs, done
    m.system.start(job_worker_fixed if fixed else job_worker, work, jobs, done,
                   name="worker")
    m.system.start(job_producer, work, jobs, name="producer")
    return m


def leaked_handle(fixed: bool = False) -> Machine:
    """A driver creates a named notification event in DriverEntry and keeps the handle.

    Its DriverUnload forgets `ZwClose` (fixed: it closes the handle). The machine is
    returned after the unload, so you can look for the name in `m.objects`.
    """
    m = Machine()
    name = r"\BaseNamedObjects\EvtsimLeak"
    state: dict = {}
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
    if isinstance(schedule, str) or not isinstance(schedule, (list, tuple)):
        raise BadArgumentError("a schedule is a list of thread names, like "
                               "['worker', 'producer']")
    names = [t.name for t in machine.threads]
    for name in schedule:
        if name not in names:
            raise BadArgumentError(f"there is no thread {name!r}; the threads are "
                                   f"{', '.join(names)}")
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
    "In `trap_pulse_lost_wakeup` the waiter missed the pulse. Why? Answer with one "
    "letter.\n"
    "a) KePulseEvent works only on synchronization events.\n"
    "b) When the pulse came, the waiter was out of its wait for a moment, running a "
    "kernel APC.\n"
    "c) The signaller called KePulseEvent at the wrong IRQL.\n"
    "d) The pulse was too short: the waiter's CPU did not see it in time.",
    ["Look at the text timeline: what did the waiter do at the step just before the "
     "pulse, and at the step after?",
     "A pulse releases only the threads that are in the wait list at that moment, then "
     "leaves the event not signaled."],
    "b",
    LESSON)
def pulse_why(answer):
    if answer is None:
        return False, "Write one letter in place of None, then run the cell again."
    answer = str(answer).strip().lower().rstrip(")")
    wrong = {
        "a": "No: KePulseEvent works on both types. Here the event is a notification event.",
        "c": "No: the signaller runs at PASSIVE_LEVEL; there is no bug check.",
        "d": ("No: time is not the problem. A pulse is one atomic step; the question is "
              "who is in the wait list at that step."),
    }
    if answer == "b":
        return True, ("The APC took the waiter off the wait list; the pulse found nobody, "
                      "set the state back to 0, and the waiter waited again for ever. "
                      "That is why Microsoft calls PulseEvent unreliable.")
    return False, wrong.get(answer, "Answer a, b, c or d.")


@exercise(
    "06-pulse-before-wait",
    "A pulse can be lost even with no APC. In `pulse_race(policy=\"manual\")`, give an "
    "order of steps (a list of the thread names `\"waiter\"` and `\"signaller\"`) in "
    "which the waiter never gets the pulse.",
    ["The pulse only releases threads that are already waiting.",
     "Step the signaller first."],
    "['signaller', 'waiter'] (or any order where the signaller runs before the waiter)",
    LESSON)
def pulse_before_wait(answer):
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        return False, 'Answer with a list of thread names, for example ["waiter"].'
    schedule = list(answer)
    unknown = [n for n in schedule if n not in ("waiter", "signaller")]
    if unknown:
        return False, (f"There is no thread {unknown[0]!r}: the threads are waiter and "
                       "signaller.")
    if "signaller" not in schedule:
        return False, "Your schedule must step the signaller (it does the pulse)."
    try:
        m = play(pulse_race(policy="manual"), schedule)
    except EvtsimError as error:        # a thread that cannot run at its turn
        return False, f"That schedule cannot run: {str(error).rstrip('.')}."
    if m.thread("waiter").state == "waiting":
        return True, ("The pulse found no waiter, left the event 0, and the waiter's "
                      "wait then blocked for ever. A set (not a pulse) would have stayed.")
    return False, ("In that order the waiter was already waiting when the pulse came, so "
                   "it woke. Move the signaller earlier.")


@exercise(
    "06-two-sets",
    "In `trap_two_sets_one_wake` the producer calls `SetEvent` twice on an auto-reset "
    "event before either consumer waits. How many consumers return from "
    "`WaitForSingleObject`? Answer with a number.",
    ["The event has only two states, 0 and 1. It does not count.",
     "What does SetEvent do to an event that is already signaled?"],
    "1: the second SetEvent finds the event signaled and does nothing",
    LESSON)
def two_sets(answer):
    from .. import scenarios
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "Answer with a number."
    m = scenarios.build("trap_two_sets_one_wake")
    m.run()
    right = sum(m.thread(n).state == "terminated" for n in ("consumer1", "consumer2"))
    if answer == right:
        return True, ("One. An event is not a counter: the second set on a signaled "
                      "event is lost, and one consumer waits for ever.")
    if answer == 2:
        return False, ("The second SetEvent found the event already signaled and did "
                       "nothing: one signal, one consumer.")
    return False, "The first SetEvent leaves the event signaled, and one wait takes it."


@exercise(
    "06-clear-order",
    "In `clear_race` a worker handles jobs each time `WorkReady` (a notification event) "
    "is set. Which worker loop never loses a job, in every schedule? Answer with one "
    "letter.\n"
    "a) wait; take one job; KeClearEvent\n"
    "b) wait; KeClearEvent; take every job in the list\n"
    "c) wait; take every job in the list; KeClearEvent\n"
    "d) wait; KeResetEvent; take one job",
    ["A set that lands between 'take' and 'clear' is erased by the clear.",
     "Clear first: then a set that comes later stays, and the next wait sees it. And "
     "take everything, because one set may stand for several jobs."],
    "b",
    LESSON)
def clear_order(answer):
    if answer is None:
        return False, "Write one letter in place of None, then run the cell again."
    answer = str(answer).strip().lower().rstrip(")")
    wrong = {
        "a": ("A set between 'take one job' and the clear is erased: the next job waits "
              "for ever. That is the race in this lesson."),
        "c": ("Better, but a job added after the take and before the clear still has its "
              "set erased."),
        "d": ("KeResetEvent clears just like KeClearEvent (it only returns the old state). "
              "Clearing first is right, but taking one job leaves the other job behind "
              "when two sets became one."),
    }
    if answer == "b":
        m = clear_race(fixed=True)
        m.run()
        return True, (f"Clear first, then drain: the worker got {m.done} and no set can "
                      "fall into a gap.")
    return False, wrong.get(answer, "Answer a, b, c or d.")


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
    "A driver runs at DISPATCH_LEVEL (it holds a spin lock). Which `Timeout` may it pass "
    "to `KeWaitForSingleObject` without a bug check? Answer with the value (`None`, a "
    "negative number, 0, ...).",
    ["At DISPATCH_LEVEL the thread cannot give up the CPU, so it must not block.",
     "Only a wait that tests the event and returns at once is allowed."],
    "0: a poll, which returns STATUS_TIMEOUT at once if the event is not signaled",
    LESSON, none_is_answer=True)
def dispatch_timeout(answer):
    if isinstance(answer, bool) or not (answer is None or isinstance(answer, int)):
        return False, "Answer with None or a whole number (100 ns units)."
    m = wait_at_dispatch(answer)
    if m.bugcheck is None and m.thread("driver").result == STATUS_TIMEOUT:
        return True, ("0 is a poll: the wait returns STATUS_TIMEOUT at once and never "
                      "blocks.")
    if m.bugcheck is not None and answer is None:
        return False, (f"None means wait for ever: bug check 0x{m.bugcheck.code:X} "
                       f"({m.bugcheck.name}). That is the worst choice at DISPATCH_LEVEL.")
    if m.bugcheck is not None:
        return False, (f"Any non-zero timeout may block: bug check 0x{m.bugcheck.code:X} "
                       f"({m.bugcheck.name}).")
    return False, f"The wait returned {name_of(m.thread('driver').result)}."


@exercise(
    "06-leaked-reference",
    "In `trap_leaked_reference` (not fixed) the app has closed the device and its event "
    "handle. What is the event's `header.pointer_count` now? Answer with a number.",
    ["Each handle holds one pointer reference. How many handles are left?",
     "The driver's ObReferenceObjectByHandle added a reference. Did anybody call "
     "ObDereferenceObject?"],
    "1: the driver's reference, never dropped, so the event is never freed",
    LESSON)
def leaked_reference(answer):
    from .. import scenarios
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "Answer with a number."
    m = scenarios.build("trap_leaked_reference")
    m.run()
    right = m.seen["event"].header.pointer_count
    if answer == right:
        return True, ("One reference is left: the driver's. The event stays in memory for "
                      "ever (a leak). Cleanup must call ObDereferenceObject.")
    if answer == 0:
        return False, "0 would mean the event was freed. Who still holds a reference?"
    return False, "The app's handles are gone; count what the driver took."


@exercise(
    "06-leaked-handle",
    "In `leaked_handle()` the driver's DriverUnload forgets `ZwClose`. After the unload, "
    "how many handles does `\\BaseNamedObjects\\EvtsimLeak` still have? Answer with a "
    "number.",
    ["IoCreateNotificationEvent returned a kernel handle. Kernel handles stay open until "
     "someone closes them, even after the driver is gone.",
     "Print `m.objects` after the unload."],
    "1: the forgotten kernel handle keeps the name (and the old state) alive",
    LESSON)
def leaked_handle_checker(answer):
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "Answer with a number."
    event = leaked_handle().objects.lookup(r"\BaseNamedObjects\EvtsimLeak")
    right = event.header.handle_count
    if answer == right:
        return True, ("One handle is left, so the name stays. When the driver loads again, "
                      "IoCreateNotificationEvent opens this old event, in whatever state "
                      "it was left. DriverUnload must ZwClose it.")
    if answer == 0:
        return False, ("0 would remove the name. Look at m.objects: the event is still "
                       "there.")
    return False, "The driver opened one handle and closed none."


__all__ = ["pulse_race", "clear_race", "job_producer", "job_worker", "job_worker_fixed",
           "leaked_handle", "play", "wait_at_dispatch"]
