"""What `evtsim.plot` gives where matplotlib cannot be imported: one line instead of a picture.

Pyodide on the offline JupyterLite site (tools/lite.py, docs/jupyterlite.md) has no
matplotlib, because matplotlib compiled for the browser is not on PyPI. There,
`evtsim.plot.timeline(m)` and the other pictures return a `NoPicture`: in a notebook it
shows one plain sentence that says why and what shows the same run, so the lesson goes
on with no traceback. The lab's live timeline is SVG (`evtsim.timeline.svg_timeline`)
and needs no matplotlib.

Only a missing matplotlib counts (`matplotlib_loads`): matplotlib that is installed but
broken, for example without numpy, still raises. The look (`OKABE_ITO`, `PALETTES`,
`MARKERS`, the bar heights) stays importable from `look`, which needs no matplotlib.
"""
from __future__ import annotations

import html
from typing import Any

__all__ = ["NoPicture", "Timeline", "timeline", "wait_queues", "namespace",
           "matplotlib_loads", "MESSAGE"]

MESSAGE = ("No picture here: this Python cannot load matplotlib (as on the offline "
           "JupyterLite site). The text timeline shows the same run: "
           "evtsim.trace.text_timeline(m).")
NAMESPACE_MESSAGE = ("No picture here: this Python cannot load matplotlib (as on the "
                     "offline JupyterLite site). print(m.objects) shows the same "
                     "namespace as text.")


def matplotlib_loads() -> bool:
    """True if matplotlib imports; False if it is not installed. Any other failure
    (an installed matplotlib that cannot load) raises, as it would without this."""
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] == "matplotlib":
            return False
        raise
    return True


class NoPicture:
    """Stands where a picture would be: one plain line in a notebook and in a print."""

    def __init__(self, message: str = MESSAGE) -> None:
        self.message = message

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        return f'<p class="evtsim-no-picture">{html.escape(self.message)}</p>'


class Timeline(NoPicture):
    """`evtsim.plot.Timeline` without matplotlib: `update` changes nothing."""

    def __init__(self, source: Any = None, **options: Any) -> None:
        super().__init__()

    def update(self, source: Any = None) -> NoPicture:
        return self


def timeline(machine_or_trace: Any, **options: Any) -> NoPicture:
    """`evtsim.plot.timeline` without matplotlib: the one line."""
    return NoPicture()


def wait_queues(machine_or_trace: Any, at: int | None = None, **options: Any) -> NoPicture:
    """`evtsim.plot.wait_queues` without matplotlib: the one line."""
    return NoPicture()


def namespace(machine: Any, process: Any = None, **options: Any) -> NoPicture:
    """`evtsim.plot.namespace` without matplotlib: the one line."""
    return NoPicture(NAMESPACE_MESSAGE)
