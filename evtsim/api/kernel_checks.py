"""What every kernel routine starts with: IRQL levels and Driver Verifier's checks.

A routine checks its documented IRQL the way Driver Verifier does (a violation is a
simulated bug check 0xC4 naming the rule; a DPC that waits is 0xB8), and a Python
mistake in an argument is an EvtsimError, not a traceback. Waits need IRQL <= APC_LEVEL,
or <= DISPATCH_LEVEL for a poll (docs/semantics.md section 2). Sources: Microsoft's
wdm.h reference pages and ReactOS ke/*.c. `KernelChecks` is mixed into KernelApi.
"""
from __future__ import annotations

from typing import TypeVar, overload

from ..dispatcher import DispatcherObject, KernelMode, UserMode
from ..errors import BadArgumentError, BugCheckSignal, MachineStateError
from ..process import Process
from ..status import APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL, PASSIVE_LEVEL
from .base import Surface

IO_NO_INCREMENT = 0
EVENT_INCREMENT = 1
LEVEL_NAMES = {0: "PASSIVE_LEVEL", 1: "APC_LEVEL", 2: "DISPATCH_LEVEL", 31: "HIGH_LEVEL"}

D = TypeVar("D", bound=DispatcherObject)


def level_name(irql: int) -> str:
    return LEVEL_NAMES.get(irql, f"IRQL {irql}")


class KernelChecks(Surface):
    """Mixed into KernelApi: the checks its routines share."""

    # --- argument checks: a Python mistake is an EvtsimError, not a traceback ----------
    @overload
    def _object(self, value: object, routine: str) -> DispatcherObject: ...

    @overload
    def _object(self, value: object, routine: str, kind: type[D]) -> D: ...

    def _object(self, value: object, routine: str,
                kind: type[DispatcherObject] = DispatcherObject) -> DispatcherObject:
        if not isinstance(value, kind):
            want = (kind.kind if kind is not DispatcherObject
                    else "a dispatcher object (KEVENT, KTIMER)")
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
    def _timeout(value: object, routine: str) -> int | None:
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

    def _process(self) -> Process:
        """The process whose handle table this code uses (the attached one, if any)."""
        thread = self.thread
        return thread.attached or thread.process


__all__ = ["KernelChecks", "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "HIGH_LEVEL",
           "IO_NO_INCREMENT", "EVENT_INCREMENT", "LEVEL_NAMES", "level_name"]
