"""The kernel surface: Ke* routines as a driver calls them, with Windows names,
Windows parameter order and Python values.

Each routine checks its documented IRQL the way Driver Verifier does (a violation is a
simulated bug check 0xC4 naming the rule), then acts through the dispatcher. Return
values are what the kernel returns: `KeSetEvent` gives exactly 0 or 1, waits give an
NTSTATUS. Optional trailing arguments have the defaults a driver would almost always
pass. Sources: Microsoft's wdm.h reference pages and ReactOS ke/*.c.
"""
from __future__ import annotations

from .. import dispatcher
from ..dispatcher import (KEVENT, KTIMER, KWAIT_BLOCK, DispatcherObject, Executive,
                          KernelMode, NotificationEvent, NotificationTimer,
                          SynchronizationEvent, SynchronizationTimer, UserMode, WaitAll,
                          WaitAny)
from ..errors import BadArgumentError, BugCheckSignal, MachineStateError
from ..objects import (OBJECT_ATTRIBUTES, SECURITY_DESCRIPTOR, UNICODE_STRING,
                       ExEventObjectType, IoDeviceObjectType, IoFileObjectType,
                       ObDirectoryObjectType, ObSymbolicLinkObjectType, is_kernel_handle,
                       name_text)
from ..objects import ObjectType as ObjectTypeClass
from ..io import (CTL_CODE, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, FILE_READ_ACCESS,
                  FILE_WRITE_ACCESS, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE,
                  IRP_MJ_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE, METHOD_BUFFERED,
                  METHOD_NEITHER, CriticalWorkQueue, DelayedWorkQueue, IoDriverObjectType,
                  PsThreadType)
from ..scheduler import KDPC, Thread
from ..status import (EVENT_ALL_ACCESS, MAXIMUM_WAIT_OBJECTS, OBJ_CASE_INSENSITIVE,
                      OBJ_EXCLUSIVE, OBJ_INHERIT, OBJ_KERNEL_HANDLE, OBJ_OPENIF,
                      OBJ_PERMANENT, STATUS_ALERTED, STATUS_INVALID_PARAMETER,
                      STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS,
                      THREAD_WAIT_OBJECTS)
from .base import Surface, helper, syscall
from .io_routines import IoRoutines

PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL = 0, 1, 2, 31
IO_NO_INCREMENT = 0
EVENT_INCREMENT = 1
LEVEL_NAMES = {0: "PASSIVE_LEVEL", 1: "APC_LEVEL", 2: "DISPATCH_LEVEL", 31: "HIGH_LEVEL"}


def level_name(irql: int) -> str:
    return LEVEL_NAMES.get(irql, f"IRQL {irql}")


class KernelApi(IoRoutines, Surface):
    """What kernel-mode code (System threads, DriverEntry, dispatch routines, DPCs) calls."""

    surface_name = "kernel"

    # --- argument checks: a Python mistake is an EvtsimError, not a traceback ----------
    def _object(self, value, routine: str, kind=DispatcherObject) -> DispatcherObject:
        if not isinstance(value, kind):
            want = kind.kind if kind is not DispatcherObject else "a dispatcher object (KEVENT, KTIMER)"
            raise BadArgumentError(f"{routine} needs {want}, not {value!r}")
        if value.machine is not self.machine:
            raise BadArgumentError(f"{routine}: {value.name} belongs to another Machine")
        if value.header is not None and value.header.deleted:
            raise BugCheckSignal(
                0xCC, f"{routine} touched an event that was already freed",
                f"{self.thread.name} used {value.name} after its last handle was closed "
                f"and its last reference dropped. A pointer from IoCreate*Event is valid "
                f"only while its handle is open; take a reference "
                f"(ObReferenceObjectByHandle) to keep it longer.")
        return value

    def _verifier(self, routine: str, max_irql: int, rule: str | None = None) -> None:
        irql = self.thread.irql
        if irql > max_irql:
            raise BugCheckSignal(
                0xC4, rule or f"{routine} must be called at IRQL <= {level_name(max_irql)}",
                f"{self.thread.name} called {routine} at {level_name(irql)}. Driver Verifier "
                f"checks the IRQL each routine documents and stops the machine when a "
                f"driver breaks it.")

    @staticmethod
    def _timeout(value, routine: str):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadArgumentError(
                f"{routine}: a timeout is None (forever), 0 (poll), a negative number of "
                f"100 ns units (relative) or a positive absolute time, not {value!r}")
        return value

    @staticmethod
    def _mode(value, routine: str) -> int:
        if value not in (KernelMode, UserMode) or isinstance(value, bool):
            raise BadArgumentError(f"{routine}: WaitMode is KernelMode or UserMode, not {value!r}")
        return value

    def _wait_irql(self, routine: str, timeout) -> None:
        """Waits: a non-zero timeout needs IRQL <= APC_LEVEL; a poll <= DISPATCH_LEVEL."""
        thread = self.thread
        if thread.wait_next:
            return                       # KeSetEvent(Wait=TRUE) raised it on purpose
        if thread.is_dpc and timeout != 0:
            raise BugCheckSignal(
                0xB8, "a DPC must never wait",
                f"{routine} with a non-zero timeout was called inside a DPC routine. A DPC "
                f"runs at DISPATCH_LEVEL in no particular thread, so it cannot wait. Poll "
                f"with a zero timeout, or hand the work to a thread.")
        if timeout == 0:
            self._verifier(routine, DISPATCH_LEVEL,
                           f"{routine} with a zero timeout must be called at IRQL <= "
                           f"DISPATCH_LEVEL")
        else:
            self._verifier(routine, APC_LEVEL,
                           f"{routine} with a non-zero timeout must be called at IRQL <= "
                           f"APC_LEVEL")

    def _raise_for_wait(self, routine: str, Wait) -> None:
        """KeSetEvent/KePulseEvent with Wait=TRUE keep the IRQL raised for the next wait."""
        if not Wait:
            return
        if self.immediate:
            raise MachineStateError(f"m.kernel cannot use Wait=TRUE in {routine}: it never waits")
        self._verifier(routine, APC_LEVEL,
                       f"{routine} with Wait=TRUE must be called at IRQL <= APC_LEVEL")

    def _after_wait_true(self, Wait) -> None:
        if Wait:
            thread = self.thread
            thread.saved_irql = thread.irql
            thread.irql = DISPATCH_LEVEL
            thread.wait_next = True

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
        if self.thread.irql > DISPATCH_LEVEL:
            self._verifier("KeSetEvent", DISPATCH_LEVEL)
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
        self._verifier("KePulseEvent", DISPATCH_LEVEL)
        self._raise_for_wait("KePulseEvent", Wait)
        previous = dispatcher.pulse(event)
        self._after_wait_true(Wait)
        return previous

    @syscall
    def KeResetEvent(self, Event) -> int:
        """Set the state to not signaled; return the previous state."""
        event = self._object(Event, "KeResetEvent", KEVENT)
        self._verifier("KeResetEvent", DISPATCH_LEVEL)
        return dispatcher.reset(event)

    @syscall
    def KeClearEvent(self, Event) -> None:
        """Set the state to not signaled; return nothing (cheaper than KeResetEvent)."""
        event = self._object(Event, "KeClearEvent", KEVENT)
        dispatcher.reset(event)

    @syscall
    def KeReadStateEvent(self, Event) -> int:
        """The current state, 0 or 1."""
        event = self._object(Event, "KeReadStateEvent", KEVENT)
        self.machine.touched.append(event)
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
            self._wait_irql(routine, Timeout)
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
            raise BadArgumentError(f"{routine}: Count is {Count} but Object has {len(Object)} entries")
        if WaitType not in (WaitAny, WaitAll) or isinstance(WaitType, bool):
            raise BadArgumentError(f"{routine}: WaitType is WaitAny or WaitAll, not {WaitType!r}")
        objects = tuple(self._object(o, routine) for o in Object[:Count])
        mode = self._mode(WaitMode, routine)
        timeout = self._timeout(Timeout, routine)
        self._wait_irql(routine, timeout)
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
        self._verifier(routine, APC_LEVEL)
        return self.machine.wait(self.thread, (), WaitAny, mode, bool(Alertable), interval,
                                 routine, timeout_status=STATUS_SUCCESS)

    # --- IRQL ------------------------------------------------------------------------
    @syscall
    def KeGetCurrentIrql(self) -> int:
        return self.thread.irql

    def _irql_value(self, value, routine: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= HIGH_LEVEL:
            raise BadArgumentError(f"{routine}: an IRQL is a whole number 0..31, not {value!r}")
        if self.immediate:
            raise MachineStateError(f"m.kernel always runs at PASSIVE_LEVEL; {routine} is for threads")
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

    # --- threads, alerts and APCs ----------------------------------------------------
    @syscall
    def PsGetCurrentThread(self) -> Thread:
        return self.thread

    @syscall
    def KeQueryInterruptTime(self) -> int:
        """Virtual time since boot, in 100 ns units."""
        return self.machine.time

    def _target(self, value, routine: str) -> Thread:
        if (not isinstance(value, Thread) or value.machine is not self.machine or value.is_dpc
                or value is self.machine.instructor):
            raise BadArgumentError(f"{routine} needs a thread of this machine, not {value!r}")
        return value

    @syscall
    def KeAlertThread(self, Thread, AlertMode=KernelMode) -> bool:
        """Alert a thread: end its alertable wait with STATUS_ALERTED, or mark it alerted."""
        target = self._target(Thread, "KeAlertThread")
        mode = self._mode(AlertMode, "KeAlertThread")
        previous = target.alerted[mode]
        if not previous:
            wait = target.wait
            if (target.state == "waiting" and wait is not None and wait.alertable
                    and (mode == KernelMode or wait.mode == mode)):
                target.unwait(STATUS_ALERTED)
            else:
                target.alerted[mode] = True
        return previous

    @syscall
    def KeInsertQueueApc(self, Thread, Routine=None, Mode=KernelMode, Argument=None) -> bool:
        """Queue an APC (KeInitializeApc + KeInsertQueueApc in one call).

        A kernel APC takes a waiting thread out of its wait to run, then the thread waits
        again; for that moment it is on no wait list and misses a pulse. A user APC ends
        an alertable user-mode wait with STATUS_USER_APC. Routines are plain functions
        called with `Argument`.
        """
        target = self._target(Thread, "KeInsertQueueApc")
        mode = self._mode(Mode, "KeInsertQueueApc")
        if Routine is not None and not callable(Routine):
            raise BadArgumentError("KeInsertQueueApc: Routine must be a function or None")
        if target.state == "terminated":
            return False
        if mode == UserMode and Routine is None:
            raise BadArgumentError("KeInsertQueueApc: a user APC needs a Routine")
        self.machine.queue_apc(target, Routine, mode, Argument)
        return True

    # --- DPCs and timers -------------------------------------------------------------
    @syscall
    def KeInitializeDpc(self, DeferredRoutine, DeferredContext=None) -> KDPC:
        """A DPC whose routine is `DeferredRoutine(k, Dpc, DeferredContext, Arg1, Arg2)`."""
        if not callable(DeferredRoutine):
            raise BadArgumentError("KeInitializeDpc needs a DeferredRoutine function")
        name = getattr(DeferredRoutine, "__name__", None) or self.machine.object_name("Dpc")
        return KDPC(DeferredRoutine, DeferredContext, name)

    @syscall
    def KeInsertQueueDpc(self, Dpc, SystemArgument1=None, SystemArgument2=None) -> bool:
        """Queue the DPC; False if it was already queued."""
        if not isinstance(Dpc, KDPC):
            raise BadArgumentError(f"KeInsertQueueDpc needs a KDPC, not {Dpc!r}")
        return self.machine.insert_dpc(Dpc, SystemArgument1, SystemArgument2)

    @syscall
    def KeRemoveQueueDpc(self, Dpc) -> bool:
        """Take a queued DPC off the queue; False if it was not queued."""
        if not isinstance(Dpc, KDPC):
            raise BadArgumentError(f"KeRemoveQueueDpc needs a KDPC, not {Dpc!r}")
        if not Dpc.queued:
            return False
        Dpc.queued = False
        self.machine.dpc_queue.remove(Dpc)
        return True

    def _label(self, name, prefix: str) -> str:
        """evtsim's label for a new object: `name` (made unique) or Prefix1, Prefix2..."""
        if name is None:
            return self.machine.object_name(prefix)
        if not isinstance(name, str) or not name:
            raise BadArgumentError(f"name must be a non-empty string, not {name!r}")
        return self.machine.unique_label(name)

    @syscall
    def KeInitializeTimer(self, name: str | None = None) -> KTIMER:
        """A notification timer, not signaled."""
        return KTIMER(self.machine, self._label(name, "Timer"), NotificationTimer)

    @syscall
    def KeInitializeTimerEx(self, Type, name: str | None = None) -> KTIMER:
        if Type not in (NotificationTimer, SynchronizationTimer) or isinstance(Type, bool):
            raise BadArgumentError("KeInitializeTimerEx: Type is NotificationTimer or "
                                   "SynchronizationTimer")
        return KTIMER(self.machine, self._label(name, "Timer"), Type)

    def _arm(self, timer: KTIMER, due, period: int, dpc, routine: str) -> bool:
        if isinstance(due, bool) or not isinstance(due, int):
            raise BadArgumentError(f"{routine}: DueTime is a negative relative or positive "
                                   f"absolute time in 100 ns units, not {due!r}")
        if isinstance(period, bool) or not isinstance(period, int) or period < 0:
            raise BadArgumentError(f"{routine}: Period is a number of milliseconds >= 0")
        if dpc is not None and not isinstance(dpc, KDPC):
            raise BadArgumentError(f"{routine}: Dpc must be a KDPC or None")
        self._verifier(routine, DISPATCH_LEVEL)
        machine = self.machine
        was_set = timer.due is not None
        timer.generation += 1
        dispatcher.set_state(timer, 0)
        timer.due = machine.time - due if due < 0 else due
        timer.period = period * 10_000
        timer.dpc = dpc
        machine.timers.add(timer.due, "ktimer", timer, timer.generation)
        return was_set

    @syscall
    def KeSetTimer(self, Timer, DueTime, Dpc=None) -> bool:
        """Arm the timer (TRUE if it was already set); it signals and queues Dpc when due."""
        timer = self._object(Timer, "KeSetTimer", KTIMER)
        return self._arm(timer, DueTime, 0, Dpc, "KeSetTimer")

    @syscall
    def KeSetTimerEx(self, Timer, DueTime, Period=0, Dpc=None) -> bool:
        """KeSetTimer with a period in milliseconds (0: one shot)."""
        timer = self._object(Timer, "KeSetTimerEx", KTIMER)
        return self._arm(timer, DueTime, Period, Dpc, "KeSetTimerEx")

    @syscall
    def KeCancelTimer(self, Timer) -> bool:
        """Disarm the timer; TRUE if it was set."""
        timer = self._object(Timer, "KeCancelTimer", KTIMER)
        was_set = timer.due is not None
        timer.due = None
        timer.generation += 1
        return was_set

    @syscall
    def KeReadStateTimer(self, Timer) -> int:
        timer = self._object(Timer, "KeReadStateTimer", KTIMER)
        self.machine.touched.append(timer)
        return timer.SignalState

    # --- the object manager: Zw, Ob, Io, Ps ------------------------------------------
    def _process(self):
        """The process whose handle table this code uses (the attached one, if any)."""
        thread = self.thread
        return thread.attached or thread.process

    @staticmethod
    def _attributes(value, routine: str):
        if value is None:
            return None, 0, None, None
        if not isinstance(value, OBJECT_ATTRIBUTES):
            raise BadArgumentError(f"{routine}: ObjectAttributes must come from "
                                   f"InitializeObjectAttributes, not {value!r}")
        # Someone may have built or changed the fields by hand: check them again.
        checked = InitializeObjectAttributes(value.ObjectName, value.Attributes,
                                             value.RootDirectory, value.SecurityDescriptor)
        return (name_text(checked.ObjectName), checked.Attributes, checked.RootDirectory,
                checked.SecurityDescriptor)

    @staticmethod
    def _access(value, routine: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
            raise BadArgumentError(f"{routine}: DesiredAccess is an ACCESS_MASK such as "
                                   f"EVENT_ALL_ACCESS, not {value!r}")
        return value

    @helper
    def InitializeObjectAttributes(self, ObjectName=None, Attributes=0, RootDirectory=None,
                                   SecurityDescriptor=None) -> OBJECT_ATTRIBUTES:
        """Fill in OBJECT_ATTRIBUTES (a macro: it runs at once, no step needed)."""
        return InitializeObjectAttributes(ObjectName, Attributes, RootDirectory,
                                          SecurityDescriptor)

    @helper
    def RtlInitUnicodeString(self, SourceString) -> UNICODE_STRING:
        """Make a UNICODE_STRING (pure: it runs at once, no step needed)."""
        return RtlInitUnicodeString(SourceString)

    @syscall
    def ZwCreateEvent(self, DesiredAccess, ObjectAttributes, EventType, InitialState):
        """Create (or with OBJ_OPENIF open) an event; returns (status, handle)."""
        routine = "ZwCreateEvent"
        access = self._access(DesiredAccess, routine)
        name, attributes, root, security = self._attributes(ObjectAttributes, routine)
        if EventType not in (NotificationEvent, SynchronizationEvent) or isinstance(EventType, bool):
            return STATUS_INVALID_PARAMETER, None
        self._verifier(routine, PASSIVE_LEVEL)
        ob = self.machine.ob
        status, handle, _ = ob.create_or_open(
            self._process(), ExEventObjectType, ob.new_event(EventType, 1 if InitialState else 0, name),
            name, attributes, root, security, access, KernelMode,
            bool(attributes & OBJ_KERNEL_HANDLE))
        return status, handle

    @syscall
    def ZwOpenEvent(self, DesiredAccess, ObjectAttributes):
        """Open a named event; returns (status, handle)."""
        routine = "ZwOpenEvent"
        access = self._access(DesiredAccess, routine)
        if ObjectAttributes is None:
            return STATUS_INVALID_PARAMETER, None
        name, attributes, root, _ = self._attributes(ObjectAttributes, routine)
        self._verifier(routine, PASSIVE_LEVEL)
        status, handle, _ = self.machine.ob.open(
            self._process(), ExEventObjectType, name, attributes, root, access, KernelMode,
            bool(attributes & OBJ_KERNEL_HANDLE))
        return status, handle

    def _event_by_handle(self, handle, routine: str):
        status, entry = self.machine.ob.resolve(self._process(), handle, KernelMode)
        if status != STATUS_SUCCESS:
            return status, None
        if not isinstance(entry.object, KEVENT):
            return STATUS_OBJECT_TYPE_MISMATCH, None
        return STATUS_SUCCESS, entry.object

    @syscall
    def ZwSetEvent(self, EventHandle):
        """Set the event a handle names; returns (status, previous_state)."""
        self._verifier("ZwSetEvent", PASSIVE_LEVEL)
        status, event = self._event_by_handle(EventHandle, "ZwSetEvent")
        if event is None:
            return status, None
        return STATUS_SUCCESS, dispatcher.signal(event)

    @syscall
    def ZwResetEvent(self, EventHandle):
        """Reset the event a handle names; returns (status, previous_state)."""
        self._verifier("ZwResetEvent", PASSIVE_LEVEL)
        status, event = self._event_by_handle(EventHandle, "ZwResetEvent")
        if event is None:
            return status, None
        return STATUS_SUCCESS, dispatcher.reset(event)

    @syscall
    def ZwPulseEvent(self, EventHandle):
        """Pulse the event a handle names; returns (status, previous_state)."""
        self._verifier("ZwPulseEvent", PASSIVE_LEVEL)
        status, event = self._event_by_handle(EventHandle, "ZwPulseEvent")
        if event is None:
            return status, None
        return STATUS_SUCCESS, dispatcher.pulse(event)

    @syscall
    def ZwClearEvent(self, EventHandle) -> int:
        """Clear the event a handle names; returns the status."""
        self._verifier("ZwClearEvent", PASSIVE_LEVEL)
        status, event = self._event_by_handle(EventHandle, "ZwClearEvent")
        if event is not None:
            dispatcher.reset(event)
        return status

    @syscall
    def ZwWaitForSingleObject(self, Handle, Alertable=False, Timeout=None) -> int:
        """Wait on the object a handle names (the wait holds a reference to it)."""
        routine = "ZwWaitForSingleObject"
        timeout = self._timeout(Timeout, routine)
        self._verifier(routine, PASSIVE_LEVEL)
        ob = self.machine.ob
        status, entry = ob.resolve(self._process(), Handle, KernelMode)
        if status != STATUS_SUCCESS:
            return status
        obj = entry.object
        if not isinstance(obj, DispatcherObject):
            return STATUS_OBJECT_TYPE_MISMATCH
        return self.machine.wait(self.thread, (obj,), WaitAny, KernelMode, bool(Alertable),
                                 timeout, routine, translate=holding(ob, (obj,)))

    @syscall
    def ZwClose(self, Handle) -> int:
        """Close a handle. Closing a bad kernel handle from kernel mode is bug check 0x93."""
        self._verifier("ZwClose", PASSIVE_LEVEL)
        chain = close_file(self.machine, self.thread, self._process(), Handle, KernelMode,
                           STATUS_SUCCESS)
        if chain is not None:
            return chain
        status = self.machine.ob.close(self._process(), Handle, KernelMode)
        if status != STATUS_SUCCESS and is_kernel_handle(Handle):
            raise BugCheckSignal(
                0x93, "ZwClose was given a kernel handle that is not open",
                f"{self.thread.name} closed kernel handle 0x{Handle:X}, which is not open "
                f"(closed twice, or never opened). Closing a handle twice can close "
                f"somebody else's handle, so the kernel stops.")
        return status

    @syscall
    def ObReferenceObjectByHandle(self, Handle, DesiredAccess, ObjectType, AccessMode):
        """Turn a handle into a referenced pointer; returns (status, object).

        The handle is looked up in the *current process*; checks run in this order: a
        kernel handle from user mode or no such handle, the object type, then (user
        mode only) the access the handle grants.
        """
        routine = "ObReferenceObjectByHandle"
        access = self._access(DesiredAccess, routine)
        if ObjectType is not None and not isinstance(ObjectType, ObjectTypeClass):
            raise BadArgumentError(f"{routine}: ObjectType is an object type such as "
                                   f"ExEventObjectType (or None), not {ObjectType!r}")
        mode = self._mode(AccessMode, routine)
        self._verifier(routine, DISPATCH_LEVEL)
        return self.machine.ob.reference_by_handle(self._process(), Handle, access,
                                                   ObjectType, mode)

    def _managed(self, obj, routine: str):
        if getattr(obj, "header", None) is None or getattr(obj, "machine", self.machine) is not self.machine:
            raise BadArgumentError(f"{routine} needs an object from the object manager "
                                   f"(a KEVENT from KeInitializeEvent has no header), not {obj!r}")
        if obj.header.deleted:
            raise BugCheckSignal(
                0x18, f"{routine} on an object that was already freed",
                f"{self.thread.name} used {obj.name} after its last reference was "
                f"dropped. Every ObReferenceObject(ByHandle) needs exactly one "
                f"ObDereferenceObject, and no more.")
        return obj

    @syscall
    def ObReferenceObject(self, Object) -> None:
        self._managed(Object, "ObReferenceObject")
        self.machine.ob.reference(Object)

    @syscall
    def ObDereferenceObject(self, Object) -> None:
        """Drop a reference; at the last one the object is freed."""
        self._managed(Object, "ObDereferenceObject")
        self._verifier("ObDereferenceObject", DISPATCH_LEVEL)
        header = Object.header
        if header.pointer_count <= header.handle_count:
            raise BugCheckSignal(
                0x18, "ObDereferenceObject dropped a reference nobody took",
                f"{self.thread.name} dereferenced {Object.name}, but every reference left "
                f"belongs to an open handle ({header.handle_count}). A pointer from "
                f"IoCreate*Event holds no reference of its own: close its handle with "
                f"ZwClose instead.")
        self.machine.ob.dereference(Object)

    def _io_create_event(self, routine: str, EventName, event_type: int):
        self._verifier(routine, PASSIVE_LEVEL)
        name = name_text(EventName)
        if not name:
            raise BadArgumentError(f"{routine} needs an EventName such as "
                                   f"r\"\\BaseNamedObjects\\MyEvent\"")
        ob = self.machine.ob
        status, handle, event = ob.create_or_open(
            self._process(), ExEventObjectType, ob.new_event(event_type, 1, name), name,
            OBJ_OPENIF | OBJ_KERNEL_HANDLE, None, None, EVENT_ALL_ACCESS, KernelMode, True)
        if status not in (STATUS_SUCCESS, STATUS_OBJECT_NAME_EXISTS):
            return None, None
        return event, handle

    @syscall
    def IoCreateNotificationEvent(self, EventName):
        """Open or create a named notification event, Signaled when new.

        Returns (PKEVENT, handle), or (None, None). An existing event is returned as
        it is, whatever its type. The pointer holds no reference of its own: it is
        valid while the (kernel) handle is open; ZwClose releases it.
        """
        return self._io_create_event("IoCreateNotificationEvent", EventName,
                                     NotificationEvent)

    @syscall
    def IoCreateSynchronizationEvent(self, EventName):
        """Open or create a named synchronization event, Signaled when new.

        Returns (PKEVENT, handle), or (None, None); see IoCreateNotificationEvent.
        """
        return self._io_create_event("IoCreateSynchronizationEvent", EventName,
                                     SynchronizationEvent)

    @syscall
    def PsGetCurrentProcess(self):
        return self._process()

    @syscall
    def KeStackAttachProcess(self, Process):
        """Run in another process's context (its handle table) until detached."""
        from ..machine import Process as ProcessClass
        if not isinstance(Process, ProcessClass) or Process.machine is not self.machine:
            raise BadArgumentError(f"KeStackAttachProcess needs a process of this machine, "
                                   f"not {Process!r}")
        self._verifier("KeStackAttachProcess", DISPATCH_LEVEL)
        state = KAPC_STATE(self.thread.attached)
        self.thread.attached = Process
        return state

    @syscall
    def KeUnstackDetachProcess(self, ApcState) -> None:
        if not isinstance(ApcState, KAPC_STATE):
            raise BadArgumentError("KeUnstackDetachProcess needs the ApcState that "
                                   "KeStackAttachProcess returned")
        self.thread.attached = ApcState.previous


def close_file(machine, thread, process, handle, mode: int, result):
    """If `handle` is the last handle to a file object, close it and return the
    cleanup/close IRP chain (a Nested) that finishes with `result`; else None."""
    from ..io import FILE_OBJECT, close_file_chain
    status, entry = machine.ob.resolve(process, handle, mode)
    if status != STATUS_SUCCESS or not isinstance(entry.object, FILE_OBJECT):
        return None
    file_object = entry.object
    last = file_object.header.handle_count == 1
    machine.ob.close(process, handle, mode)
    if not last:
        return result
    return close_file_chain(machine, thread, file_object, result)


class KAPC_STATE:
    """What KeStackAttachProcess saves so KeUnstackDetachProcess can go back."""

    def __init__(self, previous):
        self.previous = previous


def holding(ob, objects):
    """Keep a pointer reference on the objects of a handle wait until it ends."""
    for obj in objects:
        ob.reference(obj)

    released = []

    def release(status=None):
        if not released:                # once, whether the wait ends or is killed
            released.append(True)
            for obj in objects:
                ob.dereference(obj)
        return status
    release.releases_references = release
    return release


def InitializeObjectAttributes(ObjectName=None, Attributes=0, RootDirectory=None,
                               SecurityDescriptor=None) -> OBJECT_ATTRIBUTES:
    """Fill in OBJECT_ATTRIBUTES for ZwCreateEvent / ZwOpenEvent."""
    name_text(ObjectName)
    if isinstance(Attributes, bool) or not isinstance(Attributes, int) or Attributes < 0:
        raise BadArgumentError("InitializeObjectAttributes: Attributes is a set of OBJ_* flags")
    if SecurityDescriptor is not None and not isinstance(SecurityDescriptor, SECURITY_DESCRIPTOR):
        raise BadArgumentError("InitializeObjectAttributes: SecurityDescriptor must be a "
                               "SECURITY_DESCRIPTOR or None")
    return OBJECT_ATTRIBUTES(ObjectName, Attributes, RootDirectory, SecurityDescriptor)


def RtlInitUnicodeString(SourceString) -> UNICODE_STRING:
    """A UNICODE_STRING for a str."""
    if not isinstance(SourceString, str):
        raise BadArgumentError(f"RtlInitUnicodeString needs a str, not {SourceString!r}")
    return UNICODE_STRING(SourceString)


__all__ = [
    "KernelApi", "NotificationEvent", "SynchronizationEvent", "NotificationTimer",
    "SynchronizationTimer", "KernelMode", "UserMode", "WaitAny", "WaitAll", "Executive",
    "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "HIGH_LEVEL", "IO_NO_INCREMENT",
    "EVENT_INCREMENT", "KEVENT", "KTIMER", "KDPC", "KWAIT_BLOCK", "level_name",
    "InitializeObjectAttributes", "RtlInitUnicodeString", "OBJECT_ATTRIBUTES",
    "UNICODE_STRING", "SECURITY_DESCRIPTOR", "ExEventObjectType", "ObDirectoryObjectType",
    "ObSymbolicLinkObjectType", "IoDeviceObjectType", "IoFileObjectType", "OBJ_INHERIT",
    "OBJ_PERMANENT", "OBJ_EXCLUSIVE", "OBJ_CASE_INSENSITIVE", "OBJ_OPENIF",
    "OBJ_KERNEL_HANDLE", "KAPC_STATE", "IRP_MJ_CREATE", "IRP_MJ_CLOSE", "IRP_MJ_CLEANUP",
    "IRP_MJ_DEVICE_CONTROL", "IRP_MJ_READ", "IRP_MJ_WRITE", "CTL_CODE", "FILE_DEVICE_UNKNOWN",
    "METHOD_BUFFERED", "METHOD_NEITHER", "FILE_ANY_ACCESS", "FILE_READ_ACCESS",
    "FILE_WRITE_ACCESS", "DelayedWorkQueue", "CriticalWorkQueue", "PsThreadType",
    "IoDriverObjectType",
]
