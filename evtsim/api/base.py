"""The call surfaces' common base: routines bound to one simulated thread.

A surface (the kernel's, Win32's) is a class whose methods are `syscall`s (evtsim.calls):
calling one makes a Call for the thread to yield. A misspelt or wrong-surface routine is
explained with a suggestion instead of Python's AttributeError.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import calls
from ..calls import Call, Nested, helper, learner_frame, new_call, syscall, value_call
from ..errors import WrongSurfaceError
from ..scheduler import Thread

KERNEL_PREFIXES = ("Ke", "Io", "Zw", "Nt", "Ob", "Ps", "Rtl", "Ex", "Mm")
KERNEL_HELPERS = frozenset({"InitializeObjectAttributes", "CTL_CODE"})
WIN32_ROUTINES = frozenset({
    "CreateEvent", "CreateEventA", "CreateEventW", "CreateEventEx", "OpenEvent",
    "SetEvent", "ResetEvent", "PulseEvent", "WaitForSingleObject",
    "WaitForSingleObjectEx", "WaitForMultipleObjects", "WaitForMultipleObjectsEx",
    "SignalObjectAndWait", "CloseHandle", "GetLastError", "SetLastError", "Sleep",
    "SleepEx", "QueueUserAPC", "CreateFile", "DeviceIoControl", "ExitProcess",
    "GetCurrentProcessId", "SetHandleInformation", "GetHandleInformation",
})


class Surface:
    """Routines bound to one simulated thread (or, when `immediate`, run at once)."""

    surface_name = "surface"
    immediate = False
    # The Machine sits in a layer above the surfaces, so it is not named here.
    machine: Any
    thread: Thread

    def __init__(self, machine: Any, thread: Thread) -> None:
        self.machine = machine
        self.thread = thread

    def routines(self) -> list[str]:
        """The names of every routine this surface offers."""
        return sorted(n for n in dir(type(self))
                      if getattr(getattr(type(self), n), "is_syscall", False))

    if not TYPE_CHECKING:
        # Hidden from the type checker, which would otherwise take every misspelt
        # attribute of a surface for a routine.
        def __getattr__(self, name: str):
            if name.startswith("_"):
                raise AttributeError(name)
            raise self._unknown(name)

    def _unknown(self, name: str) -> AttributeError:
        is_kernel = name.startswith(KERNEL_PREFIXES) or name in KERNEL_HELPERS
        if self.surface_name == "win32" and is_kernel:
            return WrongSurfaceError(
                f"{name} is a kernel routine; user-mode code ({self.thread.name}) cannot "
                f"call it. Use the Win32 functions (SetEvent, WaitForSingleObject, ...).")
        if self.surface_name == "kernel" and name in WIN32_ROUTINES:
            return WrongSurfaceError(
                f"{name} is a Win32 function; kernel code ({self.thread.name}) cannot call "
                f"it. Use the kernel routines (KeSetEvent, KeWaitForSingleObject, ...).")
        import difflib
        close = difflib.get_close_matches(name, self.routines(), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        return AttributeError(f"the {self.surface_name} surface has no routine {name!r}.{hint}")


__all__ = ["Surface", "KERNEL_PREFIXES", "KERNEL_HELPERS", "WIN32_ROUTINES", "calls", "Call",
           "Nested", "helper", "learner_frame", "new_call", "syscall", "value_call"]
