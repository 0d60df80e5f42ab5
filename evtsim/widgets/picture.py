"""The lab's timeline picture, drawn in one place: SVG when it can be, else a PNG.

`LabPicture.show(machine)` builds the timeline model with the state now as its last
column (`evtsim.lab.timeline_now`, the cure for "one click behind") and draws that
model: as SVG text in an HTML widget with `evtsim.timeline`'s SVG drawing (no
matplotlib, a cheap redraw), else as a PNG from `evtsim.plot.Timeline`, redrawn in
place into an Image widget. Either way `widget` is what the lab shows and `model` is
what the picture was drawn from. `svg_timeline(source)` builds its own model from a
machine, without the state now, so the lab hands its model to the drawing that
`svg_timeline` uses (`svg_drawer`); if that drawing cannot take a model, the lab
draws the PNG rather than a picture one click behind.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..lab import timeline_now
from ..timeline import TimelineModel

__all__ = ["LabPicture", "svg_drawer"]


def svg_drawer() -> Callable[[Any, TimelineModel, float], str] | None:
    """A function `(machine, model, font_scale) -> SVG text` that draws the lab's model
    with `evtsim.timeline`'s SVG drawing, or None if this evtsim cannot."""
    try:
        from ..timeline import view_of
        from ..timeline.svg import _Drawing
    except ImportError:
        return None

    def draw(machine, model, font_scale):
        return _Drawing(view_of(machine), model, float(font_scale), None).svg()
    return draw


class LabPicture:
    """The timeline of the lab's machine: `show(machine)` draws it; `kind` is "svg" or
    "png"; `widget` is shown in the lab; `model` is the model it was drawn from."""

    def __init__(self, width: float = 10, font_scale: float = 1.0, kind: str | None = None):
        self.width = width
        self.font_scale = font_scale
        self.svg = svg_drawer() if kind in (None, "svg") else None
        self.kind = "svg" if self.svg is not None else "png"
        self.model: TimelineModel | None = None
        # the matplotlib Timeline (PNG only): a ModelTimeline, made on first use (its
        # class is made then, so that matplotlib is imported only when needed)
        self.timeline: Any = None
        if self.kind == "svg":
            self.widget = W.HTML(layout=W.Layout(max_width="100%", overflow="auto"))
        else:
            self.widget = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.widget.add_class("evtsim-timeline")

    def show(self, machine: Any) -> TimelineModel:
        """Build the model with the state now and draw it; return the model."""
        model = timeline_now(machine)
        self.model = model
        if self.svg is not None:                # self.kind == "svg"
            self.widget.value = self.svg(machine, model, self.font_scale)
        else:
            self.widget.value = self._png(model)
        return model

    def _png(self, model) -> bytes:
        """The model drawn the cheap way (`Timeline.draw`), as a PNG made with light
        compression: on a click, encoding costs more than drawing otherwise."""
        import numpy as np
        from PIL import Image
        if self.timeline is None:
            self.timeline = _model_timeline(self.width, self.font_scale)
        self.timeline.show_model(model)
        self.timeline.draw()
        pixels = np.asarray(self.timeline.figure.canvas.buffer_rgba())
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _model_timeline(width, font_scale):
    """A matplotlib Timeline that draws a model it is given (the lab's, with the state
    now), instead of building one from a machine."""
    from .. import plot

    class ModelTimeline(plot.Timeline):
        def show_model(self, model):
            self.model = model
            if not self._made:
                self._make_artists()
            self._draw(model)
            return self.figure

    return ModelTimeline(None, width=width, font_scale=font_scale)
