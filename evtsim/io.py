"""The I/O manager: drivers, devices, file objects and IRPs.

Follows the WDM model (Microsoft's "Handling IRPs" pages, ReactOS `ntoskrnl/io/iomgr`):

* `CreateFile(r"\\\\.\\Name")` resolves `\\??\\Name` to a device object, makes a file object
  and sends IRP_MJ_CREATE. `DeviceIoControl` builds an IRP_MJ_DEVICE_CONTROL IRP and
  calls the driver's dispatch routine **synchronously, in the caller's thread and
  process**, at PASSIVE_LEVEL, with RequestorMode UserMode.
* A dispatch routine either completes the IRP (IoCompleteRequest) and returns its
  status, or marks it pending (IoMarkIrpPending) and returns STATUS_PENDING; then the
  caller waits until somebody completes it (the "inverted call"). Returning anything
  else is a driver bug that Driver Verifier's I/O checks stop (bug check 0xC9).
* Closing the last handle to a file object sends IRP_MJ_CLEANUP, then IRP_MJ_CLOSE.
  When a process exits, its pending IRPs are cancelled and its handles closed, so a
  driver that keeps a pointer to the app's event must let go of it in its cleanup.

In evtsim a routine the driver did not set for IRP_MJ_CREATE, IRP_MJ_CLEANUP or
IRP_MJ_CLOSE completes with STATUS_SUCCESS (on Windows, CreateFile would fail with
ERROR_INVALID_FUNCTION); the trace says so. Any other missing routine answers
STATUS_INVALID_DEVICE_REQUEST, as on Windows.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .calls import Nested, value_call
from .dispatcher import KEVENT, KernelMode, NotificationEvent, WaitAny
from .errors import BadArgumentError, BugCheckSignal
from .objects import IoDeviceObjectType, IoFileObjectType, ObjectHeader, ObjectType
from .scheduler import Thread
from .status import (
    READ_CONTROL,
    STANDARD_RIGHTS_ALL,
    STATUS_CANCELLED,
    STATUS_INVALID_DEVICE_REQUEST,
    STATUS_PENDING,
    STATUS_SUCCESS,
    SYNCHRONIZE,
)

R = TypeVar("R")

IRP_MJ_CREATE = 0x00
IRP_MJ_CLOSE = 0x02
IRP_MJ_READ = 0x03
IRP_MJ_WRITE = 0x04
IRP_MJ_DEVICE_CONTROL = 0x0E
IRP_MJ_INTERNAL_DEVICE_CONTROL = 0x0F
IRP_MJ_CLEANUP = 0x12
IRP_MJ_MAXIMUM_FUNCTION = 0x1B
IRP_MJ_NAMES = {IRP_MJ_CREATE: "IRP_MJ_CREATE", IRP_MJ_CLOSE: "IRP_MJ_CLOSE",
                IRP_MJ_READ: "IRP_MJ_READ", IRP_MJ_WRITE: "IRP_MJ_WRITE",
                IRP_MJ_DEVICE_CONTROL: "IRP_MJ_DEVICE_CONTROL",
                IRP_MJ_INTERNAL_DEVICE_CONTROL: "IRP_MJ_INTERNAL_DEVICE_CONTROL",
                IRP_MJ_CLEANUP: "IRP_MJ_CLEANUP"}
FILE_DEVICE_UNKNOWN = 0x22
METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER = 0, 1, 2, 3
FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS = 0, 1, 2
CriticalWorkQueue, DelayedWorkQueue = 0, 1
INVALID_HANDLE_VALUE = -1

IoDriverObjectType = ObjectType("Driver", READ_CONTROL | 0x1, READ_CONTROL, READ_CONTROL,
                                STANDARD_RIGHTS_ALL | 0x1)
PsThreadType = ObjectType("Thread", READ_CONTROL | 0x48, READ_CONTROL | 0x337,
                          READ_CONTROL | SYNCHRONIZE | 0x1800, STANDARD_RIGHTS_ALL | 0xFFFF)


def CTL_CODE(DeviceType: int, Function: int, Method: int, Access: int) -> int:
    """An I/O control code, packed as the CTL_CODE macro packs it."""
    for value in (DeviceType, Function, Method, Access):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BadArgumentError("CTL_CODE takes four whole numbers")
    return (DeviceType << 16) | (Access << 14) | (Function << 2) | Method


class MajorFunctionTable(list):
    """DRIVER_OBJECT.MajorFunction: one dispatch routine (or None) per IRP_MJ_ code."""

    def __init__(self):
        super().__init__([None] * (IRP_MJ_MAXIMUM_FUNCTION + 1))

    def __setitem__(self, index, routine):
        if not isinstance(index, int) or not 0 <= index <= IRP_MJ_MAXIMUM_FUNCTION:
            raise BadArgumentError(f"MajorFunction has entries 0..{IRP_MJ_MAXIMUM_FUNCTION} "
                                   f"(IRP_MJ_ codes), not {index!r}")
        if routine is not None and not callable(routine):
            raise BadArgumentError("a dispatch routine is a function "
                                   "`routine(k, device, irp)` (or None)")
        super().__setitem__(index, routine)


class DRIVER_OBJECT:
    """A loaded driver: its dispatch table, its devices, and how DriverEntry went."""

    def __init__(self, machine, name: str):
        self.machine = machine
        self.name = name
        self.header = ObjectHeader(self, IoDriverObjectType)
        self.MajorFunction = MajorFunctionTable()
        self.DriverUnload = None
        self.devices: list[DEVICE_OBJECT] = []
        self.DriverExtension: dict[str, Any] = {}
        self.status: Any = None         # what DriverEntry returned, once it has
        self.entry_thread: Thread | None = None

    @property
    def DeviceObject(self) -> DEVICE_OBJECT | None:
        return self.devices[0] if self.devices else None

    def __repr__(self) -> str:
        return f"<DRIVER_OBJECT {self.name} status={self.status}>"


class DEVICE_OBJECT:
    """A device a driver made with IoCreateDevice."""

    def __init__(self, driver: DRIVER_OBJECT, name: str | None, extension_size: int,
                 device_type: int):
        self.DriverObject = driver
        self.header = ObjectHeader(self, IoDeviceObjectType)
        self.label = name or f"(unnamed device of {driver.name})"
        self.DeviceType = device_type
        self.DeviceExtension: dict = {}
        self.Flags = 0
        self.deleted = False

    @property
    def name(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"<DEVICE_OBJECT {self.label}>"


class FILE_OBJECT:
    """An open instance of a device (what an app's CreateFile handle refers to)."""

    def __init__(self, device: DEVICE_OBJECT, process, label: str):
        self.DeviceObject = device
        self.header = ObjectHeader(self, IoFileObjectType)
        self.process = process
        self.FsContext = None
        self.FsContext2 = None
        self.name = label

    def __repr__(self) -> str:
        return f"<FILE_OBJECT {self.name}>"


class IO_STATUS_BLOCK:
    def __init__(self):
        self.Status = STATUS_SUCCESS
        self.Information = 0

    def __repr__(self) -> str:
        return f"IO_STATUS_BLOCK(Status=0x{self.Status:X}, Information={self.Information})"


class _DeviceIoControlParameters:
    def __init__(self, code: int, input_buffer):
        self.IoControlCode = code
        self.InputBufferLength = 0 if input_buffer is None else 1
        self.OutputBufferLength = 0


class _Parameters:
    def __init__(self, code: int, input_buffer):
        self.DeviceIoControl = _DeviceIoControlParameters(code, input_buffer)


class IO_STACK_LOCATION:
    """What IoGetCurrentIrpStackLocation gives a dispatch routine."""

    def __init__(self, irp: "IRP"):
        self.MajorFunction = irp.MajorFunction
        self.FileObject = irp.FileObject
        self.DeviceObject = irp.device
        self.Parameters = _Parameters(irp.IoControlCode, irp.InputBuffer)

    def __evtsim_call__(self, api, frame):
        return value_call("IoGetCurrentIrpStackLocation", self, api, frame)


class IRP:
    """An I/O request packet."""

    def __init__(self, machine, major: int, device: DEVICE_OBJECT, file_object, thread,
                 code: int = 0, input_buffer=None):
        self.machine = machine
        self.name = machine.object_name("IRP")
        self.MajorFunction = major
        self.device = device
        self.FileObject = file_object
        self.Thread = thread
        self.Process = thread.process if thread is not None else None
        self.IoControlCode = code
        self.InputBuffer = input_buffer
        self.OutputBuffer = None
        self.RequestorMode = 1 if thread is not None and thread.mode == 1 else KernelMode
        self.IoStatus = IO_STATUS_BLOCK()
        self.Cancel = False
        self.CancelRoutine = None
        self.PendingReturned = False
        self.completed = False
        self.done: KEVENT | None = None   # what a waiting caller waits on
        self.stack = IO_STACK_LOCATION(self)
        machine.pending_irps.append(self)
        machine.note_write(device.name)

    def __repr__(self) -> str:
        state = "completed" if self.completed else ("pending" if self.PendingReturned else "new")
        return f"<IRP {self.name} {IRP_MJ_NAMES.get(self.MajorFunction)} {state}>"


class IO_WORKITEM:
    def __init__(self, device: DEVICE_OBJECT):
        self.DeviceObject = device
        self.queued = False


class ThreadObject(KEVENT):
    """The waitable side of a thread (signaled when it ends), for thread handles."""

    kind = "Thread"
    __slots__ = ("thread",)
    thread: Thread


# --- sending IRPs -------------------------------------------------------------------------
def default_routine(major: int) -> Callable[[Any, DEVICE_OBJECT, IRP], int]:
    """What runs when a driver set no routine for `major`."""
    def complete(k, device, irp):
        irp.IoStatus.Status = (STATUS_SUCCESS if major in (IRP_MJ_CREATE, IRP_MJ_CLEANUP,
                                                           IRP_MJ_CLOSE)
                               else STATUS_INVALID_DEVICE_REQUEST)
        complete_irp(irp)
        return irp.IoStatus.Status
    complete.__name__ = f"no_{IRP_MJ_NAMES.get(major, hex(major))}_routine"
    return complete


def send(machine, thread, irp: IRP, then) -> Nested:
    """Call the driver's routine for `irp` in `thread`; `then(irp)` makes the result.

    `then` may return a plain value for the caller or another Nested to run next.
    """
    driver = irp.device.DriverObject
    routine = driver.MajorFunction[irp.MajorFunction] or default_routine(irp.MajorFunction)
    label = f"{driver.name} {IRP_MJ_NAMES.get(irp.MajorFunction, hex(irp.MajorFunction))}"

    def on_return(status):
        if status == STATUS_PENDING:
            if not irp.PendingReturned:
                raise BugCheckSignal(
                    0xC9, "a dispatch routine returned STATUS_PENDING without IoMarkIrpPending",
                    f"{label} returned STATUS_PENDING but never called IoMarkIrpPending on "
                    f"{irp.name}. Mark the IRP pending before you return STATUS_PENDING.")
            if irp.completed:
                return then(irp)
            irp.done = KEVENT(machine, f"{irp.name} done", NotificationEvent, 0)
            return machine.wait(thread, (irp.done,), WaitAny, KernelMode, False, None,
                                f"{irp.name}", translate=lambda _status: then(irp))
        if not irp.completed:
            raise BugCheckSignal(
                0xC9, "a dispatch routine returned without completing or pending the IRP",
                f"{label} returned 0x{status & 0xFFFFFFFF:X} but neither completed {irp.name} "
                f"(IoCompleteRequest) nor marked it pending and returned STATUS_PENDING. "
                f"The caller would wait for ever.")
        return then(irp)

    return Nested(routine, (irp.device, irp), on_return, label)


def complete_irp(irp: IRP) -> None:
    """IoCompleteRequest: the IRP is done; release a caller that waits for it."""
    if irp.completed:
        raise BugCheckSignal(
            0x44, "an IRP was completed twice",
            f"IoCompleteRequest was called again for {irp.name}. After the first "
            f"completion the IRP belongs to the I/O manager again.")
    irp.completed = True
    machine = irp.machine
    if irp in machine.pending_irps:
        machine.pending_irps.remove(irp)
    if irp.done is not None:
        from . import dispatcher
        dispatcher.signal(irp.done)


def close_file_chain(machine: Any, thread: Thread, file_object: FILE_OBJECT,
                     result: object) -> Nested:
    """After the last handle to a file object closes: IRP_MJ_CLEANUP, then IRP_MJ_CLOSE."""
    device = file_object.DeviceObject

    def after_cleanup(_irp):
        close = IRP(machine, IRP_MJ_CLOSE, device, file_object, thread)
        return send(machine, thread, close, lambda _irp: result)

    cleanup = IRP(machine, IRP_MJ_CLEANUP, device, file_object, thread)
    return send(machine, thread, cleanup, after_cleanup)


def cancel_irp(machine: Any, thread: Thread, irp: IRP, result: R) -> R | Nested:
    """IoCancelIrp: set Cancel and run the cancel routine (if any) in `thread`."""
    irp.Cancel = True
    routine, irp.CancelRoutine = irp.CancelRoutine, None
    if routine is None or irp.completed:
        return result
    return Nested(routine, (irp.device, irp), lambda _value: result,
                  f"cancel routine of {irp.name}")


__all__ = [
    "IRP_MJ_CREATE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE", "IRP_MJ_DEVICE_CONTROL",
    "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_CLEANUP", "IRP_MJ_MAXIMUM_FUNCTION",
    "FILE_DEVICE_UNKNOWN", "METHOD_BUFFERED", "METHOD_IN_DIRECT", "METHOD_OUT_DIRECT",
    "METHOD_NEITHER", "FILE_ANY_ACCESS", "FILE_READ_ACCESS", "FILE_WRITE_ACCESS",
    "CriticalWorkQueue", "DelayedWorkQueue", "INVALID_HANDLE_VALUE", "CTL_CODE",
    "DRIVER_OBJECT", "DEVICE_OBJECT", "FILE_OBJECT", "IRP", "IO_STATUS_BLOCK",
    "IO_STACK_LOCATION", "IO_WORKITEM", "ThreadObject", "IoDriverObjectType", "PsThreadType",
    "STATUS_CANCELLED",
]
