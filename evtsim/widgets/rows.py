"""The lab's rows: one per event, one per thread, a thread's routine, the shared state.

An event row shows the event's name, type, signaled badge (a word, a colour and a
symbol), its waiters in FIFO order and the instructor's buttons; a thread row shows
the thread's process, mode and state, what it waits on or what it returned (wait
statuses by name), the line it will run next, and its Step button. `routine_html`
draws a thread's whole routine with the current line marked, and `shared_html` the
data the scenario's threads share (`m.hardware`, `m.items` ...) as a small table.
"""
from __future__ import annotations

import functools

import ipywidgets as W

from ..lab import routine_of, source_line, thread_result_words, type_words
from .panel import (
    GREY,
    KERNEL_OPS,
    ORANGE,
    THREAD_BADGES,
    VERMILLION,
    badge,
    button,
    esc,
    state_badge,
)

__all__ = ["EventRow", "ThreadRow", "routine_html", "shared_html"]


class EventRow:
    """One event (or timer): name, type, badge, waiters, and the instructor's buttons."""

    def __init__(self, lab, obj):
        self.name = obj.name
        self.title = W.HTML()
        self.indicator = W.HTML()
        self.waiters = W.HTML()
        self.buttons: dict[str, W.Button] = {}
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

    def update(self, obj, crashed: bool) -> None:
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


class ThreadRow:
    """One thread: Step button, name, process and mode, state badge, next line."""

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
        self._ended = None              # (thread, words): an ended thread's result

    def result(self, thread) -> str:
        """What the ended thread returned, named (worked out once per thread)."""
        if self._ended is None or self._ended[0] is not thread:
            self._ended = (thread, thread_result_words(thread))
        return self._ended[1]

    def update(self, thread, crashed: bool, at_fault: bool) -> None:
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
                    f"ended, returned {self.result(thread)}")
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


def routine_html(thread) -> str:
    """The thread's whole routine, numbered, with the line it runs next marked \u25b6."""
    if thread is None:
        return "<i>no thread chosen</i>"
    routine = routine_of(thread)
    if routine is None:
        return f"<i>the source of {esc(thread.name)}'s code is not available</i>"
    width = len(str(routine.first + len(routine.lines) - 1))
    rows = []
    for number, text in enumerate(routine.lines, routine.first):
        here = number == routine.current
        mark = "\u25b6" if here else " "
        body = f"{mark} {number:>{width}}  {esc(text)}"
        if here:
            body = (f'<span class="evtsim-current" style="background:#FFF3B0;'
                    f'border-left:4px solid {ORANGE};display:inline-block;min-width:100%">'
                    f'{body}</span>')
        rows.append(body)
    if thread.state == "terminated":
        rows.append(f"  (ended: returned {esc(thread_result_words(thread))})"
                    if thread.error is None else "  (stopped with an error)")
    elif routine.inner:
        rows.append(f"  \u21b3 now {esc(routine.inner)}")
    head = (f"<b>{esc(thread.name)}</b> runs <code>{esc(routine.name)}</code>; "
            f"\u25b6 marks the line it will run next ({esc(thread.state)}).")
    return (f'<div class="evtsim-routine">{head}<pre tabindex="0" aria-label="Code of '
            f'{esc(thread.name)}" style="font-size:85%;margin:2px 0;white-space:pre;'
            f'max-height:18em;overflow:auto;line-height:1.35">' + "\n".join(rows)
            + "</pre></div>")


def shared_html(rows) -> str:
    """The scenario's shared data as a two-column table (empty when there is none)."""
    if not rows:
        return ""
    body = "".join(f"<tr><td style='padding:0 8px'><code>{esc(r.name)}</code></td>"
                   f"<td style='padding:0 8px'><code>{esc(r.value)}</code></td></tr>"
                   for r in rows)
    return ("<div><b>Shared state</b> <small>(what the threads share outside the "
            "kernel, now)</small></div><table class='evtsim-shared' "
            "style='border-collapse:collapse'><tr><th style='text-align:left;"
            "padding:0 8px'>name</th><th style='text-align:left;padding:0 8px'>value "
            f"now</th></tr>{body}</table>")
