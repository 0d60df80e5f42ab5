"""What every kernel routine starts with: IRQL levels and Driver Verifier's checks.

A routine checks its documented IRQL the way Driver Verifier does (a violation is a
simulated bug check 0xC4 naming the rule, with the parameters of evtsim.api.verifier; a
DPC that waits is 0xB8), and a Python mistake in an argument is an EvtsimError, not a
traceback. Waits need IRQL <= APC_LEVEL, or <= DISPATCH_LEVEL for a poll
(docs/semantics.md section 2). Sources: Microsoft's wdm.h reference pages, the page
"Bug Check 0xC4", and ReactOS ke/*.c. `KernelChecks` is mixed into KernelApi.
"""
from __future__ import annotations

from typing import TypeVar, overload

from ..dispatcher import DispatcherObject, KernelMode, UserMode
from ..errors import BadArgumentError, BugCheckSignal, MachineStateError
from ..process import Process
from ..status import APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL, PASSIVE_LEVEL
from .base import Surface
from .verifier import DDI_RULES, KESETEVENT_ABOVE_DISPATCH, Stop, wait_code

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

    def _verifier(self, routine: str, max_irql: int, rule: str | None = None,
                  parameters: tuple[object, object, object, object] | None = None) -> None:
        """Bug check 0xC4 if the IRQL is above `max_irql`. A routine with a DDI
        compliance rule (verifier.DDI_RULES) gets that rule's code as parameter 1."""
        irql = self.thread.irql
        if irql <= max_irql:
            return
        text = rule or f"{routine} must be called at IRQL <= {level_name(max_irql)}"
        explanation = (f"{self.thread.name} called {routine} at {level_name(irql)}. Driver "
                       f"Verifier checks the IRQL each routine documents and stops the "
                       f"machine when a driver breaks it.")
        ddi = DDI_RULES.get(routine)
        if parameters is None and ddi is not None:
            _, code, name = ddi
            parameters = (code, f"{name}: {text}", None, 0)
            explanation += f" Rule {name}, parameter 1 = 0x{code:X}."
        if parameters is None:
            raise BugCheckSignal(0xC4, text, explanation)
        raise Stop(0xC4, parameters, text, explanation)

    def _ke_event_irql(self, routine: str, event: object, wait: object = False) -> None:
        """The IRQL rule of a Ke*Event routine, checked the same way for each: at most
        DISPATCH_LEVEL (KeSetEvent: Verifier's 0x80; the others: IrqlKeDispatchLte),
        and KeSetEvent with Wait=TRUE at most APC_LEVEL (IrqlKeSetEvent)."""
        irql = self.thread.irql
        if routine == "KeSetEvent" and irql > DISPATCH_LEVEL:
            self._verifier(routine, DISPATCH_LEVEL,
                           parameters=(KESETEVENT_ABOVE_DISPATCH, irql, event, 0))
        elif routine == "KeSetEvent" and wait:
            self._verifier("KeSetEvent with Wait=TRUE", APC_LEVEL,
                           "KeSetEvent with Wait=TRUE must be called at IRQL <= APC_LEVEL")
        else:
            self._verifier(routine, DISPATCH_LEVEL)

    @staticmethod
    def _timeout(value: object, routine: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadArgumentError(
                f"{routine}: a timeout is None (forever), 0 (poll), a negative number of "
                f"100 ns units (relative) or a positive absolute system time "
                f"(KeQuerySystemTime() + ...), not {value!r}")
        return value

    @staticmethod
    def _mode(value, routine: str) -> int:
        if value not in (KernelMode, UserMode) or isinstance(value, bool):
            raise BadArgumentError(f"{routine}: WaitMode is KernelMode or UserMode, not {value!r}")
        return value

    def _wait_irql(self, routine: str, timeout, objects: object = None) -> None:
        """Waits: a non-zero timeout needs IRQL <= APC_LEVEL; a poll <= DISPATCH_LEVEL.

        After KeSetEvent or KePulseEvent with Wait=TRUE, the rule applies to the IRQL
        the caller had before that call raised it (the wait goes back to it)."""
        thread = self.thread
        if thread.is_dpc and timeout != 0:
            raise BugCheckSignal(
                0xB8, "a DPC must never wait",
                f"{routine} with a non-zero timeout was called inside a DPC routine. A DPC "
                f"runs at DISPATCH_LEVEL in no particular thread, so it cannot wait. Poll "
                f"with a zero timeout, or hand the work to a thread.")
        irql = thread.saved_irql if thread.wait_next else thread.irql
        code = wait_code(irql, timeout)
        if code is None:
            return
        if timeout == 0:
            rule = f"{routine} with a zero timeout must be called at IRQL <= DISPATCH_LEVEL"
        else:
            rule = f"{routine} with a non-zero timeout must be called at IRQL <= APC_LEVEL"
        raise Stop(0xC4, (code, irql, objects, timeout), rule,
                   f"{thread.name} called {routine} at {level_name(irql)}. Driver Verifier "
                   f"checks the IRQL each routine documents and stops the machine when a "
                   f"driver breaks it (parameter 1 = 0x{code:X}).")

    def _raise_for_wait(self, routine: str, Wait) -> None:
        """KeSetEvent/KePulseEvent with Wait=TRUE keep the IRQL raised for the next wait
        (its IRQL rule is checked by _ke_event_irql, before this)."""
        if Wait and self.immediate:
            raise MachineStateError(f"m.kernel cannot use Wait=TRUE in {routine}: it never waits")

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
