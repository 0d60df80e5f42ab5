"""Zw* and Ob* routines, and the two Io event calls: named events through the object
manager, as a driver calls them.

ZwCreateEvent/ZwOpenEvent follow the name rules of docs/semantics.md section 3, handles
and ObReferenceObjectByHandle's order of checks likewise; IoCreateNotificationEvent and
IoCreateSynchronizationEvent are section 5. A handle wait holds a pointer reference while
it waits (`holding`); closing a file object's last handle sends the cleanup and close
IRPs (`close_file`, also used by Win32's CloseHandle). Sources: Microsoft's reference
pages (ZwClose, ObReferenceObjectByHandle, IoCreateNotificationEvent), ReactOS ob/*.c
and io/iomgr/ioevent.c. `ZwOb` is mixed into KernelApi.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .. import dispatcher
from ..calls import Nested
from ..dispatcher import (
    KEVENT,
    DispatcherObject,
    KernelMode,
    NotificationEvent,
    SynchronizationEvent,
    WaitAny,
)
from ..errors import BadArgumentError, BugCheckSignal
from ..namespace import capture, captured_name
from ..objects import (
    KERNEL_HANDLE_BITS,
    OBJECT_ATTRIBUTES,
    SECURITY_DESCRIPTOR,
    UNICODE_STRING,
    ExEventObjectType,
    is_kernel_handle,
    name_text,
)
from ..objects import ObjectType as ObjectTypeClass
from ..process import Process
from ..scheduler import Thread
from ..status import (
    EVENT_ALL_ACCESS,
    OBJ_KERNEL_HANDLE,
    OBJ_OPENIF,
    OBJ_PROTECT_CLOSE,
    STATUS_HANDLE_NOT_CLOSABLE,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_NAME_EXISTS,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
)
from .base import helper, syscall
from .kernel_checks import DISPATCH_LEVEL, PASSIVE_LEVEL, KernelChecks
from .verifier import Stop

R = TypeVar("R")
# NtCurrentProcess() and NtCurrentThread(), as 64-bit values: never a bug check to close.
PSEUDO_HANDLES = (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE)


class ZwOb(KernelChecks):
    """Mixed into KernelApi: object attributes, Zw* and Ob* routines, the Io event calls."""

    # --- the object manager: Zw, Ob, Io ----------------------------------------------
    @staticmethod
    def _attributes(value: object, routine: str) -> tuple[int, str | None, int, Any, Any]:
        """(status, name, attributes, root directory, security descriptor), read as
        the kernel reads them (namespace.capture). A Python mistake in a field is an
        EvtsimError; a value Windows refuses is a status."""
        if value is None:
            return STATUS_SUCCESS, None, 0, None, None
        if not isinstance(value, OBJECT_ATTRIBUTES):
            raise BadArgumentError(f"{routine}: ObjectAttributes must come from "
                                   f"InitializeObjectAttributes, not {value!r}")
        # Someone may have built or changed the fields by hand: check them again.
        InitializeObjectAttributes(value.ObjectName, value.Attributes, value.RootDirectory,
                                   value.SecurityDescriptor)
        if isinstance(value.Length, bool) or not isinstance(value.Length, int):
            raise BadArgumentError(f"{routine}: OBJECT_ATTRIBUTES.Length is a number of "
                                   f"bytes, not {value.Length!r}")
        status, name, attributes, root = capture(value)
        return status, name, attributes, root, value.SecurityDescriptor

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
    def ZwCreateEvent(self, DesiredAccess, ObjectAttributes, EventType,
                      InitialState) -> tuple[int, int | None]:
        """Create (or with OBJ_OPENIF open) an event; returns (status, handle)."""
        routine = "ZwCreateEvent"
        self._verifier(routine, PASSIVE_LEVEL)
        access = self._access(DesiredAccess, routine)
        status, name, attributes, root, security = self._attributes(ObjectAttributes, routine)
        if status != STATUS_SUCCESS:
            return status, None
        if (EventType not in (NotificationEvent, SynchronizationEvent)
                or isinstance(EventType, bool)):
            return STATUS_INVALID_PARAMETER, None
        ob = self.machine.ob
        status, handle, _ = ob.create_or_open(
            self._process(), ExEventObjectType,
            ob.new_event(EventType, 1 if InitialState else 0, name),
            name, attributes, root, security, access, KernelMode,
            bool(attributes & OBJ_KERNEL_HANDLE))
        return status, handle

    @syscall
    def ZwOpenEvent(self, DesiredAccess, ObjectAttributes) -> tuple[int, int | None]:
        """Open a named event; returns (status, handle)."""
        routine = "ZwOpenEvent"
        self._verifier(routine, PASSIVE_LEVEL)
        access = self._access(DesiredAccess, routine)
        if ObjectAttributes is None:
            return STATUS_INVALID_PARAMETER, None
        status, name, attributes, root, _ = self._attributes(ObjectAttributes, routine)
        if status != STATUS_SUCCESS:
            return status, None
        status, handle, _ = self.machine.ob.open(
            self._process(), ExEventObjectType, name, attributes, root, access, KernelMode,
            bool(attributes & OBJ_KERNEL_HANDLE))
        return status, handle

    def _event_by_handle(self, handle: object, routine: str) -> tuple[int, KEVENT | None]:
        status, entry = self.machine.ob.resolve(self._process(), handle, KernelMode)
        if status != STATUS_SUCCESS:
            return status, None
        if not isinstance(entry.object, KEVENT):
            return STATUS_OBJECT_TYPE_MISMATCH, None
        return STATUS_SUCCESS, entry.object

    @syscall
    def ZwSetEvent(self, EventHandle) -> tuple[int, int | None]:
        """Set the event a handle names; returns (status, previous_state)."""
        self._verifier("ZwSetEvent", PASSIVE_LEVEL)
        status, event = self._event_by_handle(EventHandle, "ZwSetEvent")
        if event is None:
            return status, None
        return STATUS_SUCCESS, dispatcher.signal(event)

    @syscall
    def ZwResetEvent(self, EventHandle) -> tuple[int, int | None]:
        """Reset the event a handle names; returns (status, previous_state)."""
        self._verifier("ZwResetEvent", PASSIVE_LEVEL)
        status, event = self._event_by_handle(EventHandle, "ZwResetEvent")
        if event is None:
            return status, None
        return STATUS_SUCCESS, dispatcher.reset(event)

    @syscall
    def ZwPulseEvent(self, EventHandle) -> tuple[int, int | None]:
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
    def ZwClose(self, Handle) -> int | Nested:
        """Close a handle; a handle that is not open gives STATUS_INVALID_HANDLE.

        Bug check 0x93 comes only from a protected handle (always), or from a handle
        that is not open when a kernel debugger is attached and the caller runs in a
        user process (docs/semantics.md section 3). The last handle of a file object
        first runs the driver's cleanup and close routines (a Nested), and then
        returns the status."""
        self._verifier("ZwClose", PASSIVE_LEVEL)
        process = self._process()
        chain = close_file(self.machine, self.thread, process, Handle, KernelMode,
                           STATUS_SUCCESS)
        if chain is not None:
            return chain
        status = self.machine.ob.close(process, Handle, KernelMode)
        if status == STATUS_HANDLE_NOT_CLOSABLE:
            value = Handle & ~KERNEL_HANDLE_BITS if is_kernel_handle(Handle) else Handle
            raise Stop(
                0x93, (value, 0, 0, 0), "ZwClose was given a handle protected from close",
                f"{self.thread.name} closed handle 0x{value:X}, which is protected from "
                f"close (HANDLE_FLAG_PROTECT_FROM_CLOSE). From kernel mode this always "
                f"stops the machine; parameter 2 = 0 says the handle was protected.")
        if status != STATUS_SUCCESS and self._bad_close_stops(Handle, process):
            value = Handle & ~KERNEL_HANDLE_BITS if is_kernel_handle(Handle) else Handle
            raise Stop(
                0x93, (value, 1, 0, 0), "ZwClose was given a handle that is not open",
                f"{self.thread.name} closed handle 0x{value:X}, which is not open (closed "
                f"twice, or never opened), in {process.name}'s context with a kernel "
                f"debugger attached. Without a debugger, or in the System process, "
                f"ZwClose just returns STATUS_INVALID_HANDLE.")
        return status

    def _bad_close_stops(self, handle: object, process: Process) -> bool:
        """Whether closing a handle that is not open is bug check 0x93 (ReactOS
        ObpCloseHandle; Windows 11 in winsiderss/systeminformer#2630): not NULL or a
        pseudo handle, a kernel debugger attached, a thread that is not ending, and a
        user process (one with a PEB)."""
        if isinstance(handle, bool) or not isinstance(handle, int) or handle == 0:
            return False
        if handle & 0xFFFFFFFFFFFFFFFF in PSEUDO_HANDLES:
            return False
        return (self.machine.kernel_debugger and not process.exiting
                and not process.kernel)

    @syscall
    def ObReferenceObjectByHandle(self, Handle, DesiredAccess, ObjectType,
                                  AccessMode) -> tuple[int, Any]:
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

    def _managed(self, obj: Any, routine: str) -> Any:
        if (getattr(obj, "header", None) is None
                or getattr(obj, "machine", self.machine) is not self.machine):
            raise BadArgumentError(
                f"{routine} needs an object from the object manager "
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

    def _io_create_event(self, routine: str, EventName: object,
                         event_type: int) -> tuple[KEVENT | None, int | None]:
        """ZwCreateEvent(OBJ_OPENIF | OBJ_KERNEL_HANDLE, no root, InitialState TRUE), as
        ReactOS io/iomgr/ioevent.c IopCreateEvent does: any failing status gives
        (None, None). No name (None or empty) makes a new unnamed event (Wine driver.c
        test_sync, run on Windows); a relative name is STATUS_OBJECT_PATH_SYNTAX_BAD."""
        self._verifier(routine, PASSIVE_LEVEL)
        status, name = captured_name(EventName)
        if status != STATUS_SUCCESS:
            return None, None
        ob = self.machine.ob
        status, handle, event = ob.create_or_open(
            self._process(), ExEventObjectType, ob.new_event(event_type, 1, name), name,
            OBJ_OPENIF | OBJ_KERNEL_HANDLE, None, None, EVENT_ALL_ACCESS, KernelMode, True)
        if status not in (STATUS_SUCCESS, STATUS_OBJECT_NAME_EXISTS):
            return None, None
        return event, handle

    @syscall
    def IoCreateNotificationEvent(self, EventName) -> tuple[KEVENT | None, int | None]:
        """Open or create a named notification event, Signaled when new.

        Returns (PKEVENT, handle), or (None, None). An existing event is returned as
        it is, whatever its type. EventName None (or empty) makes a new unnamed event.
        The pointer holds no reference of its own: it is valid while the (kernel)
        handle is open; ZwClose releases it.
        """
        return self._io_create_event("IoCreateNotificationEvent", EventName,
                                     NotificationEvent)

    @syscall
    def IoCreateSynchronizationEvent(self, EventName) -> tuple[KEVENT | None, int | None]:
        """Open or create a named synchronization event, Signaled when new.

        Returns (PKEVENT, handle), or (None, None); see IoCreateNotificationEvent.
        """
        return self._io_create_event("IoCreateSynchronizationEvent", EventName,
                                     SynchronizationEvent)


def close_file(machine: Any, thread: Thread, process: Process, handle: object, mode: int,
               result: R) -> R | Nested | None:
    """If `handle` is the last handle to a file object, close it and return the
    cleanup/close IRP chain (a Nested) that finishes with `result`; else None."""
    from ..io import FILE_OBJECT, close_file_chain
    status, entry = machine.ob.resolve(process, handle, mode)
    if status != STATUS_SUCCESS or not isinstance(entry.object, FILE_OBJECT):
        return None
    if entry.attributes & OBJ_PROTECT_CLOSE and not process.exiting:
        return None                     # not closable: the caller's close says so
    file_object = entry.object
    last = file_object.header.handle_count == 1
    machine.ob.close(process, handle, mode)
    if not last:
        return result
    return close_file_chain(machine, thread, file_object, result)


def holding(ob: Any, objects: Sequence[Any]) -> Callable[[Any], Any]:
    """Keep a pointer reference on the objects of a handle wait until it ends."""
    for obj in objects:
        ob.reference(obj)

    released: list[bool] = []

    def release(status: Any = None) -> Any:
        if not released:                # once, whether the wait ends or is killed
            released.append(True)
            for obj in objects:
                ob.dereference(obj)
        return status
    # The mark machine._kill looks for, to drop the references of a killed thread's wait.
    vars(release)["releases_references"] = release
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


__all__ = ["ZwOb", "close_file", "holding", "InitializeObjectAttributes",
           "RtlInitUnicodeString"]
