"""docs/semantics.md section 4, security: one test per rule.

Tokens and default DACLs, Microsoft KB 228785 (a named event a driver creates in the
System process is refused to a standard user and wait-only for an administrator; made
in the app's context it gets the app's security), a driver-supplied descriptor, the
generic mapping for events, and which callers are checked.

Facts: KB 228785 "OpenEvent Fails in a Non-Administrator Account"; the generic mapping
for events is pinned by Wine's `dlls/advapi32/tests/security.c` test_event_security,
which runs on real Windows (GENERIC_READ -> STANDARD_RIGHTS_READ | EVENT_QUERY_STATE,
GENERIC_WRITE -> STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE, GENERIC_EXECUTE ->
STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, GENERIC_ALL -> EVENT_ALL_ACCESS; a created
event's handle has EVENT_ALL_ACCESS; OpenEvent with no access is ERROR_ACCESS_DENIED),
matching Wine `server/event.c` and the Windows kernel's ExpEventMapping. ReactOS
`ob/obref.c` checks granted access only for user-mode references.

Note: ReactOS's own table maps read to query+synchronize and write to modify+synchronize.
Windows does not add SYNCHRONIZE to GENERIC_READ or GENERIC_WRITE; these tests follow
Windows, as docs/semantics.md section 4 says.
"""
from __future__ import annotations

import evtsim.api.kernel as K
from evtsim import Machine
from evtsim.api.kernel import KernelMode, NotificationEvent, UserMode
from evtsim.status import (CREATE_EVENT_MANUAL_RESET, ERROR_ACCESS_DENIED, EVENT_ALL_ACCESS,
                           EVENT_MODIFY_STATE, EVENT_QUERY_STATE, GENERIC_ALL,
                           GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE, READ_CONTROL,
                           STATUS_ACCESS_DENIED, STATUS_SUCCESS, SYNCHRONIZE, WAIT_FAILED,
                           WAIT_OBJECT_0)

JUNK = 0xDEADBEEF
KB_NAME = r"\BaseNamedObjects\KbEvent"          # what the driver names it
KB_WIN32 = "Global\\KbEvent"                     # how a session-1 app names it


# --- helpers ---------------------------------------------------------------------------

def run(m, process, body, *args):
    """Run `body(api, *args)` as a thread of `process` to its end; return its result."""
    t = process.start(body, *args)
    m.run()
    if t.error is not None:
        raise t.error
    assert t.state == "terminated", f"{t.name} is {t.state}, waiting on {t.waiting_on}"
    return t.result


def create(api, name, sa=None):
    h = yield api.CreateEvent(sa, True, False, name)
    return h


def open_event(api, name, access):
    """OpenEvent with a junk last error first; end with (handle, last error)."""
    yield api.SetLastError(JUNK)
    h = yield api.OpenEvent(access, False, name)
    return h, (yield api.GetLastError())


def open_and_set(api, name, access):
    """OpenEvent then SetEvent; end with (handle, SetEvent's result, last error)."""
    h = yield api.OpenEvent(access, False, name)
    yield api.SetLastError(JUNK)
    ok = yield api.SetEvent(h)
    return h, ok, (yield api.GetLastError())


def driver_entry_creates_kb_event(k):
    """What KB 228785's driver does in DriverEntry, in the System process."""
    ev, h = yield k.IoCreateNotificationEvent(KB_NAME)
    return ev, h


def kb_machine():
    """A machine whose driver made KB_NAME in System context."""
    m = Machine()
    ev, h = run(m, m.system, driver_entry_creates_kb_event)
    assert ev is not None and h is not None
    return m


def granted(process, handle):
    entry = process.handles.get(handle)
    assert entry is not None, f"{process.name} has no handle {handle!r}"
    return entry.granted_access


# --- tokens and default DACLs --------------------------------------------------------------

def test_token_has_the_user_and_administrators_only_when_elevated():
    m = Machine()
    app = m.process("app.exe")
    admin = m.process("tool.exe", user="ann", admin=True)
    assert app.token.user == "learner"
    assert admin.token.user == "ann"
    assert "Administrators" not in app.token.groups
    assert "Administrators" in admin.token.groups
    assert m.system.token.user == "SYSTEM"


def test_user_default_dacl_grants_the_user_full_access():
    m = Machine()
    run(m, m.process("app.exe"), create, "Mine")
    other = m.process("other.exe")                      # same user, same session
    h, err = run(m, other, open_event, "Mine", EVENT_ALL_ACCESS)
    assert h == 4
    assert granted(other, h) == EVENT_ALL_ACCESS


def test_user_default_dacl_grants_system_full_access():
    m = Machine()
    run(m, m.process("app.exe"), create, "Global\\ForService")
    svc = m.process("svc.exe", user="SYSTEM", session=0)
    h, err = run(m, svc, open_event, "ForService", EVENT_ALL_ACCESS)
    assert h == 4
    assert granted(svc, h) == EVENT_ALL_ACCESS


def test_user_default_dacl_refuses_another_standard_user():
    m = Machine()
    run(m, m.process("app.exe"), create, "Private")
    bob = m.process("bob.exe", user="bob")
    assert run(m, bob, open_event, "Private", SYNCHRONIZE) == (None, ERROR_ACCESS_DENIED)


def test_system_default_dacl_grants_system_full_access():
    m = kb_machine()
    svc = m.process("svc.exe", user="SYSTEM", session=0)
    h, ok, err = run(m, svc, open_and_set, "KbEvent", EVENT_ALL_ACCESS)
    assert (h, ok) == (4, True)


def test_system_default_dacl_gives_administrators_read_and_synchronize_only():
    m = kb_machine()
    admin = m.process("tool.exe", user="ann", admin=True)
    h, _ = run(m, admin, open_event, KB_WIN32, SYNCHRONIZE | EVENT_QUERY_STATE | READ_CONTROL)
    assert h == 4
    assert run(m, admin, open_event, KB_WIN32, EVENT_MODIFY_STATE) == \
        (None, ERROR_ACCESS_DENIED)


# --- KB 228785 -------------------------------------------------------------------------------

def test_kb228785_standard_user_cannot_open_driver_created_event():
    m = kb_machine()
    app = m.process("app.exe")
    assert run(m, app, open_event, KB_WIN32, SYNCHRONIZE) == (None, ERROR_ACCESS_DENIED)


def test_kb228785_admin_can_wait_on_driver_created_event():
    def body(api):
        h = yield api.OpenEvent(SYNCHRONIZE, False, KB_WIN32)
        return h, (yield api.WaitForSingleObject(h, 0))

    m = kb_machine()
    admin = m.process("tool.exe", user="ann", admin=True)
    # IoCreateNotificationEvent makes the event signaled, so the poll succeeds.
    assert run(m, admin, body) == (4, WAIT_OBJECT_0)


def test_kb228785_admin_cannot_open_driver_created_event_to_set_it():
    m = kb_machine()
    admin = m.process("tool.exe", user="ann", admin=True)
    assert run(m, admin, open_event, KB_WIN32, EVENT_MODIFY_STATE | SYNCHRONIZE) == \
        (None, ERROR_ACCESS_DENIED)


def test_kb228785_admin_open_with_event_all_access_is_access_denied():
    m = kb_machine()
    admin = m.process("tool.exe", user="ann", admin=True)
    assert run(m, admin, open_event, KB_WIN32, EVENT_ALL_ACCESS) == (None, ERROR_ACCESS_DENIED)


def test_kb228785_event_created_in_the_apps_context_gets_the_apps_security():
    # KB 228785's workaround: create it in a driver routine running in the app's process.
    m = Machine()
    app = m.process("app.exe")

    def in_app_context(k):
        state = yield k.KeStackAttachProcess(app)
        ev, h = yield k.IoCreateNotificationEvent(KB_NAME)
        yield k.KeUnstackDetachProcess(state)
        return ev, h

    ev, h = run(m, m.system, in_app_context)
    assert ev is not None
    h, ok, err = run(m, app, open_and_set, KB_WIN32, EVENT_MODIFY_STATE | SYNCHRONIZE)
    assert (h, ok) == (4, True)


def test_driver_supplied_descriptor_grants_more_than_the_system_default():
    m = Machine()
    sd = K.SECURITY_DESCRIPTOR(dacl=[("SYSTEM", EVENT_ALL_ACCESS),
                                     ("Everyone", SYNCHRONIZE | EVENT_MODIFY_STATE)])
    attrs = K.InitializeObjectAttributes(KB_NAME, 0, None, sd)
    status, _ = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, NotificationEvent, False)
    assert status == STATUS_SUCCESS
    app = m.process("app.exe")
    h, ok, err = run(m, app, open_and_set, KB_WIN32, EVENT_MODIFY_STATE | SYNCHRONIZE)
    assert (h, ok) == (4, True)


def test_driver_supplied_descriptor_still_refuses_what_it_does_not_grant():
    m = Machine()
    sd = K.SECURITY_DESCRIPTOR(dacl=[("SYSTEM", EVENT_ALL_ACCESS),
                                     ("Everyone", SYNCHRONIZE | EVENT_MODIFY_STATE)])
    attrs = K.InitializeObjectAttributes(KB_NAME, 0, None, sd)
    m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, NotificationEvent, False)
    app = m.process("app.exe")
    assert run(m, app, open_event, KB_WIN32, EVENT_ALL_ACCESS) == (None, ERROR_ACCESS_DENIED)


def test_win32_security_attributes_descriptor_is_applied():
    from evtsim.api.win32 import SECURITY_ATTRIBUTES
    m = Machine()
    sd = K.SECURITY_DESCRIPTOR(dacl=[("learner", EVENT_ALL_ACCESS), ("Everyone", SYNCHRONIZE)])
    run(m, m.process("app.exe"), create, "Shared", SECURITY_ATTRIBUTES(sd))
    bob = m.process("bob.exe", user="bob")
    h, _ = run(m, bob, open_event, "Shared", SYNCHRONIZE)
    assert h == 4
    assert run(m, bob, open_event, "Shared", EVENT_MODIFY_STATE) == (None, ERROR_ACCESS_DENIED)


# --- generic mapping and granted access ----------------------------------------------------

def opened_with(access):
    """(app, handle): the app creates "G" and opens it again asking for `access`."""
    m = Machine()
    app = m.process("app.exe")

    def body(api):
        yield api.CreateEvent(None, True, False, "G")
        return (yield api.OpenEvent(access, False, "G"))

    h = run(m, app, body)
    assert h == 8
    return m, app, h


def test_createevent_handle_has_event_all_access():
    m = Machine()
    app = m.process("app.exe")
    h = run(m, app, create, "Full")
    assert granted(app, h) == EVENT_ALL_ACCESS == 0x1F0003


def test_generic_read_maps_to_read_control_and_query_state():
    _, app, h = opened_with(GENERIC_READ)
    assert granted(app, h) == READ_CONTROL | EVENT_QUERY_STATE == 0x20001


def test_generic_write_maps_to_read_control_and_modify_state():
    _, app, h = opened_with(GENERIC_WRITE)
    assert granted(app, h) == READ_CONTROL | EVENT_MODIFY_STATE == 0x20002


def test_generic_execute_maps_to_read_control_and_synchronize():
    _, app, h = opened_with(GENERIC_EXECUTE)
    assert granted(app, h) == READ_CONTROL | SYNCHRONIZE == 0x120000


def test_generic_all_maps_to_event_all_access():
    _, app, h = opened_with(GENERIC_ALL)
    assert granted(app, h) == EVENT_ALL_ACCESS


def test_generic_read_handle_cannot_wait():
    m, app, h = opened_with(GENERIC_READ)

    def body(api):
        r = yield api.WaitForSingleObject(h, 0)
        return r, (yield api.GetLastError())

    assert run(m, app, body) == (WAIT_FAILED, ERROR_ACCESS_DENIED)


def test_generic_execute_handle_can_wait_but_not_set():
    m, app, h = opened_with(GENERIC_EXECUTE)

    def body(api):
        w = yield api.WaitForSingleObject(h, 0)
        ok = yield api.SetEvent(h)
        return w, ok, (yield api.GetLastError())

    assert run(m, app, body) == (0x102, False, ERROR_ACCESS_DENIED)   # WAIT_TIMEOUT


def test_createeventex_grants_only_the_requested_access():
    def body(api):
        h = yield api.CreateEventEx(None, "Narrow", CREATE_EVENT_MANUAL_RESET, SYNCHRONIZE)
        ok = yield api.SetEvent(h)
        return h, ok, (yield api.GetLastError())

    m = Machine()
    app = m.process("app.exe")
    h, ok, err = run(m, app, body)
    assert granted(app, h) == SYNCHRONIZE
    assert (ok, err) == (False, ERROR_ACCESS_DENIED)


def test_openevent_asking_for_no_access_is_access_denied():
    # advapi32 security.c test_event_security: OpenEventA(0, FALSE, name) fails on
    # Windows with ERROR_ACCESS_DENIED.
    m = Machine()
    app = m.process("app.exe")
    run(m, app, create, "Zero")
    assert run(m, app, open_event, "Zero", 0) == (None, ERROR_ACCESS_DENIED)


# --- who is checked ----------------------------------------------------------------------------

def only_learner(m):
    """The app makes "Locked", which only the user "learner" may use."""
    from evtsim.api.win32 import SECURITY_ATTRIBUTES
    app = m.process("app.exe")
    sd = K.SECURITY_DESCRIPTOR(dacl=[("learner", EVENT_ALL_ACCESS)])
    run(m, app, create, "Global\\Locked", SECURITY_ATTRIBUTES(sd))
    return app


def test_user_mode_open_is_checked_against_the_dacl():
    m = Machine()
    only_learner(m)
    svc = m.process("svc.exe", user="SYSTEM", session=0)
    assert run(m, svc, open_event, "Locked", SYNCHRONIZE) == (None, ERROR_ACCESS_DENIED)


def test_kernel_mode_open_skips_the_access_check():
    m = Machine()
    only_learner(m)

    def driver(k):
        attrs = K.InitializeObjectAttributes(r"\BaseNamedObjects\Locked", 0, None, None)
        return (yield k.ZwOpenEvent(EVENT_ALL_ACCESS, attrs))

    status, h = run(m, m.system, driver)
    assert status == STATUS_SUCCESS
    assert granted(m.system, h) == EVENT_ALL_ACCESS


def test_user_mode_obreference_checks_the_handles_granted_access():
    m, app, h = opened_with(GENERIC_EXECUTE)              # READ_CONTROL | SYNCHRONIZE

    def dispatch(k):
        state = yield k.KeStackAttachProcess(app)
        wait_ref = yield k.ObReferenceObjectByHandle(h, SYNCHRONIZE, K.ExEventObjectType,
                                                     UserMode)
        set_ref = yield k.ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE,
                                                    K.ExEventObjectType, UserMode)
        yield k.KeUnstackDetachProcess(state)
        return wait_ref, set_ref

    wait_ref, set_ref = run(m, m.system, dispatch)
    assert wait_ref[0] == STATUS_SUCCESS
    assert wait_ref[1] is app.handles.get(h).object
    assert set_ref == (STATUS_ACCESS_DENIED, None)


def test_kernel_mode_obreference_ignores_the_handles_granted_access():
    m, app, h = opened_with(GENERIC_EXECUTE)

    def dispatch(k):
        state = yield k.KeStackAttachProcess(app)
        ref = yield k.ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE, K.ExEventObjectType,
                                                KernelMode)
        yield k.KeUnstackDetachProcess(state)
        return ref

    status, obj = run(m, m.system, dispatch)
    assert status == STATUS_SUCCESS
    assert obj is app.handles.get(h).object
