"""Trace files of both versions: version 2 keeps each step as typed fields; version 1
(written by evtsim 0.1.0, which kept only an English note) still loads, prints and
replays the same schedule.

The version-1 files in tests/fixtures/trace-v1/ were written by evtsim 0.1.0, and each
`.txt` beside one is the text timeline 0.1.0 printed for it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evtsim import scenarios, trace
from evtsim.records import TraceRecord, from_note
from evtsim.timeline import text

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "trace-v1").glob("*.json"))


def test_there_are_version_1_fixtures():
    assert len(FIXTURES) >= 5
    for path in FIXTURES:
        assert json.loads(path.read_text())["version"] == 1, path.name


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_a_version_1_file_prints_what_0_1_0_printed(path):
    assert text(trace.load(path)) == path.with_suffix(".txt").read_text()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_a_version_1_file_replays_the_same_schedule(path):
    saved = trace.load(path)
    machine = trace.replay(saved)                 # raises ReplayError if a step differs
    assert [(r.thread, r.op) for r in machine.trace] == [(r.thread, r.op) for r in saved]
    assert [r.note for r in machine.trace] == [r.note for r in saved]


def test_a_version_1_replay_ignores_moved_source_lines_but_not_a_changed_result(tmp_path):
    """0.1.0's scenarios have been edited since (lesson code moved into them), so a
    version-1 replay compares the schedule, not the line each call was made on."""
    data = json.loads((FIXTURES[0]).read_text())
    for record in data["records"]:
        if record.get("line") is not None:
            record["line"] += 1000
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(data))
    trace.replay(trace.load(moved))
    first = next(r for r in data["records"] if r.get("result") is not None)
    first["result"] = 12345
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data))
    with pytest.raises(trace.ReplayError, match=f"differs at step {first['seq']}"):
        trace.replay(trace.load(changed))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_a_version_1_file_saved_again_is_version_2_and_reads_back_the_same(path, tmp_path):
    saved = trace.load(path)
    again = tmp_path / "again.json"
    again.write_text(trace.dumps(saved.to_data()))
    data = json.loads(again.read_text())
    assert data["version"] == 2 and "note" not in data["records"][0]
    assert list(trace.load(again)) == list(saved)


def test_the_note_is_made_from_the_fields_and_read_back_exactly():
    """Every record of every scenario: from_note(note) gives back the typed fields, so
    the one English rendering loses nothing a version-1 reader needs."""
    seen = set()
    for name in scenarios.names():
        for params in ({}, {"fixed": True}) if name.startswith("trap_") else ({},):
            m = scenarios.build(name, **params)
            m.run()
            for record in m.trace:
                typed = from_note(record.note, record.thread)
                assert (typed.pop("reads"), typed.pop("writes")) == ((), ())   # not in notes
                resumed = record.resumed if record.enters is None else None
                assert typed == {"kind": record.kind, "rechecked": record.rechecked,
                                 "waits": record.waits, "resumed": resumed,
                                 "enters": record.enters, "remarks": record.remarks}
                seen.update(k for k, v in typed.items() if v)
    assert seen == {"kind", "rechecked", "waits", "resumed", "enters", "remarks"}


def test_version_2_records_carry_the_typed_fields(tmp_path):
    m = scenarios.build("notification_broadcast")
    m.run()
    path = tmp_path / "run.json"
    trace.save(m, path)
    records = json.loads(path.read_text())["records"]
    assert set(records[0]) == set(TraceRecord._fields)
    blocked = next(r for r in records if r["state"] == "waiting" and r["op"].startswith("KeWait"))
    assert blocked["waits"] == ["Wait", ["DataReady"]]
    back = [r for r in records if r["resumed"] == "wait" and r["thread"] == blocked["thread"]]
    assert len(back) == 1 and back[0]["seq"] > blocked["seq"]


@pytest.mark.parametrize("field,value,message", [
    ("kind", "robot", "must be one of thread, dpc, instructor, clock"),
    ("waits", ["Sleep", []], "must be [Wait|WaitAny|WaitAll|Delay, [object names]]"),
    ("resumed", "later", "must be one of wait, driver or null"),
    ("rechecked", [1], "must be a list of strings"),
    ("note", "hello", "is not a record field"),
])
def test_a_bad_version_2_field_is_named(tmp_path, field, value, message):
    m = scenarios.build("notification_broadcast")
    m.run()
    data = trace.to_data(m)
    data["records"][3][field] = value
    with pytest.raises(trace.TraceFileError, match=rf"records\[3\]\.{field} .*{re.escape(message)}"):
        trace.from_data(data)
