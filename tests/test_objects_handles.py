"""docs/semantics.md section 3, handles and lifetime: one test per rule.

Handle values and their reuse, kernel handles, handle and pointer counts, the name
leaving the namespace at the last handle while a pointer keeps the object, freeing at
the last dereference, double close, and ObReferenceObjectByHandle's checks, made in the
current process.

Facts: ReactOS `ntoskrnl/ob/obref.c` (ObReferenceObjectByHandle: a negative handle
value from user mode is STATUS_INVALID_HANDLE; otherwise the current process's table;
then the type; then, for user mode only, the granted access), `ob/obhandle.c`
(ObpCreateHandle puts OBJ_KERNEL_HANDLE handles in the System process's table, which is
the kernel handle table; closing a handle drops a handle and a pointer reference);
Wine `dlls/kernel32/tests/sync.c` test_temporary_objects (a named event whose only
handle is closed can no longer be opened: ERROR_FILE_NOT_FOUND).
"""
from __future__ import annotations

import evtsim.api.kernel as K
from evtsim import Machine
from evtsim.api.kernel import KernelMode, NotificationEvent, UserMode
from evtsim.status import (ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE, EVENT_ALL_ACCESS,
                           EVENT_MODIFY_STATE, OBJ_KERNEL_HANDLE,
                           STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE,
                           STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH,
                           STATUS_SUCCESS, SYNCHRONIZE, WAIT_FAILED, WAIT_OBJECT_0)

KERNEL_BITS = 0xFFFFFFFF80000000     # a kernel handle on x64: the top bits set


# --- helpers ---------------------------------------------------------------------------

def run(m, process, body, *args):
    """Run `body(api, *args)` as a thread of `process` to its end; return its result."""
    t = process.start(body, *args)
    m.run()
    if t.error is not None:
        raise t.error
    assert t.state == "terminated", f"{t.name} is {t.state}, waiting on {t.waiting_on}"
    return t.result


def create_events(api, *names):
    """CreateEvent for each name (None: unnamed); end with the handles."""
    handles = []
    for name in names:
        handles.append((yield api.CreateEvent(None, True, False, name)))
    return handles


def attributes(name=None, flags=0):
    return K.InitializeObjectAttributes(name, flags, None, None)


def in_process(k, process, steps):
    """Kernel thread body: attach to `process`, make each call `step(k)`, detach."""
    state = yield k.KeStackAttachProcess(process)
    results = []
    for step in steps:
        results.append((yield step(k)))
    yield k.KeUnstackDetachProcess(state)
    return results


def kernel_in(m, process, *steps):
    """Run kernel calls in a System thread attached to `process`; end with the results."""
    return run(m, m.system, in_process, process, steps)


def header(process, handle):
    entry = process.handles.get(handle)
    assert entry is not None, f"{process.name} has no handle {handle!r}"
    return entry.object.header


# --- handle values -----------------------------------------------------------------------

def test_first_handles_are_4_8_12():
    m = Machine()
    app = m.process("app.exe")
    assert run(m, app, create_events, None, None, None) == [4, 8, 12]


def test_each_process_has_its_own_handle_table():
    m = Machine()
    a, b = m.process("a.exe"), m.process("b.exe")
    assert run(m, a, create_events, None, None) == [4, 8]
    assert run(m, b, create_events, None) == [4]
    assert a.handles.get(4).object is not b.handles.get(4).object


def test_closed_handle_value_is_reused():
    def body(api):
        h1, h2, h3 = yield from create_events(api, None, None, None)
        yield api.CloseHandle(h2)
        h4 = yield api.CreateEvent(None, False, False, None)
        h5 = yield api.CreateEvent(None, False, False, None)
        return h4, h5

    m = Machine()
    assert run(m, m.process("app.exe"), body) == (8, 16)


def test_last_freed_handle_value_is_reused_first():
    def body(api):
        yield from create_events(api, None, None, None)            # 4 8 12
        yield api.CloseHandle(4)
        yield api.CloseHandle(8)
        return (yield from create_events(api, None, None, None))

    m = Machine()
    assert run(m, m.process("app.exe"), body) == [8, 4, 16]


def test_low_two_bits_of_a_handle_value_are_ignored():
    def body(api):
        h = yield api.CreateEvent(None, True, False, None)
        set_ok = yield api.SetEvent(h | 3)
        waited = yield api.WaitForSingleObject(h | 1, 0)
        closed = yield api.CloseHandle(h | 2)
        yield api.SetLastError(0)
        after = yield api.SetEvent(h)
        return h, set_ok, waited, closed, after, (yield api.GetLastError())

    m = Machine()
    assert run(m, m.process("app.exe"), body) == \
        (4, True, WAIT_OBJECT_0, True, False, ERROR_INVALID_HANDLE)


def test_handle_value_never_handed_out_is_error_invalid_handle():
    def body(api):
        yield api.CreateEvent(None, False, False, None)
        ok = yield api.SetEvent(0x1230)
        return ok, (yield api.GetLastError())

    m = Machine()
    assert run(m, m.process("app.exe"), body) == (False, ERROR_INVALID_HANDLE)


def test_null_handle_is_error_invalid_handle():
    def body(api):
        ok = yield api.SetEvent(None)
        err1 = yield api.GetLastError()
        w = yield api.WaitForSingleObject(None, 0)
        return ok, err1, w, (yield api.GetLastError())

    m = Machine()
    assert run(m, m.process("app.exe"), body) == \
        (False, ERROR_INVALID_HANDLE, WAIT_FAILED, ERROR_INVALID_HANDLE)


def test_handle_entry_stores_the_granted_access():
    def body(api):
        h1 = yield api.CreateEvent(None, False, False, "Granted")
        h2 = yield api.OpenEvent(SYNCHRONIZE, False, "Granted")
        return h1, h2

    m = Machine()
    app = m.process("app.exe")
    h1, h2 = run(m, app, body)
    assert app.handles.get(h1).granted_access == EVENT_ALL_ACCESS
    assert app.handles.get(h2).granted_access == SYNCHRONIZE


# --- kernel handles ----------------------------------------------------------------------

def test_kernel_handle_has_the_top_bits_set_and_lives_in_the_system_table():
    m = Machine()
    status, kh = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                        NotificationEvent, False)
    assert status == STATUS_SUCCESS
    assert kh & KERNEL_BITS == KERNEL_BITS
    assert (kh & ~KERNEL_BITS) % 4 == 0 and (kh & ~KERNEL_BITS) >= 4
    assert m.system.handles.get(kh) is not None


def test_kernel_handle_made_while_attached_still_goes_to_the_system_table():
    m = Machine()
    app = m.process("app.exe")
    [(status, kh)] = kernel_in(m, app, lambda k: k.ZwCreateEvent(
        EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE), NotificationEvent, False))
    assert status == STATUS_SUCCESS
    assert kh & KERNEL_BITS == KERNEL_BITS
    assert m.system.handles.get(kh) is not None
    assert len(app.handles) == 0


def test_handle_without_obj_kernel_handle_made_while_attached_goes_to_that_process():
    m = Machine()
    app = m.process("app.exe")
    [(status, h)] = kernel_in(m, app, lambda k: k.ZwCreateEvent(
        EVENT_ALL_ACCESS, attributes(), NotificationEvent, False))
    assert (status, h) == (STATUS_SUCCESS, 4)
    assert app.handles.get(4) is not None


def test_iocreate_event_returns_a_kernel_handle():
    m = Machine()
    ev, kh = m.kernel.IoCreateNotificationEvent(r"\BaseNamedObjects\IoKernelHandle")
    assert ev is not None
    assert kh & KERNEL_BITS == KERNEL_BITS
    assert m.system.handles.get(kh).object is ev


def test_user_mode_cannot_use_a_kernel_handle():
    m = Machine()
    _, kh = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                   NotificationEvent, False)

    def body(api):
        ok = yield api.SetEvent(kh)
        e1 = yield api.GetLastError()
        w = yield api.WaitForSingleObject(kh, 0)
        e2 = yield api.GetLastError()
        closed = yield api.CloseHandle(kh)
        return ok, e1, w, e2, closed, (yield api.GetLastError())

    assert run(m, m.process("app.exe"), body) == \
        (False, ERROR_INVALID_HANDLE, WAIT_FAILED, ERROR_INVALID_HANDLE,
         False, ERROR_INVALID_HANDLE)
    assert m.system.handles.get(kh) is not None       # the failed close left it alone


def test_kernel_handle_works_in_kernel_mode_from_any_process_context():
    m = Machine()
    _, kh = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                   NotificationEvent, False)
    app = m.process("app.exe")
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        kh, EVENT_MODIFY_STATE, K.ExEventObjectType, KernelMode))
    assert status == STATUS_SUCCESS
    assert obj is m.system.handles.get(kh).object


# --- counts and lifetime -------------------------------------------------------------------

def test_new_object_has_one_handle_and_one_pointer_reference():
    m = Machine()
    app = m.process("app.exe")
    [h] = run(m, app, create_events, "Counted")
    hdr = header(app, h)
    assert (hdr.handle_count, hdr.pointer_count) == (1, 1)


def test_each_handle_adds_a_handle_and_a_pointer_reference():
    def body(api):
        h1 = yield api.CreateEvent(None, False, False, "Twice")
        h2 = yield api.OpenEvent(SYNCHRONIZE, False, "Twice")
        return h1, h2

    m = Machine()
    app = m.process("app.exe")
    h1, h2 = run(m, app, body)
    hdr = header(app, h1)
    assert (hdr.handle_count, hdr.pointer_count) == (2, 2)


def test_closing_a_handle_drops_a_handle_and_a_pointer_reference():
    def body(api):
        h1 = yield api.CreateEvent(None, False, False, "Drop")
        h2 = yield api.OpenEvent(SYNCHRONIZE, False, "Drop")
        yield api.CloseHandle(h2)
        return h1

    m = Machine()
    app = m.process("app.exe")
    h1 = run(m, app, body)
    hdr = header(app, h1)
    assert (hdr.handle_count, hdr.pointer_count) == (1, 1)


def test_name_stays_while_another_handle_is_open():
    def body(api):
        h1 = yield api.CreateEvent(None, False, False, "Stays")
        h2 = yield api.OpenEvent(SYNCHRONIZE, False, "Stays")
        yield api.CloseHandle(h1)
        h3 = yield api.OpenEvent(SYNCHRONIZE, False, "Stays")
        return h2, h3

    m = Machine()
    app = m.process("app.exe")
    h2, h3 = run(m, app, body)
    assert h3 is not None
    assert app.handles.get(h3).object is app.handles.get(h2).object


def test_closing_last_win32_handle_makes_a_later_open_fail_with_error_file_not_found():
    # sync.c test_temporary_objects
    def body(api):
        h = yield api.CreateEvent(None, False, False, "WineTestEvent2")
        yield api.CloseHandle(h)
        yield api.SetLastError(0xDEADBEEF)
        again = yield api.OpenEvent(SYNCHRONIZE, False, "WineTestEvent2")
        return again, (yield api.GetLastError())

    m = Machine()
    assert run(m, m.process("app.exe"), body) == (None, ERROR_FILE_NOT_FOUND)


def test_closing_last_handle_removes_name_but_pointer_keeps_object():
    name = r"\BaseNamedObjects\Life"

    def driver(k):
        status, h = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(name),
                                          NotificationEvent, False)
        status, ev = yield k.ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE,
                                                       K.ExEventObjectType, KernelMode)
        yield k.ZwClose(h)
        reopened = yield k.ZwOpenEvent(EVENT_ALL_ACCESS, attributes(name))
        previous = yield k.KeSetEvent(ev, 0, False)          # still a live event
        return ev, reopened, previous

    m = Machine()
    ev, reopened, previous = run(m, m.system, driver)
    assert reopened == (STATUS_OBJECT_NAME_NOT_FOUND, None)
    assert m.objects.lookup(name) is None
    assert (ev.header.handle_count, ev.header.pointer_count) == (0, 1)
    assert ev.header.deleted is False
    assert previous == 0 and ev.SignalState == 1


def test_object_is_freed_at_the_last_dereference():
    m = Machine()
    name = r"\BaseNamedObjects\Freed"
    _, h = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(name), NotificationEvent, False)
    status, ev = m.kernel.ObReferenceObjectByHandle(h, SYNCHRONIZE, K.ExEventObjectType,
                                                    KernelMode)
    assert status == STATUS_SUCCESS
    m.kernel.ZwClose(h)
    assert ev.header.deleted is False
    m.kernel.ObDereferenceObject(ev)
    assert ev.header.pointer_count == 0
    assert ev.header.deleted is True


def test_object_without_pointer_references_is_freed_when_its_last_handle_closes():
    m = Machine()
    app = m.process("app.exe")

    def body(api):
        h = yield api.CreateEvent(None, False, False, "Brief")
        return h

    h = run(m, app, body)
    ev = app.handles.get(h).object

    def close(api):
        return (yield api.CloseHandle(h))

    assert run(m, app, close) is True
    assert ev.header.deleted is True
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects\Brief") is None


def test_closing_a_handle_twice_is_error_invalid_handle():
    def body(api):
        h = yield api.CreateEvent(None, False, False, None)
        first = yield api.CloseHandle(h)
        yield api.SetLastError(0)
        second = yield api.CloseHandle(h)
        return first, second, (yield api.GetLastError())

    m = Machine()
    assert run(m, m.process("app.exe"), body) == (True, False, ERROR_INVALID_HANDLE)


def test_kernel_mode_double_close_of_a_kernel_handle_is_invalid_handle():
    """No kernel debugger, System process: the second ZwClose returns
    STATUS_INVALID_HANDLE and the machine goes on (ReactOS ob/obhandle.c ObpCloseHandle;
    Windows 11 in winsiderss/systeminformer#2630). Bug check 0x93 needs a kernel
    debugger and a user process's context: tests/test_windows_fine_points.py."""
    def driver(k):
        status, kh = yield k.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                           NotificationEvent, False)
        first = yield k.ZwClose(kh)
        second = yield k.ZwClose(kh)
        return first, second

    m = Machine()
    t = m.system.start(driver)
    result = m.run()
    assert result.reason == "done" and m.bugcheck is None
    assert t.result == (STATUS_SUCCESS, STATUS_INVALID_HANDLE)


# --- ObReferenceObjectByHandle -----------------------------------------------------------

def app_with_sync_only_handle(m):
    """An app whose handle 8 names its event "Ref" with SYNCHRONIZE only (4 has all)."""
    app = m.process("app.exe")

    def body(api):
        h1 = yield api.CreateEvent(None, False, False, "Ref")
        h2 = yield api.OpenEvent(SYNCHRONIZE, False, "Ref")
        return h1, h2

    assert run(m, app, body) == (4, 8)
    return app


def test_obref_kernel_handle_from_user_mode_is_invalid_handle():
    m = Machine()
    _, kh = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                   NotificationEvent, False)
    # Valid kernel handle, right type, no rights asked: still refused to user mode.
    status, obj = m.kernel.ObReferenceObjectByHandle(kh, 0, K.ExEventObjectType, UserMode)
    assert (status, obj) == (STATUS_INVALID_HANDLE, None)


def test_obref_kernel_handle_from_user_mode_is_checked_before_the_type():
    m = Machine()
    _, kh = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                   NotificationEvent, False)
    status, obj = m.kernel.ObReferenceObjectByHandle(kh, EVENT_MODIFY_STATE,
                                                     K.IoFileObjectType, UserMode)
    assert (status, obj) == (STATUS_INVALID_HANDLE, None)


def test_obref_no_such_handle_is_invalid_handle():
    m = Machine()
    app = app_with_sync_only_handle(m)
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        0x7FC, SYNCHRONIZE, K.ExEventObjectType, KernelMode))
    assert (status, obj) == (STATUS_INVALID_HANDLE, None)


def test_obref_wrong_type_is_type_mismatch_even_in_kernel_mode():
    m = Machine()
    app = app_with_sync_only_handle(m)
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        4, SYNCHRONIZE, K.ObDirectoryObjectType, KernelMode))
    assert (status, obj) == (STATUS_OBJECT_TYPE_MISMATCH, None)


def test_obref_type_is_checked_before_access():
    m = Machine()
    app = app_with_sync_only_handle(m)
    # Handle 8 lacks EVENT_MODIFY_STATE *and* is asked for as a file: the type wins.
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        8, EVENT_MODIFY_STATE, K.IoFileObjectType, UserMode))
    assert (status, obj) == (STATUS_OBJECT_TYPE_MISMATCH, None)


def test_obref_user_mode_without_the_right_is_access_denied_and_adds_no_reference():
    m = Machine()
    app = app_with_sync_only_handle(m)
    before = header(app, 8).pointer_count
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        8, EVENT_MODIFY_STATE, K.ExEventObjectType, UserMode))
    assert (status, obj) == (STATUS_ACCESS_DENIED, None)
    assert header(app, 8).pointer_count == before


def test_obref_kernel_mode_skips_the_access_check():
    m = Machine()
    app = app_with_sync_only_handle(m)
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        8, EVENT_MODIFY_STATE, K.ExEventObjectType, KernelMode))
    assert status == STATUS_SUCCESS
    assert obj is app.handles.get(8).object


def test_obref_without_an_object_type_skips_the_type_check():
    m = Machine()
    app = app_with_sync_only_handle(m)
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        4, SYNCHRONIZE, None, UserMode))
    assert status == STATUS_SUCCESS
    assert obj is app.handles.get(4).object


def test_obref_success_adds_a_pointer_reference_that_obdereference_drops():
    m = Machine()
    app = app_with_sync_only_handle(m)
    hdr = header(app, 4)
    assert (hdr.handle_count, hdr.pointer_count) == (2, 2)
    [(status, obj)] = kernel_in(m, app, lambda k: k.ObReferenceObjectByHandle(
        4, EVENT_MODIFY_STATE, K.ExEventObjectType, UserMode))
    assert status == STATUS_SUCCESS
    assert (hdr.handle_count, hdr.pointer_count) == (2, 3)
    [nothing] = kernel_in(m, app, lambda k: k.ObDereferenceObject(obj))
    assert nothing is None
    assert (hdr.handle_count, hdr.pointer_count) == (2, 2)


def test_obref_looks_the_handle_up_in_the_current_process_not_the_creator():
    # The app's handle value 4, looked up while attached to a process that has no
    # handles, names nothing.
    m = Machine()
    app_with_sync_only_handle(m)
    other = m.process("other.exe")
    [(status, obj)] = kernel_in(m, other, lambda k: k.ObReferenceObjectByHandle(
        4, SYNCHRONIZE, K.ExEventObjectType, KernelMode))
    assert (status, obj) == (STATUS_INVALID_HANDLE, None)


def test_obref_same_handle_value_in_another_process_names_a_different_object():
    m = Machine()
    app = app_with_sync_only_handle(m)
    other = m.process("other.exe")
    assert run(m, other, create_events, "OtherOne") == [4]
    [(status, obj)] = kernel_in(m, other, lambda k: k.ObReferenceObjectByHandle(
        4, SYNCHRONIZE, K.ExEventObjectType, KernelMode))
    assert status == STATUS_SUCCESS
    assert obj is other.handles.get(4).object
    assert obj is not app.handles.get(4).object


def test_obref_app_handle_value_in_a_system_thread_names_nothing():
    m = Machine()
    app_with_sync_only_handle(m)
    assert m.system.handles.get(8) is None        # the System table has no value 8

    def worker(k):
        return (yield k.ObReferenceObjectByHandle(8, SYNCHRONIZE, K.ExEventObjectType,
                                                  KernelMode))

    assert run(m, m.system, worker) == (STATUS_INVALID_HANDLE, None)


def test_obref_app_handle_value_in_a_system_thread_can_name_a_driver_object():
    # The System table is the kernel handle table: the value part of a driver's kernel
    # handle, used as a plain handle in a System thread, names the driver's event.
    m = Machine()
    _, kh = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                   NotificationEvent, False)
    value = kh & ~KERNEL_BITS
    app = m.process("app.exe")
    handles = run(m, app, create_events, *([None] * (value // 4)))
    assert handles[-1] == value                   # the app has a handle with that value

    def worker(k):
        return (yield k.ObReferenceObjectByHandle(value, SYNCHRONIZE, K.ExEventObjectType,
                                                  KernelMode))

    status, obj = run(m, m.system, worker)
    assert status == STATUS_SUCCESS
    assert obj is m.system.handles.get(kh).object
    assert obj is not app.handles.get(value).object


def test_obdereference_drops_exactly_one_pointer_reference():
    m = Machine()
    _, h = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(), NotificationEvent, False)
    _, ev = m.kernel.ObReferenceObjectByHandle(h, 0, K.ExEventObjectType, KernelMode)
    m.kernel.ObReferenceObject(ev)
    assert (ev.header.handle_count, ev.header.pointer_count) == (1, 3)
    m.kernel.ObDereferenceObject(ev)
    assert (ev.header.handle_count, ev.header.pointer_count) == (1, 2)
    assert ev.header.deleted is False
