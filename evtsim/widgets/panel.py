"""What every panel shares: colours and badges, buttons, the log, the status line.

`Panel` is the base of the widgets (a VBox with a log, a captured output for anything a
callback prints, and a status line); `guarded` wraps a callback so that it never
raises and never prints into the void: an exception becomes a sentence in the log.
The colours are Okabe-Ito, as in `evtsim.plot`; the meaning is also in a word and a
symbol. `banner_html` draws a verdict, and `scale_css` enlarges a whole panel (text,
buttons, choosers) for a projector.
"""
from __future__ import annotations

import functools
import html
import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..errors import BadArgumentError, EvtsimError

__all__ = ["Panel", "guarded", "button", "esc", "badge", "state_badge", "KERNEL_OPS",
           "THREAD_BADGES", "LOG_SHOWN", "GREEN", "GREY", "VERMILLION", "BLUE", "SKY",
           "ORANGE", "banner_html", "scale_css", "scale_class", "check_scale"]

# Okabe-Ito, as in evtsim.plot; the meaning is also in a word and a symbol.
GREEN, GREY, VERMILLION, BLUE, SKY, ORANGE = ("#009E73", "#6B6B6B", "#D55E00", "#0072B2",
                                             "#56B4E9", "#E69F00")
KERNEL_OPS = {
    "Set": ("KeSetEvent", "Signal the event (KeSetEvent): a notification event releases "
            "every waiter and stays signaled; a synchronization event releases one waiter "
            "or stays signaled until one comes"),
    "Reset event": ("KeResetEvent", "Make the event not signaled (KeResetEvent, returns "
                    "the previous state)"),
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


# The font size and control height of JupyterLab's widgets at scale 1 (ipywidgets 8).
BASE_FONT_PX, BASE_HEIGHT_PX, BASE_LABEL_PX = 13, 28, 80


def check_scale(font_scale, name="font_scale") -> float:
    """A positive number of at most 4 (1 normal, 1.5 or 2 for a projector)."""
    if isinstance(font_scale, bool) or not isinstance(font_scale, (int, float)) \
            or not 0 < font_scale <= 4:
        raise BadArgumentError(f"{name}={font_scale!r}: give a number above 0 and at "
                               f"most 4 (1 normal, 1.5 or 2 for a projector)")
    return float(font_scale)


def scale_class(font_scale: float) -> str:
    """The CSS class of a panel drawn at this scale: `evtsim-scale-150` for 1.5."""
    return f"evtsim-scale-{round(font_scale * 100)}"


def scale_css(font_scale: float) -> str:
    """A style sheet that scales everything inside `.evtsim-scale-NNN`: the widgets'
    font and control heights are CSS variables, so buttons, choosers, labels and the
    panel's own text all grow together."""
    cls = scale_class(font_scale)
    font, height, label = (round(v * font_scale, 1) for v in
                           (BASE_FONT_PX, BASE_HEIGHT_PX, BASE_LABEL_PX))
    return (f"<style>.{cls} {{--jp-widgets-font-size: {font}px; "
            f"--jp-widgets-inline-height: {height}px; --jp-widgets-inline-label-width: "
            f"{label}px; --jp-ui-font-size1: {font}px; --jp-code-font-size: {font}px; "
            f"font-size: {font}px;}} .{cls} .widget-html-content {{line-height: 1.4;}} "
            f".{cls} .jupyter-button {{height: auto; min-height: {height}px;}}</style>")


def banner_html(verdict) -> str:
    """The verdict as a banner (empty when there is none): a tick or a cross, a colour
    and the text; bad news is an alert for screen readers, good news a status."""
    if verdict is None:
        return ""
    colour = GREEN if verdict.ok else VERMILLION
    role = "status" if verdict.ok else "alert"
    return (f'<div role="{role}" class="evtsim-verdict-{verdict.tone}" style="border:3px '
            f'solid {colour};border-radius:6px;padding:6px 10px;margin:4px 0;'
            f'font-size:115%;white-space:pre-wrap"><b style="color:{colour}">'
            f'{esc(verdict.text.splitlines()[0])}</b>'
            + "".join(f"<br>{esc(line)}" for line in verdict.text.splitlines()[1:])
            + "</div>")


def button(label: str, tooltip: str, icon: str = "") -> W.Button:
    return W.Button(description=label, tooltip=tooltip, icon=icon,
                    layout=W.Layout(width="auto"))


def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """A callback that never raises and never prints into the void."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self.captured:
            try:
                return method(self, *args, **kwargs)
            except Exception as error:          # the panel must stay usable
                self._fail(method.__name__.removeprefix("_on_").replace("_", " "), error)
    return run


class Panel(W.VBox):
    """What every widget here shares: a log, a captured output, a status line."""

    def _init_panel(self, log_lines=None):
        self.log_lines: list[str] = [] if log_lines is None else log_lines
        self.log_box = W.HTML(value=self._log_html(), layout=W.Layout(
            border="1px solid #ccc", padding="2px 6px"))
        self.log_box.add_class("evtsim-log")
        self.captured = W.Output(layout=W.Layout(max_height="8em", overflow="auto"))
        self.status = W.HTML(value="")
        self.status.add_class("evtsim-status")

    def _log_html(self):
        shown = self.log_lines[-LOG_SHOWN:]
        more = len(self.log_lines) - len(shown)
        head = f"<i>({more} earlier lines)</i><br>" if more else ""
        body = "<br>".join(esc(line) for line in reversed(shown)) or "<i>nothing yet</i>"
        # The log scrolls inside its own div, which takes the keyboard's focus (a region
        # that scrolls must: axe-core's scrollable-region-focusable rule).
        return (f'<div role="log" aria-live="polite" aria-label="Log of the lab" '
                f'tabindex="0" style="font-family:monospace;font-size:90%;max-height:14em;'
                f'overflow:auto">{head}{body}</div>')

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
