"""The timeline as a live SVG picture: the same lanes, spans and arrows as evtsim.plot.

Built from the timeline model (`build`) of a Machine or a loaded trace, as one string
of SVG text, with no matplotlib and no browser: it runs in Pyodide and the lab can
redraw it on every click. The picture scales with the page (a `viewBox` and width
100%, no pixel size), so browser zoom and a projector keep it sharp; `font_scale`
enlarges the text. It draws one lane per thread (grouped by process) and per event,
the running / ready / waiting spans, each event's signal state as steps, an arrow from
every step that released a thread (several arrows of one step are set apart), re-check
arrows, markers, the bug check and the current moment. Every label is measured on the
wide side and kept inside the picture; the legend lists exactly the marks drawn.

For people who cannot see it, the SVG carries a `<title>` and a `<desc>` that say the
run in words. For tests and tools, lanes and marks carry `data-*` attributes: the
current moment `data-now-seq`, each lane `data-thread` or `data-event` with
`data-state-now`, each arrow `data-from-seq` and `data-to-thread`, each mark
`data-mark`, each legend entry `data-legend`. The same run gives the same bytes.
"""
from __future__ import annotations

import hashlib
import math

from ..errors import BadArgumentError
from ..units import time_us
from .model import DPC_GROUP, EVENTS_GROUP, OUTSIDE, TimelineModel, build, checked_view
from .runview import RunView
from .svg_layout import (
    COLOURS,
    FONT,
    ID_TOKEN,
    LEGEND,
    MARKS,
    defs,
    esc,
    fill,
    fit_text,
    flow,
    mark_shape,
    num,
    swatch,
    text_el,
    text_width,
    ticks,
    wrap_text,
)

WIDTH = 960.0                   # the viewBox width; the page scales it to fit
_STATE_WORDS = {"waiting": "is waiting", "ready": "is ready", "running": "is running",
                "terminated": "has ended"}


def svg_timeline(source, *, axis: str = "time", font_scale: float = 1.0,
                 title: str | None = None) -> str:
    """The timeline of a Machine or a loaded trace as SVG text.

    axis: "time" (virtual time, labelled in µs) or "step" (one column per trace
    record, whole-number ticks). font_scale: 1.5 or 2 for a projector. title: the
    picture's heading (default: the scenario's name).
    """
    if axis not in ("time", "step", "steps"):
        raise BadArgumentError(f"axis is 'time' (virtual time) or 'step' (one column per "
                               f"trace record), not {axis!r}")
    if isinstance(font_scale, bool) or not isinstance(font_scale, (int, float)) \
            or not math.isfinite(font_scale) or not 0.25 <= font_scale <= 6:
        raise BadArgumentError(f"font_scale is a number from 0.25 to 6 (1 normal, 2 for a "
                               f"projector), not {font_scale!r}")
    if title is not None and not isinstance(title, str):
        raise BadArgumentError(f"title is a text (a str) or None, not {title!r}")
    view = checked_view(source)
    model = build(view, axis="time" if axis == "time" else "steps")
    return _Drawing(view, model, float(font_scale), title).svg()


def _thread_states(view: RunView) -> dict[str, str]:
    """Each thread's state now: the machine's (or the file's) word, else read from the
    records (a bare list of records says it step by step)."""
    states = {t.name: "ready" for t in view.threads}
    for row in view.rows:
        if row.kind == "thread":
            states[row.thread] = row.state or "terminated"
        for name in tuple(row.released) + tuple(row.rechecked):
            states[name] = "ready"
    for t in view.threads:
        if t.state is not None:
            states[t.name] = t.state
    return states


def _event_states(view: RunView, model: TimelineModel) -> dict[str, int]:
    """Each event's signal state now (0 or 1)."""
    states = {o.name: int(o.created_state) for o in view.objects}
    for seg in sorted(model.states, key=lambda s: s.x1):
        states[seg.lane] = int(seg.state)
    for o in view.objects:
        if o.state is not None:
            states[o.name] = int(o.state)
    return states


class _Drawing:
    """One SVG picture of a model: layout first, then each layer as text."""

    def __init__(self, view: RunView, model: TimelineModel, fs: float, title):
        self.view, self.model, self.fs = view, model, fs
        self.title = title or model.title or "evtsim timeline"
        self.pad = 10.0
        self.title_size, self.label_size = 15 * fs, 12 * fs
        self.small, self.tiny = 11 * fs, 10 * fs
        self.lane_h = 26 * fs
        self.run_h, self.ready_h = 0.36 * self.lane_h, 0.12 * self.lane_h
        self.drawn: set[str] = set()
        self.headers: list[str] = []
        self.steps = model.axis == "steps"
        self.now_seq = model.seq
        self.thread_now = _thread_states(view)
        self.event_now = _event_states(view, model)

    # --- layout -----------------------------------------------------------------------
    def _rows(self):
        """Rows from the top: (kind, name, text) with kind "group" or a lane kind."""
        lanes = {lane.name: lane for lane in self.model.lanes}
        rows = []
        for group, names in self.model.groups:
            text = group
            if group not in (EVENTS_GROUP, OUTSIDE, DPC_GROUP):
                modes = {lanes[n].mode for n in names}
                text += ("  (user mode)" if modes == {"user"} else "  (kernel mode)"
                         if modes == {"kernel"} else "  (mixed)")
            rows.append(("group", group, text))
            for name in names:
                lane = lanes[name]
                rows.append((lane.kind, name, lane.label + (" [user]" if lane.mode == "user"
                                                            else "")))
        return rows, lanes

    def _x_range(self):
        lo, hi = self.model.xlim
        hi = max(hi, 5.0 if self.steps else 50.0)
        chunk = max(5.0, 10 ** math.floor(math.log10(hi)) / 2)
        return lo, math.ceil(hi / chunk - 1e-9) * chunk

    def _tick_label(self, value: float) -> str:
        return str(int(round(value))) if self.steps else time_us(int(round(value)))

    def layout(self):
        pad, fs = self.pad, self.fs
        self.rows, self.lanes = self._rows()
        widest = max((text_width(t, self.label_size) for k, _n, t in self.rows
                      if k != "group"), default=40.0)
        self.label_w = min(widest, WIDTH * 0.38 - 2 * pad)
        self.lo, self.hi = self._x_range()
        right = text_width(self._tick_label(self.hi), self.small) / 2 + pad
        self.x0, self.x1 = pad + self.label_w + 8 * fs, WIDTH - right
        y = pad + self.title_size * 1.4
        self.now_y = y + self.small
        y += self.small * 1.7
        self.lanes_top = y
        self.y_of = {}
        for index, (kind, name, _text) in enumerate(self.rows):
            if kind != "group":
                self.y_of[name] = y + (index + 0.5) * self.lane_h
        self.lanes_bottom = y + max(len(self.rows), 1) * self.lane_h
        self.tick_y = self.lanes_bottom + 5 + self.small * 1.1
        self.axis_y = self.tick_y + self.small * 1.5
        y = self.axis_y + self.small * 0.6
        self.bug_lines = []
        if self.view.bugcheck:
            b = self.view.bugcheck
            head = f"BUG CHECK 0x{b['code']:X} {b['name']} in {b.get('thread')} at step " \
                   f"{b.get('seq')}"
            width = WIDTH - 2 * pad
            self.bug_lines = [(line, True) for line in wrap_text(head, self.small, width,
                                                                True)]
            self.bug_lines += [(line, False) for line in
                               wrap_text(str(b.get("rule") or ""), self.small, width)]
        self.bug_y = y + self.small * 1.2
        y += len(self.bug_lines) * self.small * 1.35 + self.small * 0.8
        self.legend_y = y

    def sx(self, x: float) -> float:
        """Model x (step or 100 ns unit) to picture x, kept inside the plot area."""
        span = max(self.hi - self.lo, 1e-9)
        x = self.x0 + (x - self.lo) * (self.x1 - self.x0) / span
        return min(max(x, self.x0), self.x1)

    # --- layers -----------------------------------------------------------------------
    def _rect(self, key: str, x0: float, x1: float, y0: float, y1: float, extra="") -> str:
        self.drawn.add(key)
        left, right = self.sx(x0), self.sx(x1)
        width = max(right - left, 1.5)
        more = f" {extra}" if extra else ""
        return (f'<rect data-mark="{key}" x="{num(min(left, self.x1 - width))}" '
                f'y="{num(y0)}" width="{num(width)}" height="{num(y1 - y0)}" '
                f'{fill(key)}{more}/>')

    def _lanes(self) -> list[str]:
        out, pad = [], self.pad
        spans: dict[str, list] = {}
        for span in self.model.spans:
            spans.setdefault(span.lane, []).append(span)
        states: dict[str, list] = {}
        for seg in self.model.states:
            states.setdefault(seg.lane, []).append(seg)
        for index, (kind, name, text) in enumerate(self.rows):
            top = self.lanes_top + index * self.lane_h
            if kind == "group":
                label = fit_text(text, self.label_size, WIDTH - 2 * pad, True)
                out.append(f'<rect class="group" data-group="{esc(name)}" x="0" '
                           f'y="{num(top)}" width="{num(WIDTH)}" height="{num(self.lane_h)}" '
                           f'fill="{COLOURS["group_tint"]}"/>')
                # drawn last, over the arrows and the "now" line, with a halo
                self.headers.append(text_el(
                    pad, top + self.lane_h / 2 + self.label_size * 0.35, label,
                    self.label_size, bold=True, extra=f'class="group-label" stroke="'
                    f'{COLOURS["group_tint"]}" stroke-width="3" paint-order="stroke"'))
                continue
            lane = self.lanes[name]
            yc = self.y_of[name]
            if kind == "event":
                attrs = (f'data-event="{esc(name)}" '
                         f'data-state-now="{self.event_now.get(name, 0)}"')
            elif kind == "thread":
                attrs = (f'data-thread="{esc(name)}" '
                         f'data-state-now="{self.thread_now.get(name, "ready")}"')
            else:
                attrs = f'data-lane-kind="{kind}" data-name="{esc(name)}"'
            parts = [f'<g class="lane" {attrs}><title>{esc(text)}</title>']
            if lane.mode == "user":
                parts.append(f'<rect x="0" y="{num(top)}" width="{num(WIDTH)}" '
                             f'height="{num(self.lane_h)}" fill="{COLOURS["user_tint"]}"/>')
            label = fit_text(text, self.label_size, self.label_w)
            parts.append(text_el(self.x0 - 6 * self.fs, yc + self.label_size * 0.35, label,
                                 self.label_size, anchor="end"))
            for span in spans.get(name, []):
                parts.append(self._span(span, lane, yc))
            if kind == "event":
                parts.extend(self._states(states.get(name, []), yc))
            out.append("".join(parts) + "</g>")
        return out

    def _span(self, span, lane, yc) -> str:
        seq = f'data-seq="{span.seq}"' if span.seq is not None else ""
        if span.kind == "running":
            key = "running_user" if lane.mode == "user" else "running_kernel"
            return self._rect(key, span.x0, span.x1, yc - self.run_h, yc + self.run_h, seq)
        if span.kind == "ready":
            return self._rect("ready", span.x0, span.x1, yc - self.ready_h,
                              yc + self.ready_h, seq)
        rect = self._rect("waiting", span.x0, span.x1, yc - self.run_h, yc + self.run_h,
                          seq)
        left, right = self.sx(span.x0), self.sx(span.x1)
        width = text_width(span.label, self.tiny)
        if right - left >= width + 8 * self.fs:
            mid = (left + right) / 2
            rect += (f'<rect x="{num(mid - width / 2 - 2)}" '
                     f'y="{num(yc - self.tiny * 0.75)}" width="{num(width + 4)}" '
                     f'height="{num(self.tiny * 1.3)}" fill="#FFFFFF" opacity="0.85"/>'
                     + text_el(mid, yc + self.tiny * 0.35, span.label, self.tiny,
                               anchor="middle", extra='class="span-label"'))
        return rect

    def _states(self, segments, yc) -> list[str]:
        out: list[str] = []
        path: list[str] = []
        high, low = yc - self.run_h, yc + self.run_h
        for seg in sorted(segments, key=lambda s: s.x0):
            if seg.state:
                out.append(self._rect("signaled", seg.x0, seg.x1, high, low,
                                      'data-state="1"'))
            else:
                out.append(self._rect("not_signaled", seg.x0, seg.x1,
                                      low - 0.1 * self.lane_h, low, 'data-state="0"'))
            level = high if seg.state else low
            cmd = "M" if not path else "L"
            path.append(f"{cmd}{num(self.sx(seg.x0))},{num(level)} "
                        f"L{num(self.sx(seg.x1))},{num(level)}")
        if path:
            out.append(f'<path class="state-steps" d="{" ".join(path)}" fill="none" '
                       f'stroke="#000000" stroke-width="1"/>')
        return out

    def _arrows(self) -> list[str]:
        """An arrow from the releasing step to each released lane; several arrows of one
        step fan out side by side so that each stays visible."""
        groups: dict[tuple, list] = {}
        for arrow in self.model.arrows:
            groups.setdefault((arrow.seq, arrow.src), []).append(arrow)
        column = (self.sx(self.lo + 1) - self.sx(self.lo) if self.steps else
                  (self.x1 - self.x0) * self.model.step_time / max(self.hi - self.lo, 1e-9))
        out, head, half = [], 6 * self.fs, 3.5 * self.fs
        for (_seq, src), arrows in sorted(groups.items(), key=lambda item: item[0][0]):
            arrows = sorted(arrows, key=lambda a: self.y_of[a.dst])
            k = len(arrows)
            gap = max(column * 0.7 / k, 7 * self.fs)
            for i, arrow in enumerate(arrows):
                x = self.sx(arrow.x0) + (i - (k - 1) / 2) * gap
                x = min(max(x, self.x0 + half), self.x1 - half)
                ys, yd = self.y_of[src], self.y_of[arrow.dst]
                sign = 1 if yd >= ys else -1
                start, tip = ys + sign * self.run_h * 0.5, yd - sign * self.run_h
                key = "recheck" if arrow.kind == "recheck" else "arrow"
                self.drawn.add(key)
                colour = COLOURS[key]
                dash = ' stroke-dasharray="4 3"' if key == "recheck" else ""
                what = ("woke " if key == "recheck" else "released ") + arrow.dst
                out.append(
                    f'<g class="arrow" data-mark="{key}" data-from-seq="{arrow.seq}" '
                    f'data-from-thread="{esc(src)}" data-to-thread="{esc(arrow.dst)}" '
                    f'data-kind="{esc(arrow.kind)}"><title>{esc(arrow.op)} by {esc(src)} '
                    f'{esc(what)} (step {arrow.seq})</title>'
                    f'<line x1="{num(x)}" y1="{num(start)}" x2="{num(x)}" '
                    f'y2="{num(tip - sign * head)}" stroke="{colour}" stroke-width="1.6"'
                    f'{dash}/><polygon points="{num(x)},{num(tip)} '
                    f'{num(x - half)},{num(tip - sign * head)} '
                    f'{num(x + half)},{num(tip - sign * head)}" fill="{colour}"/></g>')
        return out

    def _markers(self) -> list[str]:
        out, r = [], 5 * self.fs
        for mk in self.model.markers:
            if mk.kind not in MARKS or mk.lane not in self.y_of:
                continue
            y = self.y_of[mk.lane] - (self.run_h * 0.3 if mk.kind == "blip" else 0)
            x = self.sx(mk.x)
            key = "marker:" + mk.kind
            self.drawn.add(key)
            line = ""
            if mk.kind == "bugcheck":
                line = (f'<line x1="{num(x)}" y1="{num(self.lanes_top)}" x2="{num(x)}" '
                        f'y2="{num(self.lanes_bottom)}" stroke="{COLOURS["bugcheck"]}" '
                        f'stroke-width="2.5"/>')
            out.append(f'<g class="mark" data-mark="{key}" data-seq="{mk.seq}" '
                       f'data-lane="{esc(mk.lane)}"><title>{esc(mk.label)}</title>{line}'
                       f'{mark_shape(mk.kind, x, y, r)}</g>')
        return out

    def _now(self) -> str:
        self.drawn.add("now")
        x = self.sx(self.model.now)
        label = f"now: step {self.now_seq}, t = {time_us(self.model.time)}"
        width = text_width(label, self.small)
        left = min(max(x - width / 2, self.pad), WIDTH - self.pad - width)
        return (f'<g class="now" data-mark="now" data-now-seq="{self.now_seq}" '
                f'data-now-time="{self.model.time}">'
                f'<line x1="{num(x)}" y1="{num(self.now_y + self.small * 0.35)}" '
                f'x2="{num(x)}" y2="{num(self.lanes_bottom)}" stroke="{COLOURS["cursor"]}" '
                f'stroke-width="1.3" stroke-dasharray="5 3"/>'
                + text_el(left, self.now_y, label, self.small) + "</g>")

    def _axis(self) -> str:
        name = "step" if self.steps else "time"
        out = [f'<g class="axis" data-axis="{name}">'
               f'<line x1="{num(self.x0)}" y1="{num(self.lanes_bottom)}" x2="{num(self.x1)}" '
               f'y2="{num(self.lanes_bottom)}" stroke="#000000" stroke-width="1"/>']
        values = ticks(self.lo, self.hi, self.x1 - self.x0, self._tick_label, self.small,
                       integer=True)
        for value in values:
            x = self.sx(value)
            out.append(f'<line x1="{num(x)}" y1="{num(self.lanes_bottom)}" x2="{num(x)}" '
                       f'y2="{num(self.lanes_bottom + 4)}" stroke="#000000"/>')
            out.append(text_el(x, self.tick_y, self._tick_label(value), self.small,
                               anchor="middle",
                               extra=f'class="tick" data-value="{num(value)}"'))
        words = ("step (one trace record each)" if self.steps
                 else "virtual time (\u00b5s)")
        out.append(text_el((self.x0 + self.x1) / 2, self.axis_y, words, self.small,
                           anchor="middle", extra='class="axis-label"'))
        return "".join(out) + "</g>"

    def _bugcheck(self) -> str:
        if not self.bug_lines:
            return ""
        out = ['<g class="bugcheck-label">']
        for i, (line, bold) in enumerate(self.bug_lines):
            out.append(text_el(self.pad, self.bug_y + i * self.small * 1.35, line,
                               self.small, bold=bold, colour=COLOURS["bugcheck"]))
        return "".join(out) + "</g>"

    def _legend(self) -> tuple[str, float]:
        size, pad = self.small, self.pad
        swatch_w = 2 * size
        entries = [(key, fit_text(text, size, WIDTH - 2 * pad - swatch_w - size))
                   for key, text in LEGEND.items() if key in self.drawn]
        rows = flow(entries, size, pad, WIDTH - pad, swatch_w)
        out = ['<g class="legend">']
        row_h = size * 1.8
        for r, row in enumerate(rows):
            yc = self.legend_y + r * row_h + row_h / 2
            for key, text, x in row:
                out.append(f'<g class="legend-entry" data-legend="{key}">'
                           + swatch(key, x, yc, swatch_w, size)
                           + text_el(x + swatch_w + size * 0.4, yc + size * 0.35, text,
                                     size)
                           + "</g>")
        return "".join(out) + "</g>", self.legend_y + len(rows) * row_h

    def _desc(self) -> str:
        view, model = self.view, self.model
        threads = [lane.name for lane in model.lanes if lane.kind == "thread"]
        events = [lane.name for lane in model.lanes if lane.kind == "event"]
        n = len(view.rows)
        parts = [f"Timeline of {self.title}: {len(threads)} thread"
                 f"{'' if len(threads) == 1 else 's'}"
                 + (f" ({', '.join(threads)})" if threads else "")
                 + f", {len(events)} event{'' if len(events) == 1 else 's'}"
                 + (f" ({', '.join(events)})" if events else "")
                 + f", {n} step{'' if n == 1 else 's'}."]
        now = [f"{name} {_STATE_WORDS.get(self.thread_now.get(name, ''), 'is ready')}"
               for name in threads]
        now += [f"{name} is {'signaled' if self.event_now.get(name) else 'not signaled'}"
                for name in events]
        parts.append(f"Now (step {self.now_seq}, t = {time_us(model.time)}): "
                     + ("; ".join(now) if now else "nothing has started") + ".")
        released = sum(1 for a in model.arrows if a.kind != "recheck")
        if released:
            parts.append(f"{released} release arrow{'' if released == 1 else 's'}.")
        if view.bugcheck:
            b = view.bugcheck
            parts.append(f"The machine stopped with BUG CHECK 0x{b['code']:X} "
                         f"{b['name']}: {b.get('rule')}.")
        return " ".join(parts)

    def svg(self) -> str:
        self.layout()
        body = [defs(self.fs)]
        body += self._lanes()
        body += self._arrows()
        body += self._markers()
        body.append(self._now())
        body += self.headers
        body.append(self._axis())
        body.append(self._bugcheck())
        body.append(text_el(self.pad, self.pad + self.title_size,
                            fit_text(self.title, self.title_size, WIDTH - 2 * self.pad,
                                     True), self.title_size, bold=True,
                            extra='class="title"'))
        legend, bottom = self._legend()
        body.append(legend)
        height = bottom + self.pad
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {num(WIDTH)} '
                f'{num(height)}" width="100%" preserveAspectRatio="xMinYMin meet" '
                f'style="height:auto;max-width:100%" role="img" '
                f'aria-labelledby="{ID_TOKEN}-title {ID_TOKEN}-desc" font-family="{FONT}" '
                f'data-axis="{"step" if self.steps else "time"}">'
                f'<title id="{ID_TOKEN}-title">{esc("evtsim timeline: " + self.title)}</title>'
                f'<desc id="{ID_TOKEN}-desc">{esc(self._desc())}</desc>')
        text = head + "".join(body) + "</svg>"
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
        return text.replace(ID_TOKEN, "evt" + digest)
