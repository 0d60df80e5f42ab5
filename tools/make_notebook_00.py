"""Write notebooks/00-start-here.ipynb, the kit's first notebook.

The notebook is generated so that it is reproducible: edit the cells here, then run

    .venv/bin/python tools/make_notebook_00.py

The file is written without outputs or execution counts, with fixed cell ids, so
running this script twice gives the same bytes. It uses only the engine API in
docs/engine.md.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "notebooks" / "00-start-here.ipynb"


def md(text):
    return new_markdown_cell(text.strip("\n"))


def code(text):
    return new_code_cell(text.strip("\n"))


CELLS = [
    md("""
# 00 · Start here

This notebook shows the kit in five minutes.
You create one event and three threads.
The threads wait. You set the event. All three threads wake up.

Run the cells from top to bottom (Shift+Enter runs one cell).
"""),
    md("""
## What is an event object?

An event object is a flag in the Windows kernel. Threads wait on it.

- The event is **signaled** (state 1) or **not signaled** (state 0).
- A thread that waits on a signaled event goes on at once.
- A thread that waits on a not-signaled event stops and waits.

There are two types of event:

- A **notification event** (`NotificationEvent`, also called *manual reset*).
  When it is set, it wakes **every** waiting thread.
  It stays signaled until someone clears it (`KeClearEvent` or `KeResetEvent`).
- A **synchronization event** (`SynchronizationEvent`, also called *auto reset*).
  When it is set, it wakes **one** waiting thread.
  Then it goes back to not signaled by itself.
"""),
    md("""
## How the kit works

- `Machine()` is a small simulated Windows computer. It has no real threads.
- A simulated thread is a Python **generator function**.
  Its first parameter is the API it may call (here `k`, the kernel API).
- Every API call is written with `yield`, like `status = yield k.KeSetEvent(...)`.
  One call is one **step**. Between two steps, another thread may run.
- `m.run()` runs steps until no thread can run. Then it tells you why it stopped.
- `m.kernel` is the same kernel API for you, the person at the notebook.
  Your calls run at once, without `yield`.
"""),
    code("""
from evtsim import Machine
from evtsim.status import name_of, STATUS_SUCCESS
from evtsim.api.kernel import NotificationEvent, Executive, KernelMode
"""),
    md("""
## One event, not signaled

Make a machine and a notification event named `Go`. Its state is 0: not signaled.
"""),
    code("""
m = Machine()
ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
print("state of Go:", ev.SignalState)
"""),
    md("""
## Three threads wait on it

Each thread waits on the event with `KeWaitForSingleObject`.
The last argument, `None`, means "wait with no time limit".
When the wait ends, the thread returns the status it got.

`m.system.start(...)` starts a thread in the System process.
"""),
    code("""
def waiter(k, ev):
    status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
    return status


threads = [m.system.start(waiter, ev, name=name) for name in ("w1", "w2", "w3")]

result = m.run()
print("m.run() stopped:", result.reason)
for t in threads:
    print(t.name, "is", t.state, "on", [obj.name for obj in t.waiting_on])

assert all(t.state == "waiting" for t in threads)
"""),
    md("""
All three threads are `waiting`. `m.run()` stops because every thread waits
and nothing inside the machine can wake them up. You are outside the machine: you can.

## Set the event

Now you set the event with `KeSetEvent`. It returns the **previous** state (0).
Then run the machine again.
"""),
    code("""
previous = m.kernel.KeSetEvent(ev, 0, False)
print("KeSetEvent returned", previous, "(the state before the call)")

result = m.run()
print("m.run() stopped:", result.reason)
print("state of Go:", ev.SignalState, "(a notification event stays signaled)")
"""),
    md("""
## The trace

The machine writes one record for every step.
Each line shows: the step number, the virtual time (in 100 ns units), the thread,
the call, its result, and which threads the call released.
Your own calls with `m.kernel` appear as the thread `instructor`.

A wait that blocks has no result yet. When the thread is released, the trace shows
the same call again, now with the result of the wait.
"""),
    code("""
def show(record):
    if record.result is None and record.state == "waiting":
        return "(waits)"
    if record.op.startswith("KeWait"):
        return name_of(record.result)      # an NTSTATUS: show its name
    return str(record.to_dict()["result"])  # other calls: the plain value


for r in m.trace:
    released = ", ".join(r.released) or "-"
    print(f"{r.seq:>3}  t={r.time:<4} {r.thread:<10} {r.op:<22} result={show(r):<15} released={released}")
"""),
    md("""
## What each thread got

Every thread woke up and returned `STATUS_SUCCESS`.
One `KeSetEvent` on a notification event released all three.
"""),
    code("""
for t in threads:
    print(t.name, t.state, name_of(t.result))

assert all(t.state == "terminated" and t.result == STATUS_SUCCESS for t in threads)
"""),
    md("""
## Try it yourself

- Change `NotificationEvent` to `SynchronizationEvent` (import it from
  `evtsim.api.kernel`) and run all cells again. How many threads wake up?
  What is the state of `Go` at the end?
- Call `m.kernel.KeSetEvent(ev, 0, False)` two more times and run `m.run()` after each.

The next lessons follow the documented patterns, one per notebook.
"""),
]


def build():
    nb = new_notebook(cells=CELLS)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"start-here-{index:02d}"
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def main():
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(), TARGET)
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
