"""Ke* routines on events, waits, delays and the IRQL, as a driver calls them.

Windows names, Windows parameter order and Python values; return values are what the
kernel returns: `KeSetEvent` gives exactly 0 or 1, waits give an NTSTATUS. Optional
trailing arguments have the defaults a driver would almost always pass. The rules are
docs/semantics.md sections 1 and 2. Sources: Microsoft's wdm.h reference pages
(KeSetEvent, KeWaitForSingleObject, KeRaiseIrql...) and ReactOS ke/*.c. `KeEvents` is
mixed into KernelApi.
"""
from __future__ import annotations

from .. import dispatcher
from ..dispatcher import (
    KEVENT,
    DispatcherObject,
    Executive,
    KernelMode,
    NotificationEvent,
    SynchronizationEvent,
    WaitAll,
    WaitAny,
)
from ..errors import BadArgumentError, BugCheckSignal, MachineStateError
from ..status import MAXIMUM_WAIT_OBJECTS, STATUS_SUCCESS, THREAD_WAIT_OBJECTS
from .base import syscall
from .kernel_checks import (
    APC_LEVEL,
    DISPATCH_LEVEL,
    HIGH_LEVEL,
    IO_NO_INCREMENT,
    KernelChecks,
    level_name,
)


class KeEvents(KernelChecks):
    """Mixed into KernelApi: events, waits and the IRQL."""

    # --- events ----------------------------------------------------------------------
    @syscall
    def KeInitializeEvent(self, Type, State, name: str | None = None) -> KEVENT:
        """Make a new event. `name` is evtsim's label for views (KEVENTs have no name)."""
        if Type not in (NotificationEvent, SynchronizationEvent) or isinstance(Type, bool):
            raise BadArgumentError(
                f"KeInitializeEvent: Type is NotificationEvent or SynchronizationEvent, "
                f"not {Type!r}")
        if name is not None and (not isinstance(name, str) or not name):
            raise BadArgumentError("KeInitializeEvent: name must be a non-empty string")
        label = self.machine.unique_label(name) if name else self.machine.object_name("Event")
        return KEVENT(self.machine, label, Type,
                      1 if State else 0)

    @syscall
    def KeSetEvent(self, Event, Increment=IO_NO_INCREMENT, Wait=False) -> int:
        """Signal the event; return its previous state (exactly 0 or 1)."""
        if type(Event) is not KEVENT or Event.machine is not self.machine or Event.header:
            self._object(Event, "KeSetEvent", KEVENT)
        if self.thread.irql > APC_LEVEL:
            self._ke_event_irql("KeSetEvent", Event, Wait)
        if Wait:
            self._raise_for_wait("KeSetEvent", Wait)
            previous = dispatcher.signal(Event)
            self._after_wait_true(Wait)
            return previous
        return dispatcher.signal(Event)

    @syscall
    def KePulseEvent(self, Event, Increment=IO_NO_INCREMENT, Wait=False) -> int:
        """Release current waiters as a set would, then leave the event not signaled."""
        event = self._object(Event, "KePulseEvent", KEVENT)
        self._ke_event_irql("KePulseEvent", event, Wait)
        self._raise_for_wait("KePulseEvent", Wait)
        previous = dispatcher.pulse(event)
        self._after_wait_true(Wait)
        return previous

    @syscall
    def KeResetEvent(self, Event) -> int:
        """Set the state to not signaled; return the previous state."""
        event = self._object(Event, "KeResetEvent", KEVENT)
        self._ke_event_irql("KeResetEvent", event)
        return dispatcher.reset(event)

    @syscall
    def KeClearEvent(self, Event) -> None:
        """Set the state to not signaled; return nothing (cheaper than KeResetEvent)."""
        event = self._object(Event, "KeClearEvent", KEVENT)
        self._ke_event_irql("KeClearEvent", event)
        dispatcher.reset(event)

    @syscall
    def KeReadStateEvent(self, Event) -> int:
        """The current state, 0 or 1."""
        event = self._object(Event, "KeReadStateEvent", KEVENT)
        self._ke_event_irql("KeReadStateEvent", event)
        self.machine.note_read(event.name)
        return event.SignalState

    # --- waits -----------------------------------------------------------------------
    @syscall
    def KeWaitForSingleObject(self, Object, WaitReason=Executive, WaitMode=KernelMode,
                              Alertable=False, Timeout=None) -> int:
        """Wait until the object is signaled, an alert or APC ends the wait, or time runs out."""
        routine = "KeWaitForSingleObject"
        if (not isinstance(Object, DispatcherObject) or Object.machine is not self.machine
                or Object.header):
            self._object(Object, routine)
        if WaitMode != KernelMode or type(WaitMode) is not int:
            self._mode(WaitMode, routine)
        if Timeout is not None:
            self._timeout(Timeout, routine)
        thread = self.thread
        if thread.irql or thread.is_dpc:
            self._wait_irql(routine, Timeout, Object)
        return self.machine.wait(thread, (Object,), WaitAny, WaitMode, bool(Alertable),
                                 Timeout, routine)

    @syscall
    def KeWaitForMultipleObjects(self, Count, Object, WaitType, WaitReason=Executive,
                                 WaitMode=KernelMode, Alertable=False, Timeout=None,
                                 WaitBlockArray=None) -> int:
        """Wait for any (lowest index wins) or all (all or nothing) of the objects."""
        routine = "KeWaitForMultipleObjects"
        if isinstance(Count, bool) or not isinstance(Count, int) or Count < 1:
            raise BadArgumentError(f"{routine}: Count must be a whole number >= 1, not {Count!r}")
        if not isinstance(Object, (list, tuple)):
            raise BadArgumentError(f"{routine}: Object must be a list of objects")
        if Count > MAXIMUM_WAIT_OBJECTS:
            raise BugCheckSignal(
                0xC, f"no more than MAXIMUM_WAIT_OBJECTS ({MAXIMUM_WAIT_OBJECTS}) objects",
                f"{self.thread.name} asked to wait on {Count} objects at once.")
        if Count > THREAD_WAIT_OBJECTS and WaitBlockArray is None:
            raise BugCheckSignal(
                0xC, f"more than THREAD_WAIT_OBJECTS ({THREAD_WAIT_OBJECTS}) objects need "
                     f"a WaitBlockArray",
                f"{self.thread.name} waited on {Count} objects without passing WaitBlockArray. "
                f"A thread has room for only {THREAD_WAIT_OBJECTS} wait blocks of its own.")
        if Count > len(Object):
            raise BadArgumentError(
                f"{routine}: Count is {Count} but Object has {len(Object)} entries")
        if WaitType not in (WaitAny, WaitAll) or isinstance(WaitType, bool):
            raise BadArgumentError(f"{routine}: WaitType is WaitAny or WaitAll, not {WaitType!r}")
        objects = tuple(self._object(o, routine) for o in Object[:Count])
        mode = self._mode(WaitMode, routine)
        timeout = self._timeout(Timeout, routine)
        self._wait_irql(routine, timeout, objects)
        return self.machine.wait(self.thread, objects, WaitType, mode, bool(Alertable),
                                 timeout, routine)

    @syscall
    def KeDelayExecutionThread(self, WaitMode=KernelMode, Alertable=False, Interval=0) -> int:
        """Sleep for a relative (negative) or until an absolute (positive) time."""
        routine = "KeDelayExecutionThread"
        mode = self._mode(WaitMode, routine)
        if Interval is None:
            raise BadArgumentError(f"{routine}: Interval is required (a negative number "
                                   f"of 100 ns units to sleep)")
        interval = self._timeout(Interval, routine)
        if self.thread.is_dpc:
            raise BugCheckSignal(0xB8, "a DPC must never wait",
                                 f"{routine} was called inside a DPC routine.")
        thread = self.thread             # after Wait=TRUE, the IRQL the caller came from
        if (thread.saved_irql if thread.wait_next else thread.irql) > APC_LEVEL:
            self._verifier(routine, APC_LEVEL)
        return self.machine.wait(self.thread, (), WaitAny, mode, bool(Alertable), interval,
                                 routine, timeout_status=STATUS_SUCCESS)

    # --- IRQL ------------------------------------------------------------------------
    @syscall
    def KeGetCurrentIrql(self) -> int:
        return self.thread.irql

    def _irql_value(self, value: object, routine: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= HIGH_LEVEL:
            raise BadArgumentError(f"{routine}: an IRQL is a whole number 0..31, not {value!r}")
        if self.immediate:
            raise MachineStateError(
                f"m.kernel always runs at PASSIVE_LEVEL; {routine} is for threads")
        return value

    @syscall
    def KeRaiseIrql(self, NewIrql) -> int:
        """Raise the IRQL; returns the old IRQL (C returns it through a pointer)."""
        new = self._irql_value(NewIrql, "KeRaiseIrql")
        old = self.thread.irql
        if new < old:
            raise BugCheckSignal(
                0x9, "KeRaiseIrql cannot lower the IRQL",
                f"{self.thread.name} asked KeRaiseIrql for {level_name(new)} while at "
                f"{level_name(old)}. Use KeLowerIrql to go down.")
        self.thread.irql = new
        return old

    @syscall
    def KeLowerIrql(self, NewIrql) -> None:
        """Go back down to the IRQL KeRaiseIrql returned."""
        new = self._irql_value(NewIrql, "KeLowerIrql")
        old = self.thread.irql
        if new > old:
            raise BugCheckSignal(
                0xA, "KeLowerIrql cannot raise the IRQL",
                f"{self.thread.name} asked KeLowerIrql for {level_name(new)} while at "
                f"{level_name(old)}.")
        if self.thread.is_dpc and new < DISPATCH_LEVEL:
            raise BugCheckSignal(0xC4, "a DPC must return at DISPATCH_LEVEL",
                                 f"{self.thread.name} lowered the IRQL below DISPATCH_LEVEL.")
        self.thread.irql = new


__all__ = ["KeEvents"]
