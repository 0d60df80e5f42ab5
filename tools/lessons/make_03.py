"""Write notebooks/03-io-create-notification-event.ipynb.

    .venv/bin/python tools/lessons/make_03.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "03-io-create-notification-event.ipynb"
PREFIX = "io-notification-event"

CELLS = [
    md("""
# 03 · IoCreateNotificationEvent

One driver tells **many** threads that something has happened: "the data is ready".
A **named notification event** does this. One set wakes every waiter, and the event
stays open like a door until somebody closes it.

**Source.** Microsoft's reference page for `IoCreateNotificationEvent` (wdm.h). The
learners' copy is an Indonesian translation; the rules are the same.
"""),
    md("""
## The rules (from the Microsoft page, in short)

1. `IoCreateNotificationEvent(EventName, &EventHandle)` creates a named notification
   event, or opens it if the name exists. A **new** event starts **Signaled**.
2. A synchronization event resets itself. A notification event does **not**: it stays
   signaled until a driver calls `KeClearEvent` or `KeResetEvent`.
3. More than one thread may wait on it. One set releases them **all**.
4. To **poll** instead of waiting, pass a **zero** timeout to `KeWaitForSingleObject`.
   It returns `STATUS_TIMEOUT` at once if the event is not signaled.
5. Close the handle with `ZwClose` when you no longer need the event.

And from the kernel's own pages: `KeResetEvent` returns the **previous** state;
`KeClearEvent` returns **nothing** (it is a little cheaper).
"""),
    code("""
%matplotlib inline
from IPython.display import display

import evtsim.plot
import evtsim.trace
from evtsim import Machine, scenarios
from evtsim.status import *
from evtsim.api.kernel import Executive, KernelMode, NotificationEvent
from evtsim.exercises import get

MS = 10_000
NAME = r"\\BaseNamedObjects\\EvtsimDataReady"
"""),
    md("""
## The driver code

- `producer` creates the event, **clears it at once** (a new event starts Signaled!),
  writes the data after 1 ms, sets the event, and 1 ms later closes the door again with
  `KeResetEvent`.
- Three `reader` threads open the same name and wait.
- `poller` does not wait: every 0.4 ms it tests the event with a zero timeout and does
  other work in between.
"""),
    code("""
def build(clear_after_create=True):
    m = Machine()
    shared = {"data": None, "read": {}}
    m.shared = shared

    def producer(k):
        event, handle = yield k.IoCreateNotificationEvent(NAME)
        if clear_after_create:
            yield k.KeClearEvent(event)
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        shared["data"] = "frame 1"
        yield k.KeSetEvent(event, 0, False)
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        previous = yield k.KeResetEvent(event)
        yield k.ZwClose(handle)
        return previous

    def reader(k, who):
        event, handle = yield k.IoCreateNotificationEvent(NAME)
        yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
        shared["read"][who] = shared["data"]
        yield k.ZwClose(handle)

    def poller(k):
        event, handle = yield k.IoCreateNotificationEvent(NAME)
        polls = 0
        while True:
            polls += 1
            status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, 0)
            if status == STATUS_SUCCESS:
                break
            yield k.KeDelayExecutionThread(KernelMode, False, -4000)   # other work, 0.4 ms
        shared["read"]["poller"] = shared["data"]
        yield k.ZwClose(handle)
        return polls

    m.system.start(producer, name="producer")
    for who in ("reader1", "reader2", "reader3"):
        m.system.start(reader, who, name=who)
    m.system.start(poller, name="poller")
    return m
"""),
    md("""
## Run it
"""),
    code("""
m = build()
print("stopped:", m.run().reason)
print("what each thread read:", m.shared["read"])
print("the poller tested the event", m.find("poller").result, "times")
print("KeResetEvent returned", m.find("producer").result, "(the event was signaled)")
"""),
    md("""
In the log, find: the one `KeSetEvent` that `releases reader1, reader2, reader3`; the
event's column staying at `1` after it; the poller's tests that return
`STATUS_TIMEOUT` before the set and `STATUS_SUCCESS` after it; and `KeResetEvent`
closing the door (`1->0`).
"""),
    code("""
display(evtsim.plot.timeline(m))
print(evtsim.trace.text_timeline(m))
"""),
    md("""
## Play with it in the lab

The kit's ready-made version (`notification_broadcast`) has three waiters, a poller
and a setter that clears the event at the end. Try **Set** and **Clear** yourself, and
use **Add waiter** after a set: does the new waiter stop?
"""),
    lab('"notification_broadcast", waiters=3'),
    md("""
## KeClearEvent or KeResetEvent?

Both make the event not signaled. `KeResetEvent` tells you the state it had before;
`KeClearEvent` tells you nothing. Use `KeClearEvent` when you do not need the old
state.
"""),
    code("""
k = Machine().kernel
gate = k.KeInitializeEvent(NotificationEvent, True, name="Gate")
print("KeResetEvent ->", k.KeResetEvent(gate))
print("KeClearEvent ->", k.KeClearEvent(gate))
print("KeResetEvent ->", k.KeResetEvent(gate))
print("KeSetEvent   ->", k.KeSetEvent(gate, 0, False))
print("KeClearEvent ->", k.KeClearEvent(gate), "  state now:", k.KeReadStateEvent(gate))
"""),
    md("""
## What if ...

**... the producer forgets to clear the new event?** It starts Signaled, so every
reader passes at once and reads **no** data. The poller too.
"""),
    code("""
m = build(clear_after_create=False)
m.run()
print("what each thread read:", m.shared["read"])
"""),
    md("""
**... nobody clears the event?** Then it is open for ever: every later wait passes at
once. Here a thread comes long after the broadcast and waits on an event that nobody
cleared.
"""),
    code("""
def late_reader(k, event):
    status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
    return status


for clear in (False, True):
    mm = Machine()
    ev = mm.kernel.KeInitializeEvent(NotificationEvent, False, name="DataReady")
    mm.kernel.KeSetEvent(ev, 0, False)          # the broadcast, long ago
    if clear:
        mm.kernel.KeClearEvent(ev)
    t = mm.system.start(late_reader, ev, name="late")
    mm.run()
    print(f"cleared={clear}: the late reader is {t.state}")
"""),
    md("""
**... a clear races a set?** If `KeClearEvent` comes just after `KeSetEvent`, only the
threads that were **already** waiting were released. A reader that was a moment late
waits for the next round. Lesson 06 shows such races step by step.

## Check yourself
"""),
    code("""
get("03-poll").show();
"""),
    code("""
answer = (None, None)   # (before, after), for example (STATUS_SUCCESS, STATUS_SUCCESS)
get("03-poll").check(answer)
"""),
    code("""
get("03-clear-vs-reset").show();
"""),
    code("""
answer = None   # a list: what KeResetEvent, KeClearEvent, KeResetEvent return
get("03-clear-vs-reset").check(answer)
"""),
    md("""
Now code. This `publish` releases the waiters, but it leaves the gate open. Repair it.
"""),
    code("""
get("03-set-then-close").show();
"""),
    code("""
def publish(k, event):
    yield k.KeSetEvent(event, 0, False)


get("03-set-then-close").check(publish)
"""),
    md("""
## Summary

- `IoCreateNotificationEvent` creates or opens a named manual-reset event. A new one
  starts **Signaled**: clear it before you use it as a "data ready" signal.
- One set releases **every** waiter. The event stays signaled until `KeClearEvent` or
  `KeResetEvent`.
- A zero timeout polls: `STATUS_TIMEOUT` if not signaled, `STATUS_SUCCESS` if signaled.
- `KeResetEvent` returns the previous state; `KeClearEvent` returns nothing.
- Close the handle with `ZwClose` when you are done.

Next: **04 · Sharing with user mode**, the recommended way to give an application's
event to a driver.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
