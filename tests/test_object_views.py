"""Text views of the object manager (issue 3): `str(m.objects)` and `str(process.handles)`.

The exact layout is the implementation's to choose; these tests pin what the issue asks
for: the namespace as a tree with each object's type, state, handle count and pointer
count, changing as objects come and go; a handle table listing value, type, name and the
granted access in words (`evtsim.status.access_names`).
"""
from __future__ import annotations

import re

from evtsim import Machine
from evtsim.status import EVENT_MODIFY_STATE, SYNCHRONIZE, access_names


def line_with(text, needle):
    hits = [ln for ln in text.splitlines() if needle in ln]
    assert len(hits) == 1, f"expected one line with {needle!r} in:\n{text}"
    return hits[0]


def app_run(m, main, process=None):
    proc = process or m.process("app.exe")
    t = proc.start(main, name=f"main{len(m.threads)}")
    r = m.run()
    assert t.error is None, (t.error, r.message)
    return t.result, proc


def count_near(line, word, value):
    """True if `line` shows `value` as the count labelled `word` (either order)."""
    return re.search(rf"{word}\w*\W{{0,3}}{value}\b|\b{value}\s*{word}", line, re.I) is not None


# --- m.objects ----------------------------------------------------------------------------------

def test_objects_view_shows_the_namespace_directories():
    text = str(Machine().objects)
    for name in ("BaseNamedObjects", "Sessions", "Device"):
        assert name in text


def test_objects_view_nests_an_event_under_its_directory():
    m = Machine(namespace="nt4")

    def main(api):
        return (yield api.CreateEvent(None, False, False, "TreeLeaf"))

    app_run(m, main)
    lines = str(m.objects).splitlines()
    leaf = next(i for i, ln in enumerate(lines) if "TreeLeaf" in ln)
    parent = max(i for i, ln in enumerate(lines[:leaf])
                 if re.match(r"^[\s│├└─]*BaseNamedObjects\b", ln))
    assert lines[leaf].index("TreeLeaf") > lines[parent].index("BaseNamedObjects")


def test_objects_view_gains_a_line_when_a_named_event_is_created():
    m = Machine()
    assert "Appears" not in str(m.objects)

    def main(api):
        return (yield api.CreateEvent(None, False, False, "Appears"))

    app_run(m, main)
    assert "Event" in line_with(str(m.objects), "Appears")


def test_objects_view_loses_the_line_when_the_last_handle_closes():
    m = Machine()

    def main(api):
        h = yield api.CreateEvent(None, False, False, "Leaves")
        yield api.CloseHandle(h)

    app_run(m, main)
    assert "Leaves" not in str(m.objects)


def test_objects_view_shows_the_signal_state():
    m = Machine()
    box = {}

    def create(api):
        box["h"] = yield api.CreateEvent(None, True, False, "StateShown")

    def set_it(api):
        yield api.SetEvent(box["h"])

    app = m.process("app.exe")
    app_run(m, create, app)
    before = line_with(str(m.objects), "StateShown")
    app_run(m, set_it, app)
    after = line_with(str(m.objects), "StateShown")
    assert before != after
    assert re.search(r"(?<!not )(?<!non)(?<!non-)\bsignaled\b|state\W{0,3}1\b", after, re.I)


def test_objects_view_shows_handle_and_pointer_counts():
    m = Machine()

    def main(api):
        yield api.CreateEvent(None, False, False, "Counted")
        yield api.OpenEvent(SYNCHRONIZE, False, "Counted")

    app_run(m, main)
    ev = m.objects.lookup(r"\Sessions\1\BaseNamedObjects\Counted")
    assert ev.header.handle_count == 2
    line = line_with(str(m.objects), "Counted")
    assert count_near(line, "handle", 2)
    assert count_near(line, "pointer", ev.header.pointer_count)


def test_objects_view_count_changes_when_a_handle_closes():
    m = Machine()
    box = {}

    def open_two(api):
        yield api.CreateEvent(None, False, False, "Drops")
        box["h"] = yield api.OpenEvent(SYNCHRONIZE, False, "Drops")

    def close_one(api):
        yield api.CloseHandle(box["h"])

    app = m.process("app.exe")
    app_run(m, open_two, app)
    assert count_near(line_with(str(m.objects), "Drops"), "handle", 2)
    app_run(m, close_one, app)
    assert count_near(line_with(str(m.objects), "Drops"), "handle", 1)


# --- process.handles ----------------------------------------------------------------------------

def handle_line(text, value):
    pattern = re.compile(rf"(?<![\w]){value}(?![\w])|0x0*{value:x}\b", re.I)
    hits = [ln for ln in text.splitlines() if pattern.search(ln)]
    assert len(hits) == 1, f"expected one line for handle {value:#x} in:\n{text}"
    return hits[0]


def test_handles_view_lists_value_type_name_and_access_in_words():
    m = Machine()

    def main(api):
        yield api.CreateEvent(None, True, False, "Listed")
        return (yield api.OpenEvent(SYNCHRONIZE | EVENT_MODIFY_STATE, False, "Listed"))

    h, app = app_run(m, main)
    line = handle_line(str(app.handles), h)
    assert "Event" in line
    assert "Listed" in line
    assert "SYNCHRONIZE | EVENT_MODIFY_STATE" in line
    assert access_names(SYNCHRONIZE | EVENT_MODIFY_STATE) == "SYNCHRONIZE | EVENT_MODIFY_STATE"


def test_handles_view_names_full_access_event_all_access():
    m = Machine()

    def main(api):
        return (yield api.CreateEvent(None, True, False, "Full"))

    h, app = app_run(m, main)
    assert "EVENT_ALL_ACCESS" in handle_line(str(app.handles), h)


def test_handles_view_values_start_at_4_and_step_by_4():
    m = Machine()

    def main(api):
        a = yield api.CreateEvent(None, True, False, None)
        b = yield api.CreateEvent(None, True, False, None)
        return a, b

    (a, b), app = app_run(m, main)
    assert (a, b) == (4, 8)
    text = str(app.handles)
    assert handle_line(text, 4) != handle_line(text, 8)


def test_handles_view_drops_a_closed_handle():
    m = Machine()
    box = {}

    def open_it(api):
        box["h"] = yield api.CreateEvent(None, True, False, "Closing")

    def close_it(api):
        yield api.CloseHandle(box["h"])

    app = m.process("app.exe")
    app_run(m, open_it, app)
    assert "Closing" in str(app.handles)
    app_run(m, close_it, app)
    assert "Closing" not in str(app.handles)


def test_system_handles_view_lists_a_kernel_handle_from_io_create():
    m = Machine()

    def driver(k):
        return (yield k.IoCreateNotificationEvent(r"\BaseNamedObjects\KernelListed"))

    t = m.system.start(driver, name="driver")
    m.run()
    ev, h = t.result
    line = line_with(str(m.system.handles), "KernelListed")
    assert "Event" in line
    assert "EVENT_ALL_ACCESS" in line
