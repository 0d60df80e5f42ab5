"""How a run ended, in one sentence: the lab's verdict banner (no widgets).

A run is *at rest* when nothing inside the machine can take another step: no thread
is ready, no DPC is queued and no timer is still pending, or the machine has crashed.
Only then can the lab say how the run ended: every thread ended, a deadlock (who waits
for ever, on what, at which line), or a bug check. A thread that raised is told at
once. A lesson can add its own check (`verdict=`, for example lesson 07's
`LEVELS[2].verdict`); the lab asks it only at rest, because in the middle of a run a
consumer that waits is only waiting, not stranded.
"""
from __future__ import annotations

import traceback
from typing import Callable, NamedTuple

from ..units import time_us
from .texts import source_line, thread_result_words

__all__ = ["Verdict", "at_rest", "machine_verdict", "check_result", "verdict_of",
           "waiting_lines", "crash_text", "error_text"]

# How many threads' results the "all ended" banner lists before it says "and n more".
RESULTS_SHOWN = 6


class Verdict(NamedTuple):
    """The banner: `ok` (good news or bad), a `tone` and the text for people.

    Tones: "ended" (every thread ended), "passed" / "broken" (the lesson's check),
    "deadlock", "crashed" (bug check), "stopped" (a thread raised an error).
    """
    ok: bool
    tone: str
    text: str


def at_rest(m) -> bool:
    """True when nothing inside the machine can run again (or it has crashed).

    No ready thread, no queued DPC and no live timer: a wait with a timeout, a delay
    or a timer that is still set would let the clock move a thread on.
    """
    if m.bugcheck is not None:
        return True
    if m.ready or m.dpc_queue or m.raised is not None:
        return False
    live = type(m)._timer_live          # the run loop's own rule for a stale timer
    return not any(live(action, payload) for action, payload in m.timers.pending())


def waiting_lines(m) -> list[str]:
    """One line per waiting thread: who, on what, at which line of its code."""
    lines = []
    for t in m.threads:
        if t.state == "waiting" and t.wait is not None:
            line, code = source_line(t)
            where = f" at line {line}: {code}" if line is not None else ""
            lines.append(f"  {t.name} ({t.process.name}) waits on {t.wait.describe()}"
                         f"{where}")
    return lines


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def crash_text(m) -> str:
    """The bug check: stop code, thread, line, the broken rule and what to do."""
    b = m.bugcheck
    _, code = _line_of(m, b.thread, b.line)
    where = f", line {b.line}: {code}" if b.line else ""
    return (f"\u2716 BUG CHECK 0x{b.code:X} ({b.name}) in {b.thread} ({b.process}) at "
            f"t = {time_us(b.time)}{where}\n{b.rule}.\n{b.explanation}\nThe machine "
            f"has stopped. Undo goes back before the crash; Start over builds it again.")


def error_text(m) -> str | None:
    """The threads that stopped with a Python error, with the line that raised."""
    lines = []
    for t in m.threads:
        if t.error is None:
            continue
        frames = traceback.extract_tb(t.error.__traceback__)
        at = next((f for f in reversed(frames) if "/evtsim/" not in f.filename
                   .replace("\\", "/") or "/scenarios/" in f.filename), None)
        where = f" at line {at.lineno}: {(at.line or '').strip()}" if at else ""
        lines.append(f"\u2716 {t.name} ({t.process.name}) stopped with "
                     f"{type(t.error).__name__}{where}\n  {t.error}")
    return "\n".join(lines) or None


def machine_verdict(m) -> Verdict | None:
    """What the machine alone says: a crash, an error, or (at rest) ended / deadlock."""
    if m.bugcheck is not None:
        return Verdict(False, "crashed", crash_text(m))
    errors = error_text(m)
    if errors:
        return Verdict(False, "stopped", errors)
    if not m.threads or not at_rest(m):
        return None
    stuck = [t.name for t in m.threads if t.state == "waiting"]
    if not stuck:
        results = [f"{t.name} returned {thread_result_words(t)}"
                   for t in m.threads[:RESULTS_SHOWN]]
        more = len(m.threads) - RESULTS_SHOWN
        tail = f"; and {more} more" if more > 0 else ""
        return Verdict(True, "ended", "\u2714 All threads have ended. "
                       + "; ".join(results) + tail + ".")
    verb, them = ("waits", "it") if len(stuck) == 1 else ("wait", "them")
    return Verdict(False, "deadlock", "\n".join(
        [f"\u2716 Deadlock: {_names(stuck)} {verb} for ever. Nothing inside the machine "
         f"can wake {them}."] + waiting_lines(m)
        + ["You can still Set an event as the instructor, or Undo."]))


def check_result(result) -> tuple[bool, str] | None:
    """A lesson check's answer as (ok, text), or None for "no verdict yet".

    A check may return None, (ok, text), True / False, a sentence (lesson 07's
    `Level.verdict` says what broke in a sentence and returns True when the run is
    right), or anything with `ok` and `message` (an exercise Feedback).
    """
    if result is None:
        return None
    if isinstance(result, bool):
        return result, ("the run does what it should" if result else
                        "the run does not do what it should")
    if isinstance(result, str):
        return False, result
    if isinstance(result, tuple) and len(result) == 2:
        return bool(result[0]), str(result[1])
    if hasattr(result, "ok") and hasattr(result, "message"):
        return bool(result.ok), str(result.message)
    return bool(result), str(result)


def verdict_of(m, check: Callable | None = None) -> Verdict | None:
    """The banner for the machine now: a crash or an error at once; at rest, the
    lesson's `check` if it gives a verdict, else ended / deadlock; None while it runs."""
    if m.bugcheck is not None or check is None or not at_rest(m) or error_text(m):
        return machine_verdict(m)
    try:
        answer = check_result(check(m))
    except Exception as error:          # the check is code too: say so, go on
        name = getattr(check, "__qualname__", "the check")
        return Verdict(False, "stopped", f"\u2716 The lesson's check {name} could not "
                       f"judge this run: {type(error).__name__}: {error}")
    if answer is None:
        return machine_verdict(m)
    ok, text = answer
    text = text.strip().rstrip(".")
    if ok:
        return Verdict(True, "passed", f"\u2714 It works: {text}.")
    return Verdict(False, "broken", "\n".join([f"\u2716 You broke it: {text}."]
                                              + waiting_lines(m)))


def _line_of(m, thread_name, line):
    """(line, source text) of `line` in the file of the thread's code."""
    import linecache
    thread = next((t for t in m.threads if t.name == thread_name), None)
    if thread is None or line is None:
        return line, ""
    call = thread.next_call
    filename = call.filename if call is not None else None
    if filename is None:
        frame = getattr(getattr(thread, "gen", None), "gi_frame", None)
        filename = frame.f_code.co_filename if frame is not None else None
    return line, (linecache.getline(filename, line).strip() if filename else "")
