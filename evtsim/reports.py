"""What a run reports: bug checks, deadlocks and why a run stopped (kernel layer).

Plain records made by the machine and read by people and views: a simulated bug check
(stop code, the broken rule in plain words, where), a deadlock report naming every
blocked thread and what it waits on, and the RunResult that `Machine.run` returns.
"""
from __future__ import annotations

from .errors import learner_frames
from .scheduler import Thread
from .status import name_of


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

    def describe(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        return (f"Bug check 0x{self.code:X} ({self.name}): {self.rule}.\n"
                f"{self.explanation}\n"
                f"It happened in {self.thread} ({self.process}){where}, t={self.time}. "
                f"The machine has stopped; build it again to retry.")

    __str__ = describe

    def __repr__(self) -> str:
        return f"<BugCheck 0x{self.code:X} {self.name}: {self.rule}>"


class BlockedThread:
    """One line of a deadlock report."""

    def __init__(self, thread: Thread):
        wait = thread.wait
        self.thread = thread.name
        self.process = thread.process.name
        self.waits_for = wait.describe()
        self.objects = [o.name for o in wait.objects]
        self.since_time = wait.since_time
        self.line = wait.line
        self.holders = {o.name: o.holders() for o in wait.objects}

    def describe(self) -> str:
        text = (f"{self.thread} ({self.process}) waits on {self.waits_for} since "
                f"t={self.since_time}, line {self.line}.")
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
        return f"RunResult({self.reason!r}, steps={self.steps}, t={self.time})\n{self.message}"

    __str__ = __repr__


def explain_error(thread: Thread, error: BaseException) -> str:
    frames = learner_frames(error.__traceback__)
    where = ""
    if frames:
        f = frames[-1]
        where = f" at line {f.lineno} ({(f.line or '').strip()})"
    return (f"{thread.name} ({thread.process.name}) stopped with "
            f"{type(error).__name__}{where}: {error}")


__all__ = ["BugCheckInfo", "BlockedThread", "DeadlockReport", "RunResult", "explain_error"]
