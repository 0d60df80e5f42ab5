"""Invariants of a machine between steps, checked after every step in debug mode.

`Machine(debug=True)` (or `m.debug = True` later) subscribes `InvariantChecker`, an
observer that calls `check(m)` between steps, after every recorded
step; the tests turn it on. A broken invariant raises `InvariantViolation`, whose
`invariant` names the rule, so a failing schedule points at the step that broke it.
The rules are the bookkeeping the Windows kernel keeps (ReactOS `ob/obref.c`,
`ob/obhandle.c`, `ke/wait.c`, `ke/thrdschd.c`):

* **handle-count**: an object's `header.handle_count` is the number of handle-table
  entries, across every process, that point at it.
* **pointer-count**: a pointer count is never negative and never below the handle count
  (each handle holds a pointer reference), so no handle points at a freed object.
* **wait-lists**: a waiting thread is on exactly the wait lists of the objects it waits
  on (once per object it names), and a thread that does not wait is on none.
* **signaled-with-waiters**: a signaled object has no wait-any waiter (setting it would
  have released them); for a notification event this is "state 1, no waiters".
* **signal-state**: every state is 0 or 1.
* **ready-queue**: the ready queue holds exactly the threads in state "ready", once
  each; no thread is "running" between steps (except, after a bug check, the thread
  that crashed: the machine stopped in the middle of its step).

The check is O(objects + threads + handles). The machine runs it between steps, once
the stepping thread is back in the ready queue.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from .errors import EvtsimError

HANDLE_COUNT = "handle-count"
POINTER_COUNT = "pointer-count"
WAIT_LISTS = "wait-lists"
SIGNALED_WITH_WAITERS = "signaled-with-waiters"
SIGNAL_STATE = "signal-state"
READY_QUEUE = "ready-queue"

INVARIANTS = (HANDLE_COUNT, POINTER_COUNT, WAIT_LISTS, SIGNALED_WITH_WAITERS,
              SIGNAL_STATE, READY_QUEUE)


class InvariantViolation(EvtsimError, AssertionError):
    """The machine's bookkeeping is inconsistent: an evtsim bug (or a corrupted machine)."""

    def __init__(self, invariant: str, message: str):
        super().__init__(f"invariant {invariant} broken: {message}")
        self.invariant = invariant


# What the checks cost in this Python process: how many checks ran, and how many items
# (handle-table entries, objects, wait blocks, threads, ready-queue entries) they visited.
# Counting visits, not seconds, is how the tests show a check is linear in the machine.
stats = {"checks": 0, "visited": 0}


def check(machine) -> None:
    """Raise InvariantViolation if any invariant of `machine` does not hold."""
    stats["checks"] += 1
    stats["visited"] += (_check_counts(machine) + _check_dispatcher(machine)
                         + _check_ready_queue(machine))


# --- handles and references -------------------------------------------------------------
def _label(obj) -> str:
    header = getattr(obj, "header", None)
    path = header.path if header is not None and header.name is not None else None
    return path or getattr(obj, "name", None) or repr(obj)


def _check_counts(machine) -> int:
    """Handle and pointer counts; returns how many items it visited."""
    handles: Counter[int] = Counter()
    objects: dict[int, Any] = {}        # by id: everything with an object header
    visited = 0
    for process in machine.processes:
        for value, entry in process.handles:
            visited += 1
            obj = entry.object
            key = id(obj)
            handles[key] += 1
            objects[key] = obj
            if getattr(obj, "header", None) is None:
                raise InvariantViolation(
                    HANDLE_COUNT, f"handle 0x{value:X} of {process.name} points at "
                                  f"{obj!r}, which has no object header")
    for obj in machine.dispatcher_objects:
        if obj.header is not None:
            objects.setdefault(id(obj), obj)
    for driver in machine.drivers:
        objects.setdefault(id(driver), driver)
        for device in driver.devices:
            objects.setdefault(id(device), device)
    visited += _namespace(machine.ob.root, objects)
    for key, obj in objects.items():
        visited += 1
        header = obj.header
        found = handles.get(key, 0)
        if header.handle_count != found:
            raise InvariantViolation(
                HANDLE_COUNT, f"{_label(obj)} says {header.handle_count} handle(s) but "
                              f"{found} handle-table entr{'y' if found == 1 else 'ies'} "
                              f"point at it")
        if header.pointer_count < 0:
            raise InvariantViolation(
                POINTER_COUNT, f"{_label(obj)} has a negative pointer count "
                               f"({header.pointer_count})")
        if header.pointer_count < header.handle_count:
            raise InvariantViolation(
                POINTER_COUNT, f"{_label(obj)} has pointer count {header.pointer_count} "
                               f"below its handle count {header.handle_count}"
                               + (" and was freed while handles are open"
                                  if header.deleted else ""))
    return visited


def _namespace(directory, objects: dict) -> int:
    """Every object with a name, walking the directory tree (each directory once);
    returns how many directory entries it visited."""
    stack, seen, visited = [directory], set(), 0
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        objects.setdefault(id(current), current)
        for child in current.entries.values():
            visited += 1
            objects.setdefault(id(child), child)
            if hasattr(child, "entries"):
                stack.append(child)
    return visited


# --- dispatcher objects and wait lists --------------------------------------------------
def _check_dispatcher(machine) -> int:
    """Signal states and wait lists; returns how many items it visited."""
    blocks: dict[int, Counter] = {}        # thread id -> Counter of object ids it is on
    visited = 0
    for obj in machine.dispatcher_objects:
        visited += 1 + len(obj.wait_list)
        state = obj.SignalState
        if type(state) is not int or state not in (0, 1):
            raise InvariantViolation(SIGNAL_STATE,
                                     f"{obj.name} has signal state {state!r}, not 0 or 1")
        for wb in obj.wait_list:
            if wb.obj is not obj:
                raise InvariantViolation(
                    WAIT_LISTS, f"a wait block of {wb.thread.name} for {wb.obj.name} is on "
                                f"the wait list of {obj.name}")
            blocks.setdefault(id(wb.thread), Counter())[id(obj)] += 1
            if state and wb.wait_type == 1:            # WaitAny
                kind = ("notification event" if obj.Type == 0 else "signaled object")
                raise InvariantViolation(
                    SIGNALED_WITH_WAITERS,
                    f"{kind} {obj.name} has state 1 but {wb.thread.name} still waits on "
                    f"it (wait-any): setting it should have released that thread")
    known = set()
    for thread in machine.threads:
        visited += 1
        known.add(id(thread))
        on = blocks.get(id(thread))
        if thread.state == "waiting":
            wait = thread.wait
            if wait is None:
                raise InvariantViolation(
                    WAIT_LISTS, f"{thread.name} is waiting but has no wait information")
            wanted = Counter(id(o) for o in wait.objects)
            if (on or Counter()) != wanted:
                names = {id(o): o.name for o in wait.objects}
                for o in machine.dispatcher_objects:
                    names.setdefault(id(o), o.name)
                have = sorted(names.get(k, "?") for k in (on or Counter()).elements())
                want = sorted(names.get(k, "?") for k in wanted.elements())
                raise InvariantViolation(
                    WAIT_LISTS, f"{thread.name} waits on {want} but is on the wait lists "
                                f"of {have}")
        elif on:
            raise InvariantViolation(
                WAIT_LISTS, f"{thread.name} is {thread.state}, not waiting, but is still on "
                            f"a wait list ({sum(on.values())} wait block(s))")
    for key in blocks:
        if key not in known:
            raise InvariantViolation(WAIT_LISTS,
                                     "a wait list holds a thread this machine does not know")
    return visited


# --- the ready queue ----------------------------------------------------------------------
def _check_ready_queue(machine) -> int:
    """The ready queue against thread states; returns how many items it visited."""
    ready = machine.scheduler.ready
    in_queue: set[int] = set()
    visited = len(ready) + len(machine.threads)
    for thread in ready:
        if id(thread) in in_queue:
            raise InvariantViolation(READY_QUEUE, f"{thread.name} is in the ready queue twice")
        in_queue.add(id(thread))
        if thread.state != "ready":
            raise InvariantViolation(
                READY_QUEUE, f"{thread.name} is in the ready queue but is {thread.state}")
    for thread in machine.threads:
        state = thread.state
        if state == "ready":
            if id(thread) in in_queue:
                continue
        elif state != "running":
            continue
        crash = machine.bugcheck
        if state == "running" and crash is not None and crash.thread == thread.name:
            continue                # a crash dump shows the thread that was running
        if state == "running":
            raise InvariantViolation(READY_QUEUE,
                                     f"{thread.name} is running between steps")
        raise InvariantViolation(
            READY_QUEUE, f"{thread.name} is ready but not in the ready queue, so it "
                         f"would never run")
    if len(in_queue) > len(machine.threads) or not in_queue <= {id(t) for t in machine.threads}:
        raise InvariantViolation(READY_QUEUE,
                                 "the ready queue holds a thread the machine does not list")
    return visited


class InvariantChecker:
    """The observer that debug mode subscribes: it checks every invariant between steps,
    after the thread that stepped is back in the ready queue."""

    def between_steps(self, machine) -> None:
        check(machine)


__all__ = ["InvariantChecker", "check", "stats", "InvariantViolation", "INVARIANTS",
           "HANDLE_COUNT", "POINTER_COUNT", "WAIT_LISTS", "SIGNALED_WITH_WAITERS",
           "SIGNAL_STATE", "READY_QUEUE"]
