"""DriverWorks' KEvent and the 1999 DriverStudio tip, run line for line.

The tip (seeds/000): the application creates a named event with CreateEvent and waits on
it with WaitForSingleObject; the driver opens it as
`KEvent(KUstring(L"\\BaseNamedObjects\\SynchEvent"), SynchronizationEvent)` and calls
`TheEvent.Set()`, which returns the application from its wait. That held on NT4 and
Windows 2000, where every named object lived in \\BaseNamedObjects. From Vista on an
application's plain name goes to its session directory (docs/semantics.md sections 3 and 6),
so the driver opens (creates) a different event and the application keeps waiting;
`Global\\SynchEvent` puts it back in \\BaseNamedObjects.
"""
from __future__ import annotations

import inspect

import pytest

from evtsim import EvtsimError, Machine
from evtsim.api.driverworks import KEvent, KUstring
from evtsim.api.kernel import NotificationEvent, SynchronizationEvent
from evtsim.status import INFINITE, STATUS_SUCCESS, STATUS_TIMEOUT, WAIT_OBJECT_0


def tip(m, app_name):
    """Run the tip on `m`: the app creates and waits, then the driver opens and sets."""
    app = m.process("app.exe")

    def application(api):
        h = yield api.CreateEvent(None, False, False, app_name)
        r = yield api.WaitForSingleObject(h, INFINITE)
        return r

    def driver(k):
        TheEvent = yield KEvent(KUstring(r"\BaseNamedObjects\SynchEvent"), SynchronizationEvent)
        yield TheEvent.Set()
        return TheEvent

    a = app.start(application, name="application")
    m.run()
    assert a.state == "waiting"
    d = m.system.start(driver, name="driver")
    m.run()
    assert d.error is None, d.error
    return a, d


def kernel(body, machine=None):
    m = machine or Machine()
    t = m.system.start(body, name="driver")
    r = m.run()
    assert t.error is None, f"{t.error!r} ({r.reason}: {r.message})"
    return t.result


# --- the tip ---------------------------------------------------------------------------------------

def test_driverstudio_tip_releases_the_app_on_the_nt4_namespace():
    a, d = tip(Machine(namespace="nt4"), "SynchEvent")
    assert (a.state, a.result) == ("terminated", WAIT_OBJECT_0)


def test_driverstudio_tip_leaves_the_app_waiting_on_the_modern_namespace():
    m = Machine()
    a, d = tip(m, "SynchEvent")
    assert a.state == "waiting"
    apps = m.objects.lookup(r"\Sessions\1\BaseNamedObjects\SynchEvent")
    drivers = m.objects.lookup(r"\BaseNamedObjects\SynchEvent")
    assert apps is not None
    assert apps.SignalState == 0
    assert drivers is not apps


def test_driverstudio_tip_driver_makes_its_own_event_on_the_modern_namespace():
    # Nothing was there, so the driver's KEvent created a new event in \BaseNamedObjects.
    m = Machine()
    a, d = tip(m, "SynchEvent")
    drivers = m.objects.lookup(r"\BaseNamedObjects\SynchEvent")
    assert drivers is not None
    assert drivers.Type == SynchronizationEvent
    assert drivers.SignalState == 1


def test_driverstudio_tip_works_again_with_the_global_prefix():
    a, d = tip(Machine(), "Global\\SynchEvent")
    assert (a.state, a.result) == ("terminated", WAIT_OBJECT_0)


# --- KEvent by name -------------------------------------------------------------------------------

def test_kevent_by_name_opens_the_existing_event_without_changing_it():
    m = Machine(namespace="nt4")
    app = m.process("app.exe")

    def application(api):
        return (yield api.CreateEvent(None, True, False, "Existing"))

    app.start(application, name="application")
    m.run()
    existing = m.objects.lookup(r"\BaseNamedObjects\Existing")

    def body(k):
        ev = yield KEvent(KUstring(r"\BaseNamedObjects\Existing"), SynchronizationEvent)
        return (yield ev.State()), ev.IsValid()

    assert kernel(body, machine=m) == (0, True)
    assert (existing.Type, existing.SignalState) == (NotificationEvent, 0)


@pytest.mark.parametrize("ev_type", [NotificationEvent, SynchronizationEvent])
def test_kevent_by_name_creates_a_new_event_signaled(ev_type):
    m = Machine()

    def body(k):
        ev = yield KEvent(KUstring(r"\BaseNamedObjects\Brand"), ev_type)
        return (yield ev.State()), ev.IsValid()

    assert kernel(body, machine=m) == (1, True)
    assert m.objects.lookup(r"\BaseNamedObjects\Brand").Type == ev_type


def test_kevent_by_name_accepts_a_plain_string():
    m = Machine()

    def body(k):
        ev = yield KEvent(r"\BaseNamedObjects\Plain", SynchronizationEvent)
        return ev.IsValid()

    assert kernel(body, machine=m) is True
    assert m.objects.lookup(r"\BaseNamedObjects\Plain") is not None


def test_kevent_by_name_before_win32_starts_is_not_valid():
    m = Machine(boot=False)

    def body(k):
        ev = yield KEvent(KUstring(r"\BaseNamedObjects\Early"), SynchronizationEvent)
        return ev.IsValid()

    assert kernel(body, machine=m) is False


def test_kevent_invalidate_closes_the_named_event():
    m = Machine()

    def body(k):
        ev = yield KEvent(KUstring(r"\BaseNamedObjects\Gone"), NotificationEvent)
        before = ev.IsValid()
        yield ev.Invalidate()
        return before, ev.IsValid()

    assert kernel(body, machine=m) == (True, False)
    assert m.objects.lookup(r"\BaseNamedObjects\Gone") is None


# --- KEvent by type (unnamed) -----------------------------------------------------------------------

@pytest.mark.parametrize("ev_type", [NotificationEvent, SynchronizationEvent])
def test_kevent_by_type_is_unnamed_valid_and_not_signaled(ev_type):
    m = Machine()
    before = str(m.objects)

    def body(k):
        ev = yield KEvent(ev_type)
        return ev.IsValid(), (yield ev.State())

    assert kernel(body, machine=m) == (True, 0)
    assert str(m.objects) == before


def test_kevent_set_returns_previous_state_and_signals():
    def body(k):
        ev = yield KEvent(NotificationEvent)
        return [(yield ev.Set()), (yield ev.Set()), (yield ev.State())]

    assert kernel(body) == [0, 1, 1]


def test_kevent_reset_returns_previous_state_and_clears():
    def body(k):
        ev = yield KEvent(NotificationEvent)
        yield ev.Set()
        return [(yield ev.Reset()), (yield ev.Reset()), (yield ev.State())]

    assert kernel(body) == [1, 0, 0]


def test_kevent_clear_clears():
    def body(k):
        ev = yield KEvent(NotificationEvent)
        yield ev.Set()
        yield ev.Clear()
        return (yield ev.State())

    assert kernel(body) == 0


def test_kevent_pulse_leaves_it_not_signaled_and_releases_a_waiter():
    m = Machine()
    box = {}

    def owner(k):
        box["ev"] = yield KEvent(NotificationEvent)

    def waiter(k):
        return (yield box["ev"].Wait())

    def pulser(k):
        previous = yield box["ev"].Pulse()
        return previous, (yield box["ev"].State())

    m.system.start(owner, name="owner")
    m.run()
    w = m.system.start(waiter, name="waiter")
    m.run()
    assert w.state == "waiting"
    p = m.system.start(pulser, name="pulser")
    m.run()
    assert (w.state, w.result) == ("terminated", STATUS_SUCCESS)
    assert p.result == (0, 0)


def test_kevent_wait_with_zero_timeout_polls():
    def body(k):
        ev = yield KEvent(SynchronizationEvent)
        first = yield ev.Wait(timeout=0)
        yield ev.Set()
        second = yield ev.Wait(timeout=0)
        third = yield ev.Wait(timeout=0)
        return first, second, third

    assert kernel(body) == (STATUS_TIMEOUT, STATUS_SUCCESS, STATUS_TIMEOUT)


def test_kevent_wait_blocks_until_set():
    m = Machine()
    box = {}

    def waiter(k):
        box["ev"] = yield KEvent(SynchronizationEvent)
        return (yield box["ev"].Wait())

    def setter(k):
        return (yield box["ev"].Set())

    w = m.system.start(waiter, name="waiter")
    m.run()
    assert w.state == "waiting"
    m.system.start(setter, name="setter")
    m.run()
    assert (w.state, w.result) == ("terminated", STATUS_SUCCESS)


# --- forgetting the yield -------------------------------------------------------------------------

def test_forgetting_to_yield_the_kevent_construction_is_an_error_naming_the_line():
    def driver(k):
        TheEvent = KEvent(KUstring(r"\BaseNamedObjects\SynchEvent"), SynchronizationEvent)  # HERE
        yield TheEvent.Set()

    lines, first = inspect.getsourcelines(driver)
    line = first + next(i for i, text in enumerate(lines) if "# HERE" in text)
    m = Machine()
    t = m.system.start(driver, name="driver")
    r = m.run()
    assert r.reason == "error"
    assert isinstance(t.error, EvtsimError)
    assert "KEvent" in str(t.error)
    assert f"line {line}" in str(t.error)


def test_forgetting_to_yield_a_kevent_method_is_an_error_naming_the_line():
    def driver(k):
        TheEvent = yield KEvent(SynchronizationEvent)
        TheEvent.Set()  # HERE
        yield TheEvent.State()

    lines, first = inspect.getsourcelines(driver)
    line = first + next(i for i, text in enumerate(lines) if "# HERE" in text)
    m = Machine()
    t = m.system.start(driver, name="driver")
    r = m.run()
    assert r.reason == "error"
    assert isinstance(t.error, EvtsimError)
    assert "Set" in str(t.error)
    assert f"line {line}" in str(t.error)

