"""The wait-queues picture: each event, its state and its waiters in FIFO order.

Built from `evtsim.timeline.wait_queues` (a live machine's lists or a trace rebuilt up
to a step): one row per event (signaled ones filled and hatched), its waiters left to
right from the head of the list (wait-all waiters marked), then what each waiting
thread waits on.
"""
from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import timeline as tl
from .style import HATCH_WAIT, _new_figure, _palette


def wait_queues(machine_or_trace, at: int | None = None, font_scale: float = 1.0,
                palette="okabe-ito") -> Figure:
    """Each event with its state and its waiters in FIFO order (head at the left;
    wait-all waiters hatched and marked "all"), and what each waiting thread waits on.
    `at` is a step number (seq); default the current moment."""
    c = _palette(palette)
    q = tl.wait_queues(machine_or_trace, at)
    rows = max(len(q.objects), 1)
    waiting = list(q.waiting.items())
    height = 1.2 + 0.55 * (rows + len(waiting) + 1) * font_scale
    fig = _new_figure(10, height)
    fig.alt = (f"Wait queues. Objects with waiters: {len(q.objects)}. Waiting threads: "
               f"{len(waiting)}.")
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.9))
    ax.set_axis_off()
    fs = 10 * font_scale
    width = max([len(w) for *_rest, w in q.objects] + [3])
    ax.set_xlim(-0.2, 3.2 + 1.3 * width)
    total = rows + len(waiting) + 1.5
    ax.set_ylim(total, -0.8)
    ax.set_title(f"Wait queues after step {q.at_seq}", loc="left", fontsize=fs * 1.1)
    ax.text(0, -0.35, "event (state)", fontsize=fs * 0.8, style="italic")
    ax.text(3.2, -0.35, "waiters, head of the list first", fontsize=fs * 0.8,
            style="italic")
    if not q.objects:
        ax.text(0, 0.5, "no dispatcher objects yet", fontsize=fs)
    for i, (name, label, signaled, waiters) in enumerate(q.objects):
        y = i + 0.5
        face = c["signaled"] if signaled else "white"
        ax.add_patch(Rectangle((0, y - 0.35), 3.0, 0.7, facecolor=face,
                               edgecolor="black", hatch="xx" if signaled else None,
                               gid=f"event:{name}"))
        ax.text(1.5, y, f"{name}\n{label}, {'SIGNALED' if signaled else 'not signaled'}",
                ha="center", va="center", fontsize=fs * 0.8,
                bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))
        for j, (thread, wait_all) in enumerate(waiters):
            x = 3.2 + 1.3 * j
            ax.add_patch(Rectangle((x, y - 0.3), 1.15, 0.6, facecolor=c["waiting_face"],
                                   edgecolor=c["waiting"],
                                   hatch="\\\\\\" if wait_all else HATCH_WAIT,
                                   gid=f"waiter:{name}:{j}:{thread}"))
            ax.text(x + 0.575, y, f"{j + 1}. {thread}" + ("\n(wait-all)" if wait_all else ""),
                    ha="center", va="center", fontsize=fs * 0.75,
                    bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))
        if not waiters:
            ax.text(3.2, y, "no waiters", va="center", fontsize=fs * 0.8, color="#555555")
    y = rows + 0.9
    ax.text(0, y, "Waiting threads" if waiting else "No thread is waiting",
            fontsize=fs, fontweight="bold")
    for k, (thread, desc) in enumerate(waiting):
        ax.text(0.2, y + 0.7 * (k + 1), f"{thread} waits on {desc}", fontsize=fs * 0.85,
                gid=f"waiting:{thread}")
    return fig
