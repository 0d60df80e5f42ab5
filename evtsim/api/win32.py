"""The Win32 surface: what a user-mode thread (an application) calls.

Each function does what kernel32 does on top of the Nt calls: plain names go to the
caller's session directory (`Global\\` and `Local\\` are links there), statuses become
Win32 errors through RtlNtStatusToDosError, and the thread's last error is set exactly
where Windows sets it (per Wine's conformance tests, which run on real Windows) and
left alone where it does not. Functions return what Windows returns: a handle or None
for NULL, BOOL as True/False, WAIT_* codes. Timeouts are milliseconds.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import dispatcher
from ..calls import Nested
from ..dispatcher import KEVENT, DispatcherObject, UserMode, WaitAll, WaitAny
from ..errors import BadArgumentError
from ..io import (
    DEVICE_OBJECT,
    FILE_OBJECT,
    INVALID_HANDLE_VALUE,
    IRP,
    IRP_MJ_CREATE,
    IRP_MJ_DEVICE_CONTROL,
    send,
)
from ..objects import SECURITY_DESCRIPTOR, ExEventObjectType, IoFileObjectType
from ..process import Process
from ..status import (
    CREATE_EVENT_INITIAL_SET,
    CREATE_EVENT_MANUAL_RESET,
    ERROR_ALREADY_EXISTS,
    ERROR_FILE_NOT_FOUND,
    ERROR_FILENAME_EXCED_RANGE,
    ERROR_GEN_FAILURE,
    ERROR_INVALID_HANDLE,
    ERROR_INVALID_PARAMETER,
    ERROR_PATH_NOT_FOUND,
    ERROR_SUCCESS,
    EVENT_ALL_ACCESS,
    EVENT_MODIFY_STATE,
    GENERIC_READ,
    GENERIC_WRITE,
    HANDLE_FLAG_INHERIT,
    HANDLE_FLAG_PROTECT_FROM_CLOSE,
    INFINITE,
    MAXIMUM_WAIT_OBJECTS,
    NT_SUCCESS,
    OBJ_INHERIT,
    OBJ_OPENIF,
    OBJ_PROTECT_CLOSE,
    STATUS_OBJECT_NAME_EXISTS,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    STATUS_USER_APC,
    SYNCHRONIZE,
    WAIT_FAILED,
    WAIT_IO_COMPLETION,
    nt_status_to_win32_error,
)
from .base import Surface, syscall
from .zw_ob import close_file, holding

OPEN_EXISTING = 3
# SetHandleInformation's flags and the handle attributes they stand for.
_HANDLE_FLAGS = ((HANDLE_FLAG_INHERIT, OBJ_INHERIT),
                 (HANDLE_FLAG_PROTECT_FROM_CLOSE, OBJ_PROTECT_CLOSE))

MAX_PATH = 260


def milliseconds_to_timeout(ms: object, routine: str) -> int | None:
    """Win32 milliseconds to a kernel timeout: None forever, 0 poll, else relative."""
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= INFINITE:
        raise BadArgumentError(f"{routine}: the timeout is a number of milliseconds "
                               f"(0 to 0xFFFFFFFF, INFINITE), not {ms!r}")
    if ms == INFINITE:
        return None
    return -ms * 10_000


class SECURITY_ATTRIBUTES:
    """What CreateEvent's first argument carries: a descriptor and inheritability."""

    def __init__(self, lpSecurityDescriptor: SECURITY_DESCRIPTOR | None = None,
                 bInheritHandle: bool = False) -> None:
        if lpSecurityDescriptor is not None and not isinstance(lpSecurityDescriptor,
                                                               SECURITY_DESCRIPTOR):
            raise BadArgumentError("lpSecurityDescriptor must be a SECURITY_DESCRIPTOR or None")
        self.lpSecurityDescriptor = lpSecurityDescriptor
        self.bInheritHandle = bool(bInheritHandle)


def _returns_nothing(status: int) -> None:
    return None


def _io_completion(status: int) -> int:
    """SleepEx: 0 when the time ran out, WAIT_IO_COMPLETION when user APCs ran."""
    return WAIT_IO_COMPLETION if status == STATUS_USER_APC else 0


class Win32Api(Surface):
    """What user-mode code calls (kernel32)."""

    surface_name = "win32"

    # --- helpers -----------------------------------------------------------------------
    def _fail(self, status_or_error: int, *, is_status: bool = True) -> None:
        self.thread.last_error = (nt_status_to_win32_error(status_or_error) if is_status
                                  else status_or_error)

    def _process(self) -> Process:
        return self.thread.process

    @staticmethod
    def _name(value: object, routine: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise BadArgumentError(f"{routine}: lpName is a str or None, not {value!r}")
        return value.split("\0", 1)[0]          # a C string ends at its first NUL

    def _reference(self, handle: object, access: int, want_event: bool) -> Any:
        """Look a handle up as the kernel does for a user-mode caller.

        Returns the object, or None with the last error set (bad handle or wrong type:
        ERROR_INVALID_HANDLE; missing rights: ERROR_ACCESS_DENIED).
        """
        ob = self.machine.ob
        status, obj = ob.reference_by_handle(self._process(), handle, access,
                                             ExEventObjectType if want_event else None,
                                             UserMode)
        if status != STATUS_SUCCESS:
            self._fail(status)
            return None
        ob.dereference(obj)
        if not want_event and not isinstance(obj, DispatcherObject):
            self._fail(ERROR_INVALID_HANDLE, is_status=False)
            return None
        return obj

    # --- events ------------------------------------------------------------------------
    def _create(self, routine: str, attrs: object, name: object, manual: object,
                initial: object, access: int) -> int | None:
        name = self._name(name, routine)
        if attrs is not None and not isinstance(attrs, SECURITY_ATTRIBUTES):
            raise BadArgumentError(f"{routine}: lpEventAttributes is SECURITY_ATTRIBUTES "
                                   f"or None, not {attrs!r}")
        if name is not None and len(name) > MAX_PATH:
            self._fail(ERROR_FILENAME_EXCED_RANGE, is_status=False)
            return None
        process = self._process()
        root = process.named_objects if name else None
        if name and root is None:
            self._fail(ERROR_PATH_NOT_FOUND, is_status=False)
            return None
        attributes = OBJ_OPENIF | (OBJ_INHERIT if attrs and attrs.bInheritHandle else 0)
        security = attrs.lpSecurityDescriptor if attrs else None
        ob = self.machine.ob
        event_type = dispatcher.NotificationEvent if manual else dispatcher.SynchronizationEvent
        status, handle, _ = ob.create_or_open(
            process, ExEventObjectType, ob.new_event(event_type, 1 if initial else 0, name),
            name or None, attributes, root, security, access, UserMode, False)
        if status == STATUS_OBJECT_NAME_EXISTS:
            self.thread.last_error = ERROR_ALREADY_EXISTS
            return handle
        if status != STATUS_SUCCESS:
            self._fail(status)
            return None
        self.thread.last_error = ERROR_SUCCESS
        return handle

    @syscall
    def CreateEvent(self, lpEventAttributes, bManualReset, bInitialState,
                    lpName) -> int | None:
        """Create or open an event; sets ERROR_ALREADY_EXISTS when it opened one."""
        return self._create("CreateEvent", lpEventAttributes, lpName, bManualReset,
                            bInitialState, EVENT_ALL_ACCESS)

    @syscall
    def CreateEventEx(self, lpEventAttributes, lpName, dwFlags,
                      dwDesiredAccess) -> int | None:
        """CreateEvent with flags (CREATE_EVENT_MANUAL_RESET, _INITIAL_SET) and access."""
        if isinstance(dwFlags, bool) or not isinstance(dwFlags, int) or dwFlags & ~3:
            self._fail(ERROR_INVALID_PARAMETER, is_status=False)
            return None
        if isinstance(dwDesiredAccess, bool) or not isinstance(dwDesiredAccess, int):
            raise BadArgumentError("CreateEventEx: dwDesiredAccess is an access mask")
        return self._create("CreateEventEx", lpEventAttributes, lpName,
                            dwFlags & CREATE_EVENT_MANUAL_RESET,
                            dwFlags & CREATE_EVENT_INITIAL_SET, dwDesiredAccess)

    @syscall
    def OpenEvent(self, dwDesiredAccess, bInheritHandle, lpName) -> int | None:
        """Open an existing named event; None and a last error if that fails."""
        name = self._name(lpName, "OpenEvent")
        if isinstance(dwDesiredAccess, bool) or not isinstance(dwDesiredAccess, int):
            raise BadArgumentError("OpenEvent: dwDesiredAccess is an access mask")
        if name is None:
            self._fail(ERROR_INVALID_PARAMETER, is_status=False)
            return None
        if len(name) > MAX_PATH:
            self._fail(ERROR_FILENAME_EXCED_RANGE, is_status=False)
            return None
        process = self._process()
        root = process.named_objects
        if root is None:
            self._fail(ERROR_PATH_NOT_FOUND, is_status=False)
            return None
        status, handle, _ = self.machine.ob.open(
            process, ExEventObjectType, name, OBJ_INHERIT if bInheritHandle else 0, root,
            dwDesiredAccess, UserMode, False)
        if status != STATUS_SUCCESS:
            self._fail(status)
            return None
        return handle

    def _change(self, handle, action) -> bool:
        event = self._reference(handle, EVENT_MODIFY_STATE, True)
        if event is None:
            return False
        action(event)
        return True

    @syscall
    def SetEvent(self, hEvent) -> bool:
        return self._change(hEvent, dispatcher.signal)

    @syscall
    def ResetEvent(self, hEvent) -> bool:
        return self._change(hEvent, dispatcher.reset)

    @syscall
    def PulseEvent(self, hEvent) -> bool:
        """Documented as unreliable: a waiter briefly out of its wait misses it."""
        return self._change(hEvent, dispatcher.pulse)

    # --- waits -------------------------------------------------------------------------
    def _wait(self, routine: str, handles: Sequence[object], wait_type: int, ms: object,
              alertable: object, before: Callable[[], bool] | None = None) -> Any:
        """The wait's status (a WAIT_* code), or BLOCKED while the thread waits."""
        timeout = milliseconds_to_timeout(ms, routine)
        objects: list[DispatcherObject] = []
        for handle in handles:
            obj = self._reference(handle, SYNCHRONIZE, False)
            if obj is None:
                return WAIT_FAILED
            objects.append(obj)
        if wait_type == WaitAll and len({id(o) for o in objects}) != len(objects):
            self._fail(ERROR_INVALID_PARAMETER, is_status=False)
            return WAIT_FAILED
        if before is not None and not before():
            return WAIT_FAILED
        held = tuple(objects)
        return self.machine.wait(self.thread, held, wait_type, UserMode, bool(alertable),
                                 timeout, routine, translate=holding(self.machine.ob, held))

    @syscall
    def WaitForSingleObject(self, hHandle, dwMilliseconds) -> int:
        """WAIT_OBJECT_0, WAIT_TIMEOUT, or WAIT_FAILED with the last error set."""
        return self._wait("WaitForSingleObject", (hHandle,), WaitAny, dwMilliseconds, False)

    @syscall
    def WaitForSingleObjectEx(self, hHandle, dwMilliseconds, bAlertable) -> int:
        """Alertable: WAIT_IO_COMPLETION after queued user APCs ran."""
        return self._wait("WaitForSingleObjectEx", (hHandle,), WaitAny, dwMilliseconds,
                          bAlertable)

    def _handles(self, routine: str, count: object,
                 handles: object) -> Sequence[object] | None:
        if isinstance(count, bool) or not isinstance(count, int):
            raise BadArgumentError(f"{routine}: nCount is a whole number")
        if not isinstance(handles, (list, tuple)):
            raise BadArgumentError(f"{routine}: lpHandles is a list of handles")
        if count < 1 or count > MAXIMUM_WAIT_OBJECTS:
            self._fail(ERROR_INVALID_PARAMETER, is_status=False)
            return None
        if count > len(handles):
            raise BadArgumentError(f"{routine}: nCount is {count} but lpHandles has "
                                   f"{len(handles)} entries")
        return handles[:count]

    @syscall
    def WaitForMultipleObjects(self, nCount, lpHandles, bWaitAll, dwMilliseconds) -> int:
        """Wait for any (lowest index wins) or all of up to 64 handles."""
        handles = self._handles("WaitForMultipleObjects", nCount, lpHandles)
        if handles is None:
            return WAIT_FAILED
        return self._wait("WaitForMultipleObjects", handles, WaitAll if bWaitAll else WaitAny,
                          dwMilliseconds, False)

    @syscall
    def WaitForMultipleObjectsEx(self, nCount, lpHandles, bWaitAll, dwMilliseconds,
                                 bAlertable) -> int:
        handles = self._handles("WaitForMultipleObjectsEx", nCount, lpHandles)
        if handles is None:
            return WAIT_FAILED
        return self._wait("WaitForMultipleObjectsEx", handles,
                          WaitAll if bWaitAll else WaitAny, dwMilliseconds, bAlertable)

    @syscall
    def SignalObjectAndWait(self, hObjectToSignal, hObjectToWaitOn, dwMilliseconds,
                            bAlertable) -> int:
        """Set one event and start waiting on another as one atomic step."""
        def signal_first() -> bool:
            event = self._reference(hObjectToSignal, EVENT_MODIFY_STATE, True)
            if event is None:
                return False
            dispatcher.signal(event)
            return True
        return self._wait("SignalObjectAndWait", (hObjectToWaitOn,), WaitAny, dwMilliseconds,
                          bAlertable, before=signal_first)

    # --- handles, errors, sleeping, APCs -------------------------------------------------
    @syscall
    def CloseHandle(self, hObject) -> bool | Nested:
        """Close a handle; the last handle to a device sends IRP_MJ_CLEANUP and _CLOSE
        (a Nested: the driver's routines run first)."""
        chain = close_file(self.machine, self.thread, self._process(), hObject, UserMode, True)
        if chain is not None:
            return chain
        status = self.machine.ob.close(self._process(), hObject, UserMode)
        if status != STATUS_SUCCESS:
            self._fail(status)
            return False
        return True

    @syscall
    def SetHandleInformation(self, hObject, dwMask, dwFlags) -> bool:
        """Change a handle's flags: HANDLE_FLAG_INHERIT, HANDLE_FLAG_PROTECT_FROM_CLOSE
        (then CloseHandle fails with ERROR_INVALID_HANDLE, and a driver's ZwClose of
        it is bug check 0x93)."""
        for value, what in ((dwMask, "dwMask"), (dwFlags, "dwFlags")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadArgumentError(f"SetHandleInformation: {what} is a set of "
                                       f"HANDLE_FLAG_* bits")
        status, entry = self.machine.ob.resolve(self._process(), hObject, UserMode)
        if status != STATUS_SUCCESS:
            self._fail(status)
            return False
        for flag, bit in _HANDLE_FLAGS:
            if dwMask & flag:
                entry.attributes = (entry.attributes | bit if dwFlags & flag
                                    else entry.attributes & ~bit)
        return True

    @syscall
    def GetHandleInformation(self, hObject) -> tuple[bool, int | None]:
        """(TRUE, the handle's HANDLE_FLAG_* bits), or (FALSE, None) for a bad handle.
        (C returns the flags through a pointer.)"""
        status, entry = self.machine.ob.resolve(self._process(), hObject, UserMode)
        if status != STATUS_SUCCESS:
            self._fail(status)
            return False, None
        return True, sum(flag for flag, bit in _HANDLE_FLAGS if entry.attributes & bit)

    @syscall
    def GetLastError(self) -> int:
        return self.thread.last_error

    @syscall
    def SetLastError(self, dwErrCode) -> None:
        if isinstance(dwErrCode, bool) or not isinstance(dwErrCode, int):
            raise BadArgumentError("SetLastError takes a whole number")
        self.thread.last_error = dwErrCode & 0xFFFFFFFF

    @syscall
    def Sleep(self, dwMilliseconds) -> None:
        """Sleep in virtual time; Sleep(0) gives up the rest of the step."""
        timeout = milliseconds_to_timeout(dwMilliseconds, "Sleep")
        return self.machine.wait(self.thread, (), WaitAny, UserMode, False, timeout,
                                 "Sleep", timeout_status=STATUS_SUCCESS,
                                 translate=_returns_nothing)

    @syscall
    def SleepEx(self, dwMilliseconds, bAlertable) -> int:
        """Sleep; alertable, it returns WAIT_IO_COMPLETION when user APCs ran."""
        timeout = milliseconds_to_timeout(dwMilliseconds, "SleepEx")
        return self.machine.wait(self.thread, (), WaitAny, UserMode, bool(bAlertable),
                                 timeout, "SleepEx", timeout_status=STATUS_SUCCESS,
                                 translate=_io_completion)

    @syscall
    def QueueUserAPC(self, pfnAPC, hThread, dwData) -> int:
        """Queue a user APC (evtsim takes the Thread object as the thread handle)."""
        from ..scheduler import Thread
        if not callable(pfnAPC):
            raise BadArgumentError("QueueUserAPC: pfnAPC must be a function")
        if (not isinstance(hThread, Thread) or hThread.machine is not self.machine
                or hThread.is_dpc):
            self._fail(ERROR_INVALID_HANDLE, is_status=False)
            return 0
        if hThread.state == "terminated":       # NtQueueApcThread: STATUS_UNSUCCESSFUL
            self._fail(ERROR_GEN_FAILURE, is_status=False)
            return 0
        self.machine.queue_apc(hThread, pfnAPC, UserMode, dwData)
        return 1

    # --- devices -------------------------------------------------------------------------
    @syscall
    def CreateFile(self, lpFileName, dwDesiredAccess=GENERIC_READ | GENERIC_WRITE,
                   dwShareMode=0, lpSecurityAttributes=None,
                   dwCreationDisposition=OPEN_EXISTING, dwFlagsAndAttributes=0,
                   hTemplateFile=None) -> int | Nested:
        r"""Open a device by its DOS name, r"\\.\Name"; INVALID_HANDLE_VALUE on failure.

        The driver's IRP_MJ_CREATE routine runs in this thread before it returns.
        """
        if not isinstance(lpFileName, str):
            raise BadArgumentError(f"CreateFile: lpFileName is a str such as "
                                   f"r\"\\.\\EvtDemo\", not {lpFileName!r}")
        if isinstance(dwDesiredAccess, bool) or not isinstance(dwDesiredAccess, int):
            raise BadArgumentError("CreateFile: dwDesiredAccess is an access mask")
        machine = self.machine
        if not lpFileName.startswith("\\\\.\\"):
            self._fail(ERROR_FILE_NOT_FOUND, is_status=False)   # evtsim has no file system
            return INVALID_HANDLE_VALUE
        status, _, _, device = machine.ob.parse("\\??\\" + lpFileName[4:])
        if status != STATUS_SUCCESS:
            self._fail(status)
            return INVALID_HANDLE_VALUE
        if not isinstance(device, DEVICE_OBJECT) or device.deleted:
            self._fail(STATUS_OBJECT_TYPE_MISMATCH)
            return INVALID_HANDLE_VALUE
        process, thread = self._process(), self.thread
        file_object = FILE_OBJECT(device, process, lpFileName)
        granted = IoFileObjectType.map(dwDesiredAccess) | SYNCHRONIZE

        def opened(irp: IRP) -> int:
            status = irp.IoStatus.Status
            if not NT_SUCCESS(status):
                self._fail(status)
                return INVALID_HANDLE_VALUE
            handle = machine.ob.insert_handle(process, file_object, granted, 0, False)
            machine.ob.dereference(file_object)
            thread.last_error = ERROR_SUCCESS
            return handle
        irp = IRP(machine, IRP_MJ_CREATE, device, file_object, thread)
        return send(machine, thread, irp, opened)

    @syscall
    def DeviceIoControl(self, hDevice, dwIoControlCode, lpInBuffer=None,
                        nOutBufferSize=0) -> tuple[bool, Any] | Nested:
        """Send an I/O control code to a device; returns (ok, out).

        The driver's IRP_MJ_DEVICE_CONTROL routine runs in this thread and process. If
        it pends the IRP, this call waits until the driver completes it.
        """
        if isinstance(dwIoControlCode, bool) or not isinstance(dwIoControlCode, int):
            raise BadArgumentError("DeviceIoControl: dwIoControlCode is a CTL_CODE number")
        machine, thread = self.machine, self.thread
        status, entry = machine.ob.resolve(self._process(), hDevice, UserMode)
        if status != STATUS_SUCCESS or not isinstance(entry.object, FILE_OBJECT):
            self._fail(ERROR_INVALID_HANDLE, is_status=False)
            return False, None
        file_object = entry.object

        def finished(irp: IRP) -> tuple[bool, Any]:
            status = irp.IoStatus.Status
            if not NT_SUCCESS(status):
                self._fail(status)
                return False, irp.OutputBuffer
            return True, irp.OutputBuffer
        irp = IRP(machine, IRP_MJ_DEVICE_CONTROL, file_object.DeviceObject, file_object,
                  thread, dwIoControlCode, lpInBuffer)
        return send(machine, thread, irp, finished)

    @syscall
    def ExitProcess(self, uExitCode=0) -> None:
        """End the whole process: its threads stop, its handles are closed."""
        self.machine.terminate_process(self._process(), uExitCode)

    @syscall
    def GetCurrentProcessId(self) -> int:
        return self._process().pid


__all__ = ["Win32Api", "SECURITY_ATTRIBUTES", "milliseconds_to_timeout", "MAX_PATH",
           "KEVENT", "INVALID_HANDLE_VALUE", "OPEN_EXISTING"]
