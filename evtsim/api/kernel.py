"""The kernel surface: Ke*, Io*, Zw*, Ob*, Ps* and Rtl* routines as a driver calls them,
with Windows names, Windows parameter order and Python values.

Each routine checks its documented IRQL the way Driver Verifier does (a violation is a
simulated bug check 0xC4 naming the rule), then acts through the dispatcher, the object
manager or the I/O manager (docs/semantics.md sections 1 to 7). Sources: Microsoft's
wdm.h reference pages and ReactOS ke/*.c, ob/*.c, io/*.c. This module puts KernelApi
together from the routine families' mixins: `kernel_checks` (IRQL and argument checks),
`ke_events` (events, waits, IRQL), `ps_misc` (threads, APCs, DPCs, timers, process
context), `zw_ob` (Zw*, Ob*, the Io event calls) and `io_routines` (devices, IRPs, work
items). It also re-exports the constants and names drivers and lessons import from here.
"""
from __future__ import annotations

# Most of these are only re-exported (they are in __all__ below): the lessons, scenarios
# and the programming-model contract import them from evtsim.api.kernel.
from ..dispatcher import (
    KEVENT,
    KTIMER,
    KWAIT_BLOCK,
    Executive,
    KernelMode,
    NotificationEvent,
    NotificationTimer,
    SynchronizationEvent,
    SynchronizationTimer,
    UserMode,
    WaitAll,
    WaitAny,
)
from ..io import (
    CTL_CODE,
    FILE_ANY_ACCESS,
    FILE_DEVICE_UNKNOWN,
    FILE_READ_ACCESS,
    FILE_WRITE_ACCESS,
    IRP_MJ_CLEANUP,
    IRP_MJ_CLOSE,
    IRP_MJ_CREATE,
    IRP_MJ_DEVICE_CONTROL,
    IRP_MJ_READ,
    IRP_MJ_WRITE,
    METHOD_BUFFERED,
    METHOD_NEITHER,
    CriticalWorkQueue,
    DelayedWorkQueue,
    IoDriverObjectType,
    PsThreadType,
)
from ..objects import (
    OBJECT_ATTRIBUTES,
    SECURITY_DESCRIPTOR,
    UNICODE_STRING,
    ExEventObjectType,
    IoDeviceObjectType,
    IoFileObjectType,
    ObDirectoryObjectType,
    ObSymbolicLinkObjectType,
)
from ..scheduler import KDPC
from ..status import (
    OBJ_CASE_INSENSITIVE,
    OBJ_EXCLUSIVE,
    OBJ_INHERIT,
    OBJ_KERNEL_HANDLE,
    OBJ_OPENIF,
    OBJ_PERMANENT,
)
from .io_routines import IoRoutines
from .ke_events import KeEvents
from .kernel_checks import (
    APC_LEVEL,
    DISPATCH_LEVEL,
    EVENT_INCREMENT,
    HIGH_LEVEL,
    IO_NO_INCREMENT,
    PASSIVE_LEVEL,
    level_name,
)
from .ps_misc import KAPC_STATE, PsMisc
from .zw_ob import InitializeObjectAttributes, RtlInitUnicodeString, ZwOb


class KernelApi(KeEvents, PsMisc, ZwOb, IoRoutines):
    """What kernel-mode code (System threads, DriverEntry, dispatch routines, DPCs) calls."""

    surface_name = "kernel"


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
