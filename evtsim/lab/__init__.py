"""The event lab below its widgets: a machine played by hand, with a log and Undo.

`LabSession("notification_broadcast", waiters=3)` (or a Scenario, a Machine, or a
function that builds a Machine) holds the machine, what builds it again (the scenario
or the build function, and its parameters), the undo points and the log. Each action
of the lab is a method: `kernel` (Set, Reset, Clear or Pulse an event as the
instructor), `step` a thread, `run`, `add_waiter`, `undo`, `start_over`, `choose` a
policy or seed, `load` a saved trace and `trace_text` to save one. Each writes plain
sentences to `log_lines` and returns False when it was refused before touching the
machine, else True (a view then redraws); `status()` says where the run stands, as a
tone and a text, and `verdict()` how it ended (all ended, a deadlock naming who waits
on what, a bug check, or the lesson's own check given as `verdict=`).

Undo and Start over rest on determinism: the same scenario, policy, seed and outside actions
give the same run, so Undo builds the scenario again and repeats `m.actions` up to the
action before the last one, each with `evtsim.trace.apply_action`, the one replay of a
recorded action. Nothing here imports ipywidgets or matplotlib, so a session runs in
Pyodide; `evtsim.widgets.EventLab` is the view over it.

The modules: `session` (`LabSession`), `rebuild` (what builds the machine again, the
lab's added waiter, the replay of actions), `texts` (events, threads, steps and results
in words), `verdicts` (at rest? how did it end?), `now` (the timeline model with the
state now as its last column), `routine` (a thread's whole routine with its current
line) and `shared` (the data a scenario's threads share, as table rows).
"""
from __future__ import annotations

from .now import add_now_column, timeline_now
from .rebuild import added_waiter, buildable, call_builder, replay_actions
from .routine import Routine, routine_of
from .session import RUN_BUDGET, LabSession, check_params
from .shared import SharedRow, shared_state, value_words
from .texts import (
                    event_text,
                    record_words,
                    result_words,
                    source_line,
                    thread_result_words,
                    thread_text,
                    type_words,
                    waiters_text,
)
from .verdicts import Verdict, at_rest, check_result, machine_verdict, verdict_of

__all__ = ["LabSession", "RUN_BUDGET", "added_waiter", "buildable", "call_builder",
           "replay_actions", "source_line", "event_text", "thread_text", "type_words",
           "waiters_text", "result_words", "record_words", "thread_result_words",
           "check_params", "Verdict", "at_rest", "check_result", "machine_verdict",
           "verdict_of", "timeline_now", "add_now_column", "Routine", "routine_of",
           "SharedRow", "shared_state", "value_words"]
