"""Write notebooks/08-docs-versus-kernel.ipynb: docs/semantics.md section 9, each place where
the documentation and the kernel disagree, shown running; plus the generic mapping of
GENERIC_READ on an event (Windows leaves out SYNCHRONIZE).

    .venv/bin/python tools/lessons/make_08.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "08-docs-versus-kernel.ipynb"
PREFIX = "docs-vs-kernel"

CELLS = [
    md("""
# 08 · Where the documentation and the kernel disagree

Microsoft's reference pages are the contract. The kernel is what really runs. In a few
places they say different things. The kit does what **Windows** does. It follows
ReactOS's kernel source (`ke/eventobj.c`, `ke/wait.c`) and Wine's conformance tests,
which Wine runs on real Windows. This lesson shows each disagreement running:

1. what `KeSetEvent` returns;
2. `KePulseEvent` on a synchronization event;
3. "a single waiting thread is released", and the wait-all waiters;
4. a new named event starts **Signaled**;
5. `IoCreateSynchronizationEvent` can hand back a notification event;
6. the stop code for a timed wait at DISPATCH_LEVEL;
7. one the team found: `GENERIC_READ` on an event does not let you wait.

The rule for your own code: **write to the documentation**. Where the kernel gives
more, do not rely on it. Where the kernel surprises you, now you know why.
"""),
    code("""
import evtsim
import evtsim.plot
from evtsim import Machine, scenarios
from evtsim.status import *
from evtsim.api.kernel import (NotificationEvent, SynchronizationEvent, Executive,
                               KernelMode, WaitAll)
from evtsim.exercises import get
"""),
    md("""
## 1. What `KeSetEvent` returns

**The docs:** if the event was signaled before, the return value is *nonzero*.
**The kernel:** it returns the previous state, exactly 0 or 1.
"""),
    code("""
m = Machine()
ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Ev")
print("first KeSetEvent returns ", m.kernel.KeSetEvent(ev, 0, False))
print("second KeSetEvent returns", m.kernel.KeSetEvent(ev, 0, False))
print("KeResetEvent returns      ", m.kernel.KeResetEvent(ev))
"""),
    md("""
In your driver, test `if (KeSetEvent(...) != 0)`, never `== 1`: the docs only promise
nonzero.
"""),
    code("""
ex = get("08-keset-return")
ex.show();
"""),
    code("""
answer = None        # a number
ex.check(answer)
"""),
    md("""
## 2. `KePulseEvent` on a synchronization event

**The docs** speak of satisfying *as many waits as possible*. **The kernel** does what
a set would do, then resets: on a synchronization event that releases **one** waiter
(the first in the list). On a notification event it releases all of them.
"""),
    code("""
def pulse_machine(event_type):
    m = Machine()
    ev = m.kernel.KeInitializeEvent(event_type, False, name="Ev")

    def waiter(k):
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None))

    for name in ("w1", "w2", "w3"):
        m.system.start(waiter, name=name)
    m.run()
    m.kernel.KePulseEvent(ev, 0, False)
    m.run()
    return m


for event_type, label in ((SynchronizationEvent, "synchronization"),
                          (NotificationEvent, "notification")):
    m = pulse_machine(event_type)
    pulse = next(record for record in m.trace if record.op == "KePulseEvent")
    print(f"{label:<16} released: {list(pulse.released)}"
          f"  still waiting: {[t.name for t in m.threads if t.state == 'waiting']}")
"""),
    code("""
m = pulse_machine(SynchronizationEvent)
print(evtsim.trace.text_timeline(m))
display(evtsim.plot.timeline(m))
"""),
    code("""
ex = get("08-pulse-sync")
ex.show();
"""),
    code("""
answer = None        # a number
ex.check(answer)
"""),
    md("""
## 3. "A single waiting thread is released"

**The Io page** says: when a synchronization event is set, one waiting thread is
released. That is true for the thread that **returns**. But **the kernel** walks the
wait list from the head. A thread that waits for **several** objects at once
(`WaitAll`) and stands first in the list is woken too, just to check its objects again.
If they are not all signaled, it waits again, at the end of the list.
"""),
    code("""
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
print(evtsim.trace.text_timeline(m))
"""),
    md("""
Look at the `KeSetEvent` line: *releases wait_any; wakes wait_all to re-check*. Two
threads woke; one returned.
"""),
    code("""
ex = get("08-waitall-recheck")
ex.show();
"""),
    code("""
answer = []          # a list of thread names
ex.check(answer)
"""),
    md("""
## 4. A new named event starts Signaled

**The Io pages** say it plainly, and it still surprises nearly everyone:
`IoCreateNotificationEvent` and `IoCreateSynchronizationEvent` give a **new** event the
**Signaled** state. So the first wait returns at once. (`KeInitializeEvent` and
`CreateEvent` let you choose.) The scenario `trap_initially_signaled` shows a consumer
that reads its data before the data is there.
"""),
    code("""
for fixed in (False, True):
    m = scenarios.build("trap_initially_signaled", fixed=fixed)
    m.run()
    print(f"fixed={fixed!s:<5} the consumer read: {m.shared['read']!r}")
"""),
    code("""
m = scenarios.build("trap_initially_signaled")
m.run()
print(evtsim.trace.text_timeline(m))
"""),
    lab('"trap_initially_signaled"'),
    code("""
ex = get("08-new-signaled")
ex.show();
"""),
    code("""
answer = None        # a status, for example STATUS_TIMEOUT
ex.check(answer)
"""),
    md("""
## 5. `IoCreateSynchronizationEvent` can return a notification event

**The Io pages:** if the event exists, it is *simply opened*. They do not say what
happens when the existing event has the **other** type. **The kernel** does not check:
you get the event as it is. A driver that asked for auto reset can get manual reset.
"""),
    code("""
m = Machine()

def driver1(k):
    ev, handle = yield k.IoCreateNotificationEvent(r"\\BaseNamedObjects\\EvtsimShared")
    return ev.Type

def driver2(k):
    ev, handle = yield k.IoCreateSynchronizationEvent(r"\\BaseNamedObjects\\EvtsimShared")
    return ev.Type

t1 = m.system.start(driver1, name="driver1")
t2 = m.system.start(driver2, name="driver2")
m.run()
types = {NotificationEvent: "NotificationEvent", SynchronizationEvent: "SynchronizationEvent"}
print("driver1 asked for notification,   got", types[t1.result])
print("driver2 asked for synchronization, got", types[t2.result])
"""),
    code("""
ex = get("08-type-not-checked")
ex.show();
"""),
    code("""
answer = None        # NotificationEvent or SynchronizationEvent
ex.check(answer)
"""),
    md("""
## 6. The stop code for a timed wait at DISPATCH_LEVEL

**The docs** (`KeWaitForSingleObject`) forbid a non-zero timeout at DISPATCH_LEVEL,
but name no stop code. What you see on a real machine depends: often a hang, or a
later crash with another code. The kit models **Driver Verifier**, which checks the
rule at the call and stops with **0xC4** (DRIVER_VERIFIER_DETECTED_VIOLATION). Test
your drivers with Verifier on.
"""),
    code("""
m = scenarios.build("trap_wait_at_dispatch")
m.run()
print(hex(m.bugcheck.code), m.bugcheck.name)
print(m.bugcheck.rule)
"""),
    code("""
ex = get("08-dispatch-stop-code")
ex.show();
"""),
    code("""
answer = None        # a number, for example 0x0A
ex.check(answer)
"""),
    md("""
## 7. `GENERIC_READ` does not let you wait

This one the team found while building the kit. A handle needs the **SYNCHRONIZE**
right to be waited on. What does `GENERIC_READ` give on an event?

- **ReactOS** (and the first draft of the kit's own rules) maps it to
  `EVENT_QUERY_STATE | SYNCHRONIZE` (plus READ_CONTROL).
- **Windows** maps it to `READ_CONTROL | EVENT_QUERY_STATE`, **without SYNCHRONIZE**.
  Wine's security tests, run on Windows, show this. `GENERIC_EXECUTE` is the one that
  gives SYNCHRONIZE.

So an app that opens an event with `GENERIC_READ` can read its state but cannot wait
on it: `WAIT_FAILED`, `ERROR_ACCESS_DENIED`. The kit follows Windows.
"""),
    code("""
m = Machine()
app = m.process("app.exe")

def main(api):
    yield api.CreateEvent(None, True, True, "Ev")
    results = {}
    for label, access in (("GENERIC_READ", GENERIC_READ),
                          ("GENERIC_EXECUTE", GENERIC_EXECUTE),
                          ("GENERIC_READ | SYNCHRONIZE", GENERIC_READ | SYNCHRONIZE)):
        h = yield api.OpenEvent(access, False, "Ev")
        r = yield api.WaitForSingleObject(h, 0)
        e = yield api.GetLastError()
        results[label] = (access_names(app.handles.get(h).granted_access),
                          name_of(r, "wait"), name_of(e, "error"))
    return results

t = app.start(main, name="main")
m.run()
for label, (granted, wait, error) in t.result.items():
    print(f"{label:<27} granted {granted:<50} wait {wait:<14} last error {error}")
"""),
    md("""
(After a successful wait, `GetLastError` still shows the old error: Win32 functions
set it only when they fail.)
"""),
    code("""
ex = get("08-generic-read")
ex.show();
"""),
    code("""
answer = None        # one constant, for example EVENT_QUERY_STATE
ex.check(answer)
"""),
    md("""
## Summary

| what | the docs | the kernel (and the kit) |
|---|---|---|
| `KeSetEvent` return | nonzero if it was signaled | exactly 0 or 1 |
| `KePulseEvent`, synchronization event | as many waits as possible | one waiter |
| set of a synchronization event | one waiting thread released | also wakes wait-all waiters ahead of it to re-check |
| new event from `IoCreate*Event` | Signaled | Signaled (yes, really) |
| `IoCreateSynchronizationEvent` on an existing notification event | "simply opened" | you get the notification event |
| timed wait at DISPATCH_LEVEL | forbidden | Driver Verifier: bug check 0xC4 |
| `GENERIC_READ` on an event | (ReactOS: includes SYNCHRONIZE) | Windows: no SYNCHRONIZE, so no waiting |

Write to the documentation; test for nonzero; clear a new event before you rely on
it; agree on the event type in both drivers; run with Driver Verifier; ask for
`SYNCHRONIZE` when you mean to wait.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
