"""Driver Verifier's IRQL checks: the rule a routine breaks, and the four parameters of
the bug check it raises.

evtsim runs as if Driver Verifier were on (docs/semantics.md sections 2 and 10). A call
above the IRQL its routine documents stops the machine with bug check 0xC4, and
parameter 1 says which check fired, as Microsoft's page "Bug Check 0xC4:
DRIVER_VERIFIER_DETECTED_VIOLATION" lists them:

* 0x80: KeSetEvent above DISPATCH_LEVEL (P2 the IRQL, P3 the event);
* 0x120, 0x121, 0x122 (Windows 7 and later): a Ke wait above DISPATCH_LEVEL, at
  DISPATCH_LEVEL with no timeout, at DISPATCH_LEVEL with a non-zero timeout (P2 the
  IRQL, P3 the object, P4 the timeout);
* the DDI compliance rules (Windows 8 and later; P2 the rule's text, P3 its state):
  0x00020011 IrqlKeDispatchLte (KeResetEvent, KeClearEvent, KePulseEvent,
  KeReadStateEvent), 0x00020016 IrqlKeSetEvent (KeSetEvent with Wait=TRUE above
  APC_LEVEL), 0x0002000D IrqlIoPassive4 (the two Io event calls), 0x0002001F
  IrqlZwPassive (ZwClose).

Where Windows passes an address, evtsim passes the object itself, and the rule's text
where Windows passes a pointer to it. A routine whose Verifier code no source gives
stops with 0xC4 and no parameters.
"""
from __future__ import annotations

from ..errors import BugCheckSignal
from ..status import APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL

Parameters = tuple[object, object, object, object]

# Parameter 1 of bug check 0xC4 for the checks evtsim makes.
KESETEVENT_ABOVE_DISPATCH = 0x80
WAIT_ABOVE_DISPATCH = 0x120
WAIT_AT_DISPATCH_FOREVER = 0x121
WAIT_AT_DISPATCH_WITH_TIMEOUT = 0x122

# routine -> (highest IRQL allowed, parameter 1, the DDI compliance rule's name)
DDI_RULES: dict[str, tuple[int, int, str]] = {
    "KeResetEvent": (DISPATCH_LEVEL, 0x00020011, "IrqlKeDispatchLte"),
    "KeClearEvent": (DISPATCH_LEVEL, 0x00020011, "IrqlKeDispatchLte"),
    "KePulseEvent": (DISPATCH_LEVEL, 0x00020011, "IrqlKeDispatchLte"),
    "KeReadStateEvent": (DISPATCH_LEVEL, 0x00020011, "IrqlKeDispatchLte"),
    "KeSetEvent with Wait=TRUE": (APC_LEVEL, 0x00020016, "IrqlKeSetEvent"),
    "IoCreateNotificationEvent": (PASSIVE_LEVEL, 0x0002000D, "IrqlIoPassive4"),
    "IoCreateSynchronizationEvent": (PASSIVE_LEVEL, 0x0002000D, "IrqlIoPassive4"),
    "ZwClose": (PASSIVE_LEVEL, 0x0002001F, "IrqlZwPassive"),
}


class Stop(BugCheckSignal):
    """A bug check with the four parameters KeBugCheckEx passes (the machine keeps
    them on `m.bugcheck.parameters`)."""

    def __init__(self, code: int, parameters: Parameters, rule: str,
                 explanation: str) -> None:
        super().__init__(code, rule, explanation)
        self.parameters = parameters


def parameters_of(signal: BugCheckSignal) -> Parameters | None:
    """The four parameters of a bug check, or None when no source gives them."""
    return signal.parameters if isinstance(signal, Stop) else None


def wait_code(irql: int, timeout: int | None) -> int | None:
    """Parameter 1 of a Ke wait that breaks its IRQL rule, or None if the wait is
    allowed: any wait above DISPATCH_LEVEL is 0x120; at DISPATCH_LEVEL only a zero
    timeout is allowed (no timeout 0x121, a non-zero one 0x122)."""
    if irql > DISPATCH_LEVEL:
        return WAIT_ABOVE_DISPATCH
    if irql == DISPATCH_LEVEL and timeout != 0:
        return WAIT_AT_DISPATCH_FOREVER if timeout is None else WAIT_AT_DISPATCH_WITH_TIMEOUT
    return None


__all__ = ["Stop", "Parameters", "DDI_RULES", "parameters_of", "wait_code",
           "KESETEVENT_ABOVE_DISPATCH", "WAIT_ABOVE_DISPATCH", "WAIT_AT_DISPATCH_FOREVER",
           "WAIT_AT_DISPATCH_WITH_TIMEOUT"]
