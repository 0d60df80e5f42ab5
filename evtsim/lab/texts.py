"""What the lab says about a machine, in plain words: events, threads, steps, lines.

`event_text` and `thread_text` describe an event or a thread in one line (the text a
screen reader gets; a view adds colour and symbols), `source_line` finds the line a
thread will run next, `record_words` tells one trace record as the lab's log does, and
`thread_result_words` names the wait statuses a thread returned (see its rule).
"""
from __future__ import annotations

import linecache
import weakref

from .. import trace as tracefiles
from ..api.kernel import NotificationEvent
from ..status import name_of
from ..timeline import call_text, result_text

__all__ = ["source_line", "type_words", "event_text", "waiters_text", "result_words",
           "thread_text", "record_words", "thread_result_words", "wait_result_names"]


def source_line(thread) -> tuple[int | None, str]:
    """(line number, source text) of the call the thread will run next.

    The call remembers its file and line; a thread that has not reached a call yet
    (or has ended) falls back to its generator's frame.
    """
    call = thread.next_call
    filename, line = None, None
    if call is not None:
        filename, line = call.filename, call.line
    else:
        frame = getattr(getattr(thread, "gen", None), "gi_frame", None)
        if frame is not None:
            filename, line = frame.f_code.co_filename, frame.f_lineno
    if not filename or not line:
        return None, ""
    return line, linecache.getline(filename, line).strip()


def type_words(obj) -> str:
    """`notification event (manual reset)`, `timer, synchronization`..."""
    if obj.kind == "KTIMER":
        return "timer, " + ("notification" if obj.Type == NotificationEvent else
                            "synchronization")
    return ("notification event (manual reset)" if obj.Type == NotificationEvent else
            "synchronization event (auto reset)")


def event_text(obj) -> str:
    """`DataReady: notification event (manual reset), SIGNALED; waiters: 1. w1, 2. w2 (wait-all)`"""
    state = "SIGNALED" if obj.SignalState else "not signaled"
    return f"{obj.name}: {type_words(obj)}, {state}; waiters: {waiters_text(obj)}"


def waiters_text(obj) -> str:
    """The object's waiters in FIFO order: `1. w1, 2. w2 (wait-all)`, or `none`."""
    parts = [f"{i}. {wb.thread.name}" + (" (wait-all)" if wb.wait_type == 0 else "")
             for i, wb in enumerate(obj.wait_list, 1)]
    return ", ".join(parts) if parts else "none"


def result_words(value) -> str:
    """A thread's or routine's result in words (a status by its name)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return name_of(value)
    return repr(tracefiles.describe(value))


def _is_object_wait(op: str) -> bool:
    """KeWaitForSingleObject, WaitForMultipleObjects, SignalObjectAndWait ... (not a
    delay or a sleep: their STATUS_SUCCESS says nothing about an object)."""
    return "WaitFor" in op or op == "SignalObjectAndWait"


# The last machine's wait results by thread, with the trace length they were read at:
# the lab asks for several threads after each click, and one pass serves them all.
_LAST: dict = {"machine": None, "length": -1, "names": {}}


def wait_result_names(thread) -> dict[int, str]:
    """{value: name} of every status the thread's own object waits returned, named as
    the log names them (NTSTATUS for Ke/Zw/Nt waits, WAIT_* for Win32 waits)."""
    m = thread.machine
    length = len(m.trace)
    known = _LAST["machine"]() if _LAST["machine"] is not None else None
    if known is not m or _LAST["length"] != length:
        names: dict[str, dict[int, str]] = {}
        for record in m.trace:
            result = record.result
            if isinstance(result, int) and not isinstance(result, bool) \
                    and _is_object_wait(record.op):
                names.setdefault(record.thread, {}).setdefault(
                    result, result_text(record.op, result))
        _LAST.update(machine=weakref.ref(m), length=len(m.trace), names=names)
    return _LAST["names"].get(thread.name, {})


def thread_result_words(thread, names: dict[int, str] | None = None) -> str:
    """What an ended thread returned, with wait statuses named.

    The rule: a whole number in the result (alone, or in a tuple or list) is shown by
    a status name only when one of this thread's own object waits returned exactly
    that value during the run, and with the name that wait's result has in the log
    (`STATUS_TIMEOUT` for KeWaitForSingleObject, `WAIT_TIMEOUT` for
    WaitForSingleObject). So the poller's `(before, after)` reads
    `(STATUS_TIMEOUT, STATUS_SUCCESS)`, while a KeSetEvent's previous state 0, returned
    by a thread that never waited on an object, stays `0`: a bare 0 is also
    STATUS_SUCCESS, WAIT_OBJECT_0 and FALSE, and only the waits tell which it is.
    Other values are shown as the trace file stores them (objects by their name).
    """
    if thread.error is not None:
        return f"nothing: it stopped with {type(thread.error).__name__}"
    if names is None:
        names = wait_result_names(thread)

    def words(value, depth=0):
        if isinstance(value, bool) or value is None:
            return str(value)
        if isinstance(value, int):
            return names.get(value, str(value))
        if isinstance(value, (tuple, list)) and depth == 0:
            inner = ", ".join(words(v, 1) for v in value)
            if isinstance(value, tuple):
                return f"({inner}{',' if len(value) == 1 else ''})"
            return f"[{inner}]"
        return repr(tracefiles.describe(value))
    return words(thread.result)


def thread_text(thread) -> str:
    """One line about a thread: process, mode, state, wait, next line."""
    mode = "user mode" if thread.mode == 1 else "kernel mode"
    text = f"{thread.name} ({thread.process.name}, {mode}): {thread.state}"
    if thread.wait is not None:
        text += (f" on {thread.wait.describe()}" if thread.state == "waiting" else
                 f": released from {thread.wait.describe()}")
    if thread.state == "terminated":
        if thread.error is not None:
            text += f", stopped by {type(thread.error).__name__}: {thread.error}"
        else:
            text += f", returned {thread_result_words(thread)}"
    line, code = source_line(thread)
    if line is not None and thread.state != "terminated":
        text += f"; next: line {line}: {code}"
    return text


def record_words(record) -> str:
    """One trace record as the log tells it: call, result, released, note, line."""
    text = f"{call_text(record.op, record.args)} -> {result_text(record.op, record.result)}"
    if record.released:
        text += f"; released {', '.join(record.released)}"
    if record.note:
        text += f" ({record.note})"
    if record.line:
        text += f"  [line {record.line}]"
    return text
