"""What each mark on a timeline means: the legend texts both pictures use (view model).

The SVG timeline (evtsim.timeline.svg) and the matplotlib one (evtsim.plot) draw the same
kinds of mark and explain them with the same words; the words live here once.
"""
from __future__ import annotations

# Spans and arrows, in legend order.
SPAN_TEXTS = {
    "running_kernel": "running (kernel mode)",
    "running_user": "running (user mode)",
    "ready": "ready (thin bar)",
    "waiting": "waiting (hatched)",
    "signaled": "event signaled (tall)",
    "not_signaled": "event not signaled (low)",
    "arrow": "released a waiter",
    "recheck": "woke to re-check (dashed)",
}

# Markers (kind -> legend text), in legend order.
MARK_TEXTS = {
    "set": "Set (KeSetEvent, SetEvent)",
    "pulse": "Pulse",
    "reset": "Reset / Clear",
    "timeout": "wait timed out",
    "alert": "alert",
    "apc": "APC queued",
    "call": "instructor call (m.kernel)",
    "timer": "timer expired",
    "woken": "woken from outside the lanes shown",
    "error": "error in the thread's code",
    "bugcheck": "bug check",
    "blip": "signaled and consumed in one step",
}

NOW_TEXT = "now (the current moment)"

__all__ = ["SPAN_TEXTS", "MARK_TEXTS", "NOW_TEXT"]
