"""The Win32 surface: what a user-mode thread (an application) calls.

Functions return what Windows returns (a BOOL as True/False, WAIT_* codes) and set the
thread's last error exactly where Windows does. Timeouts are milliseconds, INFINITE
waits forever. This module starts with the calls that need no handles; the object
manager adds events, handles and names.
"""
from __future__ import annotations

from ..dispatcher import UserMode, WaitAny
from ..errors import BadArgumentError
from ..status import INFINITE, STATUS_SUCCESS, STATUS_USER_APC, WAIT_IO_COMPLETION
from .base import Surface, syscall


def milliseconds_to_timeout(ms, routine: str):
    """Win32 milliseconds to a kernel timeout: None forever, 0 poll, else relative."""
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= INFINITE:
        raise BadArgumentError(f"{routine}: the timeout is a number of milliseconds "
                               f"(0 to 0xFFFFFFFF, INFINITE), not {ms!r}")
    if ms == INFINITE:
        return None
    return -ms * 10_000


def _returns_nothing(status: int) -> None:
    return None


def _io_completion(status: int) -> int:
    """SleepEx: 0 when the time ran out, WAIT_IO_COMPLETION when user APCs ran."""
    return WAIT_IO_COMPLETION if status == STATUS_USER_APC else 0


class Win32Api(Surface):
    """What user-mode code calls (kernel32)."""

    surface_name = "win32"

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


__all__ = ["Win32Api", "milliseconds_to_timeout"]
