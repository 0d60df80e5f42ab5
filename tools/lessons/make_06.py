"""Write notebooks/06-pitfalls-and-races.ipynb: PulseEvent, two sets before two waits,
a clear that races a set, the IRQL rule (bug check 0xC4), leaked references and handles.

    .venv/bin/python tools/lessons/make_06.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "06-pitfalls-and-races.ipynb"
PREFIX = "pitfalls"

CELLS = [
    md("""
# 06 · Pitfalls and races

Events are simple, but some mistakes with them are common. Each one here is a real
mistake, run in the simulator, with its repair:

1. `PulseEvent` loses a wake-up.
2. Two sets before two waits wake only one thread.
3. A clear (or reset) races a set.
4. A wait with a timeout at DISPATCH_LEVEL stops the machine (bug check 0xC4).
5. Leaked references and handles.

Sources: Microsoft's reference pages for `PulseEvent` / `KePulseEvent`, `SetEvent`,
`KeWaitForSingleObject`, `ObReferenceObjectByHandle` and `ZwClose`; the Io pages for
the rule that events are shared objects with a life of their own.
"""),
    code("""
import evtsim
import evtsim.plot
from evtsim import Machine, scenarios
from evtsim.status import *
from evtsim.api.kernel import NotificationEvent, SynchronizationEvent, Executive, KernelMode
from evtsim.explore import explore, replay
from evtsim.exercises import get
from evtsim.exercises.lesson06 import pulse_race, clear_race, leaked_handle, play
"""),
    md("""
## 1. PulseEvent loses a wake-up

**The rule.** `KePulseEvent` (Win32 `PulseEvent`) sets the event and resets it in the
same step. Only threads that are **in the wait list at that moment** are released.
Microsoft says: do not use it, it is unreliable. **Why:** a waiting thread can be taken
out of its wait for a moment, for example to run a **kernel APC** (the kernel does this
to finish I/O). If the pulse comes in that moment, the thread misses it. When the APC is
done, the thread waits again, for ever.

In the scenario `trap_pulse_lost_wakeup` a signaller queues a kernel APC to the waiter
and pulses the event right after it.
"""),
    code("""
m = scenarios.build("trap_pulse_lost_wakeup")
print(m.run())
print(evtsim.trace.text_timeline(m))
"""),
    code("""
display(evtsim.plot.timeline(m))
"""),
    md("""
Look at the steps: `KeInsertQueueApc` **wakes** the waiter (it leaves the wait list to
run the APC). Then `KePulseEvent` returns 0 and releases nobody. Then the waiter runs
its APC (`KernelApc`) and waits again. Nothing will ever set the event.

**The repair:** `KeSetEvent` on a notification event. The state stays 1, so the
waiter sees it when it comes back.
"""),
    code("""
m = scenarios.build("trap_pulse_lost_wakeup", fixed=True)
print(m.run().reason)
print(evtsim.trace.text_timeline(m, last=4))
"""),
    md("""
### What if the pulse comes before the wait?

No APC is needed to lose a pulse: a pulse **before** the wait is lost too. `pulse_race`
is the smallest model: one waiter, one signaller. With `policy="manual"` you choose
each step with `m.step(thread)`.
"""),
    code("""
m = pulse_race(policy="manual")
m.step(m.thread("signaller"))       # the pulse first
m.step(m.thread("waiter"))          # then the wait
print(m.run())
"""),
    md("""
### The schedule explorer finds it for you

`explore(build)` runs the model under every schedule that matters and reports what
breaks. Each failure comes with the shortest schedule that shows it.
"""),
    code("""
report = explore(pulse_race, strategy="dpor", progress=False)
print(report.verdict)
for failure in report.failures:
    print(failure.describe())
print(explore(lambda: pulse_race(fixed=True), strategy="dpor", progress=False).verdict)
"""),
    code("""
ex = get("06-pulse-why")
ex.show();
"""),
    code("""
answer = None        # one letter: "a", "b", "c" or "d"
ex.check(answer)
"""),
    code("""
ex = get("06-pulse-before-wait")
ex.show();
"""),
    code("""
answer = []          # a list of thread names, for example ["waiter", "signaller"]
ex.check(answer)
"""),
    md("""
## 2. Two sets before two waits

**The rule.** An event is a flag, not a counter. Setting an event that is already
signaled does nothing (Microsoft, `SetEvent`). So if a producer sets an **auto-reset**
event twice before anyone waits, the event holds one signal, and only **one** consumer
wakes up. The other waits for ever: it is *stranded*.

In `trap_two_sets_one_wake` the two consumers are busy for 1 ms before they wait.
"""),
    code("""
m = scenarios.build("trap_two_sets_one_wake")
print(m.run())
print(evtsim.trace.text_timeline(m))
"""),
    code("""
display(evtsim.plot.timeline(m))
"""),
    md("""
The second `SetEvent` returns TRUE (success), but it changed nothing: the event was
already 1. **The repair:** the producer waits for an acknowledgement (`ItemTaken`)
before it signals the next item. The explorer checks both versions.
"""),
    code("""
report = explore("trap_two_sets_one_wake", strategy="dpor", progress=False)
print(report.verdict)
print(report.failures[0].describe())
"""),
    code("""
m = scenarios.build("trap_two_sets_one_wake", fixed=True)
print(m.run().reason)
print([(name, name_of(m.thread(name).result, "wait")) for name in ("consumer1", "consumer2")])
"""),
    md("""
Play with it: in the lab, click **Step** on the producer twice before you step a
consumer. Then **Undo** and try another order.
"""),
    lab('"trap_two_sets_one_wake", policy="manual"'),
    code("""
ex = get("06-two-sets")
ex.show();
"""),
    code("""
answer = None        # a number
ex.check(answer)
"""),
    md("""
## 3. A clear races a set

**The rule.** A notification event stays signaled until someone clears it
(`KeClearEvent` or `KeResetEvent`). A worker that handles jobs must clear it at the
right moment. If it takes a job and **then** clears, a set that comes in between is
erased, and that job is never handled.

`clear_race()` is a producer that adds two jobs (one set each) and a worker that takes
one job per wake-up and then clears the event.
"""),
    code("""
m = clear_race()
print(m.run().reason)
print("done:", m.done, " still in the list:", m.jobs)
print(evtsim.trace.text_timeline(m))
"""),
    md("""
Step 5: the producer's second `KeSetEvent` returns 1 (the event was still set). Step 6:
the worker clears it. The second job's signal is gone.

**The repair:** clear **first**, then take **every** job in the list. A set after the
clear stays, and the next wait sees it. `KeResetEvent` would do the same as
`KeClearEvent` here; it only also returns the previous state.
"""),
    code("""
m = clear_race(fixed=True)
print(m.run().reason, m.done)
print(explore(clear_race, strategy="dfs", progress=False).verdict)
print(explore(lambda: clear_race(fixed=True), strategy="dfs", progress=False).verdict)
"""),
    md("""
(Here the threads also share a Python list, which the explorer cannot see, so we ask
for `strategy="dfs"`: every interleaving.)
"""),
    code("""
ex = get("06-clear-order")
ex.show();
"""),
    code("""
answer = None        # one letter
ex.check(answer)
"""),
    md("""
## 4. IRQL: no waiting at DISPATCH_LEVEL

**The rule** (Microsoft, `KeWaitForSingleObject`): a wait with a non-zero timeout needs
IRQL <= APC_LEVEL. At DISPATCH_LEVEL (inside a DPC, or while holding a spin lock) the
thread cannot give up the CPU, so only a zero timeout (a poll) is allowed. The kit runs
as if **Driver Verifier** were on: a broken rule stops the machine with bug check
**0xC4** and names the rule.
"""),
    code("""
m = scenarios.build("trap_wait_at_dispatch")
print(m.run())
print(m.bugcheck.describe())
"""),
    code("""
display(evtsim.plot.timeline(m))
"""),
    code("""
m = scenarios.build("trap_wait_at_dispatch", fixed=True)
print(m.run().reason, "-> the poll returned", name_of(m.thread("driver").result))
"""),
    code("""
ex = get("06-dispatch-timeout")
ex.show();
"""),
    code("""
answer = "?"         # None, a negative number, 0, ...
ex.check(answer)
"""),
    md("""
## 5. Leaked references and handles

**The rule.** Each `ObReferenceObjectByHandle` adds a pointer reference; the driver
must drop it with `ObDereferenceObject`. Each handle must be closed (`ZwClose`,
`CloseHandle`). An object is freed only when both counts reach 0.

In `trap_leaked_reference` the driver forgets `ObDereferenceObject` in its cleanup.
"""),
    code("""
for fixed in (False, True):
    m = scenarios.build("trap_leaked_reference", fixed=fixed)
    m.run()
    h = m.seen["event"].header
    print(f"fixed={fixed!s:<5} handles={h.handle_count} pointers={h.pointer_count} freed={h.deleted}")
"""),
    md("""
A forgotten **handle** is worse for a named event: the name stays. In `leaked_handle()`
the driver creates `\\BaseNamedObjects\\EvtsimLeak` in `DriverEntry` and its
`DriverUnload` forgets `ZwClose`. After the unload the event is still there. If the
driver loads again, `IoCreateNotificationEvent` simply **opens** the old event, in
whatever state it was left.
"""),
    code("""
m = leaked_handle()
print(m.objects)
print("fixed:", leaked_handle(fixed=True).objects.lookup(r"\\BaseNamedObjects\\EvtsimLeak"))
"""),
    code("""
ex = get("06-leaked-reference")
ex.show();
"""),
    code("""
answer = None        # a number
ex.check(answer)
"""),
    code("""
ex = get("06-leaked-handle")
ex.show();
"""),
    code("""
answer = None        # a number
ex.check(answer)
"""),
    md("""
## Summary

- **PulseEvent** releases only threads that wait at that very moment. A thread that is
  out of its wait for a kernel APC, or has not started waiting yet, misses it. Use
  `KeSetEvent`.
- **Two sets before two waits** on an auto-reset event wake one thread: an event is
  not a counter. Wait for an acknowledgement, or use one signal per consumer.
- **Clear first, then take everything.** A clear after the take can erase a new set.
- **At DISPATCH_LEVEL only poll** (timeout 0). Anything else is bug check 0xC4 with
  Driver Verifier.
- **Give back** every reference (`ObDereferenceObject`) and every handle (`ZwClose`).
  A leaked handle keeps a named event, and its old state, alive.

Next: lesson 07, where you play the scheduler.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
