"""The event lab below its widgets: a machine played by hand, with a log and Undo.

`LabSession("notification_broadcast", waiters=3)` (or a Scenario, a Machine, or a
function that builds a Machine) holds the machine, what builds it again (the scenario
or the build function, and its parameters), the undo points and the log. Each action
of the lab is a method: `kernel` (Set, Reset, Clear or Pulse an event as the
instructor), `step` a thread, `run`, `add_waiter`, `undo`, `reset`, `choose` a policy or
seed, `load` a saved trace and `trace_text` to save one. Each writes plain sentences to
`log_lines` and returns False when it was refused before touching the machine, else
True (a view then redraws); `status()` says where the run stands, as a tone and a text.

Undo and Reset rest on determinism: the same scenario, policy, seed and outside actions
give the same run, so Undo builds the scenario again and repeats `m.actions` up to the
action before the last one, each with `evtsim.trace.apply_action`, the one replay of a
recorded action. Nothing here imports ipywidgets or matplotlib, so a session runs in
Pyodide; `evtsim.widgets.EventLab` is the view over it.

The modules: `session` (`LabSession`), `rebuild` (what builds the machine again, the
lab's added waiter, the replay of actions) and `texts` (events, threads and steps in
words).
"""
from __future__ import annotations

from .rebuild import added_waiter, buildable, call_builder, replay_actions
from .session import RUN_BUDGET, LabSession
from .texts import (event_text, record_words, result_words, source_line, thread_text,
                    type_words, waiters_text)

__all__ = ["LabSession", "RUN_BUDGET", "added_waiter", "buildable", "call_builder",
           "replay_actions", "source_line", "event_text", "thread_text", "type_words",
           "waiters_text", "result_words", "record_words"]
