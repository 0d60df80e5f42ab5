"""Lesson 07, play the scheduler: three challenge levels and their checkers.

Each level is a small driver that uses events wrongly but passes a friendly test run.
The learner steps threads by hand (`policy="manual"`, `m.step(thread)` or the lab's
Step buttons) to find a schedule that breaks it, then writes a repaired routine. The
repair checker runs the schedule explorer (`evtsim.explore.explore`, strategy "dpor")
over every class of interleavings, so "it passed" means no schedule breaks it.

Levels (the patterns come from the lessons before: PulseEvent and the Io pages):
1. lost wake-up: a KePulseEvent that comes before the worker waits;
2. stranded consumer: two KeSetEvent calls on an auto-reset event before two waits;
3. double release: a notification event used as a lock lets two drivers in at once.
Threads share state only through kernel objects here (the busy light of level 3 is
an event for that reason), which is what DPOR's reduction assumes.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from ..api.kernel import Executive, KernelMode, NotificationEvent, SynchronizationEvent
from ..errors import EvtsimError
from ..machine import Machine
from ..status import STATUS_SUCCESS
from .base import exercise

LESSON = "07-play-the-scheduler"
LOCK_NAME = r"\BaseNamedObjects\EvtsimHardwareLock"
LEAK = "the handle leaks"


# --- level 1: lost wake-up ----------------------------------------------------------
def buggy_signaller(k, work):
    """Tell the worker there is work, with a pulse."""
    yield k.KePulseEvent(work, 0, False)


def worker(k, work):
    """Wait until the signaller says there is work (the learner does not change this)."""
    status = yield k.KeWaitForSingleObject(work, Executive, KernelMode, False, None)
    return status


def level1(policy: str = "manual", seed: int = 0, signaller=None) -> Machine:
    """A worker thread waits on WorkReady (auto reset); the signaller tells it."""
    m = Machine(policy=policy, seed=seed)
    work = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="WorkReady")
    m.system.start(worker, work, name="worker")
    m.system.start(signaller or buggy_signaller, work, name="signaller")
    return m


def judge1(m: Machine):
    w = m.thread("worker")
    if w.state == "waiting":
        return "lost wake-up: the worker waits for ever on WorkReady"
    if w.state != "terminated" or w.result != STATUS_SUCCESS:
        return "the worker did not get its work"
    if m.thread("signaller").state != "terminated":
        return "the signaller did not finish"
    return True


# --- level 2: stranded consumer -----------------------------------------------------
def buggy_producer(k, ready, taken, items):
    """Put two items on the list; signal ItemReady once per item."""
    for item in ("item1", "item2"):
        items.append(item)
        yield k.KeSetEvent(ready, 0, False)


def consumer(k, ready, taken, items):
    """Wait for an item, take one, and say thank you (the learner does not change this)."""
    yield k.KeWaitForSingleObject(ready, Executive, KernelMode, False, None)
    item = items.pop(0) if items else None
    yield k.KeSetEvent(taken, 0, False)            # "thank you, I took one"
    return item


def level2(policy: str = "manual", seed: int = 0, producer=None) -> Machine:
    """A producer and two consumers share ItemReady and ItemTaken (both auto reset)."""
    m = Machine(policy=policy, seed=seed)
    ready = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="ItemReady")
    taken = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="ItemTaken")
    items: list[str] = []
    m.items = items
    m.system.start(producer or buggy_producer, ready, taken, items, name="producer")
    m.system.start(consumer, ready, taken, items, name="consumer1")
    m.system.start(consumer, ready, taken, items, name="consumer2")
    return m


def judge2(m: Machine):
    for name in ("consumer1", "consumer2"):
        if m.thread(name).state == "waiting":
            return f"stranded consumer: {name} waits for ever on ItemReady"
    got = sorted(str(m.thread(n).result) for n in ("consumer1", "consumer2"))
    if got != ["item1", "item2"]:
        return f"the consumers got {got}, not one item each"
    if m.thread("producer").state != "terminated":
        return "the producer did not finish"
    return True


# --- level 3: double release --------------------------------------------------------
class Hardware:
    """The shared device. Its busy light is an event, so a second user is seen."""

    def __init__(self, m: Machine):
        self.light = m.kernel.KeInitializeEvent(NotificationEvent, False, name="BusyLight")
        self.log: list[str] = []
        self.overlaps = 0

    def use(self, k, who):
        """Use the device (two steps): light on, then light off."""
        was_on = yield k.KeSetEvent(self.light, 0, False)
        if was_on:
            self.overlaps += 1
        self.log.append(who)
        yield k.KeClearEvent(self.light)


def buggy_driver(k, who, hw):
    """Take the lock, use the hardware, give the lock back."""
    lock, handle = yield k.IoCreateNotificationEvent(LOCK_NAME)    # new: Signaled = free
    yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)  # wait: free
    yield k.KeClearEvent(lock)                                     # now busy
    yield from hw.use(k, who)
    yield k.KeSetEvent(lock, 0, False)                              # free again
    yield k.ZwClose(handle)


def level3(policy: str = "manual", seed: int = 0, driver=None) -> Machine:
    """Two unrelated drivers share one device and a named lock event."""
    m = Machine(policy=policy, seed=seed)
    hw = Hardware(m)
    m.hardware = hw
    m.system.start(driver or buggy_driver, "driverA", hw, name="driverA")
    m.system.start(driver or buggy_driver, "driverB", hw, name="driverB")
    return m


def judge3(m: Machine):
    hw = m.hardware
    if hw.overlaps:
        return "double release: both drivers were inside the hardware at once"
    stuck = [t.name for t in m.threads if t.state == "waiting"]
    if stuck:
        return f"{', '.join(stuck)} waits for ever for the lock"
    if sorted(hw.log) != ["driverA", "driverB"]:
        return f"each driver must use the hardware once; the log is {hw.log}"
    leak = handle_leak(m)
    return f"{LEAK}: {leak}" if leak else True


def handle_leak(m: Machine) -> str | None:
    """Words for the kernel handles still open at the end of a run, or None. Lesson 02
    refuses a driver that leaks its handle; level 3 is as strict."""
    left = [entry.object for _, entry in m.system.handles]
    if not left:
        return None
    names = ", ".join(sorted({str(getattr(obj, "name", obj)) for obj in left}))
    count = "1 handle is" if len(left) == 1 else f"{len(left)} handles are"
    return (f"at the end {count} still open, to {names}. Each driver must close its "
            f"handle with ZwClose when it is done, as in lesson 02")


# --- the repairs: the answers the hint ladders end with, and what the lesson shows ---------
def good_signaller(k, work):
    yield k.KeSetEvent(work, 0, False)


def good_producer(k, ready, taken, items):
    for item in ("item1", "item2"):
        items.append(item)
        yield k.KeSetEvent(ready, 0, False)
        yield k.KeWaitForSingleObject(taken, Executive, KernelMode, False, None)


def good_driver(k, who, hw):
    lock, handle = yield k.IoCreateSynchronizationEvent(LOCK_NAME)
    yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)
    yield from hw.use(k, who)
    yield k.KeSetEvent(lock, 0, False)
    yield k.ZwClose(handle)


REPAIRS: dict[int, Callable] = {1: good_signaller, 2: good_producer, 3: good_driver}


def repair_source(n: int) -> str:
    """The source of level n's repair, named as the learner writes it (no `good_`)."""
    return inspect.getsource(REPAIRS[n]).replace("def good_", "def ", 1).strip()


# --- the levels, playing and verifying ------------------------------------------------
@dataclass
class Level:
    number: int
    title: str
    build: Callable
    judge: Callable
    routine: str            # the parameter of `build` that takes the learner's repair
    buggy: Callable
    friendly: str           # the policy the friendly test run used

    def play(self, schedule) -> Machine:
        """Step the threads in `schedule`, then finish the way the friendly run does."""
        from ..explore import replay
        m = replay(self.build, list(schedule))
        last = m.thread(schedule[-1]) if len(schedule) else None
        for _ in range(10_000):
            ready = m.choices()
            if not ready:
                break
            if self.friendly == "run_until_block" and last in ready:
                nxt = last
            else:
                nxt = ready[0]
            m.step(nxt)
            last = nxt
        return m

    def verdict(self, m: Machine):
        """True if the run is right, else a sentence saying what broke."""
        if m.bugcheck is not None:
            return f"bug check 0x{m.bugcheck.code:X}: {m.bugcheck.rule}"
        return self.judge(m)

    def verify(self, routine, strategy: str = "dpor"):
        """Explore every schedule of the level with `routine` in place of the bug."""
        from functools import partial

        from ..explore import explore
        build = partial(self.build, **{self.routine: routine})
        return explore(build, strategy=strategy, check=self.judge, progress=False)


LEVELS = {
    1: Level(1, "lost wake-up", level1, judge1, "signaller", buggy_signaller,
             "round_robin"),
    2: Level(2, "stranded consumer", level2, judge2, "producer", buggy_producer,
             "round_robin"),
    3: Level(3, "double release", level3, judge3, "driver", buggy_driver,
             "run_until_block"),
}


def _break_checker(level: Level):
    def check(answer):
        names = [t.name for t in level.build().threads]
        if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
            return False, (f"Answer with a list of thread names, in the order you step "
                           f"them. The threads are {', '.join(names)}.")
        schedule = list(answer)
        if not schedule:
            return False, ("Write the thread names in the list, in the order you step "
                           "them, then run this cell again.")
        unknown = [n for n in schedule if n not in names]
        if unknown:
            return False, (f"There is no thread {unknown[0]!r}: the threads are "
                           f"{', '.join(names)}.")
        try:
            m = level.play(schedule)
        except EvtsimError as error:        # a name that cannot run at its turn
            return False, f"That schedule cannot run: {str(error).rstrip('.')}."
        result = level.verdict(m)
        if result is True:
            return False, ("In that schedule the driver still works. Look at the timeline: "
                           "where could another thread get in between?" + _STILL[level.number])
        return True, f"You broke it: {result}."
    return check


def _repair_checker(level: Level):
    def check(answer):
        if not inspect.isgeneratorfunction(answer):
            return False, ("Answer with your repaired routine: a generator function (a "
                           "def whose calls are written with yield).")
        friendly = level.build(policy=level.friendly, **{level.routine: answer})
        friendly.run(max_steps=10_000)
        leak = handle_leak(friendly) if friendly.bugcheck is None else None
        if leak:                            # in every schedule: say it plainly
            return False, f"Your driver leaks its handle: {leak}."
        report = level.verify(answer)
        if not report.exhaustive:
            return False, f"The explorer could not try every schedule: {report.verdict}"
        if report.failures:
            first = report.failures[0]
            return False, (f"A schedule still breaks it ({first.kind}): "
                           f"{first.story.rstrip('.')}. The schedule: {first.schedule}")
        return True, (f"No schedule breaks it: {report.schedules} schedules explored "
                      f"(DPOR), every class of interleavings.")
    return check


_STILL = {
    1: "",
    2: "",
    3: (" Passing the lock together is not enough to see it: both drivers must be in "
        "hw.use at once (the busy light on twice)."),
}
_BREAK = {
    1: ("the pulse comes before the worker waits",
        ["Step the threads one at a time. What happens if the signaller goes first?",
         "A pulse releases only threads that are waiting right now."],
        "['signaller', 'worker']"),
    2: ("one consumer is stranded",
        ["An auto-reset event holds one signal, not two.",
         "Let the producer set ItemReady twice before either consumer waits."],
        "['producer', 'producer', 'consumer1', 'consumer2']"),
    3: ("both drivers are inside the hardware at once",
        ["The lock is a notification event: a wait does not take it.",
         "Let both drivers pass their wait before either one clears the lock. Then step "
         "both into hw.use: each turns the busy light on before the other turns it off."],
        "['driverA', 'driverB', 'driverA', 'driverB', 'driverA', 'driverA', 'driverB', "
        "'driverB']"),
}
_REPAIR = {
    1: ("Write `signaller(k, work)` so that the worker gets the work in every schedule.",
        ["Which call leaves the event signaled when nobody is waiting yet?",
         "An auto-reset event that is set stays set until one wait takes it."]),
    2: ("Write `producer(k, ready, taken, items)` so that each consumer gets one item in "
        "every schedule.",
        ["Do not signal again while the last signal is still unused.",
         "After each KeSetEvent(ready), wait on taken: the consumer sets it when it has "
         "taken the item."]),
    3: ("Write `driver(k, who, hw)` so that the two drivers never use the hardware "
        "together, in every schedule. Use the hardware with `yield from hw.use(k, who)`, "
        "and close your handle at the end.",
        ["Read the IoCreateSynchronizationEvent page: it is made for exactly this.",
         "A wait on a synchronization event takes the signal in the same step, so no "
         "KeClearEvent is needed (and no gap is left). Keep the ZwClose at the end."]),
}

for _n, _level in LEVELS.items():
    _what, _hints, _answer = _BREAK[_n]
    exercise(f"07-level{_n}-break",
             f"Level {_n} ({_level.title}): give a schedule, a list of thread names, that "
             f"breaks the driver: {_what}. After your list the other steps run as in the "
             f"friendly test ({_level.friendly}).",
             _hints, _answer, LESSON)(_break_checker(_level))
    _question, _hints = _REPAIR[_n]
    exercise(f"07-level{_n}-repair", f"Level {_n} ({_level.title}): {_question}",
             _hints, repair_source(_n), LESSON, starter=_level.buggy)(_repair_checker(_level))


__all__ = ["LEVELS", "Level", "Hardware", "level1", "level2", "level3", "judge1", "judge2",
           "judge3", "handle_leak", "buggy_signaller", "buggy_producer", "buggy_driver", "worker",
           "consumer", "LOCK_NAME", "good_signaller", "good_producer", "good_driver",
           "REPAIRS", "repair_source"]
