"""The SVG timeline (evtsim.timeline.svg_timeline): the live picture of the lab.

Asserted on the parsed SVG (xml.etree): its data attributes say what each lane and
mark shows, so a test compares them with the machine itself, and its text elements
are measured to prove that every label stays inside the picture.
"""
from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from evtsim import BadArgumentError, Machine, scenarios, trace
from evtsim.api.kernel import Executive, KernelMode, NotificationEvent
from evtsim.timeline import build, svg_timeline
from evtsim.units import time_us

NS = "{http://www.w3.org/2000/svg}"


def run(name: str, max_steps: int | None = None) -> Machine:
    m = scenarios.build(name)
    if max_steps is None:
        m.run()
    else:
        m.run(max_steps=max_steps)
    return m


MACHINES = {
    "broadcast": lambda: run("notification_broadcast"),
    "hardware_lock": lambda: run("hardware_lock"),
    "bug_check": lambda: run("trap_wait_at_dispatch"),
    "dpc_and_clock": lambda: run("handle_by_ioctl"),
    "stopped_midway": lambda: run("notification_broadcast", max_steps=5),
}


@pytest.fixture(scope="module", params=sorted(MACHINES))
def machine(request):
    return MACHINES[request.param]()


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def with_attr(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in e.attrib]


def view_box(root) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    return x, y, w, h


def text_box(e: ET.Element) -> tuple[float, float, float, float]:
    """A plain, independent estimate of a text's box: 0.6 em per character (a
    sans-serif font's average is about 0.55 em), bold 5 % wider, from one em above the
    baseline to 0.3 em below it."""
    size = float(e.get("font-size"))
    width = len(e.text or "") * 0.6 * size * (1.05 if e.get("font-weight") == "bold" else 1)
    x, y = float(e.get("x")), float(e.get("y"))
    left = {"start": x, "middle": x - width / 2, "end": x - width}[e.get("text-anchor")]
    return left, y - size, left + width, y + 0.3 * size


def escaping_machine() -> Machine:
    """A thread and an event whose names are full of XML's special characters."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name='<Ev&"\'>')

    def waiter(k):
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)

    m.system.start(waiter, name='<w&"1>')
    m.run()
    m.kernel.KeSetEvent(ev, 0, False)
    m.run()
    return m


# --- what the picture says matches the machine ------------------------------------------
def test_the_svg_scales_with_the_page_and_has_no_pixel_size(machine):
    root = parse(svg_timeline(machine))
    assert root.tag == NS + "svg"
    assert root.get("width") == "100%" and root.get("height") is None
    assert view_box(root)[2] > 0 and view_box(root)[3] > 0
    assert "px" not in (root.get("style") or "")


def test_the_current_column_is_the_machines_last_step(machine):
    (now,) = with_attr(parse(svg_timeline(machine)), "data-now-seq")
    assert int(now.get("data-now-seq")) == machine.seq
    assert int(now.get("data-now-time")) == machine.time


def test_each_thread_lane_shows_the_threads_state_now(machine):
    lanes = with_attr(parse(svg_timeline(machine)), "data-thread")
    shown = {e.get("data-thread"): e.get("data-state-now") for e in lanes}
    assert shown == {t.name: t.state for t in machine.threads}


def test_each_event_lane_shows_the_events_signal_state_now(machine):
    lanes = with_attr(parse(svg_timeline(machine)), "data-event")
    shown = {e.get("data-event"): int(e.get("data-state-now")) for e in lanes}
    assert shown == {o.name: o.SignalState for o in machine.dispatcher_objects}


def test_one_arrow_per_released_thread(machine):
    arrows = [e for e in parse(svg_timeline(machine)).iter()
              if e.get("data-mark") == "arrow"]
    drawn = sorted((int(e.get("data-from-seq")), e.get("data-to-thread")) for e in arrows)
    released = sorted((r.seq, name) for r in machine.trace for name in r.released
                      if r.op != "Timeout")      # a timeout is a marker, not an arrow
    assert drawn == released


def arrow_lines(root) -> list[tuple[float, ...]]:
    lines = []
    for group in root.iter():
        if group.get("class") == "arrow":
            (line,) = group.iter(NS + "line")
            lines.append(tuple(float(line.get(k)) for k in ("x1", "y1", "x2", "y2")))
    return lines


@pytest.mark.parametrize("axis", ["time", "step"])
def test_arrows_of_one_set_to_several_waiters_stay_apart(axis):
    m = run("notification_broadcast")
    root = parse(svg_timeline(m, axis=axis))
    set_seq = next(r.seq for r in m.trace if r.op == "KeSetEvent")
    lines = [line for group, line in zip(
        [g for g in root.iter() if g.get("class") == "arrow"], arrow_lines(root))
        if int(group.get("data-from-seq")) == set_seq]
    assert len(lines) == 3
    xs = sorted(line[0] for line in lines)
    assert min(b - a for a, b in zip(xs, xs[1:])) >= 5      # picture units (px at 100 %)


def test_every_arrow_has_its_own_geometry(machine):
    lines = arrow_lines(parse(svg_timeline(machine)))
    assert len(set(lines)) == len(lines)


def test_the_picture_draws_every_span_of_the_model(machine):
    root = parse(svg_timeline(machine))
    model = build(machine, axis="time")
    for lane in root.iter():
        name = lane.get("data-thread")
        if name is None:
            continue
        rects = [e for e in lane.iter(NS + "rect") if (e.get("data-mark") or "")
                 in ("running_kernel", "running_user", "ready", "waiting")]
        assert len(rects) == len(model.spans_of(name))


# --- labels, legend, axis ------------------------------------------------------------------
@pytest.mark.parametrize("font_scale", [1, 2])
def test_every_text_stays_inside_the_view_box(machine, font_scale):
    root = parse(svg_timeline(machine, font_scale=font_scale))
    _x, _y, width, height = view_box(root)
    texts = list(root.iter(NS + "text"))
    assert texts
    for e in texts:
        left, top, right, bottom = text_box(e)
        assert 0 <= left and right <= width and 0 <= top and bottom <= height, e.text


def test_long_names_are_shortened_to_stay_inside():
    m = Machine()
    m.kernel.KeInitializeEvent(NotificationEvent, False, name="E" * 120)

    def long_named(k):
        yield k.KeSetEvent(m.find("E" * 120), 0, False)

    m.system.start(long_named, name="a_thread_with_a_very_long_name_" * 4)
    m.run()
    root = parse(svg_timeline(m, font_scale=2, title="T" * 200))
    _x, _y, width, height = view_box(root)
    for e in root.iter(NS + "text"):
        left, top, right, bottom = text_box(e)
        assert 0 <= left and right <= width and 0 <= top and bottom <= height, e.text


@pytest.mark.parametrize("start", [False, True])
def test_the_now_label_does_not_overlap_the_title(start):
    def sleeper(k):
        yield k.KeDelayExecutionThread(0, False, -10)

    m = Machine()                                  # no step yet: now is 0, at the left
    m.system.start(sleeper, name="sleeper")
    if start:
        m.run()
    root = parse(svg_timeline(m))
    title = next(e for e in root.iter(NS + "text") if e.get("class") == "title")
    (now,) = [g for g in root.iter() if g.get("class") == "now"]
    (label,) = now.iter(NS + "text")
    assert text_box(label)[1] >= text_box(title)[3]           # the label starts below


def test_the_legend_lists_exactly_the_marks_drawn(machine):
    root = parse(svg_timeline(machine))
    drawn = {e.get("data-mark") for e in with_attr(root, "data-mark")}
    legend = [e.get("data-legend") for e in with_attr(root, "data-legend")]
    assert len(legend) == len(set(legend))
    assert set(legend) == drawn


def test_instructor_calls_alerts_and_timers_are_in_the_legend_when_drawn():
    m = run("handle_by_ioctl")                  # a timer expires on the clock lane
    legend = {e.get("data-legend") for e in with_attr(parse(svg_timeline(m)), "data-legend")}
    assert "marker:timer" in legend and "marker:pulse" not in legend


def tick_labels(root):
    return [e for e in root.iter(NS + "text") if e.get("class") == "tick"]


def test_a_step_axis_has_whole_number_ticks_only(machine):
    ticks = tick_labels(parse(svg_timeline(machine, axis="step")))
    assert len(ticks) >= 2
    for e in ticks:
        assert e.text.isdigit() and float(e.get("data-value")) == int(e.text)


def test_a_short_run_on_a_step_axis_has_no_half_steps():
    m = run("notification_broadcast", max_steps=5)
    values = [float(e.get("data-value")) for e in
              tick_labels(parse(svg_timeline(m, axis="step", font_scale=0.5)))]
    assert values and all(v == math.floor(v) for v in values)


def test_time_labels_are_microseconds_through_time_us(machine):
    ticks = tick_labels(parse(svg_timeline(machine, axis="time")))
    assert len(ticks) >= 2
    for e in ticks:
        assert e.text == time_us(int(float(e.get("data-value"))))
    (now,) = [g for g in parse(svg_timeline(machine)).iter() if g.get("class") == "now"]
    assert time_us(machine.time) in next(now.iter(NS + "text")).text


def test_font_scale_enlarges_the_text():
    m = run("notification_broadcast")
    size = lambda svg: max(float(e.get("font-size"))                       # noqa: E731
                           for e in parse(svg).iter(NS + "text"))
    assert size(svg_timeline(m, font_scale=2)) == 2 * size(svg_timeline(m))


def test_a_bug_check_is_marked_and_explained():
    m = run("trap_wait_at_dispatch")
    root = parse(svg_timeline(m))
    (mark,) = [e for e in root.iter() if e.get("data-mark") == "marker:bugcheck"]
    assert int(mark.get("data-seq")) == m.bugcheck.seq
    label = " ".join(e.text for g in root.iter() if g.get("class") == "bugcheck-label"
                     for e in g.iter(NS + "text"))
    assert f"BUG CHECK 0x{m.bugcheck.code:X}" in label


# --- for people, for tools --------------------------------------------------------------
def test_the_svg_says_the_run_in_words(machine):
    root = parse(svg_timeline(machine))
    assert root.get("role") == "img"
    title, desc = root.find(NS + "title"), root.find(NS + "desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    words = desc.text
    for t in machine.threads:
        assert t.name in words
    for o in machine.dispatcher_objects:
        assert o.name in words
    assert f"{len(machine.trace)} step" in words and f"Now (step {machine.seq}" in words


def test_the_same_machine_gives_the_same_bytes():
    assert svg_timeline(run("hardware_lock")) == svg_timeline(run("hardware_lock"))


def test_a_loaded_trace_draws_the_same_picture_as_its_machine(tmp_path):
    m = run("notification_broadcast", max_steps=7)
    trace.save(m, tmp_path / "run.json")
    assert svg_timeline(trace.load(tmp_path / "run.json")) == svg_timeline(m)


def test_names_from_the_learner_are_escaped():
    m = escaping_machine()
    svg = svg_timeline(m, title='<b>&"title"')
    assert '<w&' not in svg and '<Ev&' not in svg and "<b>" not in svg
    root = parse(svg)
    assert {e.get("data-thread") for e in with_attr(root, "data-thread")} == {'<w&"1>'}
    assert {e.get("data-event") for e in with_attr(root, "data-event")} == {'<Ev&"\'>'}
    assert root.find(NS + "title").text == 'evtsim timeline: <b>&"title"'


@pytest.mark.parametrize("source", ["m", 5, None, {"a": 1}, [1, 2], object()])
def test_something_that_is_not_a_run_is_refused_at_once(source):
    with pytest.raises(BadArgumentError, match="a timeline draws a run"):
        svg_timeline(source)


@pytest.mark.parametrize("options, words", [
    ({"axis": "steps per second"}, "axis is"),
    ({"font_scale": 0}, "font_scale"),
    ({"font_scale": "big"}, "font_scale"),
    ({"font_scale": True}, "font_scale"),
    ({"font_scale": float("nan")}, "font_scale"),
    ({"title": 5}, "title is a text"),
])
def test_bad_options_are_refused_with_what_to_change(options, words):
    with pytest.raises(BadArgumentError, match=words):
        svg_timeline(run("notification_broadcast", max_steps=3), **options)


def test_the_svg_colours_are_the_plots_okabe_ito_palette():
    from evtsim.plot import PALETTES
    from evtsim.timeline.svg_layout import COLOURS
    assert {k: v.upper() for k, v in COLOURS.items()} == \
        {k: v.upper() for k, v in PALETTES["okabe-ito"].items()}


def test_drawing_an_svg_imports_neither_matplotlib_nor_ipywidgets():
    code = ("import sys\n"
            "from evtsim import scenarios\n"
            "from evtsim.timeline import svg_timeline\n"
            "m = scenarios.build('notification_broadcast'); m.run()\n"
            "assert svg_timeline(m).startswith('<svg')\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in "
            "('matplotlib', 'ipywidgets', 'numpy')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
