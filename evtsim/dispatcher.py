"""Dispatcher objects: signal state, wait lists and wait satisfaction.

This is the heart of what the kit teaches. It follows the Windows kernel as ReactOS
documents it (ke/eventobj.c, ke/wait.c, include/internal/ke_x.h), checked against
Wine's conformance tests:

* Every dispatcher object has a signal state and one FIFO list of wait blocks.
  Waiters join at the tail and are served from the head.
* Setting a *notification* event releases every waiter and leaves the event signaled.
* Setting a *synchronization* event walks the list from the head while the event stays
  signaled: the first wait-any waiter is satisfied (which consumes the event); wait-all
  waiters met on the way are only woken to re-check their objects (KiWaitTest).
* Pulsing signals only if the event was not signaled and has waiters, releases as a
  walk would, and always leaves the state 0.
* Satisfying a wait consumes synchronization objects and leaves notification ones alone.

The module knows threads only through a small duck-typed protocol (`unwait`,
`alerted`, `user_apcs`, `user_apc_pending`), so it imports nothing from the scheduler.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .status import STATUS_ALERTED, STATUS_KERNEL_APC, STATUS_USER_APC, STATUS_WAIT_0

if TYPE_CHECKING:
    from .namespace import ObjectHeader

# Event and timer types (wdm.h EVENT_TYPE / TIMER_TYPE).
NotificationEvent = 0
SynchronizationEvent = 1
NotificationTimer = 0
SynchronizationTimer = 1

# KWAIT_REASON is only recorded; KPROCESSOR_MODE and WAIT_TYPE matter.
Executive = 0
KernelMode = 0
UserMode = 1
WaitAll = 0
WaitAny = 1

EVENT_TYPE_NAMES = {NotificationEvent: "NotificationEvent",
                    SynchronizationEvent: "SynchronizationEvent"}
MODE_NAMES = {KernelMode: "KernelMode", UserMode: "UserMode"}
WAIT_TYPE_NAMES = {WaitAll: "WaitAll", WaitAny: "WaitAny"}


class WaitBlock:
    """One thread waiting on one object (KWAIT_BLOCK): `key` is its index in the wait."""

    __slots__ = ("thread", "obj", "key", "wait_type")

    def __init__(self, thread: Any, obj: DispatcherObject, key: int, wait_type: int) -> None:
        self.thread = thread
        self.obj = obj
        self.key = key
        self.wait_type = wait_type


class KWAIT_BLOCK:
    """Storage a caller passes to wait on more than THREAD_WAIT_OBJECTS (3) objects."""

    __slots__ = ()


class DispatcherObject:
    """Anything a thread can wait on: a signal state and a FIFO wait list."""

    kind = "DispatcherObject"
    __slots__ = ("machine", "name", "SignalState", "wait_list", "Type", "header",
                 "created_state", "created_seq", "__weakref__")

    def __init__(self, machine: Any, name: str, type_: int, state: int) -> None:
        self.machine = machine
        self.header: ObjectHeader | None = None    # once the object manager owns it
        self.name = name
        self.Type = type_
        self.SignalState = 1 if state else 0
        self.created_state = self.SignalState      # for views that replay the trace
        self.created_seq = machine.seq
        self.wait_list: deque[WaitBlock] = deque()
        machine.register(self)

    @property
    def synchronization(self) -> bool:
        """True when satisfying a wait consumes the signal (auto reset)."""
        return self.Type == 1

    def waiters(self) -> list:
        """The waiting threads, in the order they will be served (head first)."""
        return [wb.thread for wb in self.wait_list]

    def holders(self) -> list[str]:
        """Processes holding a handle to this object (for deadlock reports)."""
        header = self.header
        if header is None or header.handle_count == 0:
            return []
        found = []
        for process in self.machine.processes:
            for _, entry in process.handles:
                if entry.object is self:
                    found.append("the kernel" if process.kernel else process.name)
                    break
        return found

    def __repr__(self) -> str:
        return (f"<{self.kind} {self.name} state={self.SignalState} "
                f"waiters={len(self.wait_list)}>")


class KEVENT(DispatcherObject):
    """A kernel event: `Type` is NotificationEvent (0) or SynchronizationEvent (1)."""

    kind = "KEVENT"
    __slots__ = ()

    @property
    def type_name(self) -> str:
        return EVENT_TYPE_NAMES[self.Type]

    def __repr__(self) -> str:
        kind = "Notification" if self.Type == NotificationEvent else "Synchronization"
        return (f"<KEVENT {self.name} {kind} state={self.SignalState} "
                f"waiters={[t.name for t in self.waiters()]}>")


class KTIMER(DispatcherObject):
    """A kernel timer: signaled when its due time passes, optionally queueing a DPC."""

    kind = "KTIMER"
    __slots__ = ("due", "period", "dpc", "generation")

    def __init__(self, machine: Any, name: str, type_: int) -> None:
        super().__init__(machine, name, type_, 0)
        self.due: int | None = None      # interrupt time it is due while set, else None
        self.period = 0
        self.dpc: Any = None     # a scheduler.KDPC (that module imports this one)
        self.generation = 0      # bumps on every set/cancel so stale expiries are ignored


def set_state(obj: DispatcherObject, new: int) -> None:
    """Change an object's signal state, noting the change for the step's trace record."""
    old = obj.SignalState
    if old != new:
        obj.SignalState = new
        obj.machine.note_change(obj, old, new)


def satisfy(obj: DispatcherObject) -> None:
    """A wait on `obj` was satisfied: synchronization objects are consumed."""
    if obj.Type == 1:
        set_state(obj, 0)


def wait_test(obj: DispatcherObject) -> None:
    """Serve the wait list from the head while the object stays signaled (KiWaitTest)."""
    wait_list = obj.wait_list
    while wait_list and obj.SignalState > 0:
        wb = wait_list[0]
        if wb.wait_type == WaitAny:
            satisfy(obj)
            wb.thread.unwait(STATUS_WAIT_0 + wb.key)
        else:
            wb.thread.unwait(STATUS_KERNEL_APC)     # wake it to re-check all its objects


def unwait_all(obj: DispatcherObject) -> None:
    """Release every waiter of a notification object (KxUnwaitThread)."""
    wait_list = obj.wait_list
    while wait_list:
        wb = wait_list[0]
        if wb.wait_type == WaitAny:
            wb.thread.unwait(STATUS_WAIT_0 + wb.key)
        else:
            wb.thread.unwait(STATUS_KERNEL_APC)


def signal(obj: DispatcherObject) -> int:
    """Set an object to signaled and release waiters; returns the previous state."""
    obj.machine.note_write(obj.name)
    previous = obj.SignalState
    if previous:
        return previous                      # already signaled: nothing else happens
    set_state(obj, 1)
    if obj.wait_list:
        if obj.Type == 1:
            wait_test(obj)
        else:
            unwait_all(obj)
    return previous


def pulse(obj: DispatcherObject) -> int:
    """KePulseEvent: release as a set would, then always leave the state 0."""
    obj.machine.note_write(obj.name)
    previous = obj.SignalState
    if not previous and obj.wait_list:
        set_state(obj, 1)
        wait_test(obj)
    set_state(obj, 0)
    return previous


def reset(obj: DispatcherObject) -> int:
    """Set the state to 0, returning the previous state."""
    obj.machine.note_write(obj.name)
    previous = obj.SignalState
    set_state(obj, 0)
    return previous


def try_satisfy(objects: Sequence[DispatcherObject], wait_type: int) -> int | None:
    """One check of a wait's objects; on success consume and return the status.

    Wait-any returns STATUS_WAIT_0 + the lowest signaled index and consumes only that
    object. Wait-all is all or nothing. Returns None when the wait must go on.
    """
    if wait_type == WaitAny:
        for index, obj in enumerate(objects):
            if obj.SignalState > 0:
                satisfy(obj)
                return STATUS_WAIT_0 + index
        return None
    for obj in objects:
        if obj.SignalState <= 0:
            return None
    for obj in objects:
        satisfy(obj)
    return STATUS_WAIT_0


def check_alertable(thread: Any, wait_mode: int, alertable: bool) -> int | None:
    """The alert/APC part of a wait pass (KiCheckAlertability); None to go on waiting."""
    if alertable:
        if thread.alerted[wait_mode]:
            thread.alerted[wait_mode] = False
            return STATUS_ALERTED
        if wait_mode != KernelMode and thread.user_apcs:
            thread.user_apc_pending = True
            return STATUS_USER_APC
        if thread.alerted[KernelMode]:
            thread.alerted[KernelMode] = False
            return STATUS_ALERTED
    elif wait_mode != KernelMode and thread.user_apc_pending:
        return STATUS_USER_APC
    return None


def enqueue(thread: Any, objects: Sequence[DispatcherObject],
            wait_type: int) -> list[WaitBlock]:
    """Put a thread at the tail of each object's wait list."""
    blocks = []
    for key, obj in enumerate(objects):
        wb = WaitBlock(thread, obj, key, wait_type)
        obj.wait_list.append(wb)
        blocks.append(wb)
    return blocks


def dequeue(blocks: Sequence[WaitBlock]) -> None:
    """Take a thread's wait blocks off every wait list they are on."""
    for wb in blocks:
        wait_list = wb.obj.wait_list
        if wait_list and wait_list[0] is wb:
            wait_list.popleft()
        else:
            wait_list.remove(wb)
