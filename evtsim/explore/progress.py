"""The explorer's progress display: a bar in a notebook, else a line on stderr.

In a Jupyter kernel (IPython's ZMQInteractiveShell) with ipywidgets installed, a search
shows an `IntProgress` bar and a label; anywhere else it rewrites one line on stderr
every ~2 s. This is the only module of the explorer that touches ipywidgets or IPython,
and only inside `_notebook_bar`, so importing the explorer never pulls them in.
"""
from __future__ import annotations

import sys
import time

PROGRESS_EVERY = 2.0            # seconds between progress updates


class _Progress:
    """A progress bar in a notebook (ipywidgets), else a line on stderr every ~2 s."""

    def __init__(self, mode, strategy, total):
        self.mode = mode            # None: after 2 s; True: at once; False: never
        self.strategy = strategy
        self.total = total
        self.start = time.monotonic()
        self.next = self.start + (0.0 if mode else PROGRESS_EVERY)
        self.widget = None
        self.shown = False

    def update(self, report, final=False) -> None:
        if self.mode is False:
            return
        now = time.monotonic()
        if not final and now < self.next:
            return
        if final and not self.shown:
            return
        self.next = now + PROGRESS_EVERY
        text = (f"explore ({self.strategy}): {report.schedules:,} schedules, "
                f"{len(report.end_states)} end states, {len(report.failures)} failures, "
                f"{now - self.start:.1f} s")
        if not self.shown:
            self.shown = True
            self.widget = _notebook_bar(self.total)
        if self.widget is not None:
            bar, label = self.widget
            bar.value = min(report.schedules, bar.max)
            label.value = text + (" (done)" if final else "")
        else:
            end = "\n" if final else "\r"
            print(text + (" (done)" if final else ""), end=end, file=sys.stderr, flush=True)


def _notebook_bar(total):
    try:
        shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
        if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
            return None
        # imported here, only in a notebook: the engine must import without them
        import ipywidgets
        from IPython.display import display
    except Exception:
        return None
    bar = ipywidgets.IntProgress(value=0, min=0, max=max(total, 1))
    label = ipywidgets.Label()
    display(ipywidgets.HBox([bar, label]))
    return bar, label
