"""The small widgets the lessons need: one event to play with, and predict-then-reveal.

`EventDemo` shows one event with a few waiters and Set / Reset event / Pulse buttons
(each click also lets the machine run, so the released waiters finish at once);
`Predict` asks which threads a signal will release, then makes the call and says once
what was right; Try again puts the question back as it was.
"""
from __future__ import annotations

import functools
from typing import Any

import ipywidgets as W

from .. import scenarios
from ..api.kernel import NotificationEvent, SynchronizationEvent
from ..dispatcher import DispatcherObject
from ..errors import BadArgumentError
from ..lab import (
    RUN_BUDGET,
    added_waiter,
    replay_actions,
    thread_result_words,
    type_words,
    waiters_text,
)
from ..machine import Machine
from .panel import (
    GREEN,
    GREY,
    KERNEL_OPS,
    THREAD_BADGES,
    VERMILLION,
    Panel,
    badge,
    button,
    esc,
    guarded,
    state_badge,
)

__all__ = ["EventDemo", "Predict"]


class EventDemo(Panel):
    """One event, a few waiters, and Set / Reset event / Pulse buttons.

    Each click acts on the event as the instructor and then lets the machine run, so
    the released waiters finish at once. `EventDemo("synchronization", waiters=3)`.
    """

    def __init__(self, kind="notification", waiters=3, initial_state=False):
        super().__init__()
        self._init_panel()
        if kind not in ("notification", "synchronization"):
            raise BadArgumentError(f"kind={kind!r}: give 'notification' or "
                                   f"'synchronization'")
        self.kind, self.count = kind, _count(waiters)
        self.initial_state = bool(initial_state)
        self.title = W.HTML()
        self.indicator = W.HTML()
        self.waiters = W.HTML()
        self.threads = W.HTML()
        self.buttons = {}
        for label in ("Set", "Reset event", "Pulse"):
            op, tip = KERNEL_OPS[label]
            control = button(label, tip)
            control.on_click(functools.partial(self._on_kernel, op))
            self.buttons[label] = control
        self.add_button = button("Add waiter", "Start one more thread that waits on the "
                                  "event", "plus")
        self.add_button.on_click(self._on_add)
        self.again_button = button("Start over", "Build the demo again", "refresh")
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

    def refresh(self) -> None:
        ev = self.event
        self.title.value = f"<b>Demo</b>: {esc(type_words(ev))}"
        self.indicator.value = state_badge(ev)
        self.waiters.value = "waiters (first served first): " + esc(waiters_text(ev))
        rows = []
        for t in self.machine.threads:
            colour, symbol = THREAD_BADGES.get(t.state, (GREY, "?"))
            text = ("released (returned " + thread_result_words(t) + ")"
                    if t.state == "terminated" else t.state)
            rows.append(f"{esc(t.name)} {badge(text, colour, symbol)}")
        self.threads.value = " &nbsp; ".join(rows)

    @guarded
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

    @guarded
    def _on_add(self, _button=None):
        thread = self.machine.system.start(added_waiter, self.event, name="waiter")
        self.machine.run(max_steps=RUN_BUDGET)
        self.say(f"{thread.name} " + ("passed straight through: Demo was signaled"
                                      if thread.state == "terminated" else
                                      "now waits on Demo"))
        self.refresh()

    @guarded
    def _on_again(self, _button=None):
        self._new()
        self.say("Started over.")
        self.refresh()


def _count(waiters, lowest=1, name="waiters") -> int:
    """A number of waiters: a whole number from `lowest` to 8."""
    if isinstance(waiters, bool) or not isinstance(waiters, int) or not lowest <= waiters <= 8:
        raise BadArgumentError(f"{name}={waiters!r}: give a whole number from {lowest} "
                               f"to 8, like {name}=3")
    return waiters


OPS = ("KeSetEvent", "KePulseEvent", "KeResetEvent", "KeClearEvent")


class Predict(Panel):
    """Predict, then reveal: tick the threads you think the signal will release.

    `Predict(kind="synchronization", waiters=3, op="KeSetEvent")` builds one event
    with waiters; `Predict(machine, event="Go")` uses a machine whose threads already
    wait. Reveal performs the call as the instructor and says once, in the answer box,
    what was right. Try again puts the question back as it was (the machine is built
    again), so the learner can predict once more. `check()` is True when the ticks
    matched.

    With a `seed` (and no machine), New question asks a fresh variant after the first
    question: the event's type, the number of waiters and the call (KeSetEvent or
    KePulseEvent) are drawn from the seed, as OSTEP's homework does with `-s`; the same
    seed always gives the same questions.
    """

    VARIANT_OPS = ("KeSetEvent", "KePulseEvent")

    def __init__(self, machine=None, event=None, op="KeSetEvent", *, kind="synchronization",
                 waiters=3, seed=None):
        super().__init__()
        self._init_panel()
        if op not in OPS:
            raise BadArgumentError(f"op={op!r}: give one of {', '.join(OPS)}")
        if kind not in ("notification", "synchronization"):
            raise BadArgumentError(f"kind={kind!r}: give 'notification' or "
                                   f"'synchronization'")
        if machine is not None and not isinstance(machine, Machine):
            raise BadArgumentError(f"Predict takes a Machine whose threads wait (or none), "
                                   f"not {type(machine).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise BadArgumentError(f"seed={seed!r}: give a whole number (or leave it out)")
        if seed is not None and machine is not None:
            raise BadArgumentError("seed draws Predict's own questions: give a seed or a "
                                   "machine, not both")
        self.seed, self.variant = seed, 0
        self.op = op
        self._again = self._how_to_build(machine, kind, _count(waiters))
        self.machine = machine if machine is not None else self._again()
        self.event = self._find_event(self.machine, event)
        self._wanted = self.event.name
        self.question = W.HTML()
        self.ticks_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.new_button = button("New question", "Ask a fresh variant: another event "
                                 "type, number of waiters or call", "random")
        self.new_button.on_click(self._on_new)
        self.new_button.disabled = seed is None
        if seed is None:
            self.new_button.tooltip = "New question needs Predict(seed=...)"
        self.reveal_button = button("Reveal", "Make the call and compare with your ticks",
                                    "eye")
        self.reveal_button.on_click(self._on_reveal)
        self.again_button = button("Try again", "Put the question back as it was and "
                                   "predict once more", "refresh")
        self.again_button.on_click(self._on_again)
        self.again_button.disabled = True
        if self._again is None:
            self.again_button.tooltip = ("Try again needs a machine it can build again "
                                         "(a scenario's, or Predict's own)")
        self.answer = W.HTML()
        self.released = None
        self.tries = 0
        self._pose()
        self.children = [self.question, self.ticks_box,
                         W.HBox([self.reveal_button, self.again_button, self.new_button]),
                         self.answer, self.captured]          # it says all in `answer`

    def say(self, text: str) -> None:
        """Predict has no log: what it has to say goes under its answer."""
        self.answer.value += f'<div role="status">{esc(text)}</div>'

    @classmethod
    def _variant(cls, seed: int) -> tuple[str, int, str]:
        """The question that `seed` draws: (event type, number of waiters, call)."""
        import random
        rng = random.Random(seed)
        return (rng.choice(("notification", "synchronization")), rng.randint(2, 5),
                rng.choice(cls.VARIANT_OPS))

    def _pose(self) -> None:
        """Show the question for the current machine and event, with fresh ticks."""
        ev = self.event
        self.candidates = [t.name for t in ev.waiters()]
        self.question.value = (
            f"<b>{esc(ev.name)}</b> is a {esc(type_words(ev))}, "
            f"{state_badge(ev)}, waiters in order: {esc(waiters_text(ev))}.<br>"
            f"The instructor calls <code>{self.op}({esc(ev.name)})</code>. "
            f"Which threads will it release? Tick them, then Reveal.")
        self.ticks = {name: W.Checkbox(description=name, value=False, indent=False,
                                       tooltip=f"Tick if you think {name} is released")
                      for name in self.candidates}
        self.ticks_box.children = list(self.ticks.values())
        self.released = None
        self.reveal_button.disabled = False
        self.again_button.disabled = True
        self.answer.value = ""

    @guarded
    def _on_new(self, _button=None):
        if self.seed is None:
            self.say(self.new_button.tooltip)
            return
        self.variant += 1
        kind, waiters, self.op = self._variant(self.seed + self.variant)
        self._again = self._how_to_build(None, kind, waiters)
        self.machine = self._again()
        self.event = self._find_event(self.machine, None)
        self._wanted = self.event.name
        self._pose()

    @staticmethod
    def _how_to_build(machine, kind, waiters):
        """A function that builds the question's machine again, or None."""
        if machine is None:
            def build():
                m = Machine()
                kind_value = (NotificationEvent if kind == "notification" else
                              SynchronizationEvent)
                ev = m.kernel.KeInitializeEvent(kind_value, False, name="Go")
                for i in range(1, waiters + 1):
                    m.system.start(added_waiter, ev, name=f"waiter{i}")
                m.run(max_steps=RUN_BUDGET)
                return m
            return build
        if machine.scenario is not None:
            name, params = machine.scenario
            actions = list(machine.actions)
            return lambda: replay_actions(scenarios.build(name, **params), actions)
        return None

    @staticmethod
    def _find_event(machine: Machine, event: Any) -> DispatcherObject:
        if event is None:
            found = [o for o in machine.dispatcher_objects
                     if o.kind == "KEVENT" and o.wait_list]
            if not found:
                raise BadArgumentError("Predict needs an event with waiters; none has any")
            return found[0]
        named = machine.find(event) if isinstance(event, str) else event
        if named is None:
            raise BadArgumentError(f"event={event!r}: there is no such event in this "
                                   f"machine")
        return named

    def check(self) -> bool | None:
        """True if the ticks were right (None before Reveal)."""
        if self.released is None:
            return None
        return {n for n, box in self.ticks.items() if box.value} == set(self.released)

    @guarded
    def _on_reveal(self, _button=None):
        if self.released is not None:
            self.say("Already revealed: click Try again to predict once more.")
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
        self.tries += 1
        for box in self.ticks.values():
            box.disabled = True
        self.reveal_button.disabled = True
        self.again_button.disabled = self._again is None
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
            lines.append(f"You did not tick {', '.join(missed)}, but "
                         f"{'it was' if len(missed) == 1 else 'they were'} released.")
        if wrong:
            lines.append(f"You ticked {', '.join(wrong)}, but "
                         f"{'it still waits' if len(wrong) == 1 else 'they still wait'}.")
        colour = GREEN if right else VERMILLION
        self.answer.value = (f'<div role="status" style="border:2px solid {colour};'
                             f'padding:4px 8px">' + "<br>".join(esc(x) for x in lines)
                             + "</div>")

    @guarded
    def _on_again(self, _button=None):
        if self._again is None:
            self.say("Try again: " + self.again_button.tooltip)
            return
        self.machine = self._again()
        self.event = self._find_event(self.machine, self._wanted)
        self.released = None
        for box in self.ticks.values():
            box.value = False
            box.disabled = False
        self.reveal_button.disabled = False
        self.again_button.disabled = True
        self.answer.value = ""
