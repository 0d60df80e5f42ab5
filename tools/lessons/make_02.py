"""Write notebooks/02-io-create-synchronization-event.ipynb.

    .venv/bin/python tools/lessons/make_02.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "02-io-create-synchronization-event.ipynb"
PREFIX = "io-sync-event"

CELLS = [
    md("""
# 02 · IoCreateSynchronizationEvent

Two drivers that do not know each other must share one piece of hardware. Only one may
touch it at a time. A **named synchronization event** works as a lock between them.

**Source.** Microsoft's reference page for `IoCreateSynchronizationEvent` (wdm.h).
"""),
    md("""
## The rules (from the Microsoft page, in short)

1. `IoCreateSynchronizationEvent(EventName, &EventHandle)` **creates** a named
   synchronization event, or **opens** it if the name already exists. It returns a
   pointer to the event (`PKEVENT`) and a kernel handle; `NULL` if it fails.
2. A **new** event starts **Signaled**. So the first wait passes at once.
   An existing event is only opened: its state does not change.
3. Both drivers wait with `KeWaitForSingleObject` on the returned pointer.
4. One set releases **one** waiter; then the event resets itself to not signaled.
5. A driver releases the event with `ZwClose(EventHandle)`.
6. Call it at `PASSIVE_LEVEL` only.

One more rule is not on the page, but it follows from it (see also lesson 08): the
pointer holds **no reference** of its own. It is valid only while the handle is open.

In evtsim the call returns the pair `(event, handle)`; C returns the pointer and writes
the handle through the second parameter.
"""),
    code("""
%matplotlib inline
from IPython.display import display

import evtsim.plot
import evtsim.trace
from evtsim import Machine, scenarios
from evtsim.status import *
from evtsim.api.kernel import (Executive, KernelMode, DISPATCH_LEVEL, ExEventObjectType)
from evtsim.exercises import get

MS = 10_000
NAME = r"\\BaseNamedObjects\\EvtsimHardwareLock"
"""),
    md("""
## The driver code

Each driver opens the lock by name, then twice: waits for the lock, uses the hardware
for 1 ms, and sets the lock again. `hardware` is the shared device: it records who uses
it, and counts the times two drivers were inside together (`overlaps`).
"""),
    code("""
def build(use_lock=True):
    m = Machine()
    hardware = {"user": None, "log": [], "overlaps": 0}
    m.hardware = hardware

    def driver(k, who):
        lock, handle = yield k.IoCreateSynchronizationEvent(NAME)
        for _ in range(2):
            if use_lock:
                yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)
            if hardware["user"] is not None:
                hardware["overlaps"] += 1
            hardware["user"] = who
            hardware["log"].append(who)
            yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)   # use the device
            hardware["user"] = None
            if use_lock:
                yield k.KeSetEvent(lock, 0, False)
        yield k.ZwClose(handle)

    m.system.start(driver, "driverA", name="driverA")
    m.system.start(driver, "driverB", name="driverB")
    return m
"""),
    md("""
## Run it
"""),
    code("""
m = build()
print("stopped:", m.run().reason)
print("who used the hardware:", m.hardware["log"])
print("times two drivers were inside together:", m.hardware["overlaps"])
"""),
    md("""
Read the log below and find the rules:

- step 1: driverA **creates** the event; its state is already `1` (Signaled);
- step 2: driverB calls the same function with the same name: it only **opens** the
  event (a second handle to the same object);
- step 3: driverA's first wait passes at once and takes the signal: `1->0`;
- each `KeSetEvent` shows `0->1->0`: the event releases one waiting driver and resets
  itself in the same step.
"""),
    code("""
display(evtsim.plot.timeline(m))
print(evtsim.trace.text_timeline(m))
"""),
    md("""
The returned handles are **kernel handles**: they live in the System process's table
and have the top bits set, so an application cannot use them. At the end both drivers
have closed their handles. This is the namespace while both handles were open:
"""),
    code("""
m = build()
m.run(until=2000)        # stop the clock at t = 200 us, while both drivers hold the lock's handles
print(m.system.handles)
print(m.objects.lookup(NAME))
"""),
    md("""
## Play with it in the lab

The lab runs the kit's ready-made version of this pattern (`hardware_lock`). Step
driverA and driverB by hand. Can you make both use the hardware at the same time?
Try pressing **Set** on the lock while one driver is inside.
"""),
    lab('"hardware_lock"'),
    md("""
## What if ...

**... there were no lock?** Both drivers use the hardware at the same time.
"""),
    code("""
m = build(use_lock=False)
m.run()
print("who used the hardware:", m.hardware["log"])
print("times two drivers were inside together:", m.hardware["overlaps"])
"""),
    md("""
**... you forget that a new event starts Signaled?** The ready-made trap
`trap_initially_signaled` uses the event as a "data is ready" signal. The consumer
creates it and waits: the wait passes at once, **before** the producer has written any
data. The fix clears the event right after creating it.
"""),
    code("""
for fixed in (False, True):
    t = scenarios.build("trap_initially_signaled", fixed=fixed)
    t.run()
    print(f"fixed={fixed}: the consumer read {t.shared['read']!r}")
"""),
    code("""
t = scenarios.build("trap_initially_signaled")
t.run()
print(evtsim.trace.text_timeline(t))
"""),
    md("""
**... you use the pointer after `ZwClose`?** The pointer from
`IoCreateSynchronizationEvent` holds no reference. When the last handle closes, the
event is freed, and the next use touches freed memory. The kit stops with bug check
**0xCC** (PAGE_FAULT_IN_FREED_SPECIAL_POOL), as Driver Verifier's special pool would.
"""),
    code("""
def timer_driver(k):
    event, handle = yield k.IoCreateSynchronizationEvent(r"\\BaseNamedObjects\\EvtsimLesson02")
    yield k.ZwClose(handle)                    # "I have the pointer; I do not need the handle"
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    yield k.KeSetEvent(event, 0, False)        # the event is gone


m = Machine()
m.system.start(timer_driver, name="timer_driver")
print(m.run().message)
"""),
    code("""
print(evtsim.trace.text_timeline(m))
"""),
    md("""
**... you call it at DISPATCH_LEVEL?** The page says `PASSIVE_LEVEL`. With Driver
Verifier on, the machine stops with bug check 0xC4.
"""),
    code("""
def hasty_driver(k):
    old = yield k.KeRaiseIrql(DISPATCH_LEVEL)          # as if it held a spin lock
    yield k.IoCreateSynchronizationEvent(NAME)


m = Machine()
m.system.start(hasty_driver, name="hasty")
print(m.run().message)
"""),
    md("""
**... the event cannot be created?** The call returns `NULL` (here `(None, None)`), for
example when the directory in the name does not exist. Always check the pointer.
"""),
    code("""
def careful_driver(k):
    event, handle = yield k.IoCreateSynchronizationEvent(r"\\NoSuchDirectory\\Lock")
    if event is None:
        return STATUS_UNSUCCESSFUL
    yield k.ZwClose(handle)
    return STATUS_SUCCESS


m = Machine()
t = m.system.start(careful_driver, name="careful")
m.run()
print(name_of(t.result))
"""),
    md("""
## Check yourself
"""),
    code("""
get("02-first-wait").show();
"""),
    code("""
answer = (None, None)   # for example (STATUS_TIMEOUT, STATUS_TIMEOUT)
get("02-first-wait").check(answer)
"""),
    code("""
get("02-one-per-signal").show();
"""),
    code("""
answer = None   # a list of driver names
get("02-one-per-signal").check(answer)
"""),
    code("""
get("02-irql").show();
"""),
    code("""
answer = None   # a stop code, for example 0x0A
get("02-irql").check(answer)
"""),
    code("""
get("02-null").show();
"""),
    code("""
answer = None   # a pair (event, handle)
get("02-null").check(answer)
"""),
    md("""
The last exercise is code. `timer_driver` above stops the machine with 0xCC. Repair it
in the cell below and run the cell until the check says **Right**.
"""),
    code("""
get("02-fix-use-after-close").show();
"""),
    code("""
def timer_driver(k):
    event, handle = yield k.IoCreateSynchronizationEvent(r"\\BaseNamedObjects\\EvtsimLesson02")
    yield k.ZwClose(handle)
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    yield k.KeSetEvent(event, 0, False)


get("02-fix-use-after-close").check(timer_driver)
"""),
    md("""
## Summary

- `IoCreateSynchronizationEvent` creates a named auto-reset event, or opens it if the
  name exists. Two unrelated drivers use it as a lock around shared hardware.
- A **new** event starts **Signaled**: the first wait passes. Opening does not change
  the state.
- Each set releases **one** waiter and the event resets itself.
- `ZwClose` releases the event. The pointer is valid only while the handle is open;
  take a reference with `ObReferenceObjectByHandle` if you need it longer.
- Call it at `PASSIVE_LEVEL`, and check for `NULL`.

Next: **03 · IoCreateNotificationEvent**, the event that wakes everybody.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
