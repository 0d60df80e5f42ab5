"""Errors evtsim raises, all derived from one base, `EvtsimError`.

Each subclass also inherits the built-in exception it resembles (as Hypothesis does),
so `except ValueError` still works for a learner who knows Python but not evtsim.
In a notebook the error shows as one plain paragraph: IPython calls
`_render_traceback_` and we show the message and the learner's own line, never
evtsim's internals.
"""
from __future__ import annotations

import os
import traceback

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def is_evtsim_frame(filename: str) -> bool:
    """True for frames inside the evtsim package (hidden from learners)."""
    return os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)


def learner_frames(tb) -> list[traceback.FrameSummary]:
    """The frames of a traceback that belong to the learner's code."""
    return [f for f in traceback.extract_tb(tb) if not is_evtsim_frame(f.filename)]


class EvtsimError(Exception):
    """Base of every error raised by evtsim: the message says what to change."""

    def _render_traceback_(self) -> list[str]:
        lines = []
        frames = learner_frames(self.__traceback__)
        if frames:
            f = frames[-1]
            lines.append(f"  in {f.name}, line {f.lineno}: {(f.line or '').strip()}")
        lines.append(f"{type(self).__name__}: {self}")
        return lines


class ProtocolError(EvtsimError, TypeError):
    """A thread broke the yield protocol (a call not yielded, a yield of a non-call)."""


class MissingYieldError(ProtocolError):
    """An API call was made but its result was never yielded to the scheduler."""


class NotACallError(ProtocolError):
    """A thread yielded something that is not an evtsim API call."""


class WrongSurfaceError(EvtsimError, AttributeError):
    """A routine was called from the wrong mode (a kernel routine from user mode...)."""


class BadArgumentError(EvtsimError, ValueError):
    """An argument has the wrong Python type or an impossible value."""


class MachineStateError(EvtsimError, RuntimeError):
    """The machine cannot do that now (it has crashed, the thread is not ready...)."""


class WouldBlockError(MachineStateError):
    """`m.kernel` acts at once and cannot wait; start a thread to wait instead."""


class BugCheckError(MachineStateError):
    """An immediate call crashed the simulated machine (a simulated bug check)."""

    def __init__(self, info):
        super().__init__(info.describe())
        self.info = info


class BugCheckSignal(Exception):
    """Internal: raised by a routine to crash the simulated machine (KeBugCheckEx).

    Not an EvtsimError and never seen by learners: the machine catches it, stops, and
    reports a `BugCheckInfo` in plain words.
    """

    def __init__(self, code: int, rule: str, explanation: str):
        super().__init__(rule)
        self.code = code
        self.rule = rule
        self.explanation = explanation
