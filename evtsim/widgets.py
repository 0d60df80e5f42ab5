"""Lab panels for Jupyter: play with events and threads by hand and watch the timeline.

`EventLab(machine_or_scenario)` shows every event (name, type, a signaled indicator in
words, colour and symbol, its waiters in FIFO order) with Set / Reset / Clear / Pulse
buttons that act through `m.kernel` as the instructor, and every thread (process, mode,
state, what it waits on, the source line it will run next) with a Step button, so the
learner plays the scheduler as in The Deadlock Empire. Run, Undo, Reset, Add waiter, a
policy and seed chooser, the live timeline (one figure redrawn in place into an Image)
and a log of every action complete it.

Undo and Reset rest on determinism: the same scenario, policy, seed and outside actions
give the same run, so Undo builds the scenario again and repeats `m.actions` up to the
action before the last click. Nothing a callback does may vanish: every exception is
caught into the log as a sentence, and anything printed goes into a captured output.

The smaller widgets the lessons need: `EventDemo` (one event, a few waiters, Set and
Reset), `Predict` (tick the threads a signal will release, then reveal) and
`TraceFiles` (download the trace, upload it again after a culled Binder session).

This module and `evtsim.plot` are the only ones that import ipywidgets / matplotlib.
"""
from __future__ import annotations

import base64
import functools
import html
import inspect
import json
import linecache
import re
import traceback

import ipywidgets as W

from . import plot, scenarios
from . import trace as tracefiles
from .api.kernel import Executive, KernelMode, NotificationEvent, SynchronizationEvent
from .errors import BugCheckError, EvtsimError, MachineStateError
from .machine import Machine
from .scheduler import POLICIES
from .status import name_of

__all__ = ["EventLab", "EventDemo", "Predict", "TraceFiles", "added_waiter",
           "source_line", "event_text", "thread_text"]

# Okabe-Ito, as in evtsim.plot; the meaning is also in a word and a symbol.
GREEN, GREY, VERMILLION, BLUE, SKY, ORANGE = ("#009E73", "#6B6B6B", "#D55E00", "#0072B2",
                                             "#56B4E9", "#E69F00")
KERNEL_OPS = {
    "Set": ("KeSetEvent", "Signal the event (KeSetEvent): a notification event releases "
            "every waiter and stays signaled; a synchronization event releases one waiter "
            "or stays signaled until one comes"),
    "Reset": ("KeResetEvent", "Make the event not signaled (KeResetEvent, returns the "
              "previous state)"),
    "Clear": ("KeClearEvent", "Make the event not signaled (KeClearEvent, returns nothing)"),
    "Pulse": ("KePulseEvent", "Signal and at once reset (KePulseEvent): releases the "
              "threads waiting right now, nobody later"),
}
RUN_BUDGET = 10_000
LOG_SHOWN = 200
_ADDED = re.compile(r"^added\((?P<event>.*)\)(#\d+)?$")


# --- texts the panel shows (plain words; the HTML adds colour and symbols) -----------
def added_waiter(k, event):
    """A waiter the lab added: waits once on `event` (kernel mode, no timeout)."""
    status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
    return status


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


def _type_words(obj) -> str:
    if obj.kind == "KTIMER":
        return "timer, " + ("notification" if obj.Type == NotificationEvent else
                            "synchronization")
    return ("notification event (manual reset)" if obj.Type == NotificationEvent else
            "synchronization event (auto reset)")


def event_text(obj) -> str:
    """`DataReady: notification event (manual reset), SIGNALED; waiters: 1. w1, 2. w2 (wait-all)`"""
    state = "SIGNALED" if obj.SignalState else "not signaled"
    return f"{obj.name}: {_type_words(obj)}, {state}; waiters: {_waiters_text(obj)}"


def _waiters_text(obj) -> str:
    parts = [f"{i}. {wb.thread.name}" + (" (wait-all)" if wb.wait_type == 0 else "")
             for i, wb in enumerate(obj.wait_list, 1)]
    return ", ".join(parts) if parts else "none"


def _result_words(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return name_of(value)
    return repr(tracefiles.describe(value))


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
            text += f", returned {_result_words(thread.result)}"
    line, code = source_line(thread)
    if line is not None and thread.state != "terminated":
        text += f"; next: line {line}: {code}"
    return text


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _badge(text, colour, symbol) -> str:
    return (f'<span style="background:{colour};color:white;border-radius:3px;'
            f'padding:1px 6px;font-weight:bold;white-space:nowrap">{symbol} {_esc(text)}</span>')


def _state_badge(obj) -> str:
    if obj.SignalState:
        return _badge("SIGNALED", GREEN, "\u25cf")          # filled circle
    return _badge("not signaled", GREY, "\u25cb")            # hollow circle


THREAD_BADGES = {
    "ready": (BLUE, "\u25b7"), "running": (BLUE, "\u25b6"), "waiting": (VERMILLION, "\u2016"),
    "terminated": (GREY, "\u25a0"),
}


def _button(label, tooltip, icon=""):
    return W.Button(description=label, tooltip=tooltip, icon=icon,
                    layout=W.Layout(width="auto"))


def _buildable(source):
    """(build(policy, seed) -> Machine or None, machine, scenario name or None, params)."""
    if isinstance(source, str):
        source = scenarios.get(source)
    if isinstance(source, scenarios.Scenario):
        entry = source
        return None, None, entry.name, dict(entry.defaults)
    if isinstance(source, Machine):
        if source.scenario is not None:
            name, params = source.scenario
            return None, source, name, dict(params)
        return None, source, None, {"policy": source.policy.name, "seed": source.seed}
    if callable(source):
        return source, None, None, {"policy": "round_robin", "seed": 0}
    raise EvtsimError("EventLab takes a scenario name (see evtsim.scenarios.names()), a "
                      "Scenario, a Machine, or a function that builds a Machine")


def _call_builder(fn, policy, seed):
    try:
        accepted = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        accepted = {}
    kwargs = {}
    if "policy" in accepted:
        kwargs["policy"] = policy
    if "seed" in accepted:
        kwargs["seed"] = seed
    machine = fn(**kwargs)
    if not isinstance(machine, Machine):
        raise EvtsimError(f"the build function returned {type(machine).__name__}, not a "
                          f"Machine")
    return machine


def replay_actions(machine, actions, added=None):
    """Repeat outside actions on a freshly built machine (used by Undo and upload).

    `start` actions of threads the machine starts itself are skipped (they exist again
    by then); threads the lab added (`added_waiter`) are started again; any other
    thread started from outside cannot be rebuilt and raises ReplayError.
    """
    for i, action in enumerate(actions):
        kind = action[0]
        try:
            if kind == "run":
                machine.run(max_steps=action[1], until=action[2])
            elif kind == "step":
                thread = None
                if action[1] is not None:
                    thread = machine.find(action[1])
                    if thread is None:
                        raise tracefiles.ReplayError(f"the replay has no thread "
                                                     f"{action[1]} to step")
                machine.step(thread)
            elif kind == "kernel":
                routine = getattr(machine.kernel, action[1])
                routine(*_resolve(machine, action[2]), **_resolve(machine, action[3]))
            elif kind == "start":
                name = action[3]
                if any(t.name == name for t in machine.threads):
                    continue
                match = _ADDED.match(name)
                event = machine.find(match.group("event")) if match else None
                if match and action[2] == added_waiter.__qualname__ and event is not None:
                    machine.system.start(added_waiter, event,
                                         name=f"added({match.group('event')})")
                else:
                    raise tracefiles.ReplayError(
                        f"thread {name} was started from outside the scenario with "
                        f"{action[2]}; its code is not in the file, so this run cannot be "
                        f"rebuilt")
        except (MachineStateError, BugCheckError) as error:
            if isinstance(error, tracefiles.ReplayError):
                raise
            if kind not in ("step", "kernel"):
                raise tracefiles.ReplayError(
                    f"actions[{i}] {list(action)} was refused this time: {error}") from None
    return machine


def _resolve(machine, value, key=None):
    if isinstance(value, (list, tuple)):
        return [_resolve(machine, v) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(machine, v, k) for k, v in value.items()}
    if isinstance(value, str) and key != "name":
        found = machine.find(value)
        if found is not None:
            return found
    return value


def _guarded(method):
    """A callback that never raises and never prints into the void."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self.captured:
            try:
                return method(self, *args, **kwargs)
            except Exception as error:          # the panel must stay usable
                self._fail(method.__name__, error)
    return run


class _Panel(W.VBox):
    """What every widget here shares: a log, a captured output, a status line."""

    def _init_panel(self, log_title="Log"):
        self.log_lines: list[str] = []
        self.log_box = W.HTML(value=self._log_html(), layout=W.Layout(
            max_height="14em", overflow="auto", border="1px solid #ccc", padding="2px 6px"))
        self.log_box.add_class("evtsim-log")
        self.captured = W.Output(layout=W.Layout(max_height="8em", overflow="auto"))
        self.status = W.HTML(value="")
        self.status.add_class("evtsim-status")
        self._log_title = log_title

    def _log_html(self):
        shown = self.log_lines[-LOG_SHOWN:]
        more = len(self.log_lines) - len(shown)
        head = f"<i>({more} earlier lines)</i><br>" if more else ""
        body = "<br>".join(_esc(line) for line in reversed(shown)) or "<i>nothing yet</i>"
        return (f'<div role="log" aria-live="polite" style="font-family:monospace;'
                f'font-size:90%">{head}{body}</div>')

    def say(self, text: str) -> None:
        """Add a line to the visible log (newest first on screen)."""
        for line in str(text).splitlines() or [""]:
            self.log_lines.append(line)
        self.log_box.value = self._log_html()

    def _fail(self, where, error):
        if isinstance(error, EvtsimError):
            self.say(f"{where}: {error}")
        else:
            last = traceback.extract_tb(error.__traceback__)[-1:]
            at = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
            self.say(f"{where}: unexpected {type(error).__name__}: {error}{at}. "
                     f"The panel still works; please report this.")

    def _set_status(self, text, colour=None):
        if not text:
            self.status.value = ""
            return
        border = colour or BLUE
        self.status.value = (
            f'<div role="status" style="border:2px solid {border};border-radius:4px;'
            f'padding:4px 8px;white-space:pre-wrap;font-family:monospace">{_esc(text)}</div>')


class _EventRow:
    def __init__(self, lab, obj):
        self.name = obj.name
        self.title = W.HTML()
        self.indicator = W.HTML()
        self.waiters = W.HTML()
        self.buttons = {}
        children = [self.title, self.indicator]
        if obj.kind == "KEVENT":
            for label, (op, tip) in KERNEL_OPS.items():
                button = _button(label, f"{tip}. Acts on {obj.name} as the instructor.")
                button.on_click(functools.partial(lab._on_kernel, op, obj.name))
                self.buttons[label] = button
                children.append(button)
        children.append(self.waiters)
        self.box = W.HBox(children, layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.box.add_class("evtsim-event")

    def update(self, obj, crashed):
        path = obj.header.path if obj.header is not None else None
        where = f" <small>{_esc(path)}</small>" if path and path != obj.name else ""
        self.title.value = (f'<b style="font-size:110%">{_esc(obj.name)}</b>{where} '
                            f"<small>{_esc(_type_words(obj))}</small>")
        self.indicator.value = _state_badge(obj)
        parts = []
        for i, wb in enumerate(obj.wait_list, 1):
            tag = " <b>(wait-all)</b>" if wb.wait_type == 0 else ""
            parts.append(f"{i}.&nbsp;{_esc(wb.thread.name)}{tag}")
        self.waiters.value = ("waiters (first served first): " + " \u2192 ".join(parts)
                              if parts else "<i>no waiters</i>")
        for button in self.buttons.values():
            button.disabled = crashed


class _ThreadRow:
    def __init__(self, lab, thread):
        self.name = thread.name
        self.label = W.HTML()
        self.state = W.HTML()
        self.line = W.HTML()
        self.step = _button("Step", f"Run one step of {thread.name} (you are the scheduler)")
        self.step.on_click(functools.partial(lab._on_step, thread.name))
        top = W.HBox([self.step, self.label, self.state],
                     layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.box = W.VBox([top, self.line])
        self.box.add_class("evtsim-thread")

    def update(self, thread, crashed, at_fault):
        mode = "user mode" if thread.mode == 1 else "kernel mode"
        self.label.value = (f"<b>{_esc(thread.name)}</b> <small>{_esc(thread.process.name)}"
                            f", {mode}</small>")
        colour, symbol = THREAD_BADGES.get(thread.state, (GREY, "?"))
        text = thread.state
        if thread.wait is not None:
            text += (f" on {thread.wait.describe()}" if thread.state == "waiting" else
                     f": released from {thread.wait.describe()}")
        if thread.state == "terminated":
            text = ("ended with an error" if thread.error is not None else
                    f"ended, returned {_result_words(thread.result)}")
        self.state.value = _badge(text, colour, symbol)
        line, code = source_line(thread)
        if thread.state == "terminated" or line is None:
            self.line.value = ('<div style="font-family:monospace;color:#555;margin-left:2em">'
                               + ("stopped: " + _esc(thread.error) if thread.error is not None
                                  else "(no more lines)") + "</div>")
        else:
            why = " (returns from its wait when released)" if thread.wait is not None else ""
            bg = "#FBE3D6" if at_fault else "#FFF3B0"
            self.line.value = (
                f'<div style="font-family:monospace;margin-left:2em">'
                f'<span style="background:{bg};border-left:4px solid '
                f'{VERMILLION if at_fault else ORANGE};padding:0 6px">\u25b6 line {line}: '
                f'{_esc(code)}</span><small>{why}</small></div>')
        self.step.disabled = crashed or thread.state != "ready"
        self.step.tooltip = (f"Run one step of {thread.name}: {thread.next_call!r}"
                             if thread.state == "ready" else
                             f"{thread.name} cannot run now: it is {thread.state}")


class EventLab(_Panel):
    """The event lab: every event and thread of a machine, driven by hand.

    `EventLab("notification_broadcast", waiters=3)`, `EventLab(scenarios.get(name))`,
    `EventLab(machine)` or `EventLab(build_function)`. A plain Machine that was not
    built from a scenario cannot be rebuilt, so Undo, Reset and the policy and seed
    chooser are disabled for it (the panel says why).
    """

    def __init__(self, machine_or_scenario="notification_broadcast", *, width=10,
                 font_scale=1.0, **params):
        super().__init__()
        self._init_panel()
        builder, machine, name, defaults = _buildable(machine_or_scenario)
        if params and (machine is not None):
            raise EvtsimError("scenario parameters go with a scenario name, not a Machine")
        self.builder = builder
        self.scenario_name = name
        self.params = {**defaults, **params}
        self.rebuildable = builder is not None or name is not None
        self.checkpoints: list[int] = []
        self.last_result = None
        self._reported_errors: set[str] = set()
        self.event_rows: dict[str, _EventRow] = {}
        self.thread_rows: dict[str, _ThreadRow] = {}
        self.timeline = plot.Timeline(None, width=width, font_scale=font_scale)
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.image.add_class("evtsim-timeline")
        self.text_timeline = W.HTML()
        self.redraws = 0
        self._build_controls()
        base = 0
        if machine is None:
            machine = self._build()
            base = len(machine.actions)
        self._attach(machine, base)
        title = ""
        if name is not None:
            entry = scenarios.get(name)
            title = (f"<h3 style='margin:4px 0'>{_esc(entry.title)}</h3>"
                     f"<div><small>{_esc(entry.source)}</small></div>"
                     f"<div><i>What to look for:</i> {_esc(entry.outcome)}</div>")
        self.header = W.HTML(title or "<h3 style='margin:4px 0'>Event lab</h3>")
        self.events_box = W.VBox()
        self.threads_box = W.VBox()
        texts = W.Accordion(children=[self.text_timeline, self.captured])
        texts.set_title(0, "Timeline as text (last steps; for screen readers)")
        texts.set_title(1, "Anything printed by callbacks")
        self.children = [
            self.header, self.controls, self.status,
            W.HTML("<b>Events</b>"), self.events_box,
            W.HTML("<b>Threads</b>"), self.threads_box,
            W.HTML("<b>Timeline</b>"), self.image,
            W.HTML("<b>Log</b> (newest first)"), self.log_box, texts, self.files,
        ]
        self.add_class("evtsim-lab")
        self.say(f"Lab opened on {self._what()}.")
        if not self.rebuildable:
            self.say("Undo and Reset are off: " + self.why_not_rebuildable)
        self.refresh()

    # --- building ---------------------------------------------------------------------
    why_not_rebuildable = ("this Machine was not built from a scenario, so the lab cannot "
                           "build it again; pass a scenario name or a build function "
                           "to EventLab to get Undo and Reset.")

    def _what(self):
        if self.scenario_name:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
            return f"scenario {self.scenario_name} ({shown})"
        if self.builder is not None:
            return (f"{getattr(self.builder, '__name__', 'a build function')}(policy="
                    f"{self.params['policy']!r}, seed={self.params['seed']})")
        return "a hand-built machine"

    def _build(self):
        policy, seed = self.params.get("policy", "round_robin"), self.params.get("seed", 0)
        if self.scenario_name is not None:
            return scenarios.build(self.scenario_name, **self.params)
        if self.builder is not None:
            return _call_builder(self.builder, policy, seed)
        raise MachineStateError(self.why_not_rebuildable)

    def _attach(self, machine, base=0):
        """Show `machine`; its actions from `base` on are the ones Undo repeats (a
        build function's own start-up calls come before `base`)."""
        self.machine = machine
        self.base = base
        # The lab is an instructor at the keyboard: when every thread waits, someone
        # can still set an event, so the engine says "idle" (docs/engine.md).
        machine.interactive = True
        self._reported_errors = {t.name for t in machine.threads if t.error is not None}

    def _build_controls(self):
        self.run_button = _button("Run", "Run until every thread ends or waits (idle), "
                                  f"at most {RUN_BUDGET} steps", "play")
        self.undo_button = _button("Undo", "Go back one action: build the scenario again "
                                   "and repeat every action but the last", "undo")
        self.reset_button = _button("Reset", "Build the scenario again from the start "
                                    "(with the policy and seed chosen here)", "refresh")
        self.add_button = _button("Add waiter", "Start one more kernel thread that waits "
                                  "on the chosen event", "plus")
        self.add_event = W.Dropdown(description="on event", options=[],
                                    layout=W.Layout(width="auto"),
                                    style={"description_width": "initial"})
        self.policy = W.Dropdown(description="policy", options=list(POLICIES),
                                 value=self.params.get("policy", "round_robin"),
                                 layout=W.Layout(width="auto"),
                                 style={"description_width": "initial"})
        self.policy.tooltip = "Scheduling policy; changing it rebuilds"
        self.seed = W.BoundedIntText(description="seed", value=self.params.get("seed", 0),
                                     min=0, max=2**31 - 1, layout=W.Layout(width="9em"),
                                     style={"description_width": "initial"})
        self.seed.tooltip = "Seed of the random policy; changing it rebuilds"
        self.run_button.on_click(self._on_run)
        self.undo_button.on_click(self._on_undo)
        self.reset_button.on_click(self._on_reset)
        self.add_button.on_click(self._on_add_waiter)
        self.policy.observe(self._on_choice, names="value")
        self.seed.observe(self._on_choice, names="value")
        self.files = TraceFiles(self)
        self.controls = W.HBox([self.run_button, self.undo_button, self.reset_button,
                                self.add_button, self.add_event, self.policy, self.seed],
                               layout=W.Layout(flex_flow="row wrap", align_items="center"))

    # --- actions ------------------------------------------------------------------------
    def _act(self, what, fn):
        """Run one action on the machine, log it, keep an undo point, refresh."""
        m = self.machine
        before = (len(m.actions), len(m.trace), m.bugcheck is not None)
        try:
            return fn(m)
        except EvtsimError as error:
            self.say(f"{what}: refused: {error}")
        finally:
            after = (len(m.actions), len(m.trace), m.bugcheck is not None)
            if after != before:
                self.checkpoints.append(before[0])
            self.refresh()

    def _released_since(self, seq_before):
        released = []
        for record in self.machine.trace[seq_before:]:
            released.extend(record.released)
        return released

    @_guarded
    def _on_kernel(self, op, event_name, _button=None):
        obj = self.machine.find(event_name)
        if obj is None:
            self.say(f"{op}({event_name}): there is no event {event_name} (any more)")
            return
        call = f"{op}({event_name}" + (", 0, FALSE)" if op in ("KeSetEvent", "KePulseEvent")
                                       else ")")

        def act(m):
            n = len(m.trace)
            routine = getattr(m.kernel, op)
            args = (obj, 0, False) if op in ("KeSetEvent", "KePulseEvent") else (obj,)
            try:
                result = routine(*args)
            except BugCheckError as error:
                self.say(f"instructor: {call} -> {error}")
                return
            released = self._released_since(n)
            words = ("previous state " + str(result) if isinstance(result, int)
                     and not isinstance(result, bool) else _result_words(result))
            tail = (f"; released {', '.join(released)}" if released else
                    "; released nobody")
            self.say(f"instructor: {call} -> {words}{tail}; {obj.name} is now "
                     f"{'SIGNALED' if obj.SignalState else 'not signaled'}")
        self._act(call, act)

    @_guarded
    def _on_step(self, thread_name, _button=None):
        def act(m):
            thread = m.find(thread_name)
            if m.bugcheck is not None:
                self.say(f"Step {thread_name}: refused: the machine has crashed; "
                         f"use Undo or Reset")
                return
            if thread is None or thread.state != "ready":
                state = thread.state if thread is not None else "gone"
                what = f" on {thread.wait.describe()}" if thread is not None and thread.wait else ""
                ready = ", ".join(t.name for t in m.ready) or "none"
                self.say(f"Step {thread_name}: refused: it is {state}{what}. "
                         f"Ready threads: {ready}.")
                return
            n = len(m.trace)
            m.step(thread)
            for record in m.trace[n:]:
                self.say(f"step #{record.seq} {record.thread}: {self._record_words(record)}")
            if len(m.trace) == n:
                self.say(f"Step {thread_name}: nothing ran")
        self._act(f"Step {thread_name}", act)

    @staticmethod
    def _record_words(record):
        from .timeline import call_text, result_text
        text = f"{call_text(record.op, record.args)} -> {result_text(record.op, record.result)}"
        if record.released:
            text += f"; released {', '.join(record.released)}"
        if record.note:
            text += f" ({record.note})"
        if record.line:
            text += f"  [line {record.line}]"
        return text

    @_guarded
    def _on_run(self, _button=None):
        def act(m):
            if m.bugcheck is not None:
                self.say("Run: refused: the machine has crashed; use Undo or Reset")
                return
            result = m.run(max_steps=RUN_BUDGET)
            self.last_result = result
            self.say(f"Run: stopped ({result.reason}) after {result.steps} steps, "
                     f"t={result.time}")
            self.say(result.message)
        self._act("Run", act)

    @_guarded
    def _on_add_waiter(self, _button=None):
        name = self.add_event.value
        if not name:
            self.say("Add waiter: there is no event to wait on yet (Step or Run until "
                     "the scenario has made one)")
            return

        def act(m):
            event = m.find(name)
            if event is None:
                self.say(f"Add waiter: there is no event {name}")
                return
            thread = m.system.start(added_waiter, event, name=f"added({name})")
            line, code = source_line(thread)
            self.say(f"Add waiter: started {thread.name} (System, kernel mode); its next "
                     f"line is {line}: {code}. Step it to make it wait on {name}.")
        self._act("Add waiter", act)

    @_guarded
    def _on_undo(self, _button=None):
        if not self.rebuildable:
            self.say("Undo: " + self.why_not_rebuildable)
            return
        if not self.checkpoints:
            self.say("Undo: nothing to undo; this is where the lab started "
                     "(Reset builds the scenario again from the start).")
            return
        keep = self.checkpoints[-1]
        actions = list(self.machine.actions[self.base:keep])
        machine = self._build()
        base = len(machine.actions)
        replay_actions(machine, actions)
        self.checkpoints.pop()
        self._attach(machine, base)
        self.last_result = None
        self.say(f"Undo: rebuilt {self._what()} and repeated {len(actions)} action(s); "
                 f"now at step {len(machine.trace)}.")
        self.refresh()

    @_guarded
    def _on_reset(self, _button=None):
        if not self.rebuildable:
            self.say("Reset: " + self.why_not_rebuildable)
            return
        self._rebuild("Reset")

    def _rebuild(self, why):
        machine = self._build()
        self.checkpoints = []
        self.last_result = None
        self._attach(machine, len(machine.actions))
        self.say(f"{why}: built {self._what()} again.")
        self.refresh()

    @_guarded
    def _on_choice(self, change):
        key = "policy" if change["owner"] is self.policy else "seed"
        if self.params.get(key) == change["new"]:
            return
        if not self.rebuildable:
            self.say(f"{key}: " + self.why_not_rebuildable)
            return
        old = self.params.get(key)
        self.params[key] = change["new"]
        try:
            self._rebuild(f"{key} {old!r} -> {change['new']!r}")
        except Exception:
            self.params[key] = old
            raise

    def load(self, saved):
        """Show a saved run (a SavedTrace from `evtsim.trace.load`) in the lab: the
        scenario is built again and the saved actions repeated."""
        if saved.scenario is None:
            raise tracefiles.ReplayError(
                f"cannot load {saved.source}: {tracefiles.why_not_replayable(None, [])}")
        if saved.scenario not in scenarios.names():
            raise tracefiles.ReplayError(f"cannot load {saved.source}: this evtsim has no "
                                         f"scenario {saved.scenario!r}")
        params = dict(saved.params or {})
        machine = scenarios.build(saved.scenario, **params)
        replay_actions(machine, list(saved.actions))
        if machine.trace.to_dicts() != saved.to_dicts():
            self.say(f"Load: warning: the replay of {saved.source} differs from the "
                     f"file (was it made by another evtsim version?)")
        self.scenario_name, self.builder = saved.scenario, None
        self.params = params
        self.rebuildable = True
        self.checkpoints = list(range(len(machine.actions)))
        self._attach(machine)
        self._set_choosers()
        self.say(f"Loaded {saved.source}: {self._what()}, {len(saved.actions)} action(s), "
                 f"{len(machine.trace)} steps. Undo goes back one action at a time.")
        self.refresh()
        return machine

    def _set_choosers(self):
        try:
            self.policy.unobserve(self._on_choice, names="value")
            self.seed.unobserve(self._on_choice, names="value")
            self.policy.value = self.params.get("policy", "round_robin")
            self.seed.value = self.params.get("seed", 0)
        finally:
            self.policy.observe(self._on_choice, names="value")
            self.seed.observe(self._on_choice, names="value")

    # --- the view -------------------------------------------------------------------------
    def refresh(self):
        """Make every label, the status and the timeline show the machine as it is."""
        with self.captured:
            try:
                self._refresh_panel()
            except Exception as error:
                self._fail("refresh", error)
            try:
                self.timeline.update(self.machine)
                self.image.value = self._png()
                self.redraws += 1
            except Exception as error:
                self._fail("timeline", error)
            try:
                from .timeline import text
                self.text_timeline.value = (
                    "<pre style='font-size:80%;overflow-x:auto'>"
                    + _esc(text(self.machine, last=12)) + "</pre>")
            except Exception as error:
                self._fail("text timeline", error)

    def _png(self) -> bytes:
        """The timeline drawn the cheap way (`Timeline.draw`) as a PNG made with light
        compression: on a click, encoding costs more than drawing otherwise."""
        import io

        import numpy as np
        from PIL import Image
        self.timeline.draw()
        pixels = np.asarray(self.timeline.figure.canvas.buffer_rgba())
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _refresh_panel(self):
        m = self.machine
        crashed = m.bugcheck is not None
        objects = [o for o in m.dispatcher_objects if o.kind in ("KEVENT", "KTIMER")]
        if [o.name for o in objects] != list(self.event_rows):
            self.event_rows = {o.name: _EventRow(self, o) for o in objects}
            self.events_box.children = ([r.box for r in self.event_rows.values()] or
                                        [W.HTML("<i>no events yet: Step or Run until the "
                                                "scenario creates one</i>")])
        for o in objects:
            self.event_rows[o.name].update(o, crashed)
        if [t.name for t in m.threads] != list(self.thread_rows):
            self.thread_rows = {t.name: _ThreadRow(self, t) for t in m.threads}
            self.threads_box.children = [r.box for r in self.thread_rows.values()]
        fault = m.bugcheck.thread if crashed else None
        for t in m.threads:
            self.thread_rows[t.name].update(t, crashed, t.name == fault or t.error is not None)
        events = [o.name for o in objects if o.kind == "KEVENT"]
        if list(self.add_event.options) != events:
            keep = self.add_event.value
            self.add_event.options = events
            self.add_event.value = keep if keep in events else (events[0] if events else None)
        self.run_button.disabled = crashed
        self.add_button.disabled = crashed or not events
        for control in (self.undo_button, self.reset_button):
            control.disabled = not self.rebuildable
        for key, control in (("policy", self.policy), ("seed", self.seed)):
            control.disabled = not self.rebuildable or not self._takes(key)
            if self.rebuildable and not self._takes(key):
                control.tooltip = (f"The build function takes no {key} argument, so "
                                   f"the lab cannot change it")
        if not self.rebuildable:
            self.undo_button.tooltip = self.reset_button.tooltip = self.why_not_rebuildable
        self._refresh_status()

    def _takes(self, key) -> bool:
        """Whether building again can honour a new `key` (policy or seed)."""
        if self.builder is None:
            return True
        try:
            return key in inspect.signature(self.builder).parameters
        except (TypeError, ValueError):
            return False

    def _refresh_status(self):
        m = self.machine
        if m.bugcheck is not None:
            b = m.bugcheck
            _, code = self._source_of(b.thread, b.line)
            where = f" at line {b.line}: {code}" if b.line else ""
            self._set_status(
                f"\u2716 BUG CHECK 0x{b.code:X} ({b.name}) in {b.thread} ({b.process})"
                f"{where}\n{b.rule}.\n{b.explanation}\nThe machine has stopped. Undo goes "
                f"back before the crash; Reset starts again.", VERMILLION)
            return
        errored = [t for t in m.threads if t.error is not None]
        for t in errored:
            if t.name not in self._reported_errors:
                self._reported_errors.add(t.name)
                self.say(f"{t.name} stopped with {type(t.error).__name__}: {t.error}")
        if errored:
            lines = []
            for t in errored:
                frames = traceback.extract_tb(t.error.__traceback__)
                at = next((f for f in reversed(frames) if "/evtsim/" not in f.filename
                           .replace("\\", "/") or "/scenarios/" in f.filename), None)
                where = f" at line {at.lineno}: {(at.line or '').strip()}" if at else ""
                lines.append(f"\u2716 {t.name} ({t.process.name}) stopped with "
                             f"{type(t.error).__name__}{where}\n  {t.error}")
            self._set_status("\n".join(lines), VERMILLION)
            return
        result = self.last_result
        if result is not None and result.reason in ("deadlock", "idle") \
                and not m.ready and result.steps >= 0 and self._still(result):
            head = ("\u26a0 Deadlock: every thread waits and nothing inside the machine "
                    "can wake them." if result.reason == "deadlock" else
                    "\u26a0 Every thread waits: nothing inside the machine will wake "
                    "them (a deadlock, unless you Set an event).")
            lines = [head]
            for t in m.threads:
                if t.state == "waiting":
                    line, code = source_line(t)
                    lines.append(f"  {t.name} ({t.process.name}) waits on "
                                 f"{t.wait.describe()} at line {line}: {code}")
            self._set_status("\n".join(lines), ORANGE)
            return
        if all(t.state == "terminated" for t in m.threads) and m.threads:
            self._set_status("\u2714 All threads have ended.", GREEN)
            return
        ready = ", ".join(t.name for t in m.ready)
        waiting = ", ".join(t.name for t in m.threads if t.state == "waiting")
        count = len(m.trace)
        text = (f"{count} trace record{'' if count == 1 else 's'}, t={m.time}. "
                f"Ready: {ready or 'none'}.")
        if waiting:
            text += f" Waiting: {waiting}."
        if not ready and waiting:
            text += " No thread is ready: Run lets timers fire, or Set an event."
        self._set_status(text)

    def _still(self, result):
        """The run result still describes the machine (nothing changed since)."""
        return self.machine.actions and self.machine.actions[-1][0] == "run"

    def _source_of(self, thread_name, line):
        thread = self.machine.find(thread_name)
        if thread is None or line is None:
            return line, ""
        call = thread.next_call
        filename = call.filename if call is not None else None
        if filename is None:
            frame = getattr(getattr(thread, "gen", None), "gi_frame", None)
            filename = frame.f_code.co_filename if frame is not None else None
        return line, (linecache.getline(filename, line).strip() if filename else "")

    # --- for tests and tools ------------------------------------------------------------
    def button(self, label, target=None):
        """The button with this label (for an event or thread `target` if given)."""
        if target is None:
            return {"Run": self.run_button, "Undo": self.undo_button,
                    "Reset": self.reset_button, "Add waiter": self.add_button}[label]
        if label == "Step":
            return self.thread_rows[target].step
        return self.event_rows[target].buttons[label]


class TraceFiles(_Panel):
    """Download the current trace and upload one again (so a culled Binder session
    loses nothing). `TraceFiles(lab)` works on an EventLab; `TraceFiles(machine)` on a
    Machine (an uploaded run is then in `.machine`)."""

    def __init__(self, lab_or_machine):
        super().__init__()
        self._init_panel()
        self.lab = lab_or_machine if isinstance(lab_or_machine, EventLab) else None
        self._machine = None if self.lab is not None else lab_or_machine
        self.download_button = _button("Download trace", "Make a link to save this run "
                                       "as an evtsim trace file (JSON) on your computer",
                                       "download")
        self.download_button.on_click(self._on_download)
        self.link = W.HTML()
        self.upload = W.FileUpload(accept=".json", multiple=False,
                                   description="Upload trace",
                                   tooltip="Load a trace file saved earlier: the run is "
                                   "built again and shown")
        self.upload.observe(self._on_upload, names="value")
        self.children = [W.HBox([self.download_button, self.link, self.upload],
                                layout=W.Layout(align_items="center",
                                                flex_flow="row wrap")),
                         self.status]
        if self.lab is not None:
            self.log_box, self.say, self.captured = self.lab.log_box, self.lab.say, self.lab.captured

    @property
    def machine(self):
        return self.lab.machine if self.lab is not None else self._machine

    def data(self) -> str:
        """The trace file's text for the current run."""
        return tracefiles.dumps(tracefiles.to_data(self.machine))

    @_guarded
    def _on_download(self, _button=None):
        text = self.data()
        m = self.machine
        name = (m.scenario[0] if m.scenario else "machine") + f"-step{len(m.trace)}.json"
        payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.link.value = (f'<a download="{_esc(name)}" href="data:application/json;'
                           f'base64,{payload}" title="Save the trace file">\u2b07 Save '
                           f'{_esc(name)}</a>')
        self.say(f"Download: {name} is ready ({len(m.trace)} steps, {len(text)} bytes); "
                 f"click the link to save it.")

    @_guarded
    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        name = item.get("name", "upload") if isinstance(item, dict) else item.name
        content = item.get("content") if isinstance(item, dict) else item.content
        self.load_bytes(bytes(content), name)

    def load_bytes(self, content: bytes, name="upload"):
        try:
            data = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            self.say(f"Upload {name}: not an evtsim trace file ({error})")
            return None
        try:
            saved = tracefiles.from_data(data, source=name)
            if self.lab is not None:
                return self.lab.load(saved)
            machine = scenarios.build(saved.scenario, **(saved.params or {})) \
                if saved.scenario else None
            if machine is None:
                raise tracefiles.ReplayError(
                    f"cannot load {name}: " + tracefiles.why_not_replayable(None, []))
            replay_actions(machine, list(saved.actions))
            self._machine = machine
            self.say(f"Upload {name}: rebuilt {saved.scenario} with "
                     f"{len(saved.actions)} action(s), {len(machine.trace)} steps.")
            return machine
        except EvtsimError as error:
            self.say(f"Upload {name}: {error}")
            return None


class EventDemo(_Panel):
    """One event, a few waiters, and Set / Reset / Pulse buttons.

    Each click acts on the event as the instructor and then lets the machine run, so
    the released waiters finish at once. `EventDemo("synchronization", waiters=3)`.
    """

    def __init__(self, kind="notification", waiters=3, initial_state=False):
        super().__init__()
        self._init_panel()
        if kind not in ("notification", "synchronization"):
            raise EvtsimError("kind is 'notification' or 'synchronization'")
        self.kind, self.count, self.initial_state = kind, int(waiters), bool(initial_state)
        self.title = W.HTML()
        self.indicator = W.HTML()
        self.waiters = W.HTML()
        self.threads = W.HTML()
        self.buttons = {}
        for label in ("Set", "Reset", "Pulse"):
            op, tip = KERNEL_OPS[label]
            button = _button(label, tip)
            button.on_click(functools.partial(self._on_kernel, op))
            self.buttons[label] = button
        self.add_button = _button("Add waiter", "Start one more thread that waits on the "
                                  "event", "plus")
        self.add_button.on_click(self._on_add)
        self.again_button = _button("Start over", "Build the demo again", "refresh")
        self.again_button.on_click(self._on_again)
        self._new()
        self.children = [self.title, W.HBox([self.indicator, *self.buttons.values(),
                                             self.add_button, self.again_button],
                                            layout=W.Layout(align_items="center",
                                                            flex_flow="row wrap")),
                         self.waiters, self.threads, self.log_box, self.captured]
        self.refresh()

    def _new(self):
        m = Machine()
        kind = NotificationEvent if self.kind == "notification" else SynchronizationEvent
        self.event = m.kernel.KeInitializeEvent(kind, self.initial_state, name="Demo")
        for i in range(1, self.count + 1):
            m.system.start(added_waiter, self.event, name=f"waiter{i}")
        m.interactive = True
        m.run(max_steps=RUN_BUDGET)
        self.machine = m

    def refresh(self):
        ev = self.event
        self.title.value = f"<b>Demo</b>: {_esc(_type_words(ev))}"
        self.indicator.value = _state_badge(ev)
        self.waiters.value = "waiters (first served first): " + _esc(_waiters_text(ev))
        rows = []
        for t in self.machine.threads:
            colour, symbol = THREAD_BADGES.get(t.state, (GREY, "?"))
            text = ("released (returned " + _result_words(t.result) + ")"
                    if t.state == "terminated" else t.state)
            rows.append(f"{_esc(t.name)} {_badge(text, colour, symbol)}")
        self.threads.value = " &nbsp; ".join(rows)

    @_guarded
    def _on_kernel(self, op, _button=None):
        m = self.machine
        n = len(m.trace)
        args = (self.event, 0, False) if op in ("KeSetEvent", "KePulseEvent") else (self.event,)
        getattr(m.kernel, op)(*args)
        released = []
        for record in m.trace[n:]:
            released.extend(record.released)
        m.run(max_steps=RUN_BUDGET)
        self.say(f"{op}(Demo): released {', '.join(released) or 'nobody'}; Demo is now "
                 f"{'SIGNALED' if self.event.SignalState else 'not signaled'}")
        self.refresh()

    @_guarded
    def _on_add(self, _button=None):
        thread = self.machine.system.start(added_waiter, self.event, name="waiter")
        self.machine.run(max_steps=RUN_BUDGET)
        self.say(f"{thread.name} " + ("passed straight through: Demo was signaled"
                                      if thread.state == "terminated" else
                                      "now waits on Demo"))
        self.refresh()

    @_guarded
    def _on_again(self, _button=None):
        self._new()
        self.say("Started over.")
        self.refresh()


class Predict(_Panel):
    """Predict, then reveal: tick the threads you think the signal will release.

    `Predict(kind="synchronization", waiters=3, op="KeSetEvent")` builds one event
    with waiters; `Predict(machine, event="Go")` uses a machine whose threads already
    wait. Reveal performs the call as the instructor and says what was right.
    `check()` is True when the ticks matched.
    """

    def __init__(self, machine=None, event=None, op="KeSetEvent", *, kind="synchronization",
                 waiters=3):
        super().__init__()
        self._init_panel()
        if op not in ("KeSetEvent", "KePulseEvent", "KeResetEvent", "KeClearEvent"):
            raise EvtsimError("op is KeSetEvent, KePulseEvent, KeResetEvent or KeClearEvent")
        self.op = op
        if machine is None:
            machine = Machine()
            kind_value = NotificationEvent if kind == "notification" else SynchronizationEvent
            ev = machine.kernel.KeInitializeEvent(kind_value, False, name="Go")
            for i in range(1, waiters + 1):
                machine.system.start(added_waiter, ev, name=f"waiter{i}")
            machine.run(max_steps=RUN_BUDGET)
        self.machine = machine
        if event is None:
            found = [o for o in machine.dispatcher_objects
                     if o.kind == "KEVENT" and o.wait_list]
            if not found:
                raise EvtsimError("Predict needs an event with waiters; none has any")
            self.event = found[0]
        else:
            self.event = machine.find(event) if isinstance(event, str) else event
            if self.event is None:
                raise EvtsimError(f"no event {event!r} in this machine")
        ev = self.event
        self.candidates = [t.name for t in ev.waiters()]
        self.question = W.HTML(
            f"<b>{_esc(ev.name)}</b> is a {_esc(_type_words(ev))}, "
            f"{_state_badge(ev)}, waiters in order: {_esc(_waiters_text(ev))}.<br>"
            f"The instructor calls <code>{op}({_esc(ev.name)})</code>. "
            f"Which threads will it release? Tick them, then Reveal.")
        self.ticks = {name: W.Checkbox(description=name, value=False, indent=False)
                      for name in self.candidates}
        self.reveal_button = _button("Reveal", "Make the call and compare with your ticks",
                                     "eye")
        self.reveal_button.on_click(self._on_reveal)
        self.answer = W.HTML()
        self.released = None
        self.children = [self.question, W.HBox(list(self.ticks.values()),
                                               layout=W.Layout(flex_flow="row wrap")),
                         self.reveal_button, self.answer, self.log_box, self.captured]

    def check(self) -> bool | None:
        """True if the ticks were right (None before Reveal)."""
        if self.released is None:
            return None
        return {n for n, box in self.ticks.items() if box.value} == set(self.released)

    @_guarded
    def _on_reveal(self, _button=None):
        if self.released is not None:
            self.say("Already revealed.")
            return
        m = self.machine
        chosen = {n for n, box in self.ticks.items() if box.value}
        n = len(m.trace)
        args = (self.event, 0, False) if self.op in ("KeSetEvent", "KePulseEvent") \
            else (self.event,)
        getattr(m.kernel, self.op)(*args)
        released = []
        for record in m.trace[n:]:
            released.extend(record.released)
        self.released = released
        for box in self.ticks.values():
            box.disabled = True
        self.reveal_button.disabled = True
        right = chosen == set(released)
        missed = [r for r in released if r not in chosen]
        wrong = sorted(chosen - set(released))
        why = (" A notification event releases every waiter." if self.event.Type ==
               NotificationEvent else " A synchronization event releases one waiter, the "
               "first in the list.")
        if self.op in ("KeResetEvent", "KeClearEvent"):
            why = " Resetting an event never releases anybody."
        lines = [("\u2714 Right!" if right else "\u2716 Not quite.")
                 + f" It released: {', '.join(released) or 'nobody'}." + why]
        if missed:
            lines.append(f"You did not tick {', '.join(missed)}, but it was released.")
        if wrong:
            lines.append(f"You ticked {', '.join(wrong)}, but it still waits.")
        colour = GREEN if right else VERMILLION
        self.answer.value = (f'<div role="status" style="border:2px solid {colour};'
                             f'padding:4px 8px">' + "<br>".join(_esc(x) for x in lines)
                             + "</div>")
        self.say(" ".join(lines))
