"""The Win32 surface (issue 3): what kernel32 returns and where it sets the last error.

Every fact here was checked against Wine's conformance tests, which pass on real
Windows (`dlls/kernel32/tests/sync.c`: test_event, test_WaitForSingleObject,
test_WaitForMultipleObjects, test_signalandwait, test_alertable_wait,
test_QueueUserAPC), against Wine's `dlls/kernelbase/sync.c` (CreateEventExW sets the
last error on every call; OpenEventW, SetEvent, ResetEvent, PulseEvent and the waits set
it only on failure) and ReactOS `ntoskrnl/ob/obwait.c` (0 or more than 64 handles and a
duplicate object in a wait-all are invalid parameters).

Each test builds its own machine and process, so nothing here is skipped: a missing
routine makes the test fail.
"""
from __future__ import annotations

import pytest

from evtsim import EvtsimError, Machine
from evtsim.errors import BadArgumentError
from evtsim.status import (ERROR_BAD_PATHNAME, ERROR_FILENAME_EXCED_RANGE, ERROR_INVALID_NAME,
                           ERROR_PATH_NOT_FOUND)
from evtsim.status import (CREATE_EVENT_INITIAL_SET, CREATE_EVENT_MANUAL_RESET,
                           ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS,
                           ERROR_FILE_NOT_FOUND, ERROR_GEN_FAILURE, ERROR_INVALID_HANDLE,
                           ERROR_INVALID_PARAMETER, EVENT_ALL_ACCESS, EVENT_MODIFY_STATE,
                           INFINITE, SYNCHRONIZE, WAIT_FAILED, WAIT_IO_COMPLETION,
                           WAIT_OBJECT_0, WAIT_TIMEOUT)

MS = 10_000                       # 100 ns units per millisecond
SENTINEL = 0xDEADBEEF             # what Wine's tests put in the last error first


# --- helpers ------------------------------------------------------------------------------

def run_main(main, *args, machine=None, process=None):
    """Run `main(api, *args)` in a fresh app process; return (result, machine)."""
    m = machine or Machine()
    proc = process or m.process("app.exe")
    t = proc.start(main, *args, name="main")
    r = m.run()
    assert t.error is None, f"{t.error!r} ({r.reason}: {r.message})"
    assert t.state == "terminated", r.message
    return t.result, m


def result_of(main, *args, **kw):
    return run_main(main, *args, **kw)[0]


def outcome(body, machine=None):
    """Make one call `body(api)` in an app thread.

    Returns ("ok", result, last_error) or ("raised", exception) when evtsim threw an
    EvtsimError into the thread. Any other exception escapes `m.run()` and fails the
    test: bad input must never end in a stray Python exception.
    """
    def main(api):
        yield api.SetLastError(SENTINEL)
        try:
            r = yield body(api)
        except EvtsimError as error:
            return ("raised", error)
        err = yield api.GetLastError()
        return ("ok", r, err)

    return result_of(main, machine=machine)


# --- CreateEvent ----------------------------------------------------------------------------

def test_createevent_fresh_name_returns_handle_and_sets_last_error_0():
    def main(api):
        yield api.SetLastError(SENTINEL)
        h = yield api.CreateEvent(None, False, False, "Fresh")
        return h, (yield api.GetLastError())

    h, err = result_of(main)
    assert h is not None
    assert err == 0


def test_createevent_unnamed_sets_last_error_0():
    def main(api):
        yield api.SetLastError(SENTINEL)
        h = yield api.CreateEvent(None, True, True, None)
        return h, (yield api.GetLastError())

    h, err = result_of(main)
    assert h is not None
    assert err == 0


def test_createevent_existing_name_returns_new_handle_and_error_already_exists():
    def main(api):
        h1 = yield api.CreateEvent(None, False, False, "Twice")
        yield api.SetLastError(SENTINEL)
        h2 = yield api.CreateEvent(None, False, False, "Twice")
        err = yield api.GetLastError()
        return h1, h2, err

    h1, h2, err = result_of(main)
    assert h2 is not None
    assert h2 != h1
    assert err == ERROR_ALREADY_EXISTS


def test_createevent_existing_name_keeps_the_existing_type_and_state():
    # The second CreateEvent asks for a manual-reset, signaled event; the one that
    # exists is auto-reset and not signaled, and stays so.
    def main(api):
        h1 = yield api.CreateEvent(None, False, False, "Keep")
        h2 = yield api.CreateEvent(None, True, True, "Keep")
        first = yield api.WaitForSingleObject(h2, 0)
        yield api.SetEvent(h2)
        second = yield api.WaitForSingleObject(h1, 0)
        third = yield api.WaitForSingleObject(h1, 0)
        return first, second, third

    assert result_of(main) == (WAIT_TIMEOUT, WAIT_OBJECT_0, WAIT_TIMEOUT)


def test_createevent_manual_reset_makes_a_notification_event():
    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        yield api.SetEvent(h)
        out = []
        for _ in range(3):
            out.append((yield api.WaitForSingleObject(h, 0)))
        return out

    assert result_of(main) == [WAIT_OBJECT_0] * 3


def test_createevent_auto_reset_is_consumed_by_one_wait():
    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        yield api.SetEvent(h)
        out = []
        for _ in range(2):
            out.append((yield api.WaitForSingleObject(h, 0)))
        return out

    assert result_of(main) == [WAIT_OBJECT_0, WAIT_TIMEOUT]


@pytest.mark.parametrize("initial, expected", [(True, WAIT_OBJECT_0), (False, WAIT_TIMEOUT)])
def test_createevent_initial_state_sets_the_signal_state(initial, expected):
    def main(api):
        h = yield api.CreateEvent(None, True, initial, None)
        return (yield api.WaitForSingleObject(h, 0))

    assert result_of(main) == expected


# --- CreateEventEx ----------------------------------------------------------------------------

def test_createeventex_manual_reset_and_initial_set_flags():
    def main(api):
        h = yield api.CreateEventEx(None, None,
                                    CREATE_EVENT_MANUAL_RESET | CREATE_EVENT_INITIAL_SET,
                                    EVENT_ALL_ACCESS)
        out = []
        for _ in range(2):
            out.append((yield api.WaitForSingleObject(h, 0)))
        return out

    assert result_of(main) == [WAIT_OBJECT_0, WAIT_OBJECT_0]


def test_createeventex_initial_set_alone_is_auto_reset_and_signaled():
    def main(api):
        h = yield api.CreateEventEx(None, None, CREATE_EVENT_INITIAL_SET, EVENT_ALL_ACCESS)
        out = []
        for _ in range(2):
            out.append((yield api.WaitForSingleObject(h, 0)))
        return out

    assert result_of(main) == [WAIT_OBJECT_0, WAIT_TIMEOUT]


def test_createeventex_no_flags_is_auto_reset_and_not_signaled():
    def main(api):
        h = yield api.CreateEventEx(None, None, 0, EVENT_ALL_ACCESS)
        return (yield api.WaitForSingleObject(h, 0))

    assert result_of(main) == WAIT_TIMEOUT


def test_createeventex_grants_only_the_access_mask_asked_for():
    def main(api):
        h = yield api.CreateEventEx(None, None, 0, SYNCHRONIZE)
        yield api.SetLastError(SENTINEL)
        ok = yield api.SetEvent(h)
        err = yield api.GetLastError()
        waited = yield api.WaitForSingleObject(h, 0)
        return h, ok, err, waited

    m = Machine()
    app = m.process("app.exe")
    (h, ok, err, waited), _ = run_main(main, machine=m, process=app)
    assert (ok, err, waited) == (False, ERROR_ACCESS_DENIED, WAIT_TIMEOUT)
    assert app.handles.get(h).granted_access == SYNCHRONIZE


def test_createeventex_existing_name_sets_error_already_exists():
    def main(api):
        yield api.CreateEventEx(None, "ExTwice", 0, EVENT_ALL_ACCESS)
        yield api.SetLastError(SENTINEL)
        h = yield api.CreateEventEx(None, "ExTwice", 0, EVENT_ALL_ACCESS)
        return h, (yield api.GetLastError())

    h, err = result_of(main)
    assert h is not None
    assert err == ERROR_ALREADY_EXISTS


# --- OpenEvent ----------------------------------------------------------------------------------

def test_openevent_without_name_fails_with_invalid_parameter():
    def main(api):
        yield api.SetLastError(SENTINEL)
        h = yield api.OpenEvent(EVENT_ALL_ACCESS, False, None)
        return h, (yield api.GetLastError())

    assert result_of(main) == (None, ERROR_INVALID_PARAMETER)


def test_openevent_missing_name_fails_with_file_not_found():
    def main(api):
        yield api.SetLastError(SENTINEL)
        h = yield api.OpenEvent(EVENT_ALL_ACCESS, False, "NoSuchEvent")
        return h, (yield api.GetLastError())

    assert result_of(main) == (None, ERROR_FILE_NOT_FOUND)


def test_openevent_success_leaves_last_error_alone():
    def main(api):
        h1 = yield api.CreateEvent(None, True, False, "OpenMe")
        yield api.SetLastError(SENTINEL)
        h2 = yield api.OpenEvent(EVENT_ALL_ACCESS, False, "OpenMe")
        return h1, h2, (yield api.GetLastError())

    h1, h2, err = result_of(main)
    assert h2 is not None
    assert h2 != h1
    assert err == SENTINEL


def test_openevent_handle_names_the_same_event():
    def main(api):
        h1 = yield api.CreateEvent(None, False, False, "Same")
        h2 = yield api.OpenEvent(EVENT_ALL_ACCESS, False, "Same")
        yield api.SetEvent(h2)
        return (yield api.WaitForSingleObject(h1, 0)), (yield api.WaitForSingleObject(h2, 0))

    assert result_of(main) == (WAIT_OBJECT_0, WAIT_TIMEOUT)


# --- SetEvent / ResetEvent / PulseEvent --------------------------------------------------------------

@pytest.mark.parametrize("op", ["SetEvent", "ResetEvent", "PulseEvent"])
def test_event_calls_return_true_and_leave_last_error_alone(op):
    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        yield api.SetLastError(SENTINEL)
        ok = yield getattr(api, op)(h)
        return ok, (yield api.GetLastError())

    assert result_of(main) == (True, SENTINEL)


@pytest.mark.parametrize("op", ["SetEvent", "ResetEvent", "PulseEvent"])
def test_event_calls_on_a_bad_handle_return_false_and_invalid_handle(op):
    def main(api):
        yield api.SetLastError(SENTINEL)
        ok = yield getattr(api, op)(0xDEADBEE0)
        return ok, (yield api.GetLastError())

    assert result_of(main) == (False, ERROR_INVALID_HANDLE)


@pytest.mark.parametrize("op", ["SetEvent", "ResetEvent", "PulseEvent"])
def test_event_calls_without_modify_state_return_false_and_access_denied(op):
    def main(api):
        yield api.CreateEvent(None, True, False, "SyncOnly")
        h = yield api.OpenEvent(SYNCHRONIZE, False, "SyncOnly")
        yield api.SetLastError(SENTINEL)
        ok = yield getattr(api, op)(h)
        return ok, (yield api.GetLastError())

    assert result_of(main) == (False, ERROR_ACCESS_DENIED)


def _waiters_then(op, manual, count=2):
    """Start `count` app waiters on one event, then a setter that calls `op` once."""
    m = Machine()
    app = m.process("app.exe")
    box = {}

    def creator(api):
        box["h"] = yield api.CreateEvent(None, manual, False, None)

    def waiter(api):
        return (yield api.WaitForSingleObject(box["h"], INFINITE))

    def setter(api):
        ok = yield getattr(api, op)(box["h"])
        after = yield api.WaitForSingleObject(box["h"], 0)
        return ok, after

    app.start(creator, name="creator")
    m.run()
    waiters = [app.start(waiter, name=f"w{i}") for i in range(1, count + 1)]
    m.run()
    assert [w.state for w in waiters] == ["waiting"] * count
    s = app.start(setter, name="setter")
    m.run()
    return m, waiters, s


def test_setevent_on_auto_reset_event_releases_exactly_the_first_waiter():
    m, (w1, w2), s = _waiters_then("SetEvent", manual=False)
    assert (w1.state, w1.result) == ("terminated", WAIT_OBJECT_0)
    assert w2.state == "waiting"
    assert s.result == (True, WAIT_TIMEOUT)


def test_setevent_on_manual_reset_event_releases_every_waiter_and_stays_set():
    m, (w1, w2), s = _waiters_then("SetEvent", manual=True)
    assert [w1.result, w2.result] == [WAIT_OBJECT_0, WAIT_OBJECT_0]
    assert s.result == (True, WAIT_OBJECT_0)


def test_pulseevent_on_manual_reset_event_releases_every_waiter_and_leaves_it_reset():
    m, (w1, w2), s = _waiters_then("PulseEvent", manual=True)
    assert [w1.result, w2.result] == [WAIT_OBJECT_0, WAIT_OBJECT_0]
    assert s.result == (True, WAIT_TIMEOUT)


def test_pulseevent_on_auto_reset_event_releases_one_waiter():
    m, (w1, w2), s = _waiters_then("PulseEvent", manual=False)
    assert w1.result == WAIT_OBJECT_0
    assert w2.state == "waiting"
    assert s.result == (True, WAIT_TIMEOUT)


def test_pulseevent_with_no_waiter_leaves_the_event_reset():
    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        ok = yield api.PulseEvent(h)
        return ok, (yield api.WaitForSingleObject(h, 0))

    assert result_of(main) == (True, WAIT_TIMEOUT)


def test_resetevent_makes_a_manual_event_not_signaled():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        ok = yield api.ResetEvent(h)
        return ok, (yield api.WaitForSingleObject(h, 0))

    assert result_of(main) == (True, WAIT_TIMEOUT)


# --- WaitForSingleObject(Ex) ------------------------------------------------------------------------------

def test_wait_on_signaled_object_returns_wait_object_0_and_leaves_last_error():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForSingleObject(h, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_OBJECT_0, SENTINEL)


def test_wait_that_times_out_returns_wait_timeout_and_leaves_last_error():
    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForSingleObject(h, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_TIMEOUT, SENTINEL)


@pytest.mark.parametrize("low_bits", [0, 1, 2, 3])
def test_wait_on_bad_handle_is_wait_failed_with_invalid_handle(low_bits):
    def main(api):
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForSingleObject(0xDEADBEE0 | low_bits, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_HANDLE)


def test_wait_without_synchronize_access_is_wait_failed_with_access_denied():
    def main(api):
        h = yield api.CreateEventEx(None, None, CREATE_EVENT_INITIAL_SET, EVENT_MODIFY_STATE)
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForSingleObject(h, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_ACCESS_DENIED)


def test_wait_timeout_is_milliseconds_of_virtual_time():
    m = Machine(step_time=0)

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        return (yield api.WaitForSingleObject(h, 25))

    assert result_of(main, machine=m) == WAIT_TIMEOUT
    assert m.time == 25 * MS


def test_waitforsingleobjectex_timeout_is_milliseconds_of_virtual_time():
    m = Machine(step_time=0)

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        return (yield api.WaitForSingleObjectEx(h, 7, True))

    assert result_of(main, machine=m) == WAIT_TIMEOUT
    assert m.time == 7 * MS


def test_wait_released_by_another_thread_returns_before_its_timeout():
    m = Machine(step_time=0)
    app = m.process("app.exe")
    box = {}

    def waiter(api):
        box["h"] = yield api.CreateEvent(None, False, False, None)
        return (yield api.WaitForSingleObject(box["h"], 1000))

    def setter(api):
        yield api.Sleep(10)
        yield api.SetEvent(box["h"])

    w = app.start(waiter, name="waiter")
    app.start(setter, name="setter")
    m.run()
    assert w.result == WAIT_OBJECT_0
    assert m.time == 10 * MS


def test_infinite_wait_never_times_out():
    m = Machine(step_time=0)
    app = m.process("app.exe")

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        return (yield api.WaitForSingleObject(h, INFINITE))

    t = app.start(main, name="main")
    r = m.run()
    assert r.reason == "deadlock"
    assert t.state == "waiting"
    assert m.time == 0


# --- WaitForMultipleObjects(Ex) ------------------------------------------------------------------------------

def test_wait_any_returns_lowest_signaled_index_and_consumes_only_it():
    def main(api):
        a = yield api.CreateEvent(None, True, False, None)
        b = yield api.CreateEvent(None, False, True, None)
        c = yield api.CreateEvent(None, False, True, None)
        out = []
        for _ in range(3):
            out.append((yield api.WaitForMultipleObjects(3, [a, b, c], False, 0)))
        return out

    assert result_of(main) == [WAIT_OBJECT_0 + 1, WAIT_OBJECT_0 + 2, WAIT_TIMEOUT]


def test_wait_all_returns_wait_object_0_and_consumes_every_auto_event():
    def main(api):
        a = yield api.CreateEvent(None, False, True, None)
        b = yield api.CreateEvent(None, False, True, None)
        first = yield api.WaitForMultipleObjects(2, [a, b], True, 0)
        return first, (yield api.WaitForSingleObject(a, 0)), (yield api.WaitForSingleObject(b, 0))

    assert result_of(main) == (WAIT_OBJECT_0, WAIT_TIMEOUT, WAIT_TIMEOUT)


def test_wait_all_with_one_unsignaled_object_consumes_nothing():
    def main(api):
        a = yield api.CreateEvent(None, False, True, None)
        b = yield api.CreateEvent(None, True, False, None)
        first = yield api.WaitForMultipleObjects(2, [a, b], True, 0)
        return first, (yield api.WaitForSingleObject(a, 0))

    assert result_of(main) == (WAIT_TIMEOUT, WAIT_OBJECT_0)


def test_wait_multiple_timeout_is_milliseconds_of_virtual_time():
    m = Machine(step_time=0)

    def main(api):
        a = yield api.CreateEvent(None, False, False, None)
        b = yield api.CreateEvent(None, False, False, None)
        return (yield api.WaitForMultipleObjects(2, [a, b], False, 40))

    assert result_of(main, machine=m) == WAIT_TIMEOUT
    assert m.time == 40 * MS


def test_wait_on_64_handles_is_allowed():
    def main(api):
        hs = []
        for i in range(64):
            hs.append((yield api.CreateEvent(None, True, i == 63, None)))
        return (yield api.WaitForMultipleObjects(64, hs, False, 0))

    assert result_of(main) == WAIT_OBJECT_0 + 63


def test_wait_on_65_handles_is_wait_failed_with_invalid_parameter():
    def main(api):
        hs = []
        for _ in range(65):
            hs.append((yield api.CreateEvent(None, True, True, None)))
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForMultipleObjects(65, hs, False, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_PARAMETER)


def test_wait_on_zero_handles_is_wait_failed_with_invalid_parameter():
    def main(api):
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForMultipleObjects(0, [], False, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_PARAMETER)


def test_wait_all_with_the_same_handle_twice_is_wait_failed_with_invalid_parameter():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForMultipleObjects(2, [h, h], True, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_PARAMETER)


def test_wait_all_with_two_handles_to_one_event_is_wait_failed_with_invalid_parameter():
    # ReactOS NtWaitForMultipleObjects compares the objects, not the handle values.
    def main(api):
        h1 = yield api.CreateEvent(None, True, True, "Dup")
        h2 = yield api.OpenEvent(EVENT_ALL_ACCESS, False, "Dup")
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForMultipleObjects(2, [h1, h2], True, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_PARAMETER)


def test_wait_any_with_the_same_handle_twice_is_allowed():
    def main(api):
        h = yield api.CreateEvent(None, False, True, None)
        return (yield api.WaitForMultipleObjects(2, [h, h], False, 0))

    assert result_of(main) == WAIT_OBJECT_0


def test_wait_multiple_with_a_bad_handle_is_wait_failed_with_invalid_handle():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForMultipleObjects(2, [h, 0xDEADBEE0], False, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_HANDLE)


def test_wait_multiple_success_leaves_last_error_alone():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.SetLastError(SENTINEL)
        r = yield api.WaitForMultipleObjects(1, [h], True, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_OBJECT_0, SENTINEL)


# --- alertable waits and QueueUserAPC ----------------------------------------------------------------------------

def _alertable_scenario(wait_call):
    """A waiter blocks in `wait_call(api, h)`; another thread queues it a user APC."""
    m = Machine()
    app = m.process("app.exe")
    box, ran = {}, []

    def waiter(api):
        box["h"] = yield api.CreateEvent(None, False, False, None)
        return (yield wait_call(api, box["h"]))

    def queuer(api, target):
        return (yield api.QueueUserAPC(ran.append, target, 42))

    w = app.start(waiter, name="waiter")
    m.run()
    assert w.state == "waiting"
    q = app.start(queuer, w, name="queuer")
    m.run()
    return w, q, ran


def test_alertable_waitforsingleobjectex_returns_wait_io_completion_after_queueuserapc():
    w, q, ran = _alertable_scenario(lambda api, h: api.WaitForSingleObjectEx(h, INFINITE, True))
    assert q.result != 0
    assert w.result == WAIT_IO_COMPLETION
    assert ran == [42]


def test_alertable_waitformultipleobjectsex_returns_wait_io_completion_after_queueuserapc():
    w, q, ran = _alertable_scenario(
        lambda api, h: api.WaitForMultipleObjectsEx(1, [h], True, INFINITE, True))
    assert w.result == WAIT_IO_COMPLETION
    assert ran == [42]


def test_non_alertable_wait_does_not_run_a_user_apc():
    w, q, ran = _alertable_scenario(lambda api, h: api.WaitForSingleObjectEx(h, INFINITE, False))
    assert q.result != 0
    assert w.state == "waiting"
    assert ran == []


def test_apc_queued_before_an_alertable_wait_ends_it_at_once():
    m = Machine(step_time=0)
    app = m.process("app.exe")
    ran, me = [], []

    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        yield api.QueueUserAPC(ran.append, me[0], 7)
        return (yield api.WaitForSingleObjectEx(h, 100, True))

    me.append(app.start(main, name="main"))
    m.run()
    assert me[0].result == WAIT_IO_COMPLETION
    assert ran == [7]
    assert m.time == 0


def test_signaled_object_beats_a_pending_user_apc():
    m = Machine()
    app = m.process("app.exe")
    ran, me = [], []

    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.QueueUserAPC(ran.append, me[0], 7)
        return (yield api.WaitForSingleObjectEx(h, 0, True))

    me.append(app.start(main, name="main"))
    m.run()
    assert me[0].result == WAIT_OBJECT_0


def test_queueuserapc_to_an_ended_thread_fails_with_gen_failure():
    m = Machine()
    app = m.process("app.exe")

    def quick(api):
        yield api.Sleep(0)

    def main(api, target):
        yield api.SetLastError(SENTINEL)
        r = yield api.QueueUserAPC(lambda data: None, target, 0)
        return r, (yield api.GetLastError())

    done = app.start(quick, name="quick")
    m.run()
    assert done.state == "terminated"
    t = app.start(main, done, name="main")
    m.run()
    assert t.result == (0, ERROR_GEN_FAILURE)


# --- SignalObjectAndWait ----------------------------------------------------------------------------------------

def test_signalobjectandwait_sets_the_first_and_waits_on_the_second():
    def main(api):
        a = yield api.CreateEvent(None, True, False, None)
        b = yield api.CreateEvent(None, True, True, None)
        r = yield api.SignalObjectAndWait(a, b, 0, False)
        return r, (yield api.WaitForSingleObject(a, 0))

    assert result_of(main) == (WAIT_OBJECT_0, WAIT_OBJECT_0)


def test_signalobjectandwait_on_one_auto_event_sets_then_consumes_it():
    def main(api):
        a = yield api.CreateEvent(None, False, False, None)
        r1 = yield api.SignalObjectAndWait(a, a, 0, False)
        r2 = yield api.SignalObjectAndWait(a, a, 0, False)
        return r1, r2, (yield api.WaitForSingleObject(a, 0))

    assert result_of(main) == (WAIT_OBJECT_0, WAIT_OBJECT_0, WAIT_TIMEOUT)


def test_signalobjectandwait_times_out_on_an_unsignaled_object():
    m = Machine(step_time=0)

    def main(api):
        a = yield api.CreateEvent(None, False, False, None)
        b = yield api.CreateEvent(None, True, False, None)
        return (yield api.SignalObjectAndWait(a, b, 30, False))

    assert result_of(main, machine=m) == WAIT_TIMEOUT
    assert m.time == 30 * MS


@pytest.mark.parametrize("which", ["signal", "wait", "both"])
def test_signalobjectandwait_with_a_null_handle_is_wait_failed_with_invalid_handle(which):
    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        to_signal = None if which in ("signal", "both") else h
        to_wait = None if which in ("wait", "both") else h
        yield api.SetLastError(SENTINEL)
        r = yield api.SignalObjectAndWait(to_signal, to_wait, 0, False)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_HANDLE)


def test_signalobjectandwait_hands_over_to_a_waiter_and_blocks():
    m = Machine()
    app = m.process("app.exe")
    box = {}

    def first(api):
        box["a"] = yield api.CreateEvent(None, False, False, None)
        box["b"] = yield api.CreateEvent(None, False, False, None)
        got = yield api.WaitForSingleObject(box["a"], INFINITE)
        yield api.SetEvent(box["b"])
        return got

    def second(api):
        return (yield api.SignalObjectAndWait(box["a"], box["b"], INFINITE, False))

    t1 = app.start(first, name="first")
    m.run()
    assert t1.state == "waiting"
    t2 = app.start(second, name="second")
    m.run()
    assert (t1.result, t2.result) == (WAIT_OBJECT_0, WAIT_OBJECT_0)


def test_signalobjectandwait_alertable_wait_ends_with_wait_io_completion():
    m = Machine()
    app = m.process("app.exe")
    box, ran = {}, []

    def waiter(api):
        a = yield api.CreateEvent(None, True, False, None)
        box["b"] = b = yield api.CreateEvent(None, True, False, None)
        return (yield api.SignalObjectAndWait(a, b, INFINITE, True))

    def queuer(api, target):
        return (yield api.QueueUserAPC(ran.append, target, 5))

    w = app.start(waiter, name="waiter")
    m.run()
    assert w.state == "waiting"
    app.start(queuer, w, name="queuer")
    m.run()
    assert w.result == WAIT_IO_COMPLETION
    assert ran == [5]


# --- CloseHandle -------------------------------------------------------------------------------------------------

def test_closehandle_returns_true_and_leaves_last_error_alone():
    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        yield api.SetLastError(SENTINEL)
        ok = yield api.CloseHandle(h)
        return ok, (yield api.GetLastError())

    assert result_of(main) == (True, SENTINEL)


def test_closehandle_twice_returns_false_and_invalid_handle():
    def main(api):
        h = yield api.CreateEvent(None, False, False, None)
        yield api.CloseHandle(h)
        yield api.SetLastError(SENTINEL)
        ok = yield api.CloseHandle(h)
        return ok, (yield api.GetLastError())

    assert result_of(main) == (False, ERROR_INVALID_HANDLE)


def test_closehandle_of_null_returns_false_and_invalid_handle():
    def main(api):
        yield api.SetLastError(SENTINEL)
        ok = yield api.CloseHandle(None)
        return ok, (yield api.GetLastError())

    assert result_of(main) == (False, ERROR_INVALID_HANDLE)


def test_closed_handle_can_no_longer_be_waited_on():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.CloseHandle(h)
        r = yield api.WaitForSingleObject(h, 0)
        return r, (yield api.GetLastError())

    assert result_of(main) == (WAIT_FAILED, ERROR_INVALID_HANDLE)


# --- the last error belongs to the thread ---------------------------------------------------------------------

def test_last_error_is_per_thread():
    m = Machine()
    app = m.process("app.exe")

    def failing(api):
        yield api.OpenEvent(EVENT_ALL_ACCESS, False, "Missing")
        return (yield api.GetLastError())

    def other(api):
        yield api.Sleep(0)
        return (yield api.GetLastError())

    a = app.start(failing, name="a")
    b = app.start(other, name="b")
    m.run()
    assert (a.result, b.result) == (ERROR_FILE_NOT_FOUND, 0)


def test_successful_calls_after_a_failure_leave_its_error_in_place():
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        yield api.OpenEvent(EVENT_ALL_ACCESS, False, "Missing")
        yield api.SetEvent(h)
        yield api.ResetEvent(h)
        yield api.WaitForSingleObject(h, 0)
        yield api.CloseHandle(h)
        return (yield api.GetLastError())

    assert result_of(main) == ERROR_FILE_NOT_FOUND


def test_createevent_after_a_failure_resets_last_error_to_0():
    def main(api):
        yield api.OpenEvent(EVENT_ALL_ACCESS, False, "Missing")
        yield api.CreateEvent(None, False, False, "NowThere")
        return (yield api.GetLastError())

    assert result_of(main) == 0


# --- the wrong surface ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("routine", ["KeSetEvent", "ZwCreateEvent", "IoCreateNotificationEvent",
                                     "ObReferenceObjectByHandle"])
def test_user_thread_calling_a_kernel_routine_gets_an_evtsim_error_naming_it(routine):
    m = Machine()
    app = m.process("app.exe")

    def main(api):
        yield getattr(api, routine)(None)

    t = app.start(main, name="main")
    r = m.run()
    assert r.reason == "error"
    assert isinstance(t.error, EvtsimError)
    assert routine in str(t.error)


@pytest.mark.parametrize("routine", ["CreateEvent", "OpenEvent", "SetEvent",
                                     "WaitForSingleObject", "CloseHandle"])
def test_kernel_thread_calling_a_win32_function_gets_an_evtsim_error_naming_it(routine):
    m = Machine()

    def driver(k):
        yield getattr(k, routine)(None)

    t = m.system.start(driver, name="driver")
    r = m.run()
    assert r.reason == "error"
    assert isinstance(t.error, EvtsimError)
    assert routine in str(t.error)


# --- bad Python input: a Windows error or an EvtsimError, never another exception ---------------------------

GARBAGE_HANDLES = [0, 4, 0xDEADBEE0, 2 ** 40, 2 ** 70, -4, 0xFFFFFFFF80000004]


@pytest.mark.parametrize("value", GARBAGE_HANDLES, ids=repr)
@pytest.mark.parametrize("op", ["SetEvent", "ResetEvent", "PulseEvent", "CloseHandle"])
def test_garbage_integer_handle_gives_false_and_invalid_handle(op, value):
    got = outcome(lambda api: getattr(api, op)(value))
    assert got == ("ok", False, ERROR_INVALID_HANDLE)


@pytest.mark.parametrize("value", GARBAGE_HANDLES, ids=repr)
def test_garbage_integer_handle_gives_wait_failed_and_invalid_handle(value):
    got = outcome(lambda api: api.WaitForSingleObject(value, 0))
    assert got == ("ok", WAIT_FAILED, ERROR_INVALID_HANDLE)


WRONG_TYPES = ["4", 4.0, b"\x04", [4], object(), True]


def stable_id(value) -> str:
    """A test id that is the same in every process (no memory addresses), so that
    pytest-xdist's workers collect the same tests."""
    return "object()" if type(value) is object else repr(value)[:20]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=stable_id)
@pytest.mark.parametrize("op", ["SetEvent", "ResetEvent", "PulseEvent", "CloseHandle",
                                "WaitForSingleObject"])
def test_wrong_python_type_for_a_handle_gives_invalid_handle(op, value):
    """Anything that is not a handle value names no handle: Windows' answer, FALSE (or
    WAIT_FAILED) with ERROR_INVALID_HANDLE. True is handle 1, and the low two bits of a
    handle are ignored, so it is handle 0: no handle either."""
    args = (value, 0) if op == "WaitForSingleObject" else (value,)
    got = outcome(lambda api: getattr(api, op)(*args))
    failed = WAIT_FAILED if op == "WaitForSingleObject" else False
    assert got == ("ok", failed, ERROR_INVALID_HANDLE)


ABSURD_NAMES = ["", "x" * 100_000, "\x00", "a\\b\\c", "Global\\", "Session\\99\\X",
                "\\BaseNamedObjects\\X", "..", 42, b"Name", ["Name"], object()]
HANDLE = "a handle"                 # a new event's handle, with last error 0
# What Windows answers for each name: (for CreateEvent and CreateEventEx, for OpenEvent).
# A NULL result is (None, last error); a name that is not a string at all is a Python
# mistake that Windows cannot have, so evtsim raises BadArgumentError for it.
NAME_ANSWERS = {
    "": (HANDLE, (None, ERROR_INVALID_HANDLE)),          # empty: an unnamed event
    "x" * 100_000: ((None, ERROR_FILENAME_EXCED_RANGE), (None, ERROR_FILENAME_EXCED_RANGE)),
    "\x00": (HANDLE, (None, ERROR_INVALID_HANDLE)),      # a C string that ends at once
    "a\\b\\c": ((None, ERROR_PATH_NOT_FOUND), (None, ERROR_PATH_NOT_FOUND)),
    "Global\\": ((None, ERROR_INVALID_NAME), (None, ERROR_INVALID_NAME)),
    "Session\\99\\X": ((None, ERROR_PATH_NOT_FOUND), (None, ERROR_PATH_NOT_FOUND)),
    "\\BaseNamedObjects\\X": ((None, ERROR_BAD_PATHNAME), (None, ERROR_BAD_PATHNAME)),
    "..": (HANDLE, (None, ERROR_FILE_NOT_FOUND)),          # an ordinary name
}


@pytest.mark.parametrize("name", ABSURD_NAMES, ids=stable_id)
@pytest.mark.parametrize("op", ["CreateEvent", "OpenEvent", "CreateEventEx"])
def test_absurd_names_give_the_windows_answer_or_an_evtsim_error(op, name):
    calls = {
        "CreateEvent": lambda api: api.CreateEvent(None, False, False, name),
        "OpenEvent": lambda api: api.OpenEvent(EVENT_ALL_ACCESS, False, name),
        "CreateEventEx": lambda api: api.CreateEventEx(None, name, 0, EVENT_ALL_ACCESS),
    }
    got = outcome(calls[op])
    if not isinstance(name, str):
        assert got[0] == "raised" and isinstance(got[1], BadArgumentError)
        assert "lpName is a str or None" in str(got[1])
        return
    create, open_ = NAME_ANSWERS[name]
    want = open_ if op == "OpenEvent" else create
    if want == HANDLE:
        assert got[0] == "ok" and got[1] == 4 and got[2] == 0, got
    else:
        assert got == ("ok", *want)


@pytest.mark.parametrize("timeout", [-1, 2 ** 40, 1.5, None, "10"], ids=repr)
def test_bad_timeout_is_a_plain_evtsim_error(timeout):
    def main(api):
        h = yield api.CreateEvent(None, True, True, None)
        try:
            return ("ok", (yield api.WaitForSingleObject(h, timeout)))
        except EvtsimError as error:
            return ("raised", error)

    got = result_of(main)
    # Each is outside 0..0xFFFFFFFF or not an integer: a Python mistake, said plainly.
    assert got[0] == "raised" and isinstance(got[1], BadArgumentError)
    assert "the timeout is a number of milliseconds" in str(got[1])


@pytest.mark.parametrize("handles", [None, 4, "abc", [None, None]], ids=repr)
def test_bad_handle_list_gives_wait_failed_or_an_evtsim_error(handles):
    """A list of NULL handles is Windows' WAIT_FAILED with ERROR_INVALID_HANDLE; a value
    that is not a list at all is a Python mistake, said plainly."""
    got = outcome(lambda api: api.WaitForMultipleObjects(2, handles, False, 0))
    if isinstance(handles, list):
        assert got == ("ok", WAIT_FAILED, ERROR_INVALID_HANDLE)
    else:
        assert got[0] == "raised" and isinstance(got[1], BadArgumentError)
        assert "lpHandles is a list of handles" in str(got[1])


def test_count_larger_than_the_handle_list_is_a_plain_evtsim_error():
    def body(api):
        return api.WaitForMultipleObjects(3, [4], False, 0)

    got = outcome(body)
    assert got[0] == "raised" and isinstance(got[1], BadArgumentError)
    assert "nCount is 3" in str(got[1])
