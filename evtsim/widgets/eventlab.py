"""The event lab's view: every event and thread of a session's machine, with buttons.

`EventLab(machine_or_scenario)` shows every event (name, type, a signaled indicator in
words, colour and symbol, its waiters in FIFO order) with Set / Reset event / Clear /
Pulse buttons, and every thread (process, mode, state, what it waits on or returned,
the source line it will run next) with a Step button, so the learner plays the
scheduler as in The Deadlock Empire. A verdict banner says how the run ended (all
ended, a deadlock naming who waits on what, a bug check, or the lesson's own check);
a chosen thread's whole routine is shown with its current line marked; a table shows
the data the scenario's threads share. Run, Undo, Start over, Add waiter, a policy and
seed chooser, the live timeline and the log complete it.

The state and the actions are an `evtsim.lab.LabSession` (`lab.session`): each button
calls the session, then `refresh` makes every part show the machine as it is after
that action, the timeline included (`_draw_timeline`, the one place it is drawn).
Nothing a callback does may vanish: every exception is caught into the log as a
sentence, and anything printed goes into a captured output.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as W

from .. import scenarios
from ..errors import BadArgumentError
from ..lab import RUN_BUDGET, LabSession, shared_state
from ..machine import Machine
from ..scheduler import POLICIES
from ..timeline import TimelineModel
from ..timeline import text as timeline_text
from ..trace import SavedTrace
from .files import TraceFiles
from .panel import (
    GREEN,
    ORANGE,
    VERMILLION,
    Panel,
    banner_html,
    button,
    check_scale,
    esc,
    guarded,
    scale_class,
    scale_css,
)
from .picture import LabPicture
from .rows import EventRow, ThreadRow, routine_html, shared_html

__all__ = ["EventLab"]

# The colour of the status line for each tone of LabSession.status().
TONES = {"crashed": VERMILLION, "stopped": VERMILLION, "blocked": ORANGE, "ended": GREEN,
         "running": None}


def _choice(**kwargs) -> dict:
    """A chooser's layout and style (each chooser gets its own Layout)."""
    return {"layout": W.Layout(width="auto"), "style": {"description_width": "initial"},
            **kwargs}


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
    LabSession). `verdict=` is a lesson's check of a finished run (for example
    `EventLab(LEVELS[2].build, policy="manual", verdict=LEVELS[2].verdict)`): it is
    asked when nothing more can run, and may return (ok, text), True, a sentence
    saying what broke, or None. `font_scale` (1.5 or 2 for a projector) enlarges the
    whole lab. A plain Machine that was not built from a scenario cannot be rebuilt,
    so Undo, Start over and the policy and seed chooser are disabled for it (the panel
    says why). Bad arguments raise a BadArgumentError that names them.
    """

    why_not_rebuildable = LabSession.why_not_rebuildable
    machine = _of_session("machine", "The machine the lab shows (the session's).")
    builder = _of_session("builder", "The build function, or None.")
    scenario_name = _of_session("scenario_name", "The scenario's name, or None.")
    params = _of_session("params", "The scenario's parameters (policy and seed too).")
    rebuildable = _of_session("rebuildable", "Whether Undo and Start over can build again.")
    checkpoints = _of_session("checkpoints", "Undo points: len(m.actions) before each.")
    last_result = _of_session("last_result", "The RunResult of the last Run, or None.")
    base = _of_session("base", "The machine's actions before this are its build's.")
    log_lines = _of_session("log_lines", "Every line of the log, oldest first.")

    def __init__(self, machine_or_scenario="notification_broadcast", *, width=10,
                 font_scale=1.0, verdict=None, **params):
        font_scale = check_scale(font_scale)
        if isinstance(width, bool) or not isinstance(width, (int, float)) \
                or not 2 <= width <= 40:
            raise BadArgumentError(f"width={width!r}: give the picture's width in inches, "
                                   f"a number from 2 to 40 (10 is usual)")
        super().__init__()
        if isinstance(machine_or_scenario, LabSession):
            if params or verdict is not None:
                raise BadArgumentError("scenario parameters and verdict= go with a "
                                       "scenario name, not a LabSession")
            self.session = machine_or_scenario
        else:
            self.session = LabSession(machine_or_scenario, verdict=verdict, **params)
        self.font_scale = font_scale
        self._init_panel(log_lines=self.session.log_lines)
        self.session.on_log = self._show_log
        self.event_rows: dict[str, EventRow] = {}
        self.thread_rows: dict[str, ThreadRow] = {}
        self.picture = LabPicture(width=width, font_scale=font_scale)
        self.image = self.picture.widget
        self.text_timeline = W.HTML()
        self.redraws = 0
        self.verdict = None
        self.banner = W.HTML()
        self.banner.add_class("evtsim-banner")
        self.shared = W.HTML()
        self.shared.add_class("evtsim-shared-state")
        self.code = W.HTML()
        self.code.add_class("evtsim-code")
        self.code_of = W.Dropdown(description="code of", options=[], **_choice())
        self.code_of.tooltip = "Choose the thread whose whole routine is shown below"
        self.code_of.observe(self._on_code_of, names="value")
        self._build_controls()
        self.header = W.HTML(self._title())
        self.events_box = W.VBox()
        self.threads_box = W.VBox()
        texts = W.Accordion(children=[self.text_timeline, self.captured])
        texts.set_title(0, "Timeline as text (last steps; for screen readers)")
        texts.set_title(1, "Anything printed by callbacks")
        self.scale_style = W.HTML(scale_css(font_scale) if font_scale != 1 else "")
        self.children = [
            self.scale_style, self.header, self.controls, self.banner, self.status,
            W.HTML("<b>Events</b>"), self.events_box,
            W.HTML("<b>Threads</b>"), self.threads_box, self.shared,
            W.HTML("<b>Code</b>"), self.code_of, self.code,
            W.HTML("<b>Timeline</b> <small>(the column right of the dashed line is the "
                   "state now)</small>"), self.image,
            W.HTML("<b>Log</b> (newest first)"), self.log_box, texts, self.files,
        ]
        self.add_class("evtsim-lab")
        self.add_class(scale_class(font_scale))
        self.refresh()

    def _title(self) -> str:
        name = self.session.scenario_name
        if name is None:
            return "<h3 style='margin:4px 0'>Event lab</h3>"
        entry = scenarios.get(name)
        return (f"<h3 style='margin:4px 0'>{esc(entry.title)}</h3>"
                f"<div><small>{esc(entry.source)}</small></div>"
                # closed until the learner opens it: it tells what the run will show
                f"<details><summary><i>What the run shows</i> (open it after you have "
                f"tried)</summary>{esc(entry.outcome)}</details>")

    @property
    def timeline(self) -> Any:
        """The matplotlib Timeline behind a PNG picture (None for SVG)."""
        return self.picture.timeline

    @property
    def timeline_model(self) -> TimelineModel | None:
        """The timeline model the picture was last drawn from."""
        return self.picture.model

    def say(self, text: str) -> None:
        """Add a line to the session's log (shown newest first)."""
        self.session.say(text)

    def _show_log(self, _lines=None):
        self.log_box.value = self._log_html()

    def _build_controls(self):
        self.run_button = button("Run", "Run until every thread ends or waits (idle), "
                                 f"at most {RUN_BUDGET} steps. With the manual policy "
                                 "you choose the threads with Step; Run then only lets "
                                 "timers fire", "play")
        self.undo_button = button("Undo", "Go back one action: build the scenario again "
                                  "and repeat every action but the last", "undo")
        self.start_over_button = button("Start over", "Build the scenario again from the "
                                        "start (with the policy and seed chosen here)",
                                        "refresh")
        self.add_button = button("Add waiter", "Start one more kernel thread that waits "
                                 "on the chosen event", "plus")
        self.add_event = W.Dropdown(description="on event", options=[], **_choice())
        self.add_event.tooltip = "The event the added waiter will wait on"
        self.policy = W.Dropdown(description="policy", options=list(POLICIES),
                                 value=self.params.get("policy", "round_robin"), **_choice())
        self.policy.tooltip = "Scheduling policy; changing it builds the scenario again"
        self.seed = W.BoundedIntText(description="seed", value=self.params.get("seed", 0),
                                     min=0, max=2**31 - 1, layout=W.Layout(width="9em"),
                                     style={"description_width": "initial"})
        self.seed.tooltip = "Seed of the random policy; changing it builds again"
        self.run_button.on_click(self._on_run)
        self.undo_button.on_click(self._on_undo)
        self.start_over_button.on_click(self._on_start_over)
        self.add_button.on_click(self._on_add_waiter)
        self.policy.observe(self._on_choice, names="value")
        self.seed.observe(self._on_choice, names="value")
        self.files = TraceFiles(self)
        self.controls = W.HBox([self.run_button, self.undo_button, self.start_over_button,
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
        self._follow(thread_name)
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
    def _on_start_over(self, _button=None):
        if self.session.start_over():
            self.refresh()

    @guarded
    def _on_choice(self, change):
        key = "policy" if change["owner"] is self.policy else "seed"
        if self.session.choose(key, change["new"]):
            self.refresh()

    @guarded
    def _on_code_of(self, _change=None):
        self._refresh_code()

    def _follow(self, thread_name):
        """Show the routine of the thread the learner just stepped."""
        if thread_name in self.code_of.options and self.code_of.value != thread_name:
            self.code_of.unobserve(self._on_code_of, names="value")
            try:
                self.code_of.value = thread_name
            finally:
                self.code_of.observe(self._on_code_of, names="value")

    def load(self, saved: SavedTrace) -> Machine:
        """Show a saved run (a SavedTrace from `evtsim.trace.load`) in the lab: the
        scenario is built again and the saved actions repeated."""
        machine = self.session.load(saved)
        self._set_choosers()
        self.header.value = self._title()
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
    def refresh(self) -> None:
        """Make every label, the banner, the status, the shared state, the code and the
        timeline show the machine as it is now (after the last action)."""
        with self.captured:
            for where, part in (("refresh", self._refresh_panel),
                                ("timeline", self._draw_timeline),
                                ("text timeline", self._refresh_text)):
                try:
                    part()
                except Exception as error:
                    self._fail(where, error)

    def _draw_timeline(self) -> None:
        """The one place the timeline is drawn: the model with the state now, as SVG
        or PNG (`LabPicture` picks; switch it there)."""
        self.picture.show(self.machine)
        self.redraws += 1

    def _refresh_text(self) -> None:
        self.text_timeline.value = ("<pre style='font-size:80%;overflow-x:auto'>"
                                    + esc(timeline_text(self.machine, last=12)) + "</pre>")

    def _refresh_panel(self):
        m = self.machine
        crashed = m.bugcheck is not None
        objects = [o for o in m.dispatcher_objects if o.kind in ("KEVENT", "KTIMER")]
        if [o.name for o in objects] != list(self.event_rows):
            self.event_rows = {o.name: EventRow(self, o) for o in objects}
            self.events_box.children = ([r.box for r in self.event_rows.values()] or
                                        [W.HTML("<i>no events yet: Step or Run until the "
                                                "scenario creates one</i>")])
        for o in objects:
            self.event_rows[o.name].update(o, crashed)
        names = [t.name for t in m.threads]
        if names != list(self.thread_rows):
            self.thread_rows = {t.name: ThreadRow(self, t) for t in m.threads}
            self.threads_box.children = [r.box for r in self.thread_rows.values()]
        if list(self.code_of.options) != names:
            keep = self.code_of.value
            self.code_of.unobserve(self._on_code_of, names="value")
            try:
                self.code_of.options = names
                self.code_of.value = keep if keep in names else (names[0] if names else None)
            finally:
                self.code_of.observe(self._on_code_of, names="value")
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
        for control in (self.undo_button, self.start_over_button):
            control.disabled = not self.rebuildable
        for key, control in (("policy", self.policy), ("seed", self.seed)):
            control.disabled = not self.rebuildable or not self.session.takes(key)
            if self.rebuildable and not self.session.takes(key):
                control.tooltip = (f"The build function takes no {key} argument, so "
                                   f"the lab cannot change it")
        if not self.rebuildable:
            self.undo_button.tooltip = self.why_not_rebuildable
            self.start_over_button.tooltip = self.why_not_rebuildable
        self.shared.value = shared_html(shared_state(m))
        self._refresh_code()
        self._refresh_status()

    def _refresh_code(self):
        name = self.code_of.value
        thread = next((t for t in self.machine.threads if t.name == name), None)
        self.code.value = routine_html(thread)

    def _refresh_status(self):
        self.session.note_errors()
        self.verdict = self.session.verdict()
        self.banner.value = banner_html(self.verdict)
        tone, text = self.session.status()
        self._set_status(text, TONES[tone])

    # --- for tests and tools ------------------------------------------------------------
    def button(self, label: str, target: str | None = None) -> W.Button:
        """The button with this label (for an event or thread `target` if given)."""
        if target is None:
            toolbar = {"Run": self.run_button, "Undo": self.undo_button,
                       "Start over": self.start_over_button, "Add waiter": self.add_button}
            if label not in toolbar:
                raise BadArgumentError(f"the lab's toolbar has no button {label!r}; it has "
                                       f"{', '.join(toolbar)} (event buttons need the "
                                       f"event's name)")
            return toolbar[label]
        if label == "Step":
            return self.thread_rows[target].step
        return self.event_rows[target].buttons[label]
