"""The pictures (evtsim.plot): asserted on their artists, not their pixels, except one
image comparison per picture kind (with a tolerance)."""
from __future__ import annotations

import ast
import inspect
import os

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import timeline_cases as cases
from evtsim import BadArgumentError, plot, scenarios, trace
from evtsim.plot import MARKERS, OKABE_ITO, RUN_H, Timeline
from evtsim.units import time_us

BASELINE = os.path.join(os.path.dirname(__file__), "baseline")


@pytest.fixture(scope="module")
def broadcast():
    m = scenarios.build("notification_broadcast")
    m.run()
    return m


@pytest.fixture(scope="module")
def mixed():
    return cases.mixed()


def picture(source, **options) -> Timeline:
    return plot.timeline(source, **options).evtsim_timeline


def ytick_texts(t: Timeline):
    return [label.get_text() for label in t.ax.get_yticklabels()]


def rects(t: Timeline, key):
    return t.artists[key].rects


def test_timeline_returns_a_figure_made_without_pyplot(broadcast):
    fig = plot.timeline(broadcast)
    assert isinstance(fig, Figure)
    tree = ast.parse(inspect.getsource(plot))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any("pyplot" in (name or "") for name in imported)


def test_one_lane_per_thread_grouped_and_labelled_by_process(mixed):
    t = picture(mixed)
    labels = ytick_texts(t)
    assert labels[labels.index("System  (kernel mode)") + 1:][:4] == ["both", "p1", "p2",
                                                                       "setter"]
    assert labels.index("app.exe  (user mode)") < labels.index("main [user]")
    bold = [lab.get_text() for lab in t.ax.get_yticklabels() if lab.get_fontweight() == "bold"]
    assert bold == ["outside the machine", "System  (kernel mode)", "app.exe  (user mode)",
                    "Events"]


def test_user_mode_lanes_are_labelled_tinted_and_hatched(mixed):
    t = picture(mixed)
    y = t.y_of["main"]
    tinted = [(p.vertices[:, 1].min(), to_hex(c)) for p, c in
              zip(t.artists["backgrounds"].get_paths(), t.artists["backgrounds"].get_facecolors())]
    assert (y - 0.5, to_hex(t.colours["user_tint"])) in tinted
    user_runs = rects(t, "running_user")
    assert user_runs and all(r[2] == y - RUN_H for r in user_runs)
    assert t.artists["running_user"].get_hatch() and not t.artists["running_kernel"].get_hatch()


def test_waiting_spans_are_hatched_and_labelled_with_the_wait(mixed):
    t = picture(mixed)
    assert t.artists["waiting"].get_hatch() == "////"
    labels = {a.get_text() for a in t.ax.texts if (a.get_gid() or "").startswith("label:")}
    assert {"WaitAll(EvA, EvB)", "WaitAny(Go, Stop)", "Wait(Pulsed)"} <= labels


def test_ready_bars_are_thinner_than_running_and_waiting_bars(mixed):
    t = picture(mixed)
    height = lambda r: r[3] - r[2]          # noqa: E731
    assert max(height(r) for r in rects(t, "ready")) < min(height(r) for r in rects(t, "waiting"))
    assert min(height(r) for r in rects(t, "running_kernel")) == pytest.approx(2 * RUN_H)


def test_an_arrow_from_the_set_to_each_released_thread(broadcast):
    t = picture(broadcast)
    segments = t.artists["arrows"].get_segments()
    set_record = next(r for r in broadcast.trace if r.op == "KeSetEvent")
    assert len(segments) == len(set_record.released) == 3
    setter_y = t.y_of["setter"]
    ends = sorted(round(seg[-1][1]) for seg in segments)
    assert ends == sorted(t.y_of[name] for name in set_record.released)
    for seg in segments:
        assert abs(seg[0][1] - setter_y) < 0.5                 # starts on the setter's lane
        assert set_record.seq - 1 < seg[0][0] < set_record.seq  # in the column of its step
        assert seg[0][0] == seg[-1][0]                         # straight up to the waiter
    heads = np.vstack([t.artists["heads_up"].get_offsets(), t.artists["heads_down"].get_offsets()])
    assert len(heads) == 3


def test_recheck_arrows_are_dashed_and_apart_from_releases(mixed):
    t = picture(mixed)
    assert len(t.artists["rechecks"].get_segments()) == 2
    assert t.artists["rechecks"].get_linestyle()[0][1] is not None     # a dash pattern
    assert len(t.artists["arrows"].get_segments()) == 2                # pulse + instructor


def test_event_lanes_show_signaled_tall_and_not_signaled_low(broadcast):
    t = picture(broadcast)
    y = t.y_of["DataReady"]
    set_seq = next(r.seq for r in broadcast.trace if r.op == "KeSetEvent")
    (on,) = rects(t, "signaled")
    assert on[0] == set_seq and (on[2], on[3]) == (y - RUN_H, y + RUN_H)
    off = rects(t, "not_signaled")
    assert off[0][0] == 0 and off[0][3] - off[0][2] < RUN_H
    assert "DataReady (notification)" in ytick_texts(t)


def test_markers_for_sets_pulses_timeouts_and_instructor_calls(mixed, broadcast):
    t = picture(mixed)
    count = lambda t, kind: len(t.artists["marker:" + kind].get_offsets())   # noqa: E731
    assert count(t, "set") == 2 and count(t, "pulse") == 1 and count(t, "call") == 4
    assert count(t, "blip") == 1
    assert count(picture(broadcast), "timeout") == 3


def test_bug_check_is_marked_with_a_line_a_star_and_its_stop_code():
    t = picture(cases.crash())
    assert t.artists["bugcheck_line"].get_visible()
    assert len(t.artists["marker:bugcheck"].get_offsets()) == 1
    (label,) = [a for a in t.ax.texts if a.get_gid() == "bugcheck-label"]
    assert "BUG CHECK 0xC4" in label.get_text()


def test_cursor_marks_the_current_moment(broadcast):
    t = picture(broadcast)
    assert list(t.artists["cursor"].get_xdata()) == [len(broadcast.trace)] * 2
    (label,) = [a for a in t.ax.texts if a.get_gid() == "cursor-label"]
    assert f"step {broadcast.seq}, t={time_us(broadcast.time)}" in label.get_text()


def run(name, max_steps=None):
    m = scenarios.build(name)
    m.run() if max_steps is None else m.run(max_steps=max_steps)
    return m


def not_started():
    """A machine with a thread and no step yet: now is 0, at the left edge."""
    from evtsim import Machine

    def sleeper(k):
        yield k.KeDelayExecutionThread(0, False, -10)

    m = Machine()
    m.system.start(sleeper, name="sleeper")
    return m


def drawn(t: Timeline):
    """Draw the picture; its renderer (text sizes are known only after a draw)."""
    t.figure.canvas.draw()
    return t.figure.canvas.get_renderer()


@pytest.mark.parametrize("axis", ["steps", "time"])
def test_arrows_of_one_set_to_several_waiters_stay_apart(broadcast, axis):
    t = picture(broadcast, axis=axis)
    segments = t.artists["arrows"].get_segments()
    assert len(segments) == 3
    ends = [t.ax.transData.transform(seg[-1]) for seg in segments]   # in pixels
    xs = sorted(x for x, _y in ends)
    assert min(b - a for a, b in zip(xs, xs[1:])) >= 5
    assert len({(round(x), round(y)) for x, y in ends}) == 3          # three arrowheads


MACHINES = {"broadcast": lambda: run("notification_broadcast"),
            "mixed": cases.mixed,
            "bug_check": lambda: run("trap_wait_at_dispatch"),
            "timer_and_dpc": lambda: run("handle_by_ioctl"),
            "apc_and_pulse": lambda: run("trap_pulse_lost_wakeup"),
            "fresh": lambda: scenarios.build("notification_broadcast"),
            "not_started": not_started,
            "stopped_midway": lambda: run("notification_broadcast", max_steps=5)}


def legend_texts(t: Timeline) -> list[str]:
    return [text.get_text() for text in t.artists["legend"].get_texts()]


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_the_legend_lists_every_mark_drawn_and_only_those(name):
    t = picture(MACHINES[name]())
    expected = {text for kind, (_shape, _role, text) in MARKERS.items()
                if len(t.artists["marker:" + kind].get_offsets())}
    markers_in_legend = {text for text in legend_texts(t)
                         if text in {m[2] for m in MARKERS.values()}}
    assert markers_in_legend == expected
    spans = {"running (kernel mode)": "running_kernel", "running (user mode)": "running_user",
             "ready (thin bar)": "ready", "waiting (hatched)": "waiting",
             "event signaled (tall)": "signaled", "event not signaled (low)": "not_signaled"}
    shown = {text for text in legend_texts(t) if text in spans}
    assert shown == {text for text, key in spans.items() if t.artists[key].rects}
    assert ("released a waiter" in legend_texts(t)) == bool(t.artists["arrows"].get_segments())


def test_square_diamond_and_circle_markers_are_in_the_legend_when_drawn(mixed):
    assert MARKERS["call"][2] in legend_texts(picture(mixed))            # the square
    assert MARKERS["timer"][2] in legend_texts(picture(run("handle_by_ioctl")))  # circle
    assert MARKERS["apc"][2] in legend_texts(picture(run("trap_pulse_lost_wakeup")))


def all_texts(t: Timeline) -> list:
    ax = t.ax
    lo, hi = ax.get_xlim()             # matplotlib does not draw ticks outside the view
    shown = [label for v, label in zip(ax.get_xticks(), ax.get_xticklabels())
             if lo <= v <= hi]
    texts = list(ax.texts) + ax.get_yticklabels() + shown
    # the title is drawn with loc="left": matplotlib keeps it in ax._left_title
    texts += [ax.title, ax._left_title, ax.xaxis.label] + t.artists["legend"].get_texts()
    return [text for text in texts if text.get_visible() and text.get_text()]


@pytest.mark.parametrize("name", sorted(MACHINES))
@pytest.mark.parametrize("font_scale", [1, 2])
def test_every_label_stays_inside_the_figure(name, font_scale):
    t = picture(MACHINES[name](), font_scale=font_scale)
    renderer = drawn(t)
    box = t.figure.bbox
    for text in all_texts(t):
        ext = text.get_window_extent(renderer)
        assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1, text.get_text()
        assert ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, text.get_text()


def test_the_bug_check_label_is_inside_even_on_a_time_axis_at_double_size():
    t = picture(run("trap_wait_at_dispatch"), axis="time", font_scale=2, width=8)
    renderer = drawn(t)
    (label,) = [a for a in t.ax.texts if a.get_gid() == "bugcheck-label"]
    ext = label.get_window_extent(renderer)
    assert t.figure.bbox.x0 <= ext.x0 and ext.x1 <= t.figure.bbox.x1
    assert ext.y0 >= t.figure.bbox.y0


@pytest.mark.parametrize("name", ["not_started", "fresh", "broadcast"])
def test_the_now_label_does_not_overlap_the_title(name):
    t = picture(MACHINES[name]())
    renderer = drawn(t)
    (now,) = [a for a in t.ax.texts if a.get_gid() == "cursor-label"]
    assert not now.get_window_extent(renderer).overlaps(
        t.ax._left_title.get_window_extent(renderer))


@pytest.mark.parametrize("name", ["stopped_midway", "broadcast", "bug_check"])
def test_a_step_axis_has_whole_number_ticks_only(name):
    t = picture(MACHINES[name](), axis="steps")
    drawn(t)
    lo, hi = t.ax.get_xlim()
    values = [v for v in t.ax.get_xticks() if lo <= v <= hi]
    assert len(values) >= 2 and all(v == int(v) for v in values)
    assert all(label.get_text().isdigit() for label in t.ax.get_xticklabels()
               if label.get_text())


def test_a_time_axis_is_labelled_in_microseconds_through_time_us(broadcast):
    t = picture(broadcast, axis="time")
    drawn(t)
    lo, hi = t.ax.get_xlim()
    labels = [(v, label.get_text()) for v, label in
              zip(t.ax.get_xticks(), t.ax.get_xticklabels()) if lo <= v <= hi]
    assert labels and all(text == time_us(round(v)) for v, text in labels)
    assert "µs" in t.ax.get_xlabel() and "100 ns" not in t.ax.get_xlabel()


@pytest.mark.parametrize("source", ["m", 5, None, {"a": 1}, [1, 2], object()])
def test_something_that_is_not_a_run_is_refused_at_once(source):
    with pytest.raises(BadArgumentError, match="run"):
        plot.timeline(source)


@pytest.mark.parametrize("options, words", [
    ({"font_scale": "big"}, "font_scale"), ({"labels": "yes"}, "labels"),
    ({"legend": None}, "legend"), ({"width": -1}, "width"), ({"max_labels": 1.5}, "max_labels"),
    ({"ax": "top"}, "ax is"), ({"axis": "seconds"}, "axis is"), ({"title": 5}, "title"),
    ({"threads": "waiter1"}, "threads is a list"), ({"threads": 5}, "threads is a list"),
    ({"events": 5}, "events is a list"), ({"pseudo": "yes"}, "pseudo"),
    ({"window": 5}, "window"), ({"threads": ["nobody"]}, "no thread named"),
])
def test_bad_options_are_refused_with_what_to_change(broadcast, options, words):
    with pytest.raises(BadArgumentError, match=words):
        plot.timeline(broadcast, **options)


def test_okabe_ito_palette_and_a_shape_for_every_marker_kind(mixed):
    t = picture(mixed)
    assert to_hex(t.artists["running_kernel"].get_facecolor()[0]) == OKABE_ITO["blue"].lower()
    assert to_hex(t.artists["running_user"].get_facecolor()[0]) == OKABE_ITO["orange"].lower()
    shapes = [shape for shape, _role, _text in MARKERS.values()]
    assert len(set(shapes)) == len(shapes), "no two marker kinds share a shape"
    assert t.artists["signaled"].get_hatch() and t.artists["waiting"].get_hatch()


def test_grey_palette_and_custom_roles(mixed):
    t = picture(mixed, palette="grey")
    assert to_hex(t.artists["running_kernel"].get_facecolor()[0]) == "#404040"
    t2 = picture(mixed, palette={"running_kernel": "#123456"})
    assert to_hex(t2.artists["running_kernel"].get_facecolor()[0]) == "#123456"
    with pytest.raises(BadArgumentError, match="palette"):
        plot.timeline(mixed, palette="rainbow")


def test_font_scale_enlarges_text_and_figure(broadcast):
    small, big = picture(broadcast), picture(broadcast, font_scale=2)
    assert big.ax.get_yticklabels()[0].get_fontsize() == \
        2 * small.ax.get_yticklabels()[0].get_fontsize()
    assert big.figure.get_size_inches()[1] > small.figure.get_size_inches()[1]


def test_threads_events_and_window_options(mixed):
    t = picture(mixed, threads=["setter", "p1"], events=["Pulsed"], window=(0, 50))
    assert ytick_texts(t) == ["System  (kernel mode)", "setter", "p1", "Events",
                              "Pulsed (synchronization)"]
    assert t.ax.get_xlim()[1] <= len(mixed.trace)


def test_draws_into_a_given_axes(broadcast):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(2, 1, 2)
    out = plot.timeline(broadcast, ax=ax, legend=False)
    assert out is fig and len(ax.collections) > 5


def test_update_redraws_into_the_same_figure_and_artists():
    m = scenarios.build("notification_broadcast")
    m.run(max_steps=4)
    t = Timeline(m)
    fig, waiting = t.figure, t.artists["waiting"]
    assert len(t.artists["arrows"].get_segments()) == 0
    m.run()
    assert t.update(m) is fig and t.artists["waiting"] is waiting
    assert len(t.artists["arrows"].get_segments()) == 3


def test_cheap_redraw_paints_the_same_picture_as_a_full_draw():
    m = cases.big(threads=4, segments=200)
    t = Timeline(m)
    t.draw()
    t.update(m)
    t.draw()
    fast = np.asarray(t.figure.canvas.buffer_rgba()).astype(int)
    t.figure.canvas.draw()
    full = np.asarray(t.figure.canvas.buffer_rgba()).astype(int)
    assert (np.abs(fast - full) > 8).mean() < 0.001
    assert t.png().startswith(b"\x89PNG")


def test_timeline_of_a_saved_trace(tmp_path, mixed):
    path = tmp_path / "mixed.json"
    trace.save(mixed, path)
    a, b = picture(mixed), picture(trace.load(path))
    assert ytick_texts(a) == ytick_texts(b)
    assert rects(a, "waiting") == rects(b, "waiting")


def test_wait_queue_picture_lists_waiters_in_fifo_order():
    m = cases.mixed
    machine = m()
    fig = plot.wait_queues(machine, at=7)
    gids = [p.get_gid() for p in fig.axes[0].patches]
    assert "waiter:Pulsed:0:p1" in gids and "waiter:Pulsed:1:p2" in gids
    (all_box,) = [p for p in fig.axes[0].patches if p.get_gid() == "waiter:EvA:0:both"]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1. both\n(wait-all)" in texts
    assert all_box.get_hatch() != [p for p in fig.axes[0].patches
                                   if p.get_gid() == "waiter:Pulsed:0:p1"][0].get_hatch()
    assert any(t.startswith("p2 waits on Wait(Pulsed)") for t in texts)


def test_namespace_picture_shows_the_tree_and_a_handle_table(mixed):
    fig = plot.namespace(mixed, process="app.exe")
    ax = fig.axes[0]
    gids = {c.get_gid() for c in ax.collections}
    assert "node:Directory:BaseNamedObjects" in gids and "node:Event:Go" in gids
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "notification, signaled, handles 1" in texts
    table = [a for a in fig.axes[1].get_children() if a.get_gid() == "handle-table"]
    assert table and "Go" in " ".join(c.get_text().get_text()
                                      for c in table[0].get_celld().values())


def test_namespace_needs_a_live_machine(tmp_path, broadcast):
    path = tmp_path / "b.json"
    trace.save(broadcast, path)
    with pytest.raises(BadArgumentError, match="replay the file first"):
        plot.namespace(trace.load(path))
    with pytest.raises(BadArgumentError, match="no process named"):
        plot.namespace(broadcast, process="nope.exe")


def _compare(fig, name, tmp_path):
    from matplotlib.testing.compare import compare_images
    actual = str(tmp_path / name)
    fig.savefig(actual, dpi=60)
    expected = os.path.join(BASELINE, name)
    # A missing baseline is a failure, never a new baseline: a test must not approve its
    # own output. Look at the picture, then commit it to tests/baseline/ by hand.
    assert os.path.exists(expected), (
        f"the baseline image {expected} is missing; the picture this run drew is {actual}")
    assert compare_images(expected, actual, tol=12) is None


def test_timeline_image_matches_the_baseline(broadcast, tmp_path):
    _compare(plot.timeline(broadcast), "timeline_broadcast.png", tmp_path)


def test_wait_queue_image_matches_the_baseline(tmp_path):
    _compare(plot.wait_queues(cases.mixed(), at=7), "wait_queues_mixed.png", tmp_path)


def test_namespace_image_matches_the_baseline(tmp_path):
    _compare(plot.namespace(cases.mixed(), process="app.exe"), "namespace_mixed.png",
             tmp_path)


def test_a_font_scale_too_large_to_draw_is_refused_with_the_range():
    """A scale of 1e308 made matplotlib raise from deep inside; the range is 0.25 to 8,
    as the command line's --font-scale says."""
    from evtsim import scenarios
    from evtsim.errors import BadArgumentError
    m = scenarios.build("notification_broadcast")
    m.run()
    for scale in (1e308, 9, 0.1):
        with pytest.raises(BadArgumentError, match="font_scale is a number from 0.25 to 8"):
            plot.timeline(m, font_scale=scale)
    assert plot.timeline(m, font_scale=8) is not None
