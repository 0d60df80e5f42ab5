"""How a run ended: its end state, and the failure it shows (if any), as plain data.

A run fails with a bug check, an exception in thread code ("error"), the per-run step
budget ("budget"), threads waiting for ever ("hang"; the stories module later tells a
deadlock from a stranded thread) or `check(m)` saying no ("check"). `classify` turns a
finished machine into an `Outcome` of plain values (the same on every core), which the
search then adds to its report.
"""
from __future__ import annotations

from typing import NamedTuple

from ..errors import learner_frames
from ..scheduler import WAITING
from .runs import state_key


class Outcome(NamedTuple):
    """The end of one run: its end state key (None when the step budget cut it), the
    failure as (kind, key, message, schedule) or None, and whether the budget was hit."""

    key: tuple | None
    failure: tuple | None
    budget_hit: bool


def classify(m, schedule: list, steps: int, first_error, max_steps: int,
             check) -> Outcome:
    """Classify the end of a run: its end state and any failure."""
    failure: tuple | None = None
    budget_hit = False
    ended = not m.choices() if steps >= max_steps else True
    if m.bugcheck is not None:
        b = m.bugcheck
        failure = ("bugcheck", ("bugcheck", b.code, b.rule),
                   f"bug check 0x{b.code:X} ({b.name}) in {b.thread}: {b.rule}", schedule)
    elif first_error is not None:
        thread, at = first_error
        err = thread.error
        line = _error_line(err)
        failure = ("error", ("error", thread.name, type(err).__name__, line),
                   f"{thread.name} stopped with {type(err).__name__}"
                   f"{f' at line {line}' if line else ''}: {err}", schedule[:at])
    elif not ended:
        budget_hit = True
        busiest = max(m.threads, key=lambda t: t.steps)
        failure = ("budget", ("budget", busiest.name),
                   f"no end after {max_steps} steps; {busiest.name} took "
                   f"{busiest.steps} of them (a loop that never waits?)", schedule)
    else:
        waiting = [t for t in m.threads if t.state == WAITING]
        if waiting:
            what = tuple(sorted((t.name, t.wait.describe(), t.wait.line) for t in waiting))
            text = "; ".join(f"{n} waits forever on {d}"
                             f"{f' (line {line})' if line else ''}" for n, d, line in what)
            # keyed by where they wait, not who: two consumers stuck at the same
            # line on the same event are one failure
            where = tuple(sorted((d, line) for _, d, line in what))
            failure = ("hang", ("hang", where), text, schedule)
        elif check is not None:
            failure = run_check(check, m, schedule)
    for t in m.threads:
        if t.error is not None and failure is None:
            failure = ("error", ("error", t.name, type(t.error).__name__, None),
                       f"{t.name} stopped with {type(t.error).__name__}: {t.error}",
                       schedule)
    return Outcome(state_key(m) if ended else None, failure, budget_hit)


def run_check(check, m, schedule) -> tuple | None:
    try:
        verdict = check(m)
    except Exception as error:           # the learner's check itself failed
        text = f"check(m) raised {type(error).__name__}: {error}"
        return ("check", ("check", text), text, schedule)
    if verdict is False:
        return ("check", ("check", None), "check(m) returned False", schedule)
    if isinstance(verdict, str) and verdict:
        return ("check", ("check", verdict), verdict, schedule)
    return None


def _error_line(error):
    frames = learner_frames(error.__traceback__) if error.__traceback__ else []
    return frames[-1].lineno if frames else None
