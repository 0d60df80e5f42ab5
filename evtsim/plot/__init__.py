"""Pictures of a run: the timeline, the wait queues and the object namespace.

The only package besides the widgets that imports matplotlib. Every function returns a
`matplotlib.figure.Figure` made directly (no pyplot state, never `plt.show()`), drawn
by the Agg canvas, so it works headless, in CI, in Voila and in Pyodide.

The timeline draws `evtsim.timeline.build`'s model: one lane per thread grouped by
process (user-mode lanes tinted and marked "user"), running / ready / waiting spans
(waiting spans hatched and labelled with the wait), one lane per event showing its
signaled state (a tall bar when signaled, a thin low bar when not), an arrow from
every step that released a thread to that thread, markers for signals, timeouts,
alerts and APCs, errors and bug checks, and the current moment as a cursor. Time
reads in µs (`evtsim.units.time_us`); a step axis has whole-number ticks. Colours
are Okabe-Ito (colour-blind safe) and every meaning also has a shape: bar height,
hatching, marker form, line style.

For the widgets, `Timeline.update(machine)` redraws into the same figure: spans of
one kind are one PolyCollection for all lanes, arrows one LineCollection, markers one
scatter per kind, so a redraw changes a dozen artists, not thousands.

The modules: `style` (palettes, marker shapes, the figure factory), `shapes` (span
rectangles as compound paths), `timeline_picture` (`Timeline`, `timeline`),
`timeline_marks` (its legend, arrow fan-out and x axis), `queues` (`wait_queues`) and
`namespace_tree` (`namespace`). The same timeline without matplotlib, as SVG text for
the browser, is `evtsim.timeline.svg_timeline`.

Where matplotlib cannot be imported (Pyodide on the offline JupyterLite site), the same
names come from `missing`: each picture is one plain line that says so and names the
text timeline, and the style names keep their values.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# RUN_H and the other style names are public too (the tests read RUN_H), outside __all__.
from .look import (  # noqa: F401
    HATCH_USER,
    HATCH_WAIT,
    MARKERS,
    OKABE_ITO,
    PALETTES,
    READY_H,
    RUN_H,
)
from .missing import matplotlib_loads

if TYPE_CHECKING or matplotlib_loads():
    from .namespace_tree import namespace
    from .queues import wait_queues
    from .style import NotebookFigure  # noqa: F401
    from .timeline_picture import Timeline, timeline
else:
    from .missing import Timeline, namespace, timeline, wait_queues

__all__ = ["Timeline", "timeline", "wait_queues", "namespace", "OKABE_ITO", "PALETTES",
           "MARKERS"]
