"""The figure every picture draws into, and the look it shares (from `look`).

`_new_figure` makes the Agg-backed figure every picture draws into (never pyplot), and
`NotebookFigure` shows itself in a notebook with alternative text. The colours, marker
shapes, bar heights and hatching live in `look`, which needs no matplotlib.
"""
from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .look import (  # noqa: F401  (the look, as the other picture modules import it)
    HATCH_USER,
    HATCH_WAIT,
    MARKERS,
    OKABE_ITO,
    PALETTES,
    READY_H,
    RUN_H,
    _palette,
)


class NotebookFigure(Figure):
    """A Figure that shows itself as a picture in a notebook even without
    `%matplotlib inline` (we never touch pyplot's global state).

    In a notebook it is an `<img>` with alternative text (`alt`, which each picture
    sets to say what it shows), so a screen reader can say it too."""

    alt = "A picture drawn by evtsim."

    def _repr_png_(self) -> bytes:
        import io
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        import base64
        import html
        data = base64.b64encode(self._repr_png_()).decode("ascii")
        return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" '
                f'style="max-width:100%">')


def _new_figure(width: float, height: float) -> NotebookFigure:
    fig = NotebookFigure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig
