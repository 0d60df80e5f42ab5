"""The event lab and the small widgets, driven headless with `button.click()`.

After every click the machine, the panel's labels, the banner, the log and the timeline
must agree (`assert_lab_matches_machine`), for every scenario: the timeline is drawn
from a model built now whose last column is the machine's state now, and the picture
shows that column. A Hypothesis property test clicks at random (Set / Reset event /
Clear / Pulse / Step / Run / Add waiter / Undo / Start over) and checks the same, plus
that Undo always lands exactly on the run as it was before the undone click.
"""
from __future__ import annotations

import base64
import datetime
import html
import json
import linecache
import re
import subprocess
import sys

from budgets import examples
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("ipywidgets")

from evtsim import Machine, scenarios  # noqa: E402
from evtsim import trace as tracefiles  # noqa: E402
from evtsim.api.kernel import NotificationEvent  # noqa: E402
from evtsim.lab import timeline_now  # noqa: E402
from evtsim.widgets import (EventDemo, EventLab, Predict, TraceFiles,  # noqa: E402
                            event_text, source_line, thread_text)

EVENT_BUTTONS = ("Set", "Reset event", "Clear", "Pulse")


# --- what "the view matches the machine" means -----------------------------------------
def plain(markup: str) -> str:
    """The text a reader sees in an HTML label."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup)).replace("\xa0", " ")


def shown_objects(m):
    return [o for o in m.dispatcher_objects if o.kind in ("KEVENT", "KTIMER")]


def assert_lab_matches_machine(lab: EventLab):
    m = lab.machine
    crashed = m.bugcheck is not None
    objects = shown_objects(m)
    assert list(lab.event_rows) == [o.name for o in objects]
    for obj in objects:
        row = lab.event_rows[obj.name]
        indicator = plain(row.indicator.value)
        if obj.SignalState:
            assert "SIGNALED" in indicator and "\u25cf" in indicator
        else:
            assert "not signaled" in indicator and "\u25cb" in indicator
        waiters = plain(row.waiters.value)
        expected = [wb.thread.name for wb in obj.wait_list]
        if expected:
            positions = [waiters.index(f"{i}. {name}") for i, name in enumerate(expected, 1)]
            assert positions == sorted(positions), (waiters, expected)
            assert waiters.count("(wait-all)") == sum(wb.wait_type == 0 for wb in obj.wait_list)
        else:
            assert "no waiters" in waiters
        for label, button in row.buttons.items():
            assert button.disabled == crashed
    assert list(lab.thread_rows) == [t.name for t in m.threads]
    for t in m.threads:
        row = lab.thread_rows[t.name]
        assert t.process.name in plain(row.label.value)
        assert ("user mode" if t.mode == 1 else "kernel mode") in plain(row.label.value)
        state = plain(row.state.value)
        if t.state == "terminated":
            assert "ended" in state
        else:
            assert t.state in state
        if t.wait is not None:
            assert t.wait.describe() in state
        line, code = source_line(t)
        if t.state != "terminated" and line is not None:
            text = plain(row.line.value)
            assert f"line {line}: {code}" in text
            assert code == linecache.getline(t.next_call.filename, t.line).strip()
        assert row.step.disabled == (crashed or t.state != "ready")
    # The timeline is drawn from a model built now, whose last column is the state now.
    assert_model_shows_state_now(lab.timeline_model, m)
    assert_picture_shows_model(lab)
    # The banner tells the bug check with its thread and line.
    banner = plain(lab.banner.value)
    if crashed:
        assert f"BUG CHECK 0x{m.bugcheck.code:X}" in banner
        assert m.bugcheck.thread in banner
        if m.bugcheck.line:
            assert f"line {m.bugcheck.line}" in banner
    assert lab.undo_button.disabled == (not lab.rebuildable)


def assert_model_shows_state_now(model, m):
    """The model equals one built from the machine now, and its column right of `now`
    holds every thread's and event's state as the machine has it now."""
    fresh = timeline_now(m)
    for part in ("lanes", "groups", "spans", "arrows", "markers", "states"):
        assert getattr(model, part) == getattr(fresh, part), part
    assert model.now == fresh.now and model.xlim == fresh.xlim
    now = model.now
    lanes = {lane.name for lane in model.lanes}
    for t in m.threads:
        after = [s for s in model.spans if s.lane == t.name and s.x1 > now]
        if t.state == "terminated":
            assert after == [], t.name
        elif t.state == "waiting":
            assert [(s.kind, s.label) for s in after] == [("waiting", t.wait.describe())]
        else:
            assert [s.kind for s in after] == ["ready"], t.name
    for obj in m.dispatcher_objects:
        if obj.name in lanes:
            after = [s.state for s in model.states if s.lane == obj.name and s.x1 > now]
            assert after == [1 if obj.SignalState else 0], obj.name


def svg_lanes(svg: str) -> dict[str, str]:
    """{lane name: the SVG text of its group} for thread and event lanes."""
    found = {}
    for match in re.finditer(r'<g class="lane" data-(?:thread|event)="([^"]+)"'
                             r'(.*?)</g>', svg, flags=re.S):
        found[html.unescape(match.group(1))] = match.group(0)
    return found


def now_x(svg: str) -> float:
    return float(re.search(r'<g class="now"[^>]*><line x1="([-\d.]+)"', svg).group(1))


def rects_from(lane_svg: str, x: float) -> list[str]:
    """The data-mark of every rectangle of the lane that starts at picture x `x`."""
    return [mark for mark, left in re.findall(r'<rect data-mark="([^"]+)" x="([-\d.]+)"',
                                              lane_svg) if abs(float(left) - x) < 0.6]


def assert_picture_shows_model(lab):
    """What the learner sees is the model: the SVG's lanes right of the now line (or the
    PNG's artists) show the state now."""
    m, model = lab.machine, lab.timeline_model
    if lab.picture.kind == "png":
        a = lab.timeline.artists
        running = [s for s in model.spans if s.kind == "running"]
        assert len(a["running_kernel"].rects) + len(a["running_user"].rects) == len(running)
        assert len(a["waiting"].rects) == sum(s.kind == "waiting" for s in model.spans)
        assert len(a["ready"].rects) == sum(s.kind == "ready" for s in model.spans)
        assert len(a["signaled"].rects) == sum(s.state == 1 for s in model.states)
        assert list(a["cursor"].get_xdata()) == [model.now, model.now]
        assert lab.image.value[:8] == b"\x89PNG\r\n\x1a\n"
        return
    svg = lab.image.value
    assert svg.startswith("<svg") and "viewBox" in svg
    x, lanes = now_x(svg), svg_lanes(svg)
    if model.now <= model.xlim[0]:
        return
    for t in m.threads:
        if t.name not in lanes:
            continue
        marks = rects_from(lanes[t.name], x)
        expected = {"terminated": [], "waiting": ["waiting"]}.get(t.state, ["ready"])
        assert marks == expected, (t.name, t.state, marks)
    for obj in m.dispatcher_objects:
        if obj.name in lanes:
            marks = rects_from(lanes[obj.name], x)
            assert marks == ["signaled" if obj.SignalState else "not_signaled"], obj.name


def click(lab, label, target=None):
    """Click and check: the log grew, the view matches, nothing was printed."""
    before = len(lab.log_lines)
    lab.button(label, target).click()
    assert len(lab.log_lines) > before, f"{label} {target or ''} left no line in the log"
    assert_lab_matches_machine(lab)
    assert lab.captured.outputs == ()
    return lab.log_lines[before:]


def snapshot(m):
    return [list(a) for a in m.actions], m.trace.to_dicts()


def waiting_on(m, name):
    return [t.name for t in m.threads if t.wait is not None
            and any(o.name == name for o in t.wait.objects)]


# --- the lab ---------------------------------------------------------------------------
def test_lab_shows_every_event_and_thread_of_the_scenario():
    lab = EventLab("notification_broadcast", waiters=3)
    assert_lab_matches_machine(lab)
    assert "Notification event" in plain(lab.header.value)
    assert list(lab.thread_rows) == ["waiter1", "waiter2", "waiter3", "poller", "setter"]
    assert "notification event (manual reset)" in plain(lab.event_rows["DataReady"].title.value)
    # the line a thread will run next, highlighted, with its source text
    line = plain(lab.thread_rows["waiter1"].line.value)
    assert "\u25b6 line" in line and "KeWaitForSingleObject" in line


def test_set_on_notification_event_releases_every_waiter_and_redraws():
    lab = EventLab("notification_broadcast", waiters=3)
    for name in ("waiter1", "waiter2", "waiter3"):
        click(lab, "Step", name)
    assert waiting_on(lab.machine, "DataReady") == ["waiter1", "waiter2", "waiter3"]
    assert "1. waiter1" in plain(lab.event_rows["DataReady"].waiters.value)
    image, redraws = lab.image.value, lab.redraws
    arrows = len(lab.timeline_model.arrows)
    lines = click(lab, "Set", "DataReady")
    assert any("released waiter1, waiter2, waiter3" in line for line in lines)
    assert lab.redraws == redraws + 1 and lab.image.value != image
    assert len(lab.timeline_model.arrows) == arrows + 3
    for name in ("waiter1", "waiter2", "waiter3"):
        assert lab.machine.thread(name).state == "ready"
        assert "ready" in plain(lab.thread_rows[name].state.value)
    assert "SIGNALED" in plain(lab.event_rows["DataReady"].indicator.value)
    record = lab.machine.trace[-1]
    assert (record.thread, record.op) == ("instructor", "KeSetEvent")


def test_instructor_buttons_act_through_m_kernel_and_are_recorded():
    lab = EventLab("notification_broadcast")
    for label, op in (("Set", "KeSetEvent"), ("Clear", "KeClearEvent"),
                      ("Pulse", "KePulseEvent"), ("Reset event", "KeResetEvent")):
        click(lab, label, "DataReady")
        assert lab.machine.actions[-1][:2] == ("kernel", op)
        assert lab.machine.trace[-1].thread == "instructor"


def test_step_of_a_waiting_thread_is_refused_in_the_log():
    lab = EventLab("notification_broadcast")
    click(lab, "Step", "waiter1")
    lines = click(lab, "Step", "waiter1")
    assert "refused" in lines[-1] and "waiting on Wait(DataReady)" in lines[-1]
    assert lab.checkpoints == [0]          # a refused step is no undo point


def test_synchronization_event_releases_only_the_first_waiter():
    lab = EventLab("trap_two_sets_one_wake")
    click(lab, "Run")
    waiters = waiting_on(lab.machine, "ItemReady")
    assert waiters, "the trap leaves a consumer waiting"
    lines = click(lab, "Set", "ItemReady")
    assert any(f"released {waiters[0]}" in line for line in lines)


def test_undo_goes_back_exactly_one_click_by_replay():
    lab = EventLab("notification_broadcast", waiters=3)
    states = [snapshot(lab.machine)]
    for label, target in (("Step", "waiter1"), ("Step", "setter"), ("Set", "DataReady"),
                          ("Step", "waiter1"), ("Run", None)):
        click(lab, label, target)
        states.append(snapshot(lab.machine))
    for expected in reversed(states[:-1]):
        lines = click(lab, "Undo")
        assert "Undo: rebuilt" in lines[-1]
        assert snapshot(lab.machine) == expected
    lines = click(lab, "Undo")
    assert "nothing to undo" in lines[-1]
    assert snapshot(lab.machine) == states[0]


def test_start_over_builds_the_scenario_again():
    lab = EventLab("notification_broadcast")
    click(lab, "Run")
    first = lab.machine
    lines = click(lab, "Start over")
    assert lab.machine is not first and "built" in lines[-1]
    assert snapshot(lab.machine) == snapshot(scenarios.build("notification_broadcast"))
    assert lab.checkpoints == []


def test_add_waiter_starts_a_thread_and_undo_replays_it():
    lab = EventLab("notification_broadcast")
    lab.add_event.value = "DataReady"
    click(lab, "Add waiter")
    assert "added(DataReady)" in lab.thread_rows
    click(lab, "Step", "added(DataReady)")
    assert waiting_on(lab.machine, "DataReady") == ["added(DataReady)"]
    before = snapshot(lab.machine)
    click(lab, "Set", "DataReady")
    click(lab, "Undo")
    assert snapshot(lab.machine) == before
    assert waiting_on(lab.machine, "DataReady") == ["added(DataReady)"]


def test_bug_check_shows_thread_and_line_and_the_panel_stays_usable():
    lab = EventLab("trap_wait_at_dispatch")
    lines = click(lab, "Run")
    m = lab.machine
    assert m.bugcheck is not None
    banner = plain(lab.banner.value)
    assert "BUG CHECK 0xC4" in banner and "driver" in banner
    assert f"line {m.bugcheck.line}: " in banner
    assert "KeWaitForSingleObject" in banner          # the offending line's source
    assert any("Bug check 0xC4" in line for line in lines)
    assert lab.run_button.disabled and lab.button("Set", "Ready").disabled
    # Clicking the disabled buttons anyway (as code can) only logs a refusal.
    for label, target in (("Set", "Ready"), ("Run", None), ("Step", "driver")):
        click(lab, label, target)
    assert m.bugcheck is not None
    click(lab, "Undo")
    assert lab.machine.bugcheck is None
    assert_lab_matches_machine(lab)
    click(lab, "Run")
    click(lab, "Start over")
    assert lab.machine.bugcheck is None


def test_deadlock_shows_every_blocked_thread_with_its_line():
    lab = EventLab("trap_pulse_lost_wakeup")
    click(lab, "Run")
    banner = plain(lab.banner.value)
    assert "Deadlock:" in banner and "for ever" in banner
    waiting = [t for t in lab.machine.threads if t.state == "waiting"]
    assert waiting
    for t in waiting:
        assert f"{t.name} (System) waits on {t.wait.describe()} at line {t.line}" in banner


def test_policy_and_seed_choosers_rebuild():
    lab = EventLab("notification_broadcast", waiters=4)
    lab.policy.value = "random"
    assert lab.machine.policy.name == "random" and lab.params["policy"] == "random"
    lab.seed.value = 7
    assert lab.machine.seed == 7
    assert_lab_matches_machine(lab)
    click(lab, "Run")
    expected = scenarios.build("notification_broadcast", waiters=4, policy="random", seed=7)
    expected.run(max_steps=10_000)
    assert lab.machine.trace.to_dicts() == expected.trace.to_dicts()
    assert any("seed 0 -> 7" in line for line in lab.log_lines)


@pytest.mark.parametrize("name", scenarios.names())
def test_every_scenario_clicks_keep_model_and_view_in_step(name):
    lab = EventLab(name)
    assert_lab_matches_machine(lab)
    for _ in range(3):
        ready = [t.name for t in lab.machine.threads if t.state == "ready"]
        if ready:
            click(lab, "Step", ready[0])
    click(lab, "Run")
    for event in [o.name for o in shown_objects(lab.machine) if o.kind == "KEVENT"]:
        for label in ("Set", "Pulse", "Reset event", "Clear"):
            click(lab, label, event)
    before = len(lab.checkpoints)
    click(lab, "Undo")
    assert len(lab.checkpoints) == max(before - 1, 0)
    click(lab, "Start over")


def test_plain_machine_has_no_undo_and_says_why():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")

    def waiter(k, event):
        yield k.KeWaitForSingleObject(event, 0, 0, False, None)

    m.system.start(waiter, ev, name="w")
    lab = EventLab(m)
    assert lab.undo_button.disabled and lab.start_over_button.disabled and lab.policy.disabled
    assert "not built from a scenario" in lab.undo_button.tooltip
    assert any("Undo and Start over are off" in line for line in lab.log_lines)
    click(lab, "Step", "w")
    click(lab, "Set", "Go")
    assert m.thread("w").state == "ready"
    lines = click(lab, "Undo")               # a click anyway: explained, not raised
    assert "not built from a scenario" in lines[-1]


def test_build_function_gets_undo_start_over_and_the_policy_chooser():
    def build(policy="round_robin", seed=0):
        m = Machine(policy=policy, seed=seed)
        ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")

        def waiter(k, event):
            yield k.KeWaitForSingleObject(event, 0, 0, False, None)

        m.system.start(waiter, ev, name="w")
        return m

    lab = EventLab(build)
    click(lab, "Step", "w")
    before = snapshot(lab.machine)
    click(lab, "Set", "Go")
    click(lab, "Undo")
    assert snapshot(lab.machine) == before
    lab.policy.value = "run_until_block"
    assert lab.machine.policy.name == "run_until_block"


def test_build_function_without_policy_argument_disables_the_chooser():
    def build():
        m = Machine()
        m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")
        return m

    lab = EventLab(build)
    assert lab.policy.disabled and lab.seed.disabled and not lab.undo_button.disabled
    assert "takes no policy argument" in lab.policy.tooltip


def test_lab_of_a_machine_built_from_a_scenario_keeps_its_state():
    m = scenarios.build("notification_broadcast")
    m.step(m.thread("waiter1"))
    lab = EventLab(m)
    assert lab.machine is m and lab.rebuildable
    assert waiting_on(m, "DataReady") == ["waiter1"]
    click(lab, "Set", "DataReady")
    click(lab, "Undo")
    assert waiting_on(lab.machine, "DataReady") == ["waiter1"]


def test_every_control_has_a_label_a_tooltip_and_a_place_in_the_tab_order():
    import ipywidgets as W
    lab = EventLab("notification_broadcast")
    demo, predict = EventDemo(), Predict()
    buttons, controls = [], []

    def walk(widget):
        if isinstance(widget, (W.Button, W.FileUpload)):
            buttons.append(widget)
        elif isinstance(widget, (W.Dropdown, W.BoundedIntText, W.Checkbox)):
            controls.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)

    for widget in (lab, demo, predict):
        walk(widget)
    # lab 15 (toolbar 4, 4 per event, a Step per thread, download, upload), demo 5,
    # predict 2 (Reveal, Try again)
    assert len(buttons) == 23           # Predict has Reveal, Try again and New question
    # lab: on event, policy, seed, code of; predict: a tick per waiter
    assert len(controls) == 4 + 3
    for control in buttons + controls:
        assert control.description.strip(), control
        assert control.tooltip and len(control.tooltip) > 10, control.description
    # keyboard: native buttons and form controls; none is taken out of the tab order
    assert all(control.tabbable is not False for control in buttons + controls)


def test_a_failing_callback_logs_a_clear_message_and_never_raises(monkeypatch):
    lab = EventLab("notification_broadcast")

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(lab.picture, "show", broken)
    lab.button("Set", "DataReady").click()
    assert any("timeline: unexpected RuntimeError: drawing failed" in line
               for line in lab.log_lines)
    assert "SIGNALED" in plain(lab.event_rows["DataReady"].indicator.value)
    monkeypatch.undo()

    def refuse(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(lab.machine, "run", refuse)
    lab.button("Run").click()                # must not raise
    assert any("unexpected KeyError" in line for line in lab.log_lines)
    monkeypatch.undo()
    click(lab, "Run")


def test_thread_that_raises_is_shown_with_its_line():
    def build(policy="round_robin", seed=0):
        m = Machine(policy=policy, seed=seed)

        def faulty(k):
            yield k.KeGetCurrentIrql()
            return 1 // 0

        m.system.start(faulty, name="faulty")
        return m

    lab = EventLab(build)
    click(lab, "Run")
    banner = plain(lab.banner.value)
    assert "faulty (System) stopped with ZeroDivisionError" in banner
    assert "return 1 // 0" in banner
    click(lab, "Undo")
    assert lab.machine.thread("faulty").error is None


def test_texts_for_screen_readers():
    m = scenarios.build("notification_broadcast", waiters=2)
    m.step(m.thread("waiter1"))
    ev = m.find("DataReady")
    assert event_text(ev) == ("DataReady: notification event (manual reset), not signaled; "
                              "waiters: 1. waiter1")
    text = thread_text(m.thread("waiter1"))
    assert text.startswith("waiter1 (System, kernel mode): waiting on Wait(DataReady)")
    lab = EventLab(m)
    assert "waiter1" in plain(lab.text_timeline.value)


# --- trace files -----------------------------------------------------------------------
def test_download_link_holds_the_trace_and_upload_restores_the_run():
    lab = EventLab("notification_broadcast", waiters=3)
    lab.add_event.value = "DataReady"
    for label, target in (("Step", "waiter1"), ("Add waiter", None),
                          ("Step", "added(DataReady)"), ("Set", "DataReady")):
        click(lab, label, target)
    lab.files.download_button.click()
    match = re.search(r'download="([^"]+)" href="data:application/json;base64,([^"]+)"',
                      lab.files.link.value)
    assert match and match.group(1).startswith("notification_broadcast-step")
    content = base64.b64decode(match.group(2))
    data = json.loads(content)
    assert data["records"] == lab.machine.trace.to_dicts()
    expected = snapshot(lab.machine)

    other = EventLab("hardware_lock")
    other.files.upload.value = ({"name": "saved.json", "type": "application/json",
                                 "size": len(content), "content": memoryview(content),
                                 "last_modified": datetime.datetime.now()},)
    assert other.scenario_name == "notification_broadcast"
    assert snapshot(other.machine) == expected
    assert any("Loaded saved.json" in line for line in other.log_lines)
    assert_lab_matches_machine(other)
    click(other, "Undo")                     # back one action: before the Set
    assert snapshot(other.machine) == (expected[0][:-1], expected[1][:-1])


def test_upload_of_a_bad_file_is_a_message():
    lab = EventLab("notification_broadcast")
    before = snapshot(lab.machine)
    lab.files.load_bytes(b"{not json", "broken.json")
    lab.files.load_bytes(json.dumps({"format": "something else"}).encode(), "other.json")
    assert "Upload broken.json: not an evtsim trace file" in lab.log_lines[-2]
    assert "format must be 'evtsim-trace'" in lab.log_lines[-1]
    assert snapshot(lab.machine) == before


def test_trace_files_widget_on_a_plain_machine():
    m = scenarios.build("notification_broadcast")
    m.run()
    files = TraceFiles(m)
    files.download_button.click()
    assert "data:application/json;base64," in files.link.value
    text = files.data()
    restored = files.load_bytes(text.encode(), "m.json")
    assert restored.trace.to_dicts() == m.trace.to_dicts()
    assert tracefiles.from_data(json.loads(text)).scenario == "notification_broadcast"


# --- the small widgets -----------------------------------------------------------------
def test_event_demo_notification_releases_all_synchronization_one():
    demo = EventDemo("notification", waiters=3)
    assert [t.state for t in demo.machine.threads] == ["waiting"] * 3
    demo.buttons["Set"].click()
    assert [t.state for t in demo.machine.threads] == ["terminated"] * 3
    assert "released waiter1, waiter2, waiter3" in demo.log_lines[-1]
    assert "SIGNALED" in plain(demo.indicator.value)
    demo.add_button.click()
    assert "passed straight through" in demo.log_lines[-1]
    demo.buttons["Reset event"].click()
    assert "not signaled" in plain(demo.indicator.value)

    sync = EventDemo("synchronization", waiters=3)
    sync.buttons["Set"].click()
    assert [t.state for t in sync.machine.threads] == ["terminated", "waiting", "waiting"]
    assert "not signaled" in plain(sync.indicator.value)
    assert "1. waiter2, 2. waiter3" in plain(sync.waiters.value)
    sync.buttons["Pulse"].click()
    assert sync.machine.thread("waiter2").state == "terminated"
    sync.again_button.click()
    assert [t.state for t in sync.machine.threads] == ["waiting"] * 3


def test_predict_says_what_was_right():
    good = Predict(kind="synchronization", waiters=3)
    assert good.check() is None
    good.ticks["waiter1"].value = True
    good.reveal_button.click()
    assert good.check() is True
    assert "Right" in plain(good.answer.value)

    wrong = Predict(kind="synchronization", waiters=3)
    wrong.ticks["waiter2"].value = True
    wrong.reveal_button.click()
    assert wrong.check() is False
    answer = plain(wrong.answer.value)
    assert "It released: waiter1" in answer and "You ticked waiter2" in answer
    wrong.reveal_button.click()              # a second click is harmless
    after = plain(wrong.answer.value)           # the verdict stays, with a note under it
    assert after.startswith(answer) and after.count("It released") == 1
    assert after.strip().endswith("Already revealed: click Try again to predict once more.")

    broadcast = Predict(kind="notification", waiters=2)
    for box in broadcast.ticks.values():
        box.value = True
    broadcast.reveal_button.click()
    assert broadcast.check() is True


def test_predict_on_a_scenario_machine():
    m = scenarios.build("notification_broadcast", waiters=2)
    m.step(m.thread("waiter1"))
    m.step(m.thread("waiter2"))
    p = Predict(m, "DataReady", op="KePulseEvent")
    assert p.candidates == ["waiter1", "waiter2"]
    p.reveal_button.click()
    assert p.released == ["waiter1", "waiter2"]


def test_import_evtsim_stays_light():
    code = ("import sys, evtsim, evtsim.scenarios, evtsim.trace; "
            "print([m for m in ('ipywidgets', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# --- random clicking ---------------------------------------------------------------------
SCENARIOS = ["notification_broadcast", "trap_wait_at_dispatch", "trap_two_sets_one_wake",
             "hardware_lock"]
ACTIONS = st.one_of(
    st.tuples(st.sampled_from(list(EVENT_BUTTONS)), st.integers(0, 3)),
    st.tuples(st.just("Step"), st.integers(0, 7)),
    st.tuples(st.sampled_from(["Run", "Undo", "Start over", "Add waiter"]), st.just(0)),
)


@settings(max_examples=examples(30), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(SCENARIOS), actions=st.lists(ACTIONS, max_size=14))
def test_random_clicks_keep_model_and_view_consistent(name, actions):
    lab = EventLab(name)
    history = []                         # the run before each click that changed it
    for kind, index in actions:
        m = lab.machine
        before = snapshot(m)
        events = [o.name for o in shown_objects(m) if o.kind == "KEVENT"]
        if kind in EVENT_BUTTONS:
            if not events:
                continue
            lab.button(kind, events[index % len(events)]).click()
        elif kind == "Step":
            names = [t.name for t in m.threads]
            lab.button("Step", names[index % len(names)]).click()
        elif kind == "Add waiter":
            if events:
                lab.add_event.value = events[0]
            lab.button("Add waiter").click()
        elif kind == "Start over":
            lab.button("Start over").click()
            history = []
            assert snapshot(lab.machine) == snapshot(scenarios.build(name))
        elif kind == "Run":
            lab.button("Run").click()
        else:
            lab.button("Undo").click()
            if history:
                assert snapshot(lab.machine) == history.pop()
            else:
                assert "nothing to undo" in lab.log_lines[-1]
                assert snapshot(lab.machine) == before
        if kind not in ("Undo", "Start over") and snapshot(lab.machine) != before:
            history.append(before)
        assert len(lab.checkpoints) == len(history)
        assert_lab_matches_machine(lab)
        assert lab.captured.outputs == ()
        assert not any("unexpected" in line for line in lab.log_lines), lab.log_lines


def test_predict_asks_fresh_seeded_variants_and_the_same_seed_asks_the_same():
    from evtsim.widgets import Predict

    def questions(seed, n=5):
        p = Predict(kind="synchronization", waiters=3, seed=seed)
        asked = [(p.op, p.event.Type, tuple(p.candidates))]
        for _ in range(n):
            p.new_button.click()
            asked.append((p.op, p.event.Type, tuple(p.candidates)))
        return asked

    first = questions(7)
    assert first[0] == ("KeSetEvent", 1, ("waiter1", "waiter2", "waiter3"))
    assert first == questions(7)
    assert len(set(first)) > 2                       # the variants differ
    assert {op for op, _, _ in first} <= {"KeSetEvent", "KePulseEvent"}


def test_predict_reveals_a_variant_right_and_can_be_tried_again():
    from evtsim.api.kernel import NotificationEvent
    from evtsim.widgets import Predict
    p = Predict(seed=11)
    for _ in range(6):
        p.new_button.click()
        released = p.candidates if p.event.Type == NotificationEvent else p.candidates[:1]
        for name in released:
            p.ticks[name].value = True
        p.reveal_button.click()
        assert p.check() is True and list(p.released) == list(released)
        p.again_button.click()
        assert p.released is None and not p.reveal_button.disabled


def test_predict_refuses_a_seed_that_is_not_a_number_or_comes_with_a_machine():
    from evtsim.errors import BadArgumentError
    from evtsim import scenarios
    from evtsim.widgets import Predict
    with pytest.raises(BadArgumentError, match="seed='x': give a whole number"):
        Predict(seed="x")
    with pytest.raises(BadArgumentError, match="not both"):
        Predict(scenarios.build("notification_broadcast"), seed=1)
