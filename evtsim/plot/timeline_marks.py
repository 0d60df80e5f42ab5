"""What the timeline picture needs besides its artists: legend, arrow fan-out, axis, labels.

Built from the timeline model for `timeline_picture.Timeline`: `drawn_keys` says which
kinds of mark a model draws (so the legend lists exactly those), `legend_handles`
makes their legend entries, `fan_out` sets several arrows of one step apart (three
waiters released by one KeSetEvent get three visible arrows), `set_x_axis` gives a
step axis whole-number ticks and a time axis µs labels (through `time_us`), and
`fit_label` / `wrap_label` keep a label to the room it has.
"""
from __future__ import annotations

import textwrap

from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..timeline.marks import NOW_TEXT, SPAN_TEXTS
from ..units import time_us
from .style import HATCH_USER, HATCH_WAIT, MARKERS

CHAR_EM = 0.62          # a character's width in ems, on the wide side for sans-serif


def drawn_keys(model) -> list[str]:
    """The kinds of mark the picture of `model` draws, in legend order."""
    lanes = {lane.name: lane for lane in model.lanes}
    found = set()
    for span in model.spans:
        if span.kind == "running":
            found.add("running_user" if lanes[span.lane].mode == "user"
                      else "running_kernel")
        else:
            found.add(span.kind)
    found.update("signaled" if seg.state else "not_signaled" for seg in model.states)
    found.update("recheck" if a.kind == "recheck" else "arrow" for a in model.arrows)
    found.update("marker:" + mk.kind for mk in model.markers if mk.kind in MARKERS)
    found.add("now")
    order = list(SPAN_TEXTS) + ["marker:" + kind for kind in MARKERS] + ["now"]
    return [key for key in order if key in found]


def legend_handles(keys, colours) -> list:
    """One legend entry per key (see `drawn_keys`)."""
    c = colours
    make = {
        "running_kernel": lambda: Patch(facecolor=c["running_kernel"]),
        "running_user": lambda: Patch(facecolor=c["running_user"], hatch=HATCH_USER,
                                      edgecolor="black"),
        "ready": lambda: Patch(facecolor=c["ready"]),
        "waiting": lambda: Patch(facecolor=c["waiting_face"], edgecolor=c["waiting"],
                                 hatch=HATCH_WAIT),
        "signaled": lambda: Patch(facecolor=c["signaled"], edgecolor="black", hatch="xx"),
        "not_signaled": lambda: Patch(facecolor=c["not_signaled"]),
        "arrow": lambda: Line2D([], [], color=c["arrow"], marker="v"),
        "recheck": lambda: Line2D([], [], color=c["recheck"], linestyle="--"),
        "now": lambda: Line2D([], [], color=c["cursor"], linestyle=(0, (4, 2))),
    }
    handles = []
    for key in keys:
        if key.startswith("marker:"):
            shape, role, text = MARKERS[key[7:]]
            handle: Artist = Line2D([], [], linestyle="none", marker=shape, color=c[role],
                                    markersize=8)
        else:
            handle = make[key]()
            text = SPAN_TEXTS.get(key, NOW_TEXT)
        handle.set_label(text)
        handle.set_gid("legend:" + key)
        handles.append(handle)
    return handles


def fan_out(arrows, y_of, per_px: float, column: float, least_px: float) -> list:
    """(arrow, x) for every arrow: the arrows of one step (and one source) side by side,
    `column * 0.7 / k` apart in x, never less than `least_px` pixels apart."""
    groups: dict[tuple, list] = {}
    for arrow in arrows:
        groups.setdefault((arrow.seq, arrow.src), []).append(arrow)
    placed = []
    for _key, group in sorted(groups.items(), key=lambda item: item[0][0]):
        group = sorted(group, key=lambda a: y_of[a.dst])
        k = len(group)
        gap = max(column * 0.7 / k, least_px * per_px)
        for i, arrow in enumerate(group):
            placed.append((arrow, arrow.x0 + (i - (k - 1) / 2) * gap))
    return placed


def set_x_axis(ax, by_steps: bool, x1: float, axes_pt: float, size: float) -> None:
    """Whole-number ticks on a step axis; µs labels (time_us) on a time axis, never so
    many that the labels touch."""
    label = (lambda v: str(int(round(v)))) if by_steps else (lambda v: time_us(round(v)))
    widest = max(len(label(x1)), len(label(x1 / 2)), 1) * size * CHAR_EM + 1.5 * size
    bins = max(2, min(10, int(axes_pt / widest)))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=bins, integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: label(v)))


def fit_label(text: str, chars: int) -> str:
    """`text`, cut with an ellipsis to at most `chars` characters."""
    chars = max(chars, 4)
    return text if len(text) <= chars else text[:chars - 1] + "\u2026"


def wrap_label(text: str, chars: int) -> str:
    """`text` in lines of at most `chars` characters (long words are cut)."""
    return "\n".join(textwrap.wrap(text, max(chars, 8), break_long_words=True)) or text
