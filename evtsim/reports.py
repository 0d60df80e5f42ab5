"""What a run reports: bug checks, deadlocks and why a run stopped (kernel layer).

Plain records made by the machine and read by people and views: a simulated bug check
(stop code, the broken rule in plain words, where and when), a deadlock report naming
every blocked thread and what it waits on, and the RunResult that `Machine.run` returns.
Times read in microseconds (`evtsim.units.time_us`); `thread_result_text(thread)` says
what a thread returned, naming a number only with evidence of what it is.
"""
from __future__ import annotations

from typing import Any

from .errors import learner_frames
from .scheduler import Thread
from .status import kind_of_result, name_of, name_result
from .units import time_us


class BugCheckInfo:
    """A simulated blue screen: the stop code and what went wrong, in plain words."""

    def __init__(self, code, rule, explanation, thread, process, line, time, seq):
        self.code = code
        self.name = name_of(code, "bugcheck")
        self.rule = rule
        self.explanation = explanation
        self.thread = thread
        self.process = process
        self.line = line
        self.time = time
        self.seq = seq
        # the stop's four parameters where the source gives them (Driver Verifier's
        # 0xC4 rule codes, 0x93's handle), else None (docs/semantics.md section 8)
        self.parameters: tuple[object, object, object, object] | None = None

    def describe(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        return (f"Bug check 0x{self.code:X} ({self.name}): {self.rule}.\n"
                f"{self.explanation}\n"
                f"It happened in {self.thread} ({self.process}){where}, at time "
                f"{time_us(self.time)}. "
                f"The machine has stopped; build it again to retry.")

    __str__ = describe

    def __repr__(self) -> str:
        return f"<BugCheck 0x{self.code:X} {self.name}: {self.rule}>"


class BlockedThread:
    """One line of a deadlock report."""

    def __init__(self, thread: Thread) -> None:
        wait = thread.wait
        assert wait is not None, "only a waiting thread is blocked"

        self.thread = thread.name
        self.process = thread.process.name
        self.waits_for = wait.describe()
        self.objects = [o.name for o in wait.objects]
        self.since_time = wait.since_time
        self.line = wait.line
        self.holders = {o.name: o.holders() for o in wait.objects}

    def describe(self) -> str:
        line = f", line {self.line}" if self.line else ""
        text = (f"{self.thread} ({self.process}) waits on {self.waits_for} since time "
                f"{time_us(self.since_time)}{line}.")
        for name, holders in self.holders.items():
            if holders:
                text += f" {name} can still be set by: {', '.join(holders)}."
        return text


class DeadlockReport:
    """Every thread that waits forever, on what, and since when."""

    def __init__(self, threads: list[Thread]):
        self.blocked = [BlockedThread(t) for t in threads]

    def describe(self) -> str:
        return "\n".join("  " + b.describe() for b in self.blocked)

    __str__ = describe

    def __repr__(self) -> str:
        return f"<DeadlockReport {[b.thread for b in self.blocked]}>"


class RunResult:
    """Why `run` stopped: done, deadlock, idle, budget, bugcheck, error, manual or time."""

    def __init__(self, reason, steps, message, time, thread=None, bugcheck=None,
                 deadlock=None):
        self.reason = reason
        self.steps = steps
        self.message = message
        self.time = time
        self.thread = thread
        self.bugcheck = bugcheck
        self.deadlock = deadlock

    def __repr__(self) -> str:
        return (f"RunResult({self.reason!r}, steps={self.steps}, at time "
                f"{time_us(self.time)})\n{self.message}")

    __str__ = __repr__


def _is_object_wait(op: str) -> bool:
    """KeWaitFor*, ZwWaitFor*, WaitFor*, SignalObjectAndWait: a wait on objects (not a
    delay or a sleep, whose STATUS_SUCCESS says nothing about an object)."""
    return "WaitFor" in op or op == "SignalObjectAndWait"


def thread_result(thread: Thread) -> Any:
    """A thread's return value with the numbers whose kind is known shown by name.

    The rule (the lab's `thread_result_words` uses the same evidence from waits): a
    thread's return value is the learner's own, so a number in it is named only with
    evidence of what it is. DriverEntry returns an NTSTATUS by contract: its numbers are statuses.
    Otherwise a number (alone, or in a tuple or list) is named only when one of the
    thread's own object waits returned exactly that value in this run, with the name
    that wait's result has in the log (STATUS_TIMEOUT for KeWaitForSingleObject,
    WAIT_TIMEOUT for WaitForSingleObject): the poller's `(258, 0)` reads
    `(STATUS_TIMEOUT, STATUS_SUCCESS)`, while the setter's KeSetEvent state 0 stays 0.
    Any other number stays a number; name it yourself with `name_result(value, kind)`.
    """
    machine = thread.machine
    value = thread.result
    if any(getattr(d, "entry_thread", None) is thread for d in machine.drivers):
        return name_result(value, "status")
    seen: dict[int, object] = {}
    for record in machine.trace:
        result = record.result
        if (record.thread == thread.name and type(result) is int
                and _is_object_wait(record.op)):
            seen.setdefault(result, name_result(result, kind_of_result(record.op)))

    def named(v):
        if isinstance(v, bool) or not isinstance(v, (int, list, tuple)):
            return v
        if isinstance(v, int):
            return seen.get(v, v)
        items = [named(x) for x in v]
        return tuple(items) if isinstance(v, tuple) else items
    return named(value)


def thread_result_text(thread: Thread) -> str:
    """What a thread returned, in words (see `thread_result` for when a number is
    named): `STATUS_SUCCESS`, `(STATUS_TIMEOUT, STATUS_SUCCESS)`, `0`, `None`."""
    return repr(thread_result(thread))


def explain_error(thread: Thread, error: BaseException) -> str:
    frames = learner_frames(error.__traceback__)
    where = ""
    if frames:
        f = frames[-1]
        where = f" at line {f.lineno} ({(f.line or '').strip()})"
    return (f"{thread.name} ({thread.process.name}) stopped with "
            f"{type(error).__name__}{where}: {error}")


__all__ = ["BugCheckInfo", "BlockedThread", "DeadlockReport", "RunResult", "explain_error",
           "thread_result", "thread_result_text"]
