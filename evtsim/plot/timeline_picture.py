"""The timeline picture: `Timeline`, redrawn in place, and `timeline(...)`, its Figure.

Built from `evtsim.timeline.build`'s model: one lane per thread grouped by process,
running / ready / waiting spans, event lanes, release arrows, markers and the cursor.
`Timeline.update(source)` rebuilds the model and redraws into the same figure, and
`draw()` repaints only what changed over a cached background (the lab's cheap redraw).
Labels keep to the figure (the bug check's is wrapped), the "now" label has its own
row under the title, the legend lists the marks drawn and only those, and several
arrows of one step are set apart (`timeline_marks` does the sums).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from .. import timeline as tl
from ..errors import BadArgumentError
from ..units import time_us
from .shapes import _EMPTY, _rect, _rects_path, _SpanCollection
from .style import HATCH_USER, HATCH_WAIT, MARKERS, READY_H, RUN_H, _new_figure, _palette
from .timeline_marks import drawn_keys, fan_out, fit_label, legend_handles, set_x_axis, wrap_label

FONT_SCALES = (0.25, 8)      # a larger scale makes no picture; the CLI says the same


def _check_options(font_scale, labels, legend, title, width, max_labels, ax, axis):
    """Refuse a wrong option at once, saying what it should be."""
    def number(value):
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and value > 0)
    if not number(font_scale) or not FONT_SCALES[0] <= font_scale <= FONT_SCALES[1]:
        raise BadArgumentError(f"font_scale is a number from {FONT_SCALES[0]} to "
                               f"{FONT_SCALES[1]} (1 normal, 2 projector), not {font_scale!r}")
    for name, value in (("labels", labels), ("legend", legend)):
        if not isinstance(value, bool):
            raise BadArgumentError(f"{name} is True or False, not {value!r}")
    if title is not None and not isinstance(title, str):
        raise BadArgumentError(f"title is a text (a str) or None, not {title!r}")
    if width is not None and not number(width):
        raise BadArgumentError(f"width is the figure's width in inches (for example 12), "
                               f"not {width!r}")
    if isinstance(max_labels, bool) or not isinstance(max_labels, int) or max_labels < 0:
        raise BadArgumentError(f"max_labels is a whole number, 0 or more, not {max_labels!r}")
    if ax is not None and not isinstance(ax, Axes):
        raise BadArgumentError("ax is a matplotlib Axes to draw into (fig.add_subplot()), "
                               f"or None; not {ax!r}")
    if axis not in ("steps", "step", "time"):
        raise BadArgumentError(f"axis is 'steps' (one column per trace record) or 'time', "
                               f"not {axis!r}")


class Timeline:
    """A timeline picture that can be redrawn in place with `update(source)`.

    Options: `threads` (names, in order), `events` (names, or False for none),
    `window=(t0, t1)` in virtual time, `axis` ("steps" or "time"), `font_scale` (1.5
    or 2 for a projector), `palette` ("okabe-ito", "grey" or a dict of roles),
    `labels` (write the wait on waiting spans), `legend`, `title`, `pseudo` (show the
    instructor/clock lanes), `ax` (draw into this Axes), `width` (inches).
    """

    def __init__(self, source=None, *, threads=None, events=None, window=None,
                 axis="steps", font_scale=1.0, palette="okabe-ito", labels=True,
                 legend=True, title=None, pseudo=None, ax=None, width=None,
                 max_labels=24):
        _check_options(font_scale, labels, legend, title, width, max_labels, ax, axis)
        self.options = dict(threads=threads, events=events, window=window,
                            axis="steps" if axis == "step" else axis, pseudo=pseudo)
        self.font_scale = float(font_scale)
        self.colours = _palette(palette)
        self.labels = labels
        self.legend = legend
        self.title = title
        self.width = width
        self.max_labels = max_labels
        self.model = None
        self.artists: dict = {}
        self._dynamic: list = []
        self._rows = None
        if ax is not None:
            self.ax = ax
            self.figure = ax.figure
            if self.figure.canvas is None or not hasattr(self.figure.canvas, "draw"):
                FigureCanvasAgg(self.figure)
        else:
            self.figure = _new_figure(width or 12, 4)
            self.ax = None
        self._made = False
        self._borrowed = ax is not None
        self._layout = None
        self._legend_rows = 0
        self._legend_keys: list[str] | None = None
        self._background = None
        self._background_key = None
        if source is not None:
            self.update(source)

    # --- building ---------------------------------------------------------------------
    def _fs(self, size):
        return size * self.font_scale

    def _make_artists(self):
        fig, c = self.figure, self.colours
        if self.ax is None:
            self.ax = fig.add_subplot(1, 1, 1)
        ax = self.ax
        a = self.artists
        a["backgrounds"] = PolyCollection([], transform=ax.get_yaxis_transform(),
                                          linewidths=0, zorder=0, gid="backgrounds")
        a["running_kernel"] = _SpanCollection([], facecolors=c["running_kernel"],
                                             edgecolors="white", linewidths=0.4, zorder=3,
                                             gid="spans:running:kernel")
        a["running_user"] = _SpanCollection([], facecolors=c["running_user"],
                                           edgecolors="black", linewidths=0.4,
                                           hatch=HATCH_USER, zorder=3,
                                           gid="spans:running:user")
        a["ready"] = _SpanCollection([], facecolors=c["ready"], edgecolors="none", zorder=2,
                                    gid="spans:ready")
        a["waiting"] = _SpanCollection([], facecolors=c["waiting_face"],
                                      edgecolors=c["waiting"], linewidths=0.8,
                                      hatch=HATCH_WAIT, zorder=2, gid="spans:waiting")
        a["signaled"] = _SpanCollection([], facecolors=c["signaled"], edgecolors="black",
                                       linewidths=0.4, hatch="xx", zorder=2,
                                       gid="states:signaled")
        a["not_signaled"] = _SpanCollection([], facecolors=c["not_signaled"],
                                           edgecolors="none", zorder=2,
                                           gid="states:not_signaled")
        a["arrows"] = LineCollection([], colors=c["arrow"], linewidths=1.4, zorder=5,
                                     gid="arrows")
        a["rechecks"] = LineCollection([], colors=c["recheck"], linewidths=1.2,
                                       linestyles="dashed", zorder=5, gid="arrows:recheck")
        a["heads_down"] = ax.scatter([], [], marker="v", s=self._fs(40), c=c["arrow"],
                                     zorder=6, gid="arrowheads:down")
        a["heads_up"] = ax.scatter([], [], marker="^", s=self._fs(40), c=c["arrow"],
                                   zorder=6, gid="arrowheads:up")
        for kind, (shape, role, _text) in MARKERS.items():
            size = 160 if kind == "bugcheck" else 55
            a["marker:" + kind] = ax.scatter(
                [], [], marker=shape, s=self._fs(size), c=c[role],
                edgecolors="white" if shape not in ("|", "x") else None,
                linewidths=0.6 if shape not in ("|", "x") else 2, zorder=7,
                gid="markers:" + kind)
        for key in ("backgrounds", "running_kernel", "running_user", "ready", "waiting",
                    "signaled", "not_signaled", "arrows", "rechecks"):
            ax.add_collection(a[key])
        a["cursor"] = ax.axvline(0, color=c["cursor"], linestyle=(0, (4, 2)),
                                 linewidth=1.2, zorder=8, gid="cursor")
        a["bugcheck_line"] = ax.axvline(0, color=c["bugcheck"], linewidth=2.5, zorder=8,
                                        visible=False, gid="bugcheck")
        ax.spines[["top", "right"]].set_visible(False)
        self._made = True

    def _set_legend(self, keys: list[str]):
        """The legend: one entry for each kind of mark drawn, and only those."""
        if not self.legend or keys == self._legend_keys:
            return
        self._legend_keys = keys
        old = self.artists.pop("legend", None)
        if old is not None:
            old.remove()
        handles = legend_handles(keys, self.colours)
        self._legend_rows = -(-len(handles) // self._legend_columns())
        self.artists["legend"] = self.figure.legend(
            handles=handles, loc="lower center", ncol=self._legend_columns(),
            frameon=False, fontsize=self._fs(8))

    def _legend_columns(self) -> int:
        return max(2, min(5, int(5 * (self.width or 12) / 12 / self.font_scale)))

    # --- drawing the model ------------------------------------------------------------
    def update(self, source: Any = None) -> Figure:
        """Rebuild the model from `source` (default: the last one) and redraw in place."""
        if source is None:
            source = self._source
        if source is None:
            raise BadArgumentError("update() needs a machine or a trace the first time")
        model = tl.build(source, **self.options)
        self._source = source
        self.model = model
        if not self._made:
            self._make_artists()
        self._draw(model)
        self.figure.alt = _alt_text(model)
        return self.figure

    _source = None

    def _draw(self, model):
        ax, a, c = self.ax, self.artists, self.colours
        for artist in self._dynamic:
            artist.remove()
        self._dynamic = []
        # Rows: a header row per group, then its lanes.
        y_of: dict[str, float] = {}
        ticks, tick_labels, headers = [], [], []
        y = 0
        lane_of = {lane.name: lane for lane in model.lanes}
        backgrounds, bg_colours = [], []
        for group, names in model.groups:
            header_y = y
            ticks.append(y)
            kind = ("events" if group == tl.EVENTS_GROUP else
                    "process" if group not in (tl.OUTSIDE, tl.DPC_GROUP) else "other")
            if kind == "process":
                modes = {lane_of[n].mode for n in names}
                mode = "user mode" if modes == {"user"} else (
                    "kernel mode" if modes == {"kernel"} else "mixed")
                tick_labels.append(f"{group}  ({mode})")
            else:
                tick_labels.append(group)
            headers.append(len(ticks) - 1)
            y += 1
            for name in names:
                lane = lane_of[name]
                y_of[name] = y
                ticks.append(y)
                if lane.mode == "user":
                    tick_labels.append(f"{lane.label} [user]")
                    backgrounds.append(_rect(0, 1, y - 0.5, y + 0.5))
                    bg_colours.append(c["user_tint"])
                else:
                    tick_labels.append(lane.label)
                y += 1
            backgrounds.append(_rect(0, 1, header_y - 0.5, header_y + 0.5))
            bg_colours.append(c["group_tint"])
        room = int((0.45 * (self.width or 12) - 0.15) * 72 / (self._fs(9) * 0.65))
        tick_labels = [fit_label(t, room) for t in tick_labels]
        a["backgrounds"].set_verts(backgrounds)
        a["backgrounds"].set_facecolors(bg_colours or ["none"])
        self.y_of = y_of
        n_rows = max(y, 1)
        label_chars = max((len(t) for t in tick_labels), default=8)
        x0, x1 = self._xlim(model)
        edge = len(str(int(x1)) if model.axis == "steps" else time_us(round(x1)))
        self._set_legend(drawn_keys(model))
        self._size(n_rows, label_chars, edge)
        bug_text, bug_inches = self._bugcheck_text(model)
        if bug_inches:
            self._size(n_rows, label_chars, edge, bug_inches)
        # Spans.
        Rect = tuple[float, float, float, float]
        kinds: dict[str, list[Rect]] = {"running_kernel": [], "running_user": [],
                                        "ready": [], "waiting": []}
        least = (x1 - x0) * 0.002          # a 1 us step stays visible on a long time axis
        for span in model.spans:
            yc = y_of[span.lane]
            if span.kind == "running":
                key = "running_user" if lane_of[span.lane].mode == "user" else "running_kernel"
                kinds[key].append((span.x0, max(span.x1, span.x0 + least),
                                   yc - RUN_H, yc + RUN_H))
            elif span.kind == "waiting":
                kinds["waiting"].append((span.x0, span.x1, yc - RUN_H, yc + RUN_H))
            else:
                kinds["ready"].append((span.x0, span.x1, yc - READY_H, yc + READY_H))
        for key, rects in kinds.items():
            a[key].set_paths(_rects_path(rects))
            a[key].rects = rects
        on, off = [], []
        for seg in model.states:
            yc = y_of[seg.lane]
            if seg.state:
                on.append((seg.x0, seg.x1, yc - RUN_H, yc + RUN_H))
            else:
                off.append((seg.x0, seg.x1, yc + RUN_H - 0.1, yc + RUN_H))
        a["signaled"].set_paths(_rects_path(on))
        a["signaled"].rects = on
        a["not_signaled"].set_paths(_rects_path(off))
        a["not_signaled"].rects = off
        # Arrows: from the releasing step to the top (or bottom) of the released lane,
        # straight up or down; the arrows of one step side by side.
        Segment = tuple[tuple[float, float], tuple[float, float]]
        solid: list[Segment] = []
        dashed: list[Segment] = []
        down: list[tuple[float, float]] = []
        up: list[tuple[float, float]] = []
        per_px = (x1 - x0) / max(self._axes_points() * self.figure.dpi / 72, 1.0)
        column = 1.0 if model.axis == "steps" else float(model.step_time)
        for arrow, x in fan_out(model.arrows, y_of, per_px, column, 7 * self.font_scale):
            ys, yd = y_of[arrow.src], y_of[arrow.dst]
            sign = 1 if yd > ys else -1         # y grows downwards
            tip = yd - sign * RUN_H
            segment = ((x, ys + sign * RUN_H * 0.5), (x, tip))
            (dashed if arrow.kind == "recheck" else solid).append(segment)
            (down if sign > 0 else up).append((x, tip))
        a["arrows"].set_segments(solid)
        a["rechecks"].set_segments(dashed)
        a["heads_down"].set_offsets(down or _EMPTY)
        a["heads_up"].set_offsets(up or _EMPTY)
        # Markers.
        points: dict[str, list[tuple[float, float]]] = {kind: [] for kind in MARKERS}
        for marker in model.markers:
            yc = y_of[marker.lane]
            if marker.kind == "blip":
                yc = yc - RUN_H * 0.3
            points[marker.kind].append((marker.x, yc))
        for kind, xy in points.items():
            a["marker:" + kind].set_offsets(xy or _EMPTY)
        # Axes, cursor, bug check.
        ax.set_xlim(x0, x1)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.set_yticks(ticks)
        ax.set_yticklabels(tick_labels)
        for i, label in enumerate(ax.get_yticklabels()):
            label.set_fontsize(self._fs(9))
            label.set_fontweight("bold" if i in headers else "normal")
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=self._fs(8))
        set_x_axis(ax, model.axis == "steps", x1, self._axes_points(), self._fs(8))
        if model.axis == "steps":
            ax.set_xlabel("step (one trace record each)", fontsize=self._fs(9))
        else:
            ax.set_xlabel("virtual time (\u00b5s)", fontsize=self._fs(9))
        a["cursor"].set_xdata([model.now, model.now])
        # The "now" label has its own row between the axes and the title.
        left = model.now <= (x0 + x1) / 2
        now_text = ax.text(model.now, -0.5, f" now: step {model.seq}, "
                           f"t={time_us(model.time)} ", fontsize=self._fs(8), va="bottom",
                           ha="left" if left else "right", clip_on=False,
                           gid="cursor-label")
        self._dynamic.append(now_text)
        line = a["bugcheck_line"]
        if bug_text:
            bx = next((mk.x for mk in model.markers if mk.kind == "bugcheck"), model.now)
            line.set_xdata([bx, bx])
            line.set_visible(True)
            # Its label has a row of its own under the x axis, as wide as the axes.
            self._dynamic.append(ax.annotate(
                bug_text, (0, 0), xycoords="axes fraction", xytext=(3, -self._fs(0.45) * 72),
                textcoords="offset points", color=c["bugcheck"], fontsize=self._fs(9),
                fontweight="bold", va="top", ha="left", zorder=9, annotation_clip=False,
                gid="bugcheck-label",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=c["bugcheck"])))
        else:
            line.set_visible(False)
        # Labels on waiting spans that are wide enough to carry them.
        if self.labels:
            self._label_spans(model, y_of, x0, x1)
        title = self.title or model.title or "evtsim timeline"
        ax.set_title(title, fontsize=self._fs(11), loc="left", pad=self._fs(8) * 1.6 + 6)

    def _axes_points(self) -> float:
        """The axes' width in points (1/72 inch)."""
        return self.ax.get_position().width * self.figure.get_size_inches()[0] * 72

    def _bugcheck_text(self, model) -> tuple[str, float]:
        """The bug check's label, wrapped to the axes' width, and the height it needs
        in inches ("", 0 without a bug check)."""
        b = model.bugcheck
        if not b:
            return "", 0.0
        room = self._axes_points() - 12
        chars = int(room / (self._fs(9) * 0.75))        # bold capitals, on the wide side
        text = (wrap_label(f"BUG CHECK 0x{b['code']:X} {b['name']}", chars) + "\n"
                + wrap_label(str(b.get("rule") or ""), chars))
        lines = text.count("\n") + 1
        return text, (lines * self._fs(9) * 1.3 + 8) / 72

    def _label_spans(self, model, y_of, x0, x1):
        fig_w = self.figure.get_size_inches()[0] * self.figure.dpi * 0.8
        per_x = fig_w / max(x1 - x0, 1e-9)
        char = self._fs(7) * 0.62
        candidates = []
        for span in model.spans:
            if span.kind != "waiting":
                continue
            a, b = max(span.x0, x0), min(span.x1, x1)
            if b <= a:
                continue
            if (b - a) * per_x >= (len(span.label) + 1) * char:
                candidates.append((b - a, span, (a + b) / 2))
        candidates.sort(key=lambda c: -c[0])
        for _w, span, mid in candidates[:self.max_labels]:
            self._dynamic.append(self.ax.text(
                mid, y_of[span.lane], span.label, ha="center", va="center",
                fontsize=self._fs(7), zorder=4, clip_on=True, gid="label:" + span.lane,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85)))

    def _size(self, n_rows, label_chars, edge_chars=4, bug_in=0.0):
        """Size the figure to the lanes and make room for labels and legend: a title
        row, the "now" label's row under it, the lanes, the x axis, the bug check's
        label (`bug_in` inches) and the legend; on the right, half the last tick label
        (`edge_chars` long)."""
        if self._borrowed:
            return                       # drawing into someone else's Axes
        width = self.width or 12
        legend = (self._legend_rows * self._fs(8) * 1.8 / 72 + 0.1) if self.legend else 0.0
        top_in = (self._fs(11) * 1.3 + self._fs(8) * 1.6 + 10) / 72
        bottom_in = legend + self._fs(0.45) + bug_in
        lanes_in = 0.15 + 0.3 * n_rows * self.font_scale
        height = top_in + lanes_in + bottom_in
        layout = (width, height, label_chars, self._legend_rows, edge_chars, bug_in)
        if layout != self._layout:
            self._layout = layout
            self.figure.set_size_inches(width, height)
            left = min(0.45, (label_chars * self._fs(9) * 0.65 / 72 + 0.15) / width)
            right = max(0.2, (edge_chars * self._fs(8) * 0.65 / 2 + 4) / 72) / width
            self.figure.subplots_adjust(left=left, right=1 - right, bottom=bottom_in / height,
                                        top=1 - top_in / height)

    def _xlim(self, model):
        """The model's x range; a growing run's right edge moves in steps of about a
        tenth, so the picture does not rescale on every click."""
        x0, x1 = model.xlim
        if self.options["window"] is not None or x1 <= 1:
            return x0, x1
        chunk = max(5.0, 10 ** np.floor(np.log10(x1)) / 2)
        return x0, float(np.ceil(x1 / chunk) * chunk)

    def _dynamic_artists(self):
        a = self.artists
        keys = ("running_kernel", "running_user", "ready", "waiting", "signaled",
                "not_signaled", "arrows", "rechecks", "heads_down", "heads_up", "cursor",
                "bugcheck_line") + tuple("marker:" + k for k in MARKERS)
        found = [a[k] for k in keys] + list(self._dynamic)
        return sorted(found, key=lambda artist: artist.get_zorder())

    def _layout_key(self):
        ax = self.ax
        return (tuple(t.get_text() for t in ax.get_yticklabels()), ax.get_xlim(),
                ax.get_ylim(), tuple(self.figure.get_size_inches()), self.figure.dpi,
                ax.get_title(loc="left"), tuple(self._legend_keys or ()))

    def draw(self) -> None:
        """Render with Agg, as cheaply as possible: what does not change between
        clicks (lane labels, axes, legend) is drawn once and kept as a bitmap, and a
        redraw paints only the spans, arrows, markers and labels over it. The canvas
        buffer (`figure.canvas.buffer_rgba()`) then holds the picture; `savefig` and
        notebook display always draw everything afresh."""
        canvas = self.figure.canvas
        dynamic = self._dynamic_artists()
        key = self._layout_key()
        if key != self._background_key:
            shown = [artist.get_visible() for artist in dynamic]
            for artist in dynamic:
                artist.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = key
            for artist, visible in zip(dynamic, shown, strict=False):
                artist.set_visible(visible)
        else:
            canvas.restore_region(self._background)
        for artist in dynamic:
            if artist.get_visible():
                self.ax.draw_artist(artist)
        return self.figure

    def png(self) -> bytes:
        """The picture as PNG bytes, drawn the cheap way (for widgets)."""
        import io

        from matplotlib.image import imsave
        self.draw()
        buffer = io.BytesIO()
        imsave(buffer, np.asarray(self.figure.canvas.buffer_rgba()), format="png")
        return buffer.getvalue()


def _alt_text(model) -> str:
    """What the picture shows, in one sentence for a screen reader."""
    threads = [lane.name for lane in model.lanes if lane.kind == "thread"]
    events = [lane.name for lane in model.lanes if lane.kind == "event"]
    return (f"Timeline: threads {', '.join(threads) or 'none'}; events "
            f"{', '.join(events) or 'none'}; {len(model.arrows)} release arrows; "
            f"now at {time_us(model.time)}.")


def timeline(machine_or_trace, **options) -> Figure:
    """The timeline of a Machine or a saved trace as a Figure (see `Timeline`)."""
    if machine_or_trace is None:
        raise BadArgumentError("timeline() draws a run: pass a Machine (m), a trace "
                               "loaded with evtsim.trace.load, or m.trace")
    picture = Timeline(machine_or_trace, **options)
    picture.figure.evtsim_timeline = picture
    return picture.figure
