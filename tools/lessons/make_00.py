"""Write notebooks/00-start-here.ipynb: what an event is and how the kit works.

    .venv/bin/python tools/lessons/make_00.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "00-start-here.ipynb"
PREFIX = "start-here"

CELLS = [
    md("""
# 00 · Start here

In this notebook you learn two things:

1. what an **event object** is in the Windows kernel, and
2. how this kit works: threads, steps, the timeline, the lab, reset, and saving a run.

Run the cells from top to bottom. **Shift+Enter** runs one cell.
**Run > Run All Cells** runs them all.
"""),
    md("""
## What is an event object?

An event object is a flag in the Windows kernel. Threads wait on it.

- The event is **signaled** (state 1) or **not signaled** (state 0).
- A thread that waits on a signaled event goes on at once.
- A thread that waits on an event that is not signaled stops and waits.
- Another thread **sets** the event (`KeSetEvent`). Then waiting threads wake up.

There are two types of event:

| type | other name | when it is set |
|---|---|---|
| `NotificationEvent` | manual reset | it wakes **every** waiting thread and **stays** signaled until someone clears it |
| `SynchronizationEvent` | auto reset | it wakes **one** waiting thread and goes back to not signaled by itself |

The lessons follow three public documents: Microsoft's reference pages for
`IoCreateSynchronizationEvent` and `IoCreateNotificationEvent`, and a 1999 NuMega
DriverStudio tip about sharing an event with an application. Each lesson names the one
it follows.
"""),
    md("""
## How the kit works

- `Machine()` is a small simulated Windows computer. It has no real threads, so every
  run is the same.
- A simulated thread is a Python **generator function**. Its first parameter is the API
  it may call: `k` for kernel code, `api` for an application (Win32).
- You write every API call with `yield`: `status = yield k.KeSetEvent(ev, 0, False)`.
  **One call is one step.** Between two steps, another thread may run.
- `m.run()` runs steps until no thread can run. It tells you why it stopped.
- `m.kernel` is the kernel API for **you**, the person at the notebook. Your calls run
  at once, without `yield`. The trace names you `instructor`.
"""),
    code("""
%matplotlib inline
from IPython.display import display

import evtsim.plot
import evtsim.trace
from evtsim import Machine, scenarios
from evtsim.status import STATUS_SUCCESS, name_of
from evtsim.api.kernel import NotificationEvent, Executive, KernelMode
from evtsim.exercises import get
"""),
    md("""
## One event and three threads

Make a machine and a notification event named `Go`. Its state is 0: not signaled.

Each thread waits on the event with `KeWaitForSingleObject`. The last argument, `None`,
means "wait with no time limit". When the wait ends, the thread returns the status.
`m.system.start(...)` starts a thread in the System process.
"""),
    code("""
m = Machine()
ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
print("state of Go:", ev.SignalState)


def waiter(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
    return status


threads = [m.system.start(waiter, ev, name=name) for name in ("w1", "w2", "w3")]
for t in threads:
    print(t.name, "is", t.state, "- next call:", t.next_call, "- line", t.line)
"""),
    md("""
## One step at a time

A new thread is `ready`: it knows its next call, but it has not made it yet.
`m.step()` runs **one** step: one call of one thread. It returns the trace record of
that step. Watch `w1` make its call and start to wait.
"""),
    code("""
record = m.step()
print(record)
print("w1 is", threads[0].state, "on", [obj.name for obj in threads[0].waiting_on])
"""),
    md("""
`m.run()` runs the other steps. It stops when every thread waits and nothing inside
the machine can wake them. You are outside the machine: you can.
"""),
    code("""
result = m.run()
print(result.reason)
print(result.message)
"""),
    md("""
## Set the event

Now you set the event with `KeSetEvent`. It returns the **previous** state (0).
Then run the machine again. All three threads wake up.
"""),
    code("""
previous = m.kernel.KeSetEvent(ev, 0, False)
print("KeSetEvent returned", previous, "(the state before the call)")

result = m.run()
print("m.run() stopped:", result.reason)
print("state of Go:", ev.SignalState, "(a notification event stays signaled)")
for t in threads:
    print(t.name, t.state, name_of(t.result))
"""),
    md("""
## The timeline

`evtsim.plot.timeline(m)` draws the run. Read it like this:

- one **lane per thread** (here `w1`, `w2`, `w3`, and `instructor` for your own calls);
- a **solid bar**: the thread runs a step; a **thin bar**: it is ready; a **hatched
  bar** labelled with the event: it waits;
- one **lane per event**: tall when signaled, low when not;
- an **arrow** from the call that set the event to each thread it released.

The picture uses colours that colour-blind readers can tell apart, and every meaning
also has a shape.
"""),
    code("""
display(evtsim.plot.timeline(m))
"""),
    md("""
## The text log

The same run as text, one line per step. It is good for a screen reader, and for
copying into a question to your teacher. Each thread has a column: `RUN` (it took this
step), `wait`, `ready`, `woken` (this step released it), `ended`. The event's column
shows its state; `0->1` means the step changed it. The last column says what happened.
"""),
    code("""
print(evtsim.trace.text_timeline(m))
"""),
    md("""
## The lab: play with a run

The **event lab** shows the same machine as buttons. For each event: **Set**,
**Reset**, **Clear**, **Pulse**. For each thread: its state, the line it will run next,
and a **Step** button (you are the scheduler). **Run** runs until nothing can run,
**Undo** goes back one step, **Reset** builds the run again from the start. The
timeline and the log below the buttons change after every click.

Try it: click **Step** on each waiter, then **Set** on the event, then **Run**.
"""),
    lab('"notification_broadcast", waiters=3'),
    md("""
## Ready-made runs: scenarios

The kit has a ready-made run for each documented pattern, and one for each common
mistake (a *trap*). `scenarios.build(name)` makes a fresh machine for it. The lessons
use them.
"""),
    code("""
print(scenarios.describe())
"""),
    code("""
m = scenarios.build("notification_broadcast", waiters=3)
print(m.run().reason)
print(evtsim.trace.text_timeline(m, last=8))
"""),
    md("""
## How to reset

A machine only goes forward. To start again, **build it again**: run the cell that
makes it (`m = Machine()` or `m = scenarios.build(...)`). In the lab, the **Reset**
button does the same.

A serious driver mistake stops the machine with a simulated **bug check** (a "blue
screen"), as Windows would. Then the machine stays stopped. Here a driver waits at
DISPATCH_LEVEL, which the rules forbid: the stop code is 0xC4, Driver Verifier's code.
"""),
    code("""
from evtsim.api.kernel import SynchronizationEvent, DISPATCH_LEVEL

m = Machine()
lock = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Lock")


def bad_driver(k):
    yield k.KeRaiseIrql(DISPATCH_LEVEL)
    yield k.KeWaitForSingleObject(lock, Executive, KernelMode, False, None)


m.system.start(bad_driver, name="bad")
print(m.run().message)
print("run again:", m.run().reason, "(the machine stays stopped)")
"""),
    md("""
Build it again and the new machine runs. If the whole notebook is in a mess, use
**Kernel > Restart Kernel and Run All Cells**: everything starts from the top.
"""),
    code("""
m = Machine()
print("a new machine; bug check:", m.bugcheck)
"""),
    md("""
## How to save a run

`evtsim.trace.save(m, path)` writes the run to a JSON file. `evtsim.trace.load(path)`
reads it back, and you can draw it or print it like a machine. When the run came from
`scenarios.build`, `evtsim.trace.replay(saved)` runs it again, step for step.

Send the file to your teacher: they see the same run. On Binder, save your files
often; Binder deletes a session that has been idle for a while.

Here we save into a temporary folder. To keep a file, give a plain name, for example
`evtsim.trace.save(m, "my-run.json")`. It appears in the file browser on the left;
right-click it and choose **Download**.
"""),
    code("""
import os
import tempfile

m = scenarios.build("notification_broadcast", waiters=3)
m.run()
path = os.path.join(tempfile.gettempdir(), "evtsim-start-here.json")
evtsim.trace.save(m, path)

saved = evtsim.trace.load(path)
print(saved)
again = evtsim.trace.replay(saved)
print("the replay made the same steps:", saved == again.trace)
"""),
    md("""
The kit can also write the run for **Perfetto** (https://ui.perfetto.dev), a trace
viewer: `evtsim.trace.to_perfetto(m)` gives the JSON as a dict. Write it to a file with
`json.dump` and open the file in Perfetto.

## Check yourself

**Exercise 1.** Show the question, with hint buttons. Then put your answer in the
next cell and run it.
"""),
    code("""
get("00-set-returns").show();
"""),
    code("""
answer = None   # your answer: a number
get("00-set-returns").check(answer)
"""),
    md("""
**Exercise 2.** Write a thread. The code below has **one** mistake. Find it, fix it,
and run the cell again.
"""),
    code("""
get("00-write-a-waiter").show();
"""),
    code("""
def waiter(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)
    return status


get("00-write-a-waiter").check(waiter)
"""),
    md("""
## Summary

- An event is signaled (1) or not signaled (0). Threads wait on it; a set wakes them.
- A notification event wakes every waiter and stays signaled. A synchronization event
  wakes one waiter and resets itself.
- A thread is a generator function. Every call is `yield`ed, and one call is one step.
- `m.step()` runs one step, `m.run()` runs until nothing can run, `m.kernel` is you.
- `evtsim.plot.timeline(m)` draws the run; `evtsim.trace.text_timeline(m)` prints it.
- The lab lets you click Set, Step, Run, Undo and Reset.
- To reset, build the machine again. A bug check stops a machine for good.
- `evtsim.trace.save` / `load` / `replay` keep a run and play it again.

Next: **01 · Signaled state and waiting**.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
