"""Write notebooks/01-signaled-state-and-waiting.ipynb.

    .venv/bin/python tools/lessons/make_01.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "01-signaled-state-and-waiting.ipynb"
PREFIX = "signaled-state"

CELLS = [
    md("""
# 01 · Signaled state and waiting

In this lesson a driver makes its own event, some threads wait on it, and one thread
sets it. You run the **same** waiters twice: once on a notification event, once on a
synchronization event, and you see the difference.

**Source.** Microsoft's reference page for `IoCreateNotificationEvent` (wdm.h) explains
the two types; the kernel calls are `KeInitializeEvent`, `KeSetEvent` and
`KeWaitForSingleObject`.
"""),
    md("""
## The rules

1. `KeInitializeEvent(ev, Type, State)` makes an event. `Type` is `NotificationEvent`
   or `SynchronizationEvent`. `State` is the first state: `TRUE` signaled, `FALSE` not.
2. `KeWaitForSingleObject` returns at once when the event is signaled. Otherwise the
   thread waits until someone sets the event.
3. `KeSetEvent` makes the event signaled and returns the state it had **before** (0 or 1).
4. A **notification** event releases **every** waiting thread. It stays signaled until a
   driver calls `KeClearEvent` or `KeResetEvent`.
5. A **synchronization** event releases **one** waiting thread (the first in the wait
   list) and then resets itself to not signaled.

In evtsim, `KeInitializeEvent(Type, State, name=...)` **returns** the event (C fills in
a `KEVENT` that you pass by address).
"""),
    code("""
%matplotlib inline
from IPython.display import display

import evtsim.plot
import evtsim.trace
from evtsim import Machine
from evtsim.status import name_of
from evtsim.api.kernel import (NotificationEvent, SynchronizationEvent, Executive,
                               KernelMode)
from evtsim.exercises import get

MS = 10_000     # kernel time is in 100 ns units: 1 ms is 10,000 units
"""),
    md("""
## The driver code

`build(kind)` makes a machine with one event `Go` of the given type, not signaled.
Three worker threads wait on it. A fourth thread, `setter`, waits 1 ms (the
"hardware" is busy) and then calls `KeSetEvent` **once**.

A negative timeout is relative time, in 100 ns units: `-1 * MS` is 1 ms from now.
"""),
    code("""
def worker(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
    return status


def setter(k, ev):
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    previous = yield k.KeSetEvent(ev, 0, False)
    return previous


def build(kind=NotificationEvent):
    m = Machine()
    ev = m.kernel.KeInitializeEvent(kind, False, name="Go")
    for name in ("w1", "w2", "w3"):
        m.system.start(worker, ev, name=name)
    m.system.start(setter, ev, name="setter")
    return m
"""),
    md("""
## Run it: notification event
"""),
    code("""
m = build(NotificationEvent)
result = m.run()
print("stopped:", result.reason)
for t in m.threads:
    print(f"{t.name:<8} {t.state:<11} {name_of(t.result) if t.result is not None else ''}")
print("state of Go at the end:", m.find("Go").SignalState)
"""),
    md("""
One `KeSetEvent` released all three workers, and `Go` is still signaled. In the
timeline, look for the **three arrows** from `setter` to `w1`, `w2` and `w3`, and the
event lane that goes up and stays up.
"""),
    code("""
display(evtsim.plot.timeline(m))
print(evtsim.trace.text_timeline(m))
"""),
    md("""
## Run it again: synchronization event

The same code; only the type changes.
"""),
    code("""
s = build(SynchronizationEvent)
result = s.run()
print("stopped:", result.reason)
for t in s.threads:
    print(f"{t.name:<8} {t.state:<11} {name_of(t.result) if t.result is not None else ''}")
print("state of Go at the end:", s.find("Go").SignalState)
"""),
    md("""
Only `w1` woke up: it was first in the wait list. The event went back to 0 at once
(the log shows `0->1->0` in one step), so `w2` and `w3` still wait. `m.run()`
stopped with `deadlock`: nothing inside the machine will ever set `Go` again.
"""),
    code("""
display(evtsim.plot.timeline(s))
print(evtsim.trace.text_timeline(s))
"""),
    md("""
## Side by side
"""),
    code("""
for label, machine in (("notification", m), ("synchronization", s)):
    released = [name for r in machine.trace if r.op == "KeSetEvent" for name in r.released]
    print(f"{label:<16} KeSetEvent released {released}; "
          f"state after: {machine.find('Go').SignalState}")
"""),
    md("""
## Play with it in the lab

The lab below starts with the synchronization version. Click **Step** on the threads,
**Set** the event yourself, and watch who wakes up. Then press **Set** again: one more
worker wakes each time. **Reset** starts again.
"""),
    lab("lambda: build(SynchronizationEvent)"),
    md("""
## What if ...

**... the event is already signaled when the threads wait?** A wait on a signaled
event returns at once. A notification event lets every waiter pass; a synchronization
event lets the first one pass and is consumed by it.
"""),
    code("""
for kind, label in ((NotificationEvent, "notification"), (SynchronizationEvent, "synchronization")):
    mm = Machine()
    ev = mm.kernel.KeInitializeEvent(kind, True, name="Go")      # State = TRUE: signaled
    for name in ("w1", "w2", "w3"):
        mm.system.start(worker, ev, name=name)
    mm.run()
    passed = [t.name for t in mm.threads if t.state == "terminated"]
    print(f"{label:<16} passed at once: {passed}; state now: {ev.SignalState}")
"""),
    md("""
**... you set an event that is already signaled?** Nothing happens. `KeSetEvent`
returns 1 and releases nobody. An event is a flag, not a counter: two sets before any
wait are the same as one set. (Lesson 06 shows the bug this causes.)
"""),
    code("""
mm = Machine()
ev = mm.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Go")
print("first KeSetEvent returned", mm.kernel.KeSetEvent(ev, 0, False))
print("second KeSetEvent returned", mm.kernel.KeSetEvent(ev, 0, False))
for name in ("w1", "w2"):
    mm.system.start(worker, ev, name=name)
mm.run()
print({t.name: t.state for t in mm.threads})
"""),
    md("""
**... you use a zero timeout?** Then the wait does not stop: it only tests the event
and returns `STATUS_TIMEOUT` (0x102) if it is not signaled. Lesson 03 uses this to
poll.
"""),
    code("""
def poller(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)
    return status


mm = Machine()
ev = mm.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
t = mm.system.start(poller, ev, name="poller")
mm.run()
print("zero-timeout wait on a non-signaled event:", name_of(t.result))
"""),
    md("""
## Predict, then reveal

Tick the threads that you think one `KeSetEvent` will release, then click **Reveal**.
"""),
    code("""
try:
    from evtsim.widgets import Predict
except ImportError:
    Predict = None
if Predict is None:
    print("The predict-then-reveal widget is not in this version of the kit yet.")
else:
    display(Predict(kind="synchronization", waiters=3))
"""),
    md("""
## Check yourself
"""),
    code("""
get("01-how-many-released").show();
"""),
    code("""
answer = None   # a list of thread names, for example ["w2"]
get("01-how-many-released").check(answer)
"""),
    code("""
get("01-sync-released").show();
"""),
    code("""
answer = None   # a list of thread names
get("01-sync-released").check(answer)
"""),
    code("""
get("01-state-after").show();
"""),
    code("""
answer = {"notification": None, "synchronization": None}   # 0 or 1 each
get("01-state-after").check(answer)
"""),
    md("""
## Summary

- `KeInitializeEvent` makes an event with a type and a first state.
- `KeWaitForSingleObject` passes at once on a signaled event; otherwise it waits.
  A zero timeout only tests the event.
- `KeSetEvent` returns the previous state. Setting a signaled event does nothing.
- **Notification**: one set releases every waiter, and the event stays signaled.
- **Synchronization**: one set releases the first waiter only, and the event resets
  itself.

Next: **02 · IoCreateSynchronizationEvent**, a named synchronization event that two
drivers share.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
