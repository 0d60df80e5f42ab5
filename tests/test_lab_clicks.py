"""A thousand random clicks on the event lab: the panel always shows exactly the machine.

Issue 10's abuse test, in its own file so that pytest-xdist can run it beside the rest of
tests/test_widgets.py (whose helpers it uses). It clicks every kind of button, through bug
checks and Undo past the start, and checks that nothing is raised or printed and that
the view matches the machine every 50 clicks.
"""
from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from evtsim.widgets import EventLab  # noqa: E402

from test_widgets import (EVENT_BUTTONS, SCENARIOS, assert_lab_matches_machine,  # noqa: E402
                          shown_objects)


@pytest.mark.slow
@pytest.mark.parametrize("part", range(4))
def test_a_thousand_random_clicks_leave_model_and_view_consistent(part):
    """Issue 10: a thousand clicks of every kind, through bug checks and Undo past the
    start, never raise and leave the panel showing exactly the machine. The thousand are
    four runs of 250, one per scenario. Each redraws the timeline 250 times."""
    import random
    rng = random.Random(1 + part)
    lab = EventLab(SCENARIOS[part % len(SCENARIOS)])
    kinds = [*EVENT_BUTTONS, "Step", "Run", "Undo", "Add waiter", "Start over"]
    for click in range(250):
        kind = rng.choice(kinds)
        m = lab.machine
        events = [o.name for o in shown_objects(m) if o.kind == "KEVENT"]
        if kind in EVENT_BUTTONS:
            if events:
                lab.button(kind, rng.choice(events)).click()
        elif kind == "Step":
            lab.button("Step", rng.choice([t.name for t in m.threads])).click()
        elif kind == "Add waiter":
            if events:
                lab.add_event.value = rng.choice(events)
            lab.button("Add waiter").click()
        else:
            lab.button(kind).click()
        assert lab.captured.outputs == ()
        if click % 50 == 49:
            assert_lab_matches_machine(lab)
            assert not any("unexpected" in line for line in lab.log_lines), lab.log_lines
    assert_lab_matches_machine(lab)
