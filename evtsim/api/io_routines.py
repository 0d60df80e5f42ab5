"""The I/O manager's routines on the kernel surface: devices, links, IRPs, work
items and system threads (wdm.h names and parameter order; see `evtsim.io`)."""
from __future__ import annotations

from collections.abc import Callable, Generator
from types import GeneratorType
from typing import Any

from .. import io
from ..calls import Nested
from ..dispatcher import NotificationEvent
from ..errors import BadArgumentError, BugCheckSignal
from ..io import (
    DEVICE_OBJECT,
    DRIVER_OBJECT,
    FILE_DEVICE_UNKNOWN,
    IO_STACK_LOCATION,
    IO_WORKITEM,
    IRP,
    PsThreadType,
    ThreadObject,
)
from ..objects import ObjectHeader, SymbolicLink, name_text
from ..status import (
    DISPATCH_LEVEL,
    OBJ_KERNEL_HANDLE,
    PASSIVE_LEVEL,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
)
from .base import helper, syscall
from .kernel_checks import KernelChecks


class IoRoutines(KernelChecks):
    """Mixed into KernelApi."""

    def _irp(self, value: object, routine: str) -> IRP:
        if not isinstance(value, IRP) or value.machine is not self.machine:
            raise BadArgumentError(f"{routine} needs an IRP of this machine, not {value!r}")
        return value

    def _link_name(self, name: object, routine: str) -> str:
        text = name_text(name)
        if not text:
            raise BadArgumentError(f"{routine} needs a name such as r\"\\Device\\EvtDemo\"")
        return text

    def _insert_named(self, obj: Any, name: str, permanent: bool) -> int:
        """Put an object under a full name; a status (collision, missing directory...)."""
        ob = self.machine.ob
        status, parent, leaf, existing = ob.parse(name)
        if status == STATUS_SUCCESS:
            return STATUS_OBJECT_NAME_COLLISION
        if status != STATUS_OBJECT_NAME_NOT_FOUND:
            return status
        ob._link_name(obj, parent, leaf)
        obj.header.permanent = permanent
        return STATUS_SUCCESS

    @syscall
    def IoCreateDevice(self, DriverObject, DeviceName=None, DeviceExtensionSize=0,
                       DeviceType=FILE_DEVICE_UNKNOWN, DeviceCharacteristics=0,
                       Exclusive=False) -> tuple[int, DEVICE_OBJECT | None]:
        """Make a device object; returns (status, device).

        evtsim takes `IoCreateDevice(driver, r"\\Device\\Name")`; the WDM order
        `(driver, extension_size, name, type, characteristics, exclusive)` works too.
        """
        if isinstance(DeviceName, int) and not isinstance(DeviceName, bool):
            DeviceName, DeviceExtensionSize = DeviceExtensionSize or None, DeviceName
        if not isinstance(DriverObject, DRIVER_OBJECT) or DriverObject.machine is not self.machine:
            raise BadArgumentError(f"IoCreateDevice needs the DRIVER_OBJECT DriverEntry "
                                   f"got, not {DriverObject!r}")
        self._verifier("IoCreateDevice", PASSIVE_LEVEL)
        name = name_text(DeviceName) if DeviceName else None
        device = DEVICE_OBJECT(DriverObject, name, DeviceExtensionSize, DeviceType)
        if name:
            status = self._insert_named(device, name, False)
            if status != STATUS_SUCCESS:
                return status, None
        DriverObject.devices.append(device)
        return STATUS_SUCCESS, device

    @syscall
    def IoDeleteDevice(self, DeviceObject) -> None:
        if not isinstance(DeviceObject, DEVICE_OBJECT):
            raise BadArgumentError(
                f"IoDeleteDevice needs a DEVICE_OBJECT, not {DeviceObject!r}")
        self._verifier("IoDeleteDevice", PASSIVE_LEVEL)
        header = DeviceObject.header
        if header.directory is not None:
            if header.name is not None:
                header.directory.entries.pop(header.name, None)
            header.directory, header.name = None, None
        DeviceObject.deleted = True
        if DeviceObject in DeviceObject.DriverObject.devices:
            DeviceObject.DriverObject.devices.remove(DeviceObject)

    @syscall
    def IoCreateSymbolicLink(self, SymbolicLinkName, DeviceName) -> int:
        """Make `\\??\\Name` point at `\\Device\\Name`, so apps can CreateFile(r"\\\\.\\Name")."""
        link_name = self._link_name(SymbolicLinkName, "IoCreateSymbolicLink")
        target = self._link_name(DeviceName, "IoCreateSymbolicLink")
        self._verifier("IoCreateSymbolicLink", PASSIVE_LEVEL)
        return self._insert_named(SymbolicLink(target), link_name, True)

    @syscall
    def IoDeleteSymbolicLink(self, SymbolicLinkName) -> int:
        name = self._link_name(SymbolicLinkName, "IoDeleteSymbolicLink")
        self._verifier("IoDeleteSymbolicLink", PASSIVE_LEVEL)
        ob = self.machine.ob
        parent_path, _, leaf = name.rpartition("\\")
        parent = ob.directory_at(parent_path or "\\")
        link = parent.entries.get(leaf) if parent is not None else None
        if not isinstance(link, SymbolicLink):
            return STATUS_OBJECT_NAME_NOT_FOUND
        del parent.entries[leaf]
        return STATUS_SUCCESS

    @helper
    def IoGetCurrentIrpStackLocation(self, Irp) -> IO_STACK_LOCATION:
        """The IRP's stack location (a macro: it runs at once, no step needed)."""
        return self._irp(Irp, "IoGetCurrentIrpStackLocation").stack

    @syscall
    def IoMarkIrpPending(self, Irp) -> None:
        """Say that the IRP will be completed later; then return STATUS_PENDING."""
        self._irp(Irp, "IoMarkIrpPending").PendingReturned = True

    @syscall
    def IoCompleteRequest(self, Irp, PriorityBoost=0) -> None:
        """Give the IRP back to the I/O manager; a caller waiting on it is released."""
        irp = self._irp(Irp, "IoCompleteRequest")
        self._verifier("IoCompleteRequest", DISPATCH_LEVEL)
        io.complete_irp(irp)

    @syscall
    def IoSetCancelRoutine(self, Irp, CancelRoutine) -> Callable[..., Any] | None:
        """Set (or with None, clear) the routine run if the IRP is cancelled; returns the
        old one."""
        irp = self._irp(Irp, "IoSetCancelRoutine")
        if CancelRoutine is not None and not callable(CancelRoutine):
            raise BadArgumentError("IoSetCancelRoutine: CancelRoutine is a function "
                                   "`routine(k, device, irp)` or None")
        previous, irp.CancelRoutine = irp.CancelRoutine, CancelRoutine
        return previous

    @syscall
    def IoCancelIrp(self, Irp) -> bool | Nested:
        """Cancel an IRP: set Irp.Cancel and run its cancel routine, if it has one."""
        irp = self._irp(Irp, "IoCancelIrp")
        self._verifier("IoCancelIrp", DISPATCH_LEVEL)
        had_routine = irp.CancelRoutine is not None and not irp.completed
        return io.cancel_irp(self.machine, self.thread, irp, had_routine)

    @syscall
    def IoAllocateWorkItem(self, DeviceObject) -> IO_WORKITEM:
        if not isinstance(DeviceObject, DEVICE_OBJECT):
            raise BadArgumentError("IoAllocateWorkItem needs the driver's DEVICE_OBJECT")
        return IO_WORKITEM(DeviceObject)

    @syscall
    def IoQueueWorkItem(self, IoWorkItem, WorkerRoutine, QueueType=io.DelayedWorkQueue,
                        Context=None) -> None:
        """Run `WorkerRoutine(k, DeviceObject, Context)` on a system worker thread.

        The worker runs in the System process: a user handle value means something
        else (or nothing) there.
        """
        if not isinstance(IoWorkItem, IO_WORKITEM):
            raise BadArgumentError("IoQueueWorkItem needs an IO_WORKITEM from IoAllocateWorkItem")
        if not callable(WorkerRoutine):
            raise BadArgumentError("IoQueueWorkItem needs a WorkerRoutine function")
        self._verifier("IoQueueWorkItem", DISPATCH_LEVEL)
        if IoWorkItem.queued:
            raise BugCheckSignal(0xC4, "a work item was queued twice",
                                 "IoQueueWorkItem was called for a work item that is "
                                 "already queued.")
        IoWorkItem.queued = True

        def worker(k: Any, item: IO_WORKITEM, routine: Callable[..., Any],
                   context: object) -> Generator[Any, Any, None]:
            item.queued = False
            out = routine(k, item.DeviceObject, context)
            if isinstance(out, GeneratorType):
                yield from out
        name = getattr(WorkerRoutine, "__name__", "work item")
        self.machine.start_thread(self.machine.system, worker,
                                  (IoWorkItem, WorkerRoutine, Context), f"worker:{name}")

    @syscall
    def IoFreeWorkItem(self, IoWorkItem) -> None:
        if not isinstance(IoWorkItem, IO_WORKITEM):
            raise BadArgumentError("IoFreeWorkItem needs an IO_WORKITEM")

    @syscall
    def PsCreateSystemThread(self, StartRoutine, StartContext=None,
                             name: str | None = None) -> tuple[int, int]:
        """Start `StartRoutine(k, StartContext)` in the System process.

        Returns (status, handle): a kernel handle to the thread, which is signaled when
        the thread ends (wait on it with ObReferenceObjectByHandle + KeWaitForSingleObject).
        """
        if not callable(StartRoutine):
            raise BadArgumentError("PsCreateSystemThread needs a StartRoutine function")
        self._verifier("PsCreateSystemThread", PASSIVE_LEVEL)
        machine = self.machine
        thread = machine.start_thread(machine.system, StartRoutine, (StartContext,), name)
        body = ThreadObject(machine, machine.unique_label(f"thread {thread.name}"),
                            NotificationEvent, 1 if thread.state == "terminated" else 0)
        body.thread = thread
        body.header = ObjectHeader(body, PsThreadType)
        thread.object = body
        handle = machine.ob.insert_handle(self._process(), body, PsThreadType.all_access,
                                          OBJ_KERNEL_HANDLE, True)
        machine.ob.dereference(body)
        return STATUS_SUCCESS, handle


__all__ = ["IoRoutines"]
