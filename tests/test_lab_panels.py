"""The lab's other parts: shared state, each routine with its current line, the
toolbar's names, the whole lab's font scale, clear errors for bad arguments, named
results, and Predict (one verdict, then Try again).
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytest.importorskip("ipywidgets")

from evtsim import Machine, scenarios  # noqa: E402
from evtsim.api.kernel import NotificationEvent  # noqa: E402
from evtsim.errors import BadArgumentError  # noqa: E402
from evtsim.exercises.lesson07 import LEVELS  # noqa: E402
from evtsim.lab import thread_result_words  # noqa: E402
from evtsim.widgets import EventDemo, EventLab, Predict  # noqa: E402

from test_widgets import click, plain  # noqa: E402


def shared_rows(lab) -> dict[str, str]:
    """{name: value} from the lab's shared-state table."""
    cells = re.findall(r"<tr><td[^>]*><code>(.*?)</code></td><td[^>]*><code>(.*?)</code>",
                       lab.shared.value)
    return {plain(name): plain(value) for name, value in cells}


# --- shared state ------------------------------------------------------------------------
def test_the_shared_state_table_follows_each_click():
    lab = EventLab("hardware_lock", policy="manual")
    assert shared_rows(lab) == {"hardware['user']": "None", "hardware['log']": "[]",
                                "hardware['overlaps']": "0"}
    for _ in range(3):                       # open the lock, wait (passes), use the device
        click(lab, "Step", "driverA")
    assert shared_rows(lab) == {"hardware['user']": "'driverA'",
                                "hardware['log']": "['driverA']",
                                "hardware['overlaps']": "0"}


def test_the_shared_state_table_counts_the_overlaps_without_the_lock():
    lab = EventLab("hardware_lock", use_lock=False)
    click(lab, "Run")
    rows = shared_rows(lab)
    assert int(rows["hardware['overlaps']"]) == lab.machine.hardware["overlaps"] > 0


def test_an_object_of_shared_state_shows_its_data_and_its_event():
    lab = EventLab(LEVELS[3].build, policy="manual")
    assert shared_rows(lab) == {"hardware.light": "KEVENT BusyLight (not signaled)",
                                "hardware.log": "[]", "hardware.overlaps": "0"}


def test_a_scenario_that_shares_nothing_has_no_table():
    assert EventLab("notification_broadcast").shared.value == ""


# --- each routine with its current line ------------------------------------------------
def marked(lab) -> list[str]:
    """The lines of the code view that carry the current-line mark."""
    return [plain(line).strip() for line in lab.code.value.split("\n") if "\u25b6 " in
            plain(line) and "evtsim-current" in line]


def test_the_code_view_marks_the_line_the_chosen_thread_runs_next():
    lab = EventLab(LEVELS[2].build, policy="manual")
    lab.code_of.value = "consumer1"
    code = plain(lab.code.value)
    assert "def consumer(k, ready, taken, items):" in code and "return item" in code
    line = lab.machine.thread("consumer1").line
    assert marked(lab) == [f"\u25b6 {line}      yield k.KeWaitForSingleObject(ready, "
                           f"Executive, KernelMode, False, None)"]
    click(lab, "Step", "producer")
    click(lab, "Step", "consumer1")          # the view follows the stepped thread
    assert lab.code_of.value == "consumer1"
    line = lab.machine.thread("consumer1").line
    assert marked(lab)[0].startswith(f"\u25b6 {line}") and "KeSetEvent(taken" in marked(lab)[0]


def test_inside_a_routine_it_called_the_calling_line_is_marked_and_the_inner_told():
    lab = EventLab(LEVELS[3].build, policy="manual")
    for _ in range(4):                       # open, wait, clear, light on (in hw.use)
        click(lab, "Step", "driverA")
    assert marked(lab)[0].endswith("yield from hw.use(k, who)")
    inner = lab.machine.thread("driverA").line
    assert f"now in use(), line {inner}: yield k.KeClearEvent(self.light)" in \
        plain(lab.code.value)


def test_an_ended_thread_shows_its_routine_and_what_it_returned():
    lab = EventLab("notification_broadcast", waiters=1)
    click(lab, "Run")
    lab.code_of.value = "poller"
    assert marked(lab) == []
    assert "(ended: returned (STATUS_TIMEOUT, STATUS_SUCCESS))" in plain(lab.code.value)


# --- the toolbar and the event buttons --------------------------------------------------
def test_start_over_rebuilds_and_no_toolbar_button_is_called_reset():
    lab = EventLab("notification_broadcast")
    toolbar = [b.description for b in lab.controls.children if hasattr(b, "icon")]
    assert toolbar == ["Run", "Undo", "Start over", "Add waiter"]
    assert list(lab.event_rows["DataReady"].buttons) == ["Set", "Reset event", "Clear",
                                                         "Pulse"]
    click(lab, "Run")
    assert "Start over: built scenario notification_broadcast" in \
        click(lab, "Start over")[-1]
    assert lab.machine.trace == scenarios.build("notification_broadcast").trace
    with pytest.raises(BadArgumentError, match="Start over"):
        lab.button("Reset")


# --- the font scale of the whole lab ----------------------------------------------------
def test_font_scale_enlarges_the_whole_lab_not_only_the_picture():
    big, normal = EventLab("notification_broadcast", font_scale=2), EventLab()
    assert "evtsim-scale-200" in big._dom_classes
    css = big.scale_style.value
    assert css.startswith("<style>.evtsim-scale-200 {")
    for rule in ("--jp-widgets-font-size: 26.0px", "--jp-widgets-inline-height: 56.0px",
                 "font-size: 26.0px", ".evtsim-scale-200 .jupyter-button"):
        assert rule in css
    assert normal.scale_style.value == ""
    assert title_size(big) == 2 * title_size(normal)      # and the picture too


def title_size(lab) -> float:
    if lab.picture.kind == "png":
        return lab.timeline.ax.title.get_fontsize()
    tag = re.search(r'<text [^>]*class="title"[^>]*>', lab.image.value).group(0)
    return float(re.search(r'font-size="([\d.]+)"', tag).group(1))


@pytest.mark.parametrize("font_scale", [0, -1, "big", True, 9])
def test_a_bad_font_scale_is_refused_by_name(font_scale):
    with pytest.raises(BadArgumentError, match="font_scale="):
        EventLab("notification_broadcast", font_scale=font_scale)


# --- bad arguments: a clear BadArgumentError that names them -----------------------------
@pytest.mark.parametrize("params, name", [
    ({"waiters": "three"}, "waiters"), ({"waiters": -1}, "waiters"),
    ({"policy": "fastest"}, "policy"), ({"policy": 3}, "policy"),
    ({"seed": -1}, "seed"), ({"seed": "x"}, "seed"), ({"seed": 2.5}, "seed"),
    ({"width": "wide"}, "width"), ({"verdict": 3}, "verdict"),
    ({"nonsense": 1}, "nonsense"),
])
def test_garbage_parameters_raise_a_bad_argument_error_naming_them(params, name):
    with pytest.raises(BadArgumentError) as caught:
        EventLab("notification_broadcast", **params)
    assert re.search(rf"\b{name}\b", str(caught.value)), str(caught.value)


def test_the_scenarios_own_message_goes_through_unchanged():
    with pytest.raises(BadArgumentError) as theirs:
        scenarios.build("notification_broadcast", waiters="three")
    with pytest.raises(BadArgumentError) as ours:
        EventLab("notification_broadcast", waiters="three")
    assert str(ours.value) == str(theirs.value)


def test_a_build_function_that_fails_is_a_clear_message():
    def build(policy="round_robin", seed=0):
        return Machine(policy=policy, seed=seed, step_time="slow")

    def typo(policy="round_robin", seed=0):
        raise TypeError("unsupported operand")

    with pytest.raises(BadArgumentError, match="step_time"):
        EventLab(build)
    with pytest.raises(BadArgumentError, match=r"typo\(policy='round_robin', seed=0\) "
                                               r"could not be built.*TypeError"):
        EventLab(typo)
    with pytest.raises(BadArgumentError, match="waiters=3: a build function gets only "
                                               "policy and seed"):
        EventLab(build, waiters=3)
    with pytest.raises(BadArgumentError, match="EventLab takes a scenario name"):
        EventLab(42)


def test_a_bad_choice_in_the_seed_box_is_refused_without_a_rebuild():
    lab = EventLab("notification_broadcast")
    first = lab.machine
    lab.session.choose("seed", 3)
    chosen = lab.machine
    assert chosen is not first
    with pytest.raises(BadArgumentError, match="seed="):
        lab.session.choose("seed", -5)
    assert lab.machine is chosen and lab.params["seed"] == 3


# --- results by name ------------------------------------------------------------------------
def test_results_name_the_wait_statuses_a_thread_returned():
    lab = EventLab("notification_broadcast", waiters=1)
    click(lab, "Run")
    m = lab.machine
    assert "ended, returned (STATUS_TIMEOUT, STATUS_SUCCESS)" in \
        plain(lab.thread_rows["poller"].state.value)
    assert "ended, returned STATUS_SUCCESS" in plain(lab.thread_rows["waiter1"].state.value)
    # the setter returns KeSetEvent's previous state: a number, never a status name
    setter = m.thread("setter")
    assert thread_result_words(setter) == str(setter.result)
    assert f"ended, returned {setter.result}" in plain(lab.thread_rows["setter"].state.value)


def test_win32_waits_are_named_as_win32_names_them():
    m = Machine()
    app = m.process("app.exe")

    def poll(api):
        event = yield api.CreateEvent(None, True, False, None)
        first = yield api.WaitForSingleObject(event, 0)
        yield api.SetEvent(event)
        second = yield api.WaitForSingleObject(event, 0)
        return [first, second, 7]

    thread = app.start(poll, name="poll")
    m.run()
    assert thread_result_words(thread) == "[WAIT_TIMEOUT, WAIT_OBJECT_0, 7]"


def test_the_demo_names_what_the_released_waiters_returned():
    demo = EventDemo("notification", waiters=2)
    demo.buttons["Set"].click()
    assert plain(demo.threads.value).count("released (returned STATUS_SUCCESS)") == 2


# --- Predict: one verdict, then Try again --------------------------------------------------
def test_predict_shows_its_verdict_once_and_can_be_tried_again():
    p = Predict(kind="synchronization", waiters=3)
    p.ticks["waiter2"].value = True
    p.reveal_button.click()
    assert p.check() is False and "Not quite" in plain(p.answer.value)
    assert p.log_lines == []                 # the answer box alone says it
    assert not p.again_button.disabled and p.reveal_button.disabled
    p.again_button.click()
    assert p.answer.value == "" and p.check() is None
    assert [box.value for box in p.ticks.values()] == [False, False, False]
    assert not any(box.disabled for box in p.ticks.values())
    assert [t.state for t in p.machine.threads] == ["waiting"] * 3
    p.ticks["waiter1"].value = True
    p.reveal_button.click()
    assert p.check() is True and p.released == ["waiter1"] and p.tries == 2


def test_predict_on_a_scenario_machine_tries_again_from_the_same_moment():
    m = scenarios.build("notification_broadcast", waiters=2)
    m.step(m.thread("waiter1"))
    m.step(m.thread("waiter2"))
    p = Predict(m, "DataReady", op="KePulseEvent")
    p.reveal_button.click()
    p.again_button.click()
    assert p.machine is not m and p.candidates == ["waiter1", "waiter2"]
    assert [wb.thread.name for wb in p.event.wait_list] == ["waiter1", "waiter2"]


def test_predict_on_a_hand_built_machine_says_why_it_cannot_try_again():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")

    def waiter(k, event):
        yield k.KeWaitForSingleObject(event, 0, 0, False, None)

    m.system.start(waiter, ev, name="w")
    m.run()
    p = Predict(m)
    p.reveal_button.click()
    assert p.again_button.disabled and "build again" in p.again_button.tooltip


@pytest.mark.parametrize("kwargs, name", [({"op": "KeBoom"}, "op"),
                                          ({"kind": "loud"}, "kind"),
                                          ({"waiters": 0}, "waiters")])
def test_predict_refuses_bad_arguments_by_name(kwargs, name):
    with pytest.raises(BadArgumentError, match=f"{name}="):
        Predict(**kwargs)


# --- the session needs no matplotlib and no ipywidgets ------------------------------------
def test_the_lab_session_runs_without_matplotlib_or_ipywidgets():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('matplotlib', 'ipywidgets', 'PIL', 'numpy'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from evtsim.lab import LabSession, timeline_now, routine_of, shared_state\n"
        "s = LabSession('hardware_lock')\n"
        "s.step('driverA'); s.run()\n"
        "print(s.verdict().tone, len(timeline_now(s.machine).lanes) > 0,\n"
        "      routine_of(s.machine.thread('driverA')).name, len(shared_state(s.machine)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["ended", "True", "driver", "3"]


def test_the_lab_session_calls_only_its_four_instructor_routines():
    """A caller-given routine name goes no further than the lab's buttons, as a trace
    file's kernel action goes no further than evtsim.instructor's table."""
    from evtsim.errors import BadArgumentError
    from evtsim.lab import LabSession
    session = LabSession("notification_broadcast", waiters=1)
    before = len(session.machine.trace)
    for op in ("__setattr__", "KeWaitForSingleObject", "_verifier"):
        with pytest.raises(BadArgumentError, match="the lab calls one of KeSetEvent"):
            session.kernel(op, "DataReady")
    assert len(session.machine.trace) == before
    assert session.kernel("KeSetEvent", "DataReady")
