"""What a learner reads: the text log, numbers by name, one time unit, clear refusals.

The text log is plain text for print() and a scrollable table in a notebook; statuses,
wait results and last errors read by name and nothing else does; every time shown to
people is in microseconds (evtsim.units.time_us); a wrong scenario parameter or a step
that nothing can take is refused at once, in words (docs/engine.md).
"""
from __future__ import annotations

import contextlib
import io
import re
from html.parser import HTMLParser

import pytest

import timeline_cases as cases
from evtsim import BadArgumentError, Machine, MachineStateError, scenarios, trace
from evtsim.api.kernel import Executive, KernelMode, NotificationEvent
from evtsim.namespace import MAX_NAME_CHARS
from evtsim.reports import thread_result_text
from evtsim.scenarios.registry import RULES
from evtsim.status import Named, kind_of_result, name_result
from evtsim.timeline import result_text, text
from evtsim.timeline.textview import HTML_ROWS
from evtsim.units import time_us


@pytest.fixture
def broadcast():
    m = scenarios.build("notification_broadcast")
    m.run()
    return m


class Table(HTMLParser):
    """The parts of an HTML table: caption, header cells, body rows, styles seen."""

    def __init__(self, markup: str):
        super().__init__()
        self.caption, self.header, self.rows, self.scopes = "", [], [], []
        self.section, self.cell, self.in_caption, self.boxes = None, None, False, []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            self.boxes.append(attrs.get("style", ""))
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "caption":
            self.in_caption = True
        elif tag == "tr" and self.section == "tbody":
            self.rows.append([])
        elif tag in ("th", "td"):
            self.cell = ""
            if tag == "th" and self.section == "thead":
                self.scopes.append(attrs.get("scope"))

    def handle_endtag(self, tag):
        if tag == "caption":
            self.in_caption = False
        elif tag in ("th", "td") and self.cell is not None:
            if self.section == "thead":
                self.header.append(self.cell)
            elif self.section == "tbody":
                self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.in_caption:
            self.caption += data
        elif self.cell is not None:
            self.cell += data


# --- the text log: plain text for print, a table in a notebook -------------------------

def test_the_log_prints_as_the_same_plain_text(broadcast):
    log = trace.text_timeline(broadcast)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        print(log)
    assert shown.getvalue() == str.__str__(log) + "\n"
    assert isinstance(log, str) and type(str(log)) is str and str(log) == log
    assert "<" not in log, "the plain text has no markup"
    assert log == text(broadcast), "trace.text_timeline and timeline.text agree"


def test_ipython_in_a_terminal_shows_the_lines_not_a_quoted_string(broadcast):
    pretty = pytest.importorskip("IPython.lib.pretty")
    log = text(broadcast)
    assert pretty.pretty(log) == str.__str__(log)


def test_the_notebook_log_is_a_table_with_one_row_per_record(broadcast):
    log = text(broadcast)
    table = Table(log._repr_html_())
    assert len(table.rows) == len(broadcast.trace)
    assert table.header == ["step", "time", "waiter1", "waiter2", "waiter3", "poller",
                            "setter", "DataReady", "what happened"]
    assert table.scopes == ["col"] * len(table.header)
    assert "one row per step" in table.caption
    plain_rows = log.splitlines()[2:]
    for row, line in zip(table.rows, plain_rows):
        assert row[0] == line.split()[0]
        assert line.endswith(row[-1]), "the table and the text say the same"


def test_the_notebook_log_scrolls_in_its_own_box_and_never_breaks_a_word(broadcast):
    markup = text(broadcast)._repr_html_()
    box = Table(markup).boxes[0].replace(" ", "")
    assert "overflow-x:auto" in box and "overflow-y:auto" in box and "max-height:" in box
    assert re.search(r'<table style="[^"]*white-space: nowrap', markup)
    for breaking in ("break-all", "anywhere", "break-word", "hyphens"):
        assert breaking not in markup
    assert "overflow-wrap: normal" in markup


def test_the_notebook_log_escapes_every_cell():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="<Go>")

    def waiter(k, ev):
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0))

    m.system.start(waiter, ev, name="w<1>&")
    m.run()
    markup = text(m)._repr_html_()
    assert "w&lt;1&gt;&amp;" in markup and "&lt;Go&gt;" in markup
    assert "<Go>" not in markup and "w<1>" not in markup
    table = Table(markup)
    assert "w<1>&" in table.header and "<Go>" in table.header
    assert len(table.rows) == len(m.trace)


def test_the_notebook_log_keeps_last_and_says_a_bug_check_below_the_rows(broadcast):
    assert len(Table(text(broadcast, last=3)._repr_html_()).rows) == 3
    markup = text(cases.crash())._repr_html_()
    assert "<tfoot>" in markup and "BUG CHECK 0xC4" in markup.split("<tfoot>")[1]


def test_a_version_2_file_prints_as_the_machine_that_wrote_it(broadcast, tmp_path):
    path = tmp_path / "run.json"
    trace.save(broadcast, path)
    assert text(trace.load(path)) == text(broadcast)


def test_the_log_says_time_in_microseconds(broadcast):
    lines = text(broadcast).splitlines()
    set_line = next(line for line in lines if "KeSetEvent" in line)
    record = next(r for r in broadcast.trace if r.op == "KeSetEvent")
    assert set_line.split(" | ")[0].split(None, 1)[1] == time_us(record.time)


# --- numbers by name, and only the numbers that are statuses ----------------------------

def test_statuses_inside_a_tuple_read_by_name():
    named = name_result((258, 0), "status")
    assert repr(named) == "(STATUS_TIMEOUT, STATUS_SUCCESS)"
    assert named == (258, 0) and all(isinstance(v, Named) for v in named)
    assert repr(name_result([0, [1, 258]], "status")) == \
        "[STATUS_SUCCESS, [STATUS_WAIT_1, STATUS_TIMEOUT]]"
    assert repr(name_result((True, 0), "wait")) == "(True, WAIT_OBJECT_0)"
    assert repr(name_result(5, kind_of_result("GetLastError"))) == "ERROR_ACCESS_DENIED"


def test_a_status_first_result_names_only_the_status():
    assert kind_of_result("ZwSetEvent") == ("status",)
    assert repr(name_result((0, 1), kind_of_result("ZwSetEvent"))) == "(STATUS_SUCCESS, 1)"
    assert result_text("ZwSetEvent", (0, 1)) == "(STATUS_SUCCESS, 1)"


@pytest.mark.parametrize("op", ["KeSetEvent", "KeResetEvent", "KePulseEvent",
                                "KeReadStateEvent", "KeRaiseIrql", "CreateEvent",
                                "SleepEx"])
def test_a_plain_value_stays_a_number(op):
    assert kind_of_result(op) is None
    assert name_result(0, kind_of_result(op)) == 0
    assert not isinstance(name_result(0, kind_of_result(op)), Named)
    assert result_text(op, 0) == "0" and result_text(op, 1) == "1"


def test_kesetevent_in_the_log_and_its_record_reads_the_previous_state(broadcast):
    set_line = next(line for line in text(broadcast).splitlines() if "KeSetEvent" in line)
    assert "KeSetEvent(DataReady, 0, False) -> 0;" in set_line
    record = next(r for r in broadcast.trace if r.op == "KeSetEvent")
    assert "KeSetEvent -> 0 released=" in repr(record)
    assert "STATUS" not in set_line and "STATUS" not in repr(record)


def test_a_record_reads_its_time_in_microseconds_and_its_status_by_name(broadcast):
    record = next(r for r in broadcast.trace if r.thread == "poller")
    assert repr(record) == "<#5 at 3 µs poller: KeWaitForSingleObject -> STATUS_TIMEOUT>"


def test_the_log_names_last_errors_wait_results_and_io_statuses():
    m = scenarios.build("driver_created_event")
    m.run()
    log = text(m)
    assert "GetLastError() -> ERROR_ACCESS_DENIED" in log
    assert r"IoCreateDevice(nameddrv.sys, \Device\NamedDrv) -> (STATUS_SUCCESS, " in log
    assert "IoCreateSymbolicLink" in log and "-> STATUS_SUCCESS  [line" in log
    m = scenarios.build("handle_by_ioctl")
    m.run()
    assert "main returns from WaitForSingleObject -> WAIT_OBJECT_0" in text(m)


def test_a_threads_result_is_named_only_with_evidence_of_what_it_is(broadcast):
    assert thread_result_text(broadcast.thread("poller")) == \
        "(STATUS_TIMEOUT, STATUS_SUCCESS)"               # both came from its own waits
    assert thread_result_text(broadcast.thread("setter")) == "0"    # KeSetEvent's state
    m = scenarios.build("handle_by_ioctl")
    m.run()
    assert thread_result_text(m.drivers[0].entry_thread) == "STATUS_SUCCESS"  # by contract
    assert thread_result_text(m.thread("main")) == "(True, WAIT_OBJECT_0)"


def test_a_number_the_thread_made_itself_stays_a_number():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True, name="Go")

    def counter(k, ev):
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
        return 3, [7]

    m.system.start(counter, ev, name="counter")
    m.run()
    assert thread_result_text(m.thread("counter")) == "(3, [7])"
    assert repr(name_result(m.thread("counter").result, "status")) == \
        "(STATUS_WAIT_3, [STATUS_WAIT_7])"


# --- one time unit in run messages, bug checks and reprs ------------------------------

def test_a_finished_run_says_its_time_in_microseconds(broadcast):
    result = broadcast.run()
    assert result.message == f"All threads have ended (0 steps this run, at time " \
                             f"{time_us(broadcast.time)})."
    assert f"at time {time_us(broadcast.time)}" in repr(result)
    assert repr(broadcast).startswith(f"<Machine at time {time_us(broadcast.time)} ")


def test_a_bug_check_says_its_time_in_microseconds():
    m = cases.crash()
    assert f"at time {time_us(m.bugcheck.time)}." in m.bugcheck.describe()
    assert not re.search(r"\bt=\d", m.bugcheck.describe())


def test_a_deadlock_report_and_a_time_limit_say_microseconds():
    m = scenarios.build("driverstudio_tip", namespace="modern")
    result = m.run()
    blocked = result.deadlock.blocked[0]
    assert f"since time {time_us(blocked.since_time)}" in result.message
    m = scenarios.build("handle_by_ioctl")
    result = m.run(until=50_000)
    assert result.reason == "time"
    assert result.message == "Reached time 5,000 µs; call run() again to go on."


# --- m.step() says why when nothing can run ----------------------------------------------

def test_step_on_a_finished_machine_says_that_every_thread_has_ended(broadcast):
    records = len(broadcast.trace)
    with pytest.raises(MachineStateError, match=r"All threads have ended \(at time "):
        broadcast.step()
    assert len(broadcast.trace) == records


def test_step_under_the_manual_policy_says_to_choose_a_thread():
    m = scenarios.build("notification_broadcast", policy="manual")
    with pytest.raises(MachineStateError, match="choose the next thread with m.step"):
        m.step()
    assert m.step(m.thread("waiter1")).thread == "waiter1"


# --- every scenario parameter is checked at once --------------------------------------

def _bad_values(name: str, default):
    """Values of the wrong type, and values just outside the limits, for a parameter."""
    if isinstance(default, bool):
        return ["yes", 1, None]
    if isinstance(default, int):
        rule = RULES[name]
        return ["three", 2.5, True, None, rule.low - 1, rule.high + 1]
    rule = RULES[name]
    if rule.choices is not None:
        return [3, None, "no_such_" + name]
    return [3, None, "x" * (rule.longest + 1)]


PARAMETERS = [(s, p, v) for s in scenarios.names()
              for p, default in scenarios.get(s).defaults.items()
              for v in _bad_values(p, default)]


@pytest.mark.parametrize("scenario,param,value", PARAMETERS,
                         ids=[f"{s}-{p}-{str(v)[:12]}" for s, p, v in PARAMETERS])
def test_a_wrong_scenario_parameter_is_refused_naming_it(scenario, param, value):
    with pytest.raises(BadArgumentError) as refused:
        scenarios.build(scenario, **{param: value})
    message = str(refused.value)
    assert f"{param}=" in message and repr(value)[:20] in message
    assert "must be" in message


def test_every_non_flag_parameter_has_stated_limits_in_the_docs():
    from pathlib import Path
    doc = (Path(__file__).resolve().parent.parent / "docs" / "engine.md").read_text()
    for s in scenarios.names():
        for param, default in scenarios.get(s).defaults.items():
            assert f"`{param}`" in doc, f"docs/engine.md does not state {param}'s limits"
            if not isinstance(default, bool):
                assert param in RULES, f"{s}.{param} has no rule of its own"


def test_the_limits_themselves_are_allowed():
    assert len(scenarios.build("notification_broadcast", waiters=64).threads) == 66
    assert len(scenarios.build("notification_broadcast", waiters=1).threads) == 3
    scenarios.build("hardware_lock", rounds=RULES["rounds"].high, seed=2**31 - 1)
    scenarios.build("handle_by_ioctl", due_ms=0)


def test_the_message_says_what_is_allowed():
    with pytest.raises(BadArgumentError, match=r"waiters='three' is not allowed: waiters "
                                               r"must be a whole number from 1 to 64"):
        scenarios.build("notification_broadcast", waiters="three")
    with pytest.raises(BadArgumentError, match="'round_robin', 'run_until_block', "
                                               "'random', 'manual'"):
        scenarios.build("notification_broadcast", policy="fastest")


def test_an_app_name_up_to_the_longest_windows_name_is_allowed():
    assert RULES["app_name"].longest == MAX_NAME_CHARS
    scenarios.build("driverstudio_tip", app_name=r"Global\SynchEvent")


def test_a_very_long_log_shows_its_last_rows_in_a_notebook_and_says_so():
    m = cases.big(threads=4, segments=4_800)
    log = text(m)
    table = Table(log._repr_html_())
    assert len(m.trace) > HTML_ROWS and len(table.rows) == HTML_ROWS
    assert table.rows[-1][0] == str(m.trace[-1].seq)
    assert f"the last {HTML_ROWS:,} of {len(m.trace):,} steps" in table.caption
    assert len(log.splitlines()) == 2 + len(m.trace), "print() still shows every step"
