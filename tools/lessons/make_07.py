"""Write notebooks/07-play-the-scheduler.ipynb: three challenge levels. The learner
steps threads by hand to break a driver, then repairs it; the explorer verifies.

    .venv/bin/python tools/lessons/make_07.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "07-play-the-scheduler.ipynb"
PREFIX = "play-scheduler"


def level(n, title, story, routine, names, friendly, break_note, repair_start,
          repair_note):
    """The cells of one level."""
    return [
        md(f"""
## Level {n}: {title}

{story}
"""),
        code(f"""
L = LEVELS[{n}]
print(inspect.getsource(L.buggy))
"""),
        md(f"""
**The friendly test.** With the `{friendly}` policy the driver works:
"""),
        code(f"""
m = L.build(policy="{friendly}")
print(m.run().reason, "->", L.verdict(m))
"""),
        md(f"""
**Your turn: break it.** The threads are {names}. Build the level with
`policy="manual"` and step the threads yourself, or use the lab below. {break_note}
"""),
        code(f"""
m = L.build(policy="manual")
print("ready:", [t.name for t in m.ready])
# m.step(m.thread("..."))          # take one step of a thread
# print(evtsim.trace.text_timeline(m))
"""),
        lab('L.build, policy="manual"'),
        code(f"""
ex = get("07-level{n}-break")
ex.show();
"""),
        code(f"""
my_schedule = []     # the thread names, in the order you step them
print(ex.check(my_schedule))
"""),
        md(f"""
**Repair it.** Write a new `{routine}` below. The checker runs the schedule explorer
over every class of schedules: it passes only if **no** schedule breaks it.
{repair_note}
"""),
        code(repair_start),
        code(f"""
ex = get("07-level{n}-repair")
ex.show();
"""),
        code(f"""
print(ex.check({routine.split("(")[0]}))
"""),
    ]


CELLS = [
    md("""
# 07 · Play the scheduler

In the lessons before, the scheduler chose which thread runs next. Now **you** are the
scheduler. Each level is a small driver that uses events wrongly. Its test passes,
because the test runs the threads in a friendly order. Your job:

1. **Break it**: find an order of steps (a *schedule*) that makes it fail.
2. **Repair it**: change the code so that **no** schedule makes it fail.

The schedule explorer (`evtsim.explore`) checks your repair. It runs the driver under
every schedule that matters, so "passed" means: no order of steps breaks it.

This is how real concurrency bugs are found (tools such as Microsoft Research's CHESS
and Coyote work this way). The three bugs come from the earlier lessons: a pulse that
comes too early (Microsoft's `PulseEvent` page), two sets before two waits (`SetEvent`),
and a lock built from the wrong type of event (the `IoCreateSynchronizationEvent` page
says which type serialises hardware access).
"""),
    code("""
import inspect
import evtsim
import evtsim.plot
from evtsim import Machine
from evtsim.status import *
from evtsim.api.kernel import (NotificationEvent, SynchronizationEvent, Executive,
                               KernelMode)
from evtsim.explore import explore, replay
from evtsim.exercises import get
from evtsim.exercises.lesson07 import LEVELS, LOCK_NAME
"""),
    md("""
## How to step by hand

`Machine(policy="manual")` never chooses a thread. `m.run()` stops at once and says
which threads are ready. `m.step(thread)` runs **one step** of the thread you choose:
one call, up to its next `yield`. In the lab, each thread has a **Step** button; **Undo**
takes a step back.

A small example: two waiters and a setter on a synchronization event.
"""),
    code("""
m = Machine(policy="manual")
ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Ev")

def waiter(k):
    return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None))

def setter(k):
    yield k.KeSetEvent(ev, 0, False)

m.system.start(waiter, name="w1")
m.system.start(setter, name="s")
print(m.run().message)
m.step(m.thread("w1"))          # w1 waits
m.step(m.thread("s"))           # s sets: w1 is released
m.step(m.thread("w1"))          # w1 returns from its wait
print(evtsim.trace.text_timeline(m))
"""),
    md("""
A schedule is just the list of names you stepped: `["w1", "s", "w1"]`. The explorer
prints its failures as such a list, and `replay(build, schedule)` runs it again.

In each level, the checker plays **your** schedule first. Then the other steps run in
the friendly order of that level's test.
"""),
    *level(
        1, "lost wake-up",
        "A driver's worker thread waits on `WorkReady`, an auto-reset event. When there "
        "is work, the driver's signaller tells it, with `KePulseEvent`.",
        "signaller(k, work)", "`worker` and `signaller`", "round_robin",
        "Hint: who must go first for the pulse to be lost?",
        '''
def signaller(k, work):
    """Tell the worker there is work (repair this)."""
    yield k.KePulseEvent(work, 0, False)
''',
        "The worker code stays the same: `KeWaitForSingleObject(work, ...)`."),
    *level(
        2, "stranded consumer",
        "A producer puts two items on a list and sets `ItemReady` (auto reset) once per "
        "item. Two consumers each wait for `ItemReady`, take one item, and set "
        "`ItemTaken` to say thank you. Nobody listens to the thank-you yet.",
        "producer(k, ready, taken, items)", "`producer`, `consumer1` and `consumer2`",
        "round_robin",
        "Hint: an event is not a counter.",
        '''
def producer(k, ready, taken, items):
    """Put two items on the list and signal each one (repair this)."""
    for item in ("item1", "item2"):
        items.append(item)
        yield k.KeSetEvent(ready, 0, False)
''',
        "The consumers stay the same: wait on `ready`, take one item, set `taken`."),
    *level(
        3, "double release",
        "Two unrelated drivers share one device. They guard it with a named event, "
        "`\\BaseNamedObjects\\EvtsimHardwareLock`. The event is made with "
        "`IoCreateNotificationEvent`, so it starts Signaled, which means *free*. Each "
        "driver waits until it is free, clears it (busy), uses the device "
        "(`hw.use`: its busy light goes on, then off), and sets it again (free). If "
        "the light is switched on while it is already on, two drivers are inside: the "
        "lock let two threads through.",
        "driver(k, who, hw)", "`driverA` and `driverB`", "run_until_block",
        "Hint: a wait on a notification event does not take the signal. What if both "
        "drivers wait before either one clears?",
        '''
def driver(k, who, hw):
    """Take the lock, use the hardware, give the lock back (repair this)."""
    lock, handle = yield k.IoCreateNotificationEvent(LOCK_NAME)
    yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)
    yield k.KeClearEvent(lock)
    yield from hw.use(k, who)
    yield k.KeSetEvent(lock, 0, False)
    yield k.ZwClose(handle)
''',
        "Keep `yield from hw.use(k, who)`: the checker counts the uses."),
    md("""
## Gave up? Let the explorer show you

The explorer finds the shortest schedule that breaks each level. `replay` builds the
run again, and you can look at it on the timeline or step on from there in the lab.
"""),
    code("""
for n, L in LEVELS.items():
    report = L.verify(L.buggy)
    print(f"Level {n}:", report.verdict)
    print("  ", report.failures[0].story)
    print("   schedule:", report.failures[0].schedule)
"""),
    code("""
L = LEVELS[3]
m = replay(L.build, L.verify(L.buggy).failures[0].schedule)
print(evtsim.trace.text_timeline(m))
display(evtsim.plot.timeline(m))
"""),
    md("""
And the repairs (these are the answers; try the levels first):
"""),
    code("""
from evtsim.exercises.lesson07 import REPAIRS, repair_source

for n, fix in REPAIRS.items():
    print(repair_source(n))
    print(f"Level {n}:", LEVELS[n].verify(fix).verdict)
    print()
"""),
    md("""
## Summary

- A test that passes once proves little: the scheduler chose a friendly order.
- You can **play the scheduler** with `policy="manual"` and `m.step(thread)`, or with
  the lab's Step buttons, to find the order that breaks a driver.
- The three bugs: a **pulse** before the wait (use a set); **two sets** before two waits
  (wait for the acknowledgement); a **notification event as a lock** (use
  `IoCreateSynchronizationEvent`: the wait takes the lock in one step, and the new event
  starts Signaled, which means free).
- The **schedule explorer** checks every class of schedules. Use it before you trust a
  repair. (`strategy="dpor"` assumes threads share state only through kernel objects;
  when they share Python data, use `strategy="dfs"`.)

Next: lesson 08, where the documentation and the kernel disagree.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
