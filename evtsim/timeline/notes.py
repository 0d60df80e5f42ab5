"""What a trace record says, in words: the kind of op, the call, the result, the wait.

Built from the fields of one record (`op`, `args`, `result`): `op_kind` sorts ops into
set / pulse / reset / alert / apc / ... for arrows and markers, `call_text` and
`result_text` write the call and its result (the statuses, WAIT_* results and last
errors in it by name, as `evtsim.status.kind_of_result` says; plain values as numbers),
and `wait_objects` reads back a waiting span's label (`WaitAll(A, B)`, made by
evtsim.records.wait_label).
"""
from __future__ import annotations

from ..records import describe
from ..status import Named, kind_of_result, name_of, name_result


def op_kind(op: str) -> str:
    """What kind of thing an op does, for arrows and markers."""
    if "Pulse" in op:
        return "pulse"
    if op in ("KeSetEvent", "SetEvent", "ZwSetEvent", "NtSetEvent", "SignalObjectAndWait"):
        return "set"
    if op in ("KeResetEvent", "KeClearEvent", "ResetEvent", "ZwResetEvent", "ZwClearEvent"):
        return "reset"
    if "Alert" in op:
        return "alert"
    if "Apc" in op or "APC" in op:
        return "apc"
    if op == "IoCompleteRequest":
        return "complete"
    if op == "TimerExpired":
        return "timer"
    if op == "Timeout":
        return "timeout"
    return "other"


def _is_wait_op(op: str) -> bool:
    return "Wait" in op or "Delay" in op or "Sleep" in op


def result_text(op: str, result) -> str:
    """The result in words: each number the op's kind says is an NTSTATUS, a WAIT_*
    result or a last error by its name, inside tuples too; other values stay plain
    (KeSetEvent's previous state reads 0 or 1, never STATUS_SUCCESS)."""
    return _short(name_result(describe(result), kind_of_result(op)))


def result_text_v1(op: str, result) -> str:
    """The result as evtsim 0.1.0 wrote it, for the text of a version-1 trace file."""
    if result is None:
        return "None"
    if isinstance(result, bool):
        return str(result)
    if isinstance(result, int):
        if op == "Timeout" or op.startswith(("Ke", "Zw", "Nt")) and _is_wait_op(op):
            return name_of(result, "status")
        if _is_wait_op(op):
            return name_of(result, "wait")
        if op.startswith(("Zw", "Nt")):
            return name_of(result, "status")
        return _short(result)
    if isinstance(result, (list, tuple)) and result and isinstance(result[0], int) \
            and not isinstance(result[0], bool) and op.startswith(("Zw", "Nt", "Ob")):
        return "(" + ", ".join([name_of(result[0], "status")]
                               + [_short(v) for v in result[1:]]) + ")"
    return _short(result)


def _short(value) -> str:
    value = describe(value)
    if isinstance(value, Named):
        return value.name
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"0x{value:X}" if value > 0xFFFF else str(value)
    if isinstance(value, list):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return str(value)


def call_text(op: str, args, limit: int = 48) -> str:
    """`KeSetEvent(DataReady, 0, False)`, shortened to `limit` characters."""
    inner = ", ".join(_short(a) for a in (args or ()))
    if len(inner) > limit:
        inner = inner[:limit - 3] + "..."
    return f"{op}({inner})"


def wait_objects(description: str) -> tuple[list[str], bool]:
    """(`[EvA, EvB]`, wait_all) from `WaitAll(EvA, EvB)`; `Delay` waits on nothing."""
    if "(" not in description:
        return [], False
    head, _, rest = description.partition("(")
    return [n for n in rest.rstrip(")").split(", ") if n], head == "WaitAll"
