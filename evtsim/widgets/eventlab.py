"""The event lab's view: every event and thread of a session's machine, with buttons.

`EventLab(machine_or_scenario)` shows every event (name, type, a signaled indicator in
words, colour and symbol, its waiters in FIFO order) with Set / Reset / Clear / Pulse
buttons, and every thread (process, mode, state, what it waits on, the source line it
will run next) with a Step button, so the learner plays the scheduler as in The
Deadlock Empire. Run, Undo, Reset, Add waiter, a policy and seed chooser, the live
timeline (one figure redrawn in place into an Image) and the log complete it.

The state and the actions are an `evtsim.lab.LabSession` (`lab.session`): each button
calls the session, then the view is refreshed from the machine. Nothing a callback does
may vanish: every exception is caught into the log as a sentence, and anything printed
goes into a captured output.
"""
from __future__ import annotations

import functools

import ipywidgets as W

from .. import plot, scenarios
from ..errors import EvtsimError
from ..lab import RUN_BUDGET, LabSession, result_words, source_line, type_words
from ..scheduler import POLICIES
from ..timeline import text as timeline_text
from .files import TraceFiles
from .panel import (GREEN, GREY, KERNEL_OPS, ORANGE, THREAD_BADGES, VERMILLION,
                    Panel, badge, button, esc, guarded, state_badge)

__all__ = ["EventLab"]

# The colour of the status line for each tone of LabSession.status().
TONES = {"crashed": VERMILLION, "stopped": VERMILLION, "blocked": ORANGE, "ended": GREEN,
         "running": None}


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
                control = button(label, f"{tip}. Acts on {obj.name} as the instructor.")
                control.on_click(functools.partial(lab._on_kernel, op, obj.name))
                self.buttons[label] = control
                children.append(control)
        children.append(self.waiters)
        self.box = W.HBox(children, layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.box.add_class("evtsim-event")

    def update(self, obj, crashed):
        path = obj.header.path if obj.header is not None else None
        where = f" <small>{esc(path)}</small>" if path and path != obj.name else ""
        self.title.value = (f'<b style="font-size:110%">{esc(obj.name)}</b>{where} '
                            f"<small>{esc(type_words(obj))}</small>")
        self.indicator.value = state_badge(obj)
        parts = []
        for i, wb in enumerate(obj.wait_list, 1):
            tag = " <b>(wait-all)</b>" if wb.wait_type == 0 else ""
            parts.append(f"{i}.&nbsp;{esc(wb.thread.name)}{tag}")
        self.waiters.value = ("waiters (first served first): " + " \u2192 ".join(parts)
                              if parts else "<i>no waiters</i>")
        for control in self.buttons.values():
            control.disabled = crashed


class _ThreadRow:
    def __init__(self, lab, thread):
        self.name = thread.name
        self.label = W.HTML()
        self.state = W.HTML()
        self.line = W.HTML()
        self.step = button("Step", f"Run one step of {thread.name} (you are the scheduler)")
        self.step.on_click(functools.partial(lab._on_step, thread.name))
        top = W.HBox([self.step, self.label, self.state],
                     layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.box = W.VBox([top, self.line])
        self.box.add_class("evtsim-thread")

    def update(self, thread, crashed, at_fault):
        mode = "user mode" if thread.mode == 1 else "kernel mode"
        self.label.value = (f"<b>{esc(thread.name)}</b> <small>{esc(thread.process.name)}"
                            f", {mode}</small>")
        colour, symbol = THREAD_BADGES.get(thread.state, (GREY, "?"))
        text = thread.state
        if thread.wait is not None:
            text += (f" on {thread.wait.describe()}" if thread.state == "waiting" else
                     f": released from {thread.wait.describe()}")
        if thread.state == "terminated":
            text = ("ended with an error" if thread.error is not None else
                    f"ended, returned {result_words(thread.result)}")
        self.state.value = badge(text, colour, symbol)
        line, code = source_line(thread)
        if thread.state == "terminated" or line is None:
            self.line.value = ('<div style="font-family:monospace;color:#555;margin-left:2em">'
                               + ("stopped: " + esc(thread.error) if thread.error is not None
                                  else "(no more lines)") + "</div>")
        else:
            why = " (returns from its wait when released)" if thread.wait is not None else ""
            bg = "#FBE3D6" if at_fault else "#FFF3B0"
            self.line.value = (
                f'<div style="font-family:monospace;margin-left:2em">'
                f'<span style="background:{bg};border-left:4px solid '
                f'{VERMILLION if at_fault else ORANGE};padding:0 6px">\u25b6 line {line}: '
                f'{esc(code)}</span><small>{why}</small></div>')
        self.step.disabled = crashed or thread.state != "ready"
        self.step.tooltip = (f"Run one step of {thread.name}: {thread.next_call!r}"
                             if thread.state == "ready" else
                             f"{thread.name} cannot run now: it is {thread.state}")


def _of_session(name, doc):
    """An attribute of the lab that is the session's (read and written through)."""
    def get(self):
        return getattr(self.session, name)

    def put(self, value):
        setattr(self.session, name, value)
    return property(get, put, doc=doc)


class EventLab(Panel):
    """The event lab: every event and thread of a machine, driven by hand.

    `EventLab("notification_broadcast", waiters=3)`, `EventLab(scenarios.get(name))`,
    `EventLab(machine)`, `EventLab(build_function)` or `EventLab(session)` (a
    LabSession). A plain Machine that was not built from a scenario cannot be rebuilt,
    so Undo, Reset and the policy and seed chooser are disabled for it (the panel says
    why).
    """

    why_not_rebuildable = LabSession.why_not_rebuildable
    machine = _of_session("machine", "The machine the lab shows (the session's).")
    builder = _of_session("builder", "The build function, or None.")
    scenario_name = _of_session("scenario_name", "The scenario's name, or None.")
    params = _of_session("params", "The scenario's parameters (policy and seed too).")
    rebuildable = _of_session("rebuildable", "Whether Undo and Reset can build again.")
    checkpoints = _of_session("checkpoints", "Undo points: len(m.actions) before each.")
    last_result = _of_session("last_result", "The RunResult of the last Run, or None.")
    base = _of_session("base", "The machine's actions before this are its build's.")
    log_lines = _of_session("log_lines", "Every line of the log, oldest first.")

    def __init__(self, machine_or_scenario="notification_broadcast", *, width=10,
                 font_scale=1.0, **params):
        super().__init__()
        if isinstance(machine_or_scenario, LabSession):
            if params:
                raise EvtsimError("scenario parameters go with a scenario name, not a "
                                  "LabSession")
            self.session = machine_or_scenario
        else:
            self.session = LabSession(machine_or_scenario, **params)
        self._init_panel(log_lines=self.session.log_lines)
        self.session.on_log = self._show_log
        self.event_rows: dict[str, _EventRow] = {}
        self.thread_rows: dict[str, _ThreadRow] = {}
        self.timeline = plot.Timeline(None, width=width, font_scale=font_scale)
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.image.add_class("evtsim-timeline")
        self.text_timeline = W.HTML()
        self.redraws = 0
        self._build_controls()
        title = ""
        name = self.session.scenario_name
        if name is not None:
            entry = scenarios.get(name)
            title = (f"<h3 style='margin:4px 0'>{esc(entry.title)}</h3>"
                     f"<div><small>{esc(entry.source)}</small></div>"
                     f"<div><i>What to look for:</i> {esc(entry.outcome)}</div>")
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
        self.refresh()

    def say(self, text: str) -> None:
        """Add a line to the session's log (shown newest first)."""
        self.session.say(text)

    def _show_log(self, _lines=None):
        self.log_box.value = self._log_html()

    def _build_controls(self):
        self.run_button = button("Run", "Run until every thread ends or waits (idle), "
                                 f"at most {RUN_BUDGET} steps", "play")
        self.undo_button = button("Undo", "Go back one action: build the scenario again "
                                  "and repeat every action but the last", "undo")
        self.reset_button = button("Reset", "Build the scenario again from the start "
                                   "(with the policy and seed chosen here)", "refresh")
        self.add_button = button("Add waiter", "Start one more kernel thread that waits "
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

    # --- the buttons: a session action, then a refresh ----------------------------------
    def _act(self, action, *args):
        """Do a session action on the machine and show the result; also when it raised
        (the view must show what the machine came to), not when it was refused before
        it touched the machine."""
        acted = True
        try:
            acted = action(*args)
        finally:
            if acted:
                self.refresh()

    @guarded
    def _on_kernel(self, op, event_name, _button=None):
        self._act(self.session.kernel, op, event_name)

    @guarded
    def _on_step(self, thread_name, _button=None):
        self._act(self.session.step, thread_name)

    @guarded
    def _on_run(self, _button=None):
        self._act(self.session.run)

    @guarded
    def _on_add_waiter(self, _button=None):
        self._act(self.session.add_waiter, self.add_event.value)

    @guarded
    def _on_undo(self, _button=None):
        if self.session.undo():
            self.refresh()

    @guarded
    def _on_reset(self, _button=None):
        if self.session.reset():
            self.refresh()

    @guarded
    def _on_choice(self, change):
        key = "policy" if change["owner"] is self.policy else "seed"
        if self.session.choose(key, change["new"]):
            self.refresh()

    def load(self, saved):
        """Show a saved run (a SavedTrace from `evtsim.trace.load`) in the lab: the
        scenario is built again and the saved actions repeated."""
        machine = self.session.load(saved)
        self._set_choosers()
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
                self.text_timeline.value = (
                    "<pre style='font-size:80%;overflow-x:auto'>"
                    + esc(timeline_text(self.machine, last=12)) + "</pre>")
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
            control.disabled = not self.rebuildable or not self.session.takes(key)
            if self.rebuildable and not self.session.takes(key):
                control.tooltip = (f"The build function takes no {key} argument, so "
                                   f"the lab cannot change it")
        if not self.rebuildable:
            self.undo_button.tooltip = self.reset_button.tooltip = self.why_not_rebuildable
        self._refresh_status()

    def _refresh_status(self):
        self.session.note_errors()
        tone, text = self.session.status()
        self._set_status(text, TONES[tone])

    # --- for tests and tools ------------------------------------------------------------
    def button(self, label, target=None):
        """The button with this label (for an event or thread `target` if given)."""
        if target is None:
            return {"Run": self.run_button, "Undo": self.undo_button,
                    "Reset": self.reset_button, "Add waiter": self.add_button}[label]
        if label == "Step":
            return self.thread_rows[target].step
        return self.event_rows[target].buttons[label]
