"""Shared fixtures for the engine tests.

A simulated thread is a generator function that receives its API surface first. The
helpers here are the few thread bodies and look-ups every engine test file needs; a
test that wants something special writes its own thread body next to the assertion.
"""
from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest
from hypothesis import settings

# Every property test is the same run each time (derandomized, no example database) and
# has no per-example deadline: a busy machine must never fail a test. Budgets: budgets.py.
settings.register_profile("evtsim", deadline=None, derandomize=True, database=None)
settings.load_profile("evtsim")


def wait_single(k, obj, timeout=None, alertable=False, mode=None):
    """Wait once on `obj` (kernel surface) and end with the wait's status."""
    from evtsim.api.kernel import Executive, KernelMode
    status = yield k.KeWaitForSingleObject(obj, Executive, KernelMode if mode is None else mode,
                                           alertable, timeout)
    return status


def wait_multiple(k, objs, wait_type, timeout=None, block_array=None, alertable=False):
    """Wait once on several objects and end with the wait's status."""
    from evtsim.api.kernel import Executive, KernelMode
    status = yield k.KeWaitForMultipleObjects(len(objs), list(objs), wait_type, Executive,
                                              KernelMode, alertable, timeout, block_array)
    return status


def script(k, *steps):
    """Make each call `step(k)` in turn (each one yielded); end with their results."""
    results = []
    for step in steps:
        results.append((yield step(k)))
    return results


def records(m, op=None, thread=None):
    """The trace records of `m`, optionally only one op and/or one thread (by name)."""
    return [r for r in m.trace
            if (op is None or r.op == op) and (thread is None or r.thread == thread)]


def one_record(m, op, thread=None):
    """The single trace record of `op` (by `thread`); fails if there is not exactly one."""
    found = records(m, op, thread)
    assert len(found) == 1, f"expected one {op} record, got {found}"
    return found[0]


def names(threads):
    """Thread names of a list of threads (or of names)."""
    return [getattr(t, "name", t) for t in threads]


def line_of(fn, marker):
    """The absolute source line in `fn` that carries the comment `marker`."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, f"marker {marker!r} must appear once in {fn.__name__}"
    return hits[0]


def name_of_thread(value):
    """A thread given as a Thread or as its name."""
    return getattr(value, "name", value)


@pytest.fixture
def sim():
    """The helper functions above, as one namespace."""
    return SimpleNamespace(wait_single=wait_single, wait_multiple=wait_multiple,
                           script=script, records=records, one_record=one_record,
                           names=names, line_of=line_of, thread_name=name_of_thread)


@pytest.fixture
def m():
    """A booted machine with the default policy (round robin, one step at a time)."""
    from evtsim import Machine
    return Machine()


@pytest.fixture
def manual():
    """A machine whose scheduler is the test itself (`m.step(thread)`)."""
    from evtsim import Machine
    return Machine(policy="manual")


@pytest.fixture
def app(m):
    """A user-mode process on `m` (session 1, a standard user)."""
    return m.process("app.exe")


# The files that take longest run first. xdist's loadfile hands files to the workers in
# collection order, so a long file collected late starts last and runs alone at the end;
# started first, it runs beside the many short ones. (Ranked by `--durations=0` totals.)
SLOW_FIRST = ["test_browser_lessons_more.py", "test_browser_lessons.py", "test_fresh_clone.py",
              "test_lite.py", "test_exercise_check.py", "test_browser_frontends.py",
              "test_delivery.py", "test_scale.py", "test_fuzz_surfaces.py", "test_plot.py"]


def pytest_collection_modifyitems(config, items):
    rank = {name: place for place, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))    # stable: the rest keep their order


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: a worker per core, plus one to use the time the others wait."""
    import os
    return (os.cpu_count() or 1) + 1
