"""docs/semantics.md section 5: IoCreateNotificationEvent and IoCreateSynchronizationEvent,
and the Zw event calls a driver uses beside them.

Sources: Microsoft's IoCreateSynchronizationEvent and IoCreateNotificationEvent pages
(seeds 001 and 002: new events start Signaled, an existing one is simply opened, NULL on
failure, ZwClose releases it, PASSIVE_LEVEL); ReactOS `ntoskrnl/io/iomgr/ioevent.c`
(ZwCreateEvent with OBJ_OPENIF | OBJ_KERNEL_HANDLE, EVENT_ALL_ACCESS, state TRUE; the
reference taken by ObReferenceObjectByHandle is dropped again before returning, so the
pointer lives only as long as the handle); Wine `dlls/ntdll/tests/sync.c` test_event
(NtSetEvent/NtResetEvent/NtPulseEvent previous states).
"""
from __future__ import annotations

import pytest

from evtsim import Machine
from evtsim.api.kernel import (APC_LEVEL, DISPATCH_LEVEL, Executive, InitializeObjectAttributes,
                               KernelMode, NotificationEvent, RtlInitUnicodeString,
                               SynchronizationEvent)
from evtsim.status import (EVENT_ALL_ACCESS, OBJ_KERNEL_HANDLE, OBJ_OPENIF,
                           STATUS_INVALID_HANDLE, STATUS_OBJECT_NAME_COLLISION,
                           STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_NOT_FOUND,
                           STATUS_SUCCESS, STATUS_TIMEOUT)

MS = 10_000
KERNEL_HANDLE_BITS = 0xFFFFFFFF80000000
NAME = r"\BaseNamedObjects\IoTestEvent"


def run_kernel(body, *args, machine=None, name="driver"):
    """Run `body(k, *args)` as a System thread; return (thread, machine, run result)."""
    m = machine or Machine()
    t = m.system.start(body, *args, name=name)
    r = m.run()
    return t, m, r


def kernel_result(body, *args, machine=None):
    t, m, r = run_kernel(body, *args, machine=machine)
    assert t.error is None, f"{t.error!r} ({r.reason}: {r.message})"
    assert t.state == "terminated", r.message
    return t.result


def poll(k, ev):
    """A zero-timeout kernel wait: STATUS_SUCCESS or STATUS_TIMEOUT, never blocks."""
    return k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)


def released_by(m, op, thread):
    found = [r for r in m.trace if r.op == op and r.thread == thread]
    assert len(found) == 1, found
    return found[0].released


IO_CALLS = pytest.mark.parametrize("io_call", ["IoCreateNotificationEvent",
                                               "IoCreateSynchronizationEvent"])


# --- a new event -------------------------------------------------------------------------------

def test_io_create_notification_event_starts_signaled_and_stays_signaled():
    def body(k):
        ev, h = yield k.IoCreateNotificationEvent(NAME)
        return ev.Type, (yield poll(k, ev)), (yield poll(k, ev))

    assert kernel_result(body) == (NotificationEvent, STATUS_SUCCESS, STATUS_SUCCESS)


def test_io_create_synchronization_event_starts_signaled_and_first_wait_consumes_it():
    def body(k):
        ev, h = yield k.IoCreateSynchronizationEvent(NAME)
        return ev.Type, (yield poll(k, ev)), (yield poll(k, ev))

    assert kernel_result(body) == (SynchronizationEvent, STATUS_SUCCESS, STATUS_TIMEOUT)


@IO_CALLS
def test_io_create_first_infinite_wait_passes_at_once(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None))

    t, m, r = run_kernel(body)
    assert (t.state, t.result) == ("terminated", STATUS_SUCCESS)


@IO_CALLS
def test_io_create_returns_a_kernel_handle_with_the_top_bits_set(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        return h

    m = Machine()
    h = kernel_result(body, machine=m)
    assert isinstance(h, int)
    assert h & KERNEL_HANDLE_BITS == KERNEL_HANDLE_BITS
    assert (h & 0x7FFFFFFF) % 4 == 0
    assert m.system.handles.get(h) is not None


@IO_CALLS
def test_io_create_grants_full_access(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        return h

    m = Machine()
    h = kernel_result(body, machine=m)
    assert m.system.handles.get(h).granted_access == EVENT_ALL_ACCESS


@IO_CALLS
def test_io_create_puts_the_name_in_the_namespace(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        return ev

    m = Machine()
    ev = kernel_result(body, machine=m)
    assert m.objects.lookup(NAME) is ev
    assert ev.header.path == NAME


@IO_CALLS
def test_io_create_accepts_a_unicode_string_name(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(RtlInitUnicodeString(NAME))
        return ev

    m = Machine()
    ev = kernel_result(body, machine=m)
    assert ev is not None
    assert m.objects.lookup(NAME) is ev


# --- an existing name: opened as it is ---------------------------------------------------------------

def test_io_create_on_an_existing_name_returns_that_event_unchanged():
    # The event exists, not signaled: the Io call neither signals it nor changes its type.
    def body(k):
        attrs = InitializeObjectAttributes(NAME, OBJ_KERNEL_HANDLE)
        status, h1 = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, NotificationEvent, False)
        ev, h2 = yield k.IoCreateSynchronizationEvent(NAME)
        return status, h1, ev, h2

    m = Machine()
    status, h1, ev, h2 = kernel_result(body, machine=m)
    assert status == STATUS_SUCCESS
    assert ev is m.objects.lookup(NAME)
    assert (ev.Type, ev.SignalState) == (NotificationEvent, 0)
    assert h2 != h1
    assert ev.header.handle_count == 2


def test_io_create_synchronization_on_a_notification_events_name_returns_the_notification_event():
    def body(k):
        n, hn = yield k.IoCreateNotificationEvent(NAME)
        s, hs = yield k.IoCreateSynchronizationEvent(NAME)
        return n, s

    n, s = kernel_result(body)
    assert s is n
    assert s.Type == NotificationEvent


def test_io_create_notification_on_a_synchronization_events_name_returns_the_synchronization_event():
    def body(k):
        s, hs = yield k.IoCreateSynchronizationEvent(NAME)
        n, hn = yield k.IoCreateNotificationEvent(NAME)
        return s, n

    s, n = kernel_result(body)
    assert n is s
    assert n.Type == SynchronizationEvent


def test_io_create_opens_an_event_an_app_made_in_the_global_directory():
    m = Machine()
    app = m.process("app.exe")

    def app_main(api):
        return (yield api.CreateEvent(None, False, False, "Global\\FromApp"))

    a = app.start(app_main, name="app")
    m.run()
    assert a.result is not None

    def body(k):
        ev, h = yield k.IoCreateSynchronizationEvent(r"\BaseNamedObjects\FromApp")
        return ev

    ev = kernel_result(body, machine=m)
    assert ev is m.objects.lookup(r"\BaseNamedObjects\FromApp")
    assert ev.SignalState == 0


# --- failure: (None, None) -------------------------------------------------------------------------------

@IO_CALLS
def test_io_create_returns_none_none_before_the_win32_subsystem_made_base_named_objects(io_call):
    m = Machine(boot=False)

    def body(k):
        return (yield getattr(k, io_call)(NAME))

    assert kernel_result(body, machine=m) == (None, None)


@IO_CALLS
def test_io_create_works_once_the_win32_subsystem_has_started(io_call):
    m = Machine(boot=False)
    m.start_win32()

    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        return ev, h

    ev, h = kernel_result(body, machine=m)
    assert ev is not None and h is not None
    assert ev.SignalState == 1


@IO_CALLS
def test_io_create_returns_none_none_on_the_name_of_another_object_type(io_call):
    # \BaseNamedObjects is a directory: ZwCreateEvent answers STATUS_OBJECT_TYPE_MISMATCH.
    def body(k):
        return (yield getattr(k, io_call)(r"\BaseNamedObjects"))

    assert kernel_result(body) == (None, None)


@IO_CALLS
def test_io_create_failure_leaves_no_handle_behind(io_call):
    m = Machine(boot=False)
    before = str(m.system.handles)

    def body(k):
        return (yield getattr(k, io_call)(NAME))

    kernel_result(body, machine=m)
    assert str(m.system.handles) == before


# --- IRQL: PASSIVE_LEVEL only ------------------------------------------------------------------------------

@IO_CALLS
@pytest.mark.parametrize("level", [APC_LEVEL, DISPATCH_LEVEL], ids=["APC", "DISPATCH"])
def test_io_create_above_passive_level_is_bug_check_c4(io_call, level):
    def body(k):
        yield k.KeRaiseIrql(level)
        yield getattr(k, io_call)(NAME)

    t, m, r = run_kernel(body)
    assert r.reason == "bugcheck"
    assert m.bugcheck.code == 0xC4
    assert io_call in m.bugcheck.rule or io_call in m.bugcheck.explanation


# --- lifetime: the pointer is only as good as the handle --------------------------------------------------

@IO_CALLS
def test_io_create_pointer_holds_no_reference_of_its_own(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        return ev

    ev = kernel_result(body)
    assert (ev.header.handle_count, ev.header.pointer_count) == (1, 1)


@IO_CALLS
def test_zwclose_of_the_only_handle_removes_the_name_and_frees_the_event(io_call):
    def body(k):
        ev, h = yield getattr(k, io_call)(NAME)
        status = yield k.ZwClose(h)
        return ev, status

    m = Machine()
    ev, status = kernel_result(body, machine=m)
    assert status == STATUS_SUCCESS
    assert m.objects.lookup(NAME) is None
    assert (ev.header.handle_count, ev.header.pointer_count) == (0, 0)
    assert ev.header.deleted is True


def test_name_stays_while_another_driver_still_holds_a_handle():
    def body(k):
        ev1, h1 = yield k.IoCreateSynchronizationEvent(NAME)
        ev2, h2 = yield k.IoCreateSynchronizationEvent(NAME)
        yield k.ZwClose(h1)
        return ev2

    m = Machine()
    ev = kernel_result(body, machine=m)
    assert m.objects.lookup(NAME) is ev
    assert ev.header.handle_count == 1


def test_after_zwclose_a_new_io_create_makes_a_new_signaled_event():
    def body(k):
        ev1, h1 = yield k.IoCreateSynchronizationEvent(NAME)
        yield poll(k, ev1)                      # consume the initial signal
        yield k.ZwClose(h1)
        ev2, h2 = yield k.IoCreateSynchronizationEvent(NAME)
        return ev1, ev2

    ev1, ev2 = kernel_result(body)
    assert ev2 is not ev1
    assert ev2.SignalState == 1


# --- two unrelated drivers serialising hardware access ------------------------------------------------------

def test_two_drivers_serialise_hardware_access_with_io_create_synchronization_event():
    m = Machine()
    log = []

    def driver(k, me):
        ev, h = yield k.IoCreateSynchronizationEvent(r"\BaseNamedObjects\HwLock")
        for _ in range(2):
            yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
            log.append(f"{me} in")
            yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)   # touch the hardware
            log.append(f"{me} out")
            yield k.KeSetEvent(ev, 0, False)

    m.system.start(driver, "A", name="driverA")
    m.system.start(driver, "B", name="driverB")
    r = m.run()
    assert r.reason == "done", r.message
    assert log == ["A in", "A out", "B in", "B out", "A in", "A out", "B in", "B out"]


def test_synchronization_event_set_releases_one_waiter_per_set():
    m = Machine()
    box = {}

    def owner(k):
        box["ev"], _ = yield k.IoCreateSynchronizationEvent(NAME)
        yield poll(k, box["ev"])                 # take the initial signal

    def waiter(k):
        return (yield k.KeWaitForSingleObject(box["ev"], Executive, KernelMode, False, None))

    def setter(k):
        return (yield k.KeSetEvent(box["ev"], 0, False))

    m.system.start(owner, name="owner")
    m.run()
    ws = [m.system.start(waiter, name=f"w{i}") for i in (1, 2, 3)]
    m.run()
    m.system.start(setter, name="set1")
    m.run()
    assert released_by(m, "KeSetEvent", "set1") == ("w1",)
    assert [w.state for w in ws] == ["terminated", "waiting", "waiting"]
    assert box["ev"].SignalState == 0
    m.system.start(setter, name="set2")
    m.run()
    assert released_by(m, "KeSetEvent", "set2") == ("w2",)
    assert [w.state for w in ws] == ["terminated", "terminated", "waiting"]


def test_notification_event_set_releases_every_waiter_and_stays_signaled():
    m = Machine()
    box = {}

    def owner(k):
        box["ev"], _ = yield k.IoCreateNotificationEvent(NAME)
        yield k.KeClearEvent(box["ev"])

    def waiter(k):
        return (yield k.KeWaitForSingleObject(box["ev"], Executive, KernelMode, False, None))

    def setter(k):
        return (yield k.KeSetEvent(box["ev"], 0, False))

    m.system.start(owner, name="owner")
    m.run()
    ws = [m.system.start(waiter, name=f"w{i}") for i in (1, 2, 3)]
    m.run()
    assert [w.state for w in ws] == ["waiting"] * 3
    m.system.start(setter, name="set")
    m.run()
    assert released_by(m, "KeSetEvent", "set") == ("w1", "w2", "w3")
    assert [w.result for w in ws] == [STATUS_SUCCESS] * 3
    assert box["ev"].SignalState == 1


def test_notification_event_zero_timeout_poll_reports_without_blocking_or_consuming():
    m = Machine(step_time=0)

    def body(k):
        ev, h = yield k.IoCreateNotificationEvent(NAME)
        yield k.KeClearEvent(ev)
        before = yield poll(k, ev)
        yield k.KeSetEvent(ev, 0, False)
        after = [(yield poll(k, ev)), (yield poll(k, ev))]
        return before, after

    assert kernel_result(body, machine=m) == (STATUS_TIMEOUT, [STATUS_SUCCESS, STATUS_SUCCESS])
    assert m.time == 0


def test_notification_event_stays_signaled_until_keresetevent():
    def body(k):
        ev, h = yield k.IoCreateNotificationEvent(NAME)
        previous = yield k.KeResetEvent(ev)
        return previous, (yield poll(k, ev))

    assert kernel_result(body) == (1, STATUS_TIMEOUT)


# --- the Zw calls --------------------------------------------------------------------------------------------

def test_zwcreateevent_new_openif_and_collision_statuses():
    def body(k):
        plain = InitializeObjectAttributes(NAME, OBJ_KERNEL_HANDLE)
        openif = InitializeObjectAttributes(NAME, OBJ_KERNEL_HANDLE | OBJ_OPENIF)
        first = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, plain, SynchronizationEvent, False)
        second = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, openif, NotificationEvent, True)
        third = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, plain, SynchronizationEvent, False)
        return first, second, third

    first, second, third = kernel_result(body)
    assert first[0] == STATUS_SUCCESS and first[1] is not None
    assert second[0] == STATUS_OBJECT_NAME_EXISTS and second[1] not in (None, first[1])
    assert third[0] == STATUS_OBJECT_NAME_COLLISION


def test_zwcreateevent_sets_type_and_initial_state():
    def body(k):
        attrs = InitializeObjectAttributes(NAME, OBJ_KERNEL_HANDLE)
        status, h = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, NotificationEvent, True)
        return (yield k.ZwWaitForSingleObject(h, False, 0)), (yield k.ZwWaitForSingleObject(h, False, 0))

    m = Machine()
    assert kernel_result(body, machine=m) == (STATUS_SUCCESS, STATUS_SUCCESS)
    ev = m.objects.lookup(NAME)
    assert (ev.Type, ev.SignalState) == (NotificationEvent, 1)


def test_zwcreateevent_unnamed_gives_a_handle():
    def body(k):
        attrs = InitializeObjectAttributes(None, OBJ_KERNEL_HANDLE)
        return (yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, SynchronizationEvent, False))

    status, h = kernel_result(body)
    assert status == STATUS_SUCCESS
    assert h & KERNEL_HANDLE_BITS == KERNEL_HANDLE_BITS


def test_zwopenevent_existing_and_missing():
    def body(k):
        attrs = InitializeObjectAttributes(NAME, OBJ_KERNEL_HANDLE)
        yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, SynchronizationEvent, False)
        found = yield k.ZwOpenEvent(EVENT_ALL_ACCESS, attrs)
        missing = yield k.ZwOpenEvent(
            EVENT_ALL_ACCESS, InitializeObjectAttributes(NAME + "Not", OBJ_KERNEL_HANDLE))
        return found, missing

    found, missing = kernel_result(body)
    assert found[0] == STATUS_SUCCESS and found[1] is not None
    assert missing == (STATUS_OBJECT_NAME_NOT_FOUND, None)


def test_zw_set_reset_pulse_report_the_previous_state():
    # The same sequence as Wine's ntdll test_event, which passes on Windows.
    def body(k):
        attrs = InitializeObjectAttributes(None, OBJ_KERNEL_HANDLE)
        _, h = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, SynchronizationEvent, False)
        return [(yield k.ZwSetEvent(h)), (yield k.ZwSetEvent(h)),
                (yield k.ZwResetEvent(h)), (yield k.ZwResetEvent(h)),
                (yield k.ZwPulseEvent(h)), (yield k.ZwSetEvent(h)),
                (yield k.ZwPulseEvent(h))]

    assert kernel_result(body) == [(STATUS_SUCCESS, 0), (STATUS_SUCCESS, 1),
                                   (STATUS_SUCCESS, 1), (STATUS_SUCCESS, 0),
                                   (STATUS_SUCCESS, 0), (STATUS_SUCCESS, 0),
                                   (STATUS_SUCCESS, 1)]


def test_zwclearevent_returns_success_and_clears():
    def body(k):
        ev, h = yield k.IoCreateNotificationEvent(NAME)
        status = yield k.ZwClearEvent(h)
        return status, ev.SignalState

    assert kernel_result(body) == (STATUS_SUCCESS, 0)


def test_zwwaitforsingleobject_timeout_is_relative_100ns():
    m = Machine(step_time=0)

    def body(k):
        attrs = InitializeObjectAttributes(None, OBJ_KERNEL_HANDLE)
        _, h = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, SynchronizationEvent, False)
        return (yield k.ZwWaitForSingleObject(h, False, -12 * MS))

    assert kernel_result(body, machine=m) == STATUS_TIMEOUT
    assert m.time == 12 * MS


def test_zwwaitforsingleobject_on_a_bad_handle_is_invalid_handle():
    def body(k):
        return (yield k.ZwWaitForSingleObject(KERNEL_HANDLE_BITS | 0x7FF0, False, 0))

    assert kernel_result(body) == STATUS_INVALID_HANDLE


def test_zwclose_returns_success_and_the_handle_is_gone():
    def body(k):
        ev, h = yield k.IoCreateNotificationEvent(NAME)
        closed = yield k.ZwClose(h)
        after = yield k.ZwSetEvent(h)
        return closed, after[0]

    assert kernel_result(body) == (STATUS_SUCCESS, STATUS_INVALID_HANDLE)


def test_zwclose_of_a_closed_kernel_handle_is_invalid_handle():
    """A normal machine (no kernel debugger): STATUS_INVALID_HANDLE, no bug check 0x93
    (ReactOS ob/obhandle.c ObpCloseHandle; MS ZwClose)."""
    def body(k):
        ev, h = yield k.IoCreateNotificationEvent(NAME)
        first = yield k.ZwClose(h)
        second = yield k.ZwClose(h)
        return first, second

    t, m, r = run_kernel(body)
    assert r.reason == "done" and m.bugcheck is None
    assert t.result == (STATUS_SUCCESS, STATUS_INVALID_HANDLE)
