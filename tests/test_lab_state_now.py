"""The lab shows the state after the last click, never the one before (no lag).

The timeline model ends every span at `now`, the end of the last record, so the state
after that record had no width and was drawn nowhere: after Set the badge said
SIGNALED while the event's lane was still low. The lab now draws the state now as a
column right of the now line. These rules check, after each click, that the badges,
the thread rows and the timeline the picture was drawn from all equal the machine's
state now, and that the picture itself shows it (SVG and PNG alike).
"""
from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from evtsim import scenarios  # noqa: E402
from evtsim.exercises.lesson07 import LEVELS  # noqa: E402
from evtsim.lab import timeline_now  # noqa: E402
from evtsim.widgets import EventLab  # noqa: E402
from evtsim.widgets.picture import LabPicture  # noqa: E402

from test_widgets import click, now_x, plain, rects_from, svg_lanes  # noqa: E402


def test_after_set_the_picture_shows_the_event_signaled_and_the_waiters_ready():
    lab = EventLab("notification_broadcast", waiters=3)
    for name in ("waiter1", "waiter2", "waiter3"):
        click(lab, "Step", name)
    click(lab, "Set", "DataReady")
    assert "SIGNALED" in plain(lab.event_rows["DataReady"].indicator.value)
    svg = lab.image.value
    x, lanes = now_x(svg), svg_lanes(svg)
    assert rects_from(lanes["DataReady"], x) == ["signaled"]
    for name in ("waiter1", "waiter2", "waiter3"):
        assert rects_from(lanes[name], x) == ["ready"]
        assert "ready" in plain(lab.thread_rows[name].state.value)


@pytest.mark.parametrize("build, clicks", [
    ("notification_broadcast",
     [("Step", "waiter1"), ("Step", "poller"), ("Set", "DataReady"), ("Step", "waiter1"),
      ("Reset event", "DataReady"), ("Step", "poller"), ("Undo", None), ("Run", None),
      ("Start over", None), ("Pulse", "DataReady")]),
    ("level2",
     [("Step", "producer"), ("Step", "producer"), ("Step", "consumer1"),
      ("Step", "consumer2"), ("Step", "consumer1"), ("Undo", None), ("Step", "consumer1"),
      ("Set", "ItemReady"), ("Step", "consumer2")]),
])
def test_after_each_click_badges_rows_and_timeline_show_the_state_now(build, clicks):
    lab = (EventLab(LEVELS[2].build, policy="manual") if build == "level2" else
           EventLab(build, waiters=2))
    for label, target in clicks:
        click(lab, label, target)            # checks the whole view, timeline included
        m, model = lab.machine, lab.timeline_model
        for t in m.threads:
            after = [s.kind for s in model.spans if s.lane == t.name and s.x1 > model.now]
            expected = {"terminated": [], "waiting": ["waiting"]}.get(t.state, ["ready"])
            assert after == expected, (label, target, t.name)
        for obj in m.dispatcher_objects:
            row = lab.event_rows.get(obj.name)
            if row is not None:
                assert ("SIGNALED" in plain(row.indicator.value)) == bool(obj.SignalState)


def test_the_png_picture_draws_the_same_state_now():
    m = scenarios.build("notification_broadcast", waiters=2)
    for name in ("waiter1", "waiter2"):
        m.step(m.thread(name))
    m.kernel.KeSetEvent(m.find("DataReady"), 0, False)
    picture = LabPicture(kind="png")
    model = picture.show(m)
    assert picture.kind == "png" and picture.widget.value[:8] == b"\x89PNG\r\n\x1a\n"
    artists = picture.timeline.artists
    now = model.now
    assert (now, now + 1) in {(r[0], r[1]) for r in artists["signaled"].rects}
    ready_now = [r for r in artists["ready"].rects if r[0] == now]
    assert len(ready_now) == sum(t.state == "ready" for t in m.threads)
    assert list(artists["cursor"].get_xdata()) == [now, now]


def test_the_instructor_lane_is_there_before_the_first_set():
    """The first Set keeps the picture's layout (its lanes): it used to add a lane."""
    lab = EventLab("notification_broadcast", waiters=2)
    lanes = [lane.name for lane in lab.timeline_model.lanes]
    assert lanes[0] == "instructor"
    click(lab, "Set", "DataReady")
    assert [lane.name for lane in lab.timeline_model.lanes] == lanes


def test_the_state_now_column_is_added_once():
    m = scenarios.build("notification_broadcast", waiters=1)
    m.step(m.thread("waiter1"))
    from evtsim.lab import add_now_column
    model = timeline_now(m)
    spans, states = list(model.spans), list(model.states)
    add_now_column(model, m)
    assert model.spans == spans and model.states == states
