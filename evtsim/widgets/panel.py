"""What every panel shares: colours and badges, buttons, the log, the status line.

`Panel` is the base of the widgets (a VBox with a log, a captured output for anything a
callback prints, and a status line); `guarded` wraps a callback so that it never
raises and never prints into the void: an exception becomes a sentence in the log.
The colours are Okabe-Ito, as in `evtsim.plot`; the meaning is also in a word and a
symbol.
"""
from __future__ import annotations

import functools
import html
import traceback

import ipywidgets as W

from ..errors import EvtsimError

__all__ = ["Panel", "guarded", "button", "esc", "badge", "state_badge", "KERNEL_OPS",
           "THREAD_BADGES", "LOG_SHOWN", "GREEN", "GREY", "VERMILLION", "BLUE", "SKY",
           "ORANGE"]

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
LOG_SHOWN = 200
THREAD_BADGES = {
    "ready": (BLUE, "\u25b7"), "running": (BLUE, "\u25b6"), "waiting": (VERMILLION, "\u2016"),
    "terminated": (GREY, "\u25a0"),
}


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def badge(text, colour, symbol) -> str:
    return (f'<span style="background:{colour};color:white;border-radius:3px;'
            f'padding:1px 6px;font-weight:bold;white-space:nowrap">{symbol} {esc(text)}</span>')


def state_badge(obj) -> str:
    if obj.SignalState:
        return badge("SIGNALED", GREEN, "\u25cf")          # filled circle
    return badge("not signaled", GREY, "\u25cb")            # hollow circle


def button(label, tooltip, icon=""):
    return W.Button(description=label, tooltip=tooltip, icon=icon,
                    layout=W.Layout(width="auto"))


def guarded(method):
    """A callback that never raises and never prints into the void."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self.captured:
            try:
                return method(self, *args, **kwargs)
            except Exception as error:          # the panel must stay usable
                self._fail(method.__name__, error)
    return run


class Panel(W.VBox):
    """What every widget here shares: a log, a captured output, a status line."""

    def _init_panel(self, log_lines=None):
        self.log_lines: list[str] = [] if log_lines is None else log_lines
        self.log_box = W.HTML(value=self._log_html(), layout=W.Layout(
            max_height="14em", overflow="auto", border="1px solid #ccc", padding="2px 6px"))
        self.log_box.add_class("evtsim-log")
        self.captured = W.Output(layout=W.Layout(max_height="8em", overflow="auto"))
        self.status = W.HTML(value="")
        self.status.add_class("evtsim-status")

    def _log_html(self):
        shown = self.log_lines[-LOG_SHOWN:]
        more = len(self.log_lines) - len(shown)
        head = f"<i>({more} earlier lines)</i><br>" if more else ""
        body = "<br>".join(esc(line) for line in reversed(shown)) or "<i>nothing yet</i>"
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
            f'padding:4px 8px;white-space:pre-wrap;font-family:monospace">{esc(text)}</div>')
