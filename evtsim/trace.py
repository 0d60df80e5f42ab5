"""Trace files: save a run as JSON, load it back, replay it, and export it.

A machine's trace is a list of records (evtsim.records). A trace file holds the run
around them (what built it, what was done to it from outside, who took part) and every
record. This module is the public face of three rooms, and every name they promise is
importable from here:

- `evtsim.tracefile` writes files and reads them back as data: size, nesting and
  numbers bounded before the parse, then every field checked (`evtsim.tracecheck`,
  whose LIMITS docs/engine.md lists);
- `evtsim.replay` builds the scenario again and repeats the file's actions, checking
  the records as it goes (the engine is deterministic, so a replay gives the same ones);
- `evtsim.instructor` is the table of the kernel routines a file's `kernel` action may
  call: a trace file is data, never code.
"""
from __future__ import annotations

from typing import Any

from .instructor import INSTRUCTOR_ROUTINES
from .perfetto import to_perfetto  # the export lives there; the contract names it here
from .records import Trace, TraceRecord, describe
from .replay import ReplayError, apply_action, replay, run_actions
from .tracecheck import (
    FORMAT,
    LIMITS,
    READS,
    RECORD_FIELDS,
    V1_RECORD_FIELDS,
    VERSION,
    TraceFileError,
)
from .tracefile import (
    SavedTrace,
    dumps,
    from_bytes,
    from_data,
    load,
    save,
    to_data,
    why_not_replayable,
)


def text_timeline(machine_or_trace: Any, **options: Any) -> str:
    """The timeline as text, one line per step (see `evtsim.timeline.text`)."""
    from .timeline import text
    return text(machine_or_trace, **options)


__all__ = ["TraceRecord", "Trace", "describe", "FORMAT", "VERSION", "READS", "LIMITS",
           "RECORD_FIELDS", "V1_RECORD_FIELDS", "INSTRUCTOR_ROUTINES", "TraceFileError",
           "ReplayError", "SavedTrace", "save", "load", "from_bytes", "from_data",
           "to_data", "dumps", "replay", "run_actions", "apply_action", "text_timeline",
           "to_perfetto", "why_not_replayable"]
