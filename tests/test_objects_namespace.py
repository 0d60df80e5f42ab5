"""docs/semantics.md section 3, the namespace: one test per rule.

Directories and links, session directories, the `Global\\` and `Local\\` keywords, the
NT4 single namespace, the machine before the Win32 subsystem, case-sensitive names,
creating a name that exists, and every lookup error with its Win32 form.

Facts come from Wine's conformance tests, which pass on real Windows:
`dlls/kernel32/tests/sync.c` (test_event, test_temporary_objects) and
`dlls/ntdll/tests/om.c` (test_case_sensitive, test_name_collisions, test_name_limits,
test_directory, get_base_dir), from ReactOS `ntoskrnl/ob/oblink.c`
(ObpParseSymbolicLink), and from Microsoft's page "Kernel object namespaces".
"""
from __future__ import annotations

import evtsim.api.kernel as K
from evtsim import Machine
from evtsim.api.kernel import NotificationEvent, SynchronizationEvent
from evtsim.status import (ERROR_ALREADY_EXISTS, ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE,
                           ERROR_INVALID_NAME, ERROR_INVALID_PARAMETER, ERROR_PATH_NOT_FOUND,
                           EVENT_ALL_ACCESS, OBJ_CASE_INSENSITIVE, OBJ_OPENIF,
                           STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_COLLISION,
                           STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_INVALID,
                           STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND,
                           STATUS_OBJECT_PATH_SYNTAX_BAD, STATUS_OBJECT_TYPE_MISMATCH,
                           STATUS_SUCCESS, SYNCHRONIZE, WAIT_OBJECT_0)

JUNK = 0xDEADBEEF            # a last error no call sets, so "left alone" shows


# --- helpers ---------------------------------------------------------------------------

def run(m, process, body, *args):
    """Run `body(api, *args)` as a thread of `process` to its end; return its result."""
    t = process.start(body, *args)
    m.run()
    if t.error is not None:
        raise t.error
    assert t.state == "terminated", f"{t.name} is {t.state}, waiting on {t.waiting_on}"
    return t.result


def create(api, name, manual=False, initial=False):
    """CreateEvent with a junk last error first; end with (handle, last error)."""
    yield api.SetLastError(JUNK)
    h = yield api.CreateEvent(None, manual, initial, name)
    return h, (yield api.GetLastError())


def open_event(api, name, access=SYNCHRONIZE):
    """OpenEvent with a junk last error first; end with (handle, last error)."""
    yield api.SetLastError(JUNK)
    h = yield api.OpenEvent(access, False, name)
    return h, (yield api.GetLastError())


def kcreate(m, name, attributes=0, type_=NotificationEvent, state=False):
    """ZwCreateEvent from the instructor's System thread: (status, handle)."""
    attrs = K.InitializeObjectAttributes(name, attributes, None, None)
    return m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, type_, state)


def kopen(m, name, attributes=0):
    """ZwOpenEvent from the instructor's System thread: (status, handle)."""
    attrs = K.InitializeObjectAttributes(name, attributes, None, None)
    return m.kernel.ZwOpenEvent(EVENT_ALL_ACCESS, attrs)


def object_of(process, handle):
    """The object a handle of `process` names."""
    entry = process.handles.get(handle)
    assert entry is not None, f"{process.name} has no handle {handle!r}"
    return entry.object


# --- directories and session directories ---------------------------------------------

def test_booted_machine_has_root_basenamedobjects_device_dosdevices_and_bnolinks():
    m = Machine()
    for path in ("\\", r"\BaseNamedObjects", r"\Device", r"\??", r"\Sessions\BNOLINKS"):
        found = m.objects.lookup(path)
        assert found is not None, path
        assert found.header.type.name == "Directory", path


def test_session_directory_is_made_when_first_process_of_the_session_appears():
    m = Machine()
    assert m.objects.lookup(r"\Sessions\2\BaseNamedObjects") is None
    m.process("two.exe", session=2)
    assert m.objects.lookup(r"\Sessions\2\BaseNamedObjects") is not None


def test_plain_name_goes_to_the_callers_session_directory():
    m = Machine()
    app = m.process("app.exe")
    h, err = run(m, app, create, "Plain")
    assert err == 0
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects\Plain") is object_of(app, h)
    assert m.objects.lookup(r"\BaseNamedObjects\Plain") is None


def test_session_0_plain_name_goes_to_basenamedobjects():
    m = Machine()
    svc = m.process("svc.exe", user="SYSTEM", session=0)
    h, _ = run(m, svc, create, "ServiceEvent")
    assert m.objects.lookup(r"\BaseNamedObjects\ServiceEvent") is object_of(svc, h)


def test_plain_names_in_different_sessions_are_different_objects():
    m = Machine()
    one = m.process("one.exe", session=1)
    two = m.process("two.exe", session=2)
    h1, err1 = run(m, one, create, "Same")
    h2, err2 = run(m, two, create, "Same")
    assert (err1, err2) == (0, 0)           # the second create made a new event
    assert object_of(one, h1) is not object_of(two, h2)
    assert m.objects.lookup(r"\Sessions\2\BaseNamedObjects\Same") is object_of(two, h2)


def test_plain_name_is_shared_by_processes_of_the_same_session():
    m = Machine()
    a = m.process("a.exe")
    b = m.process("b.exe")
    ha, _ = run(m, a, create, "Shared")
    hb, _ = run(m, b, open_event, "Shared")
    assert hb == 4
    assert object_of(b, hb) is object_of(a, ha)


# --- Global\ Local\ Session\ ---------------------------------------------------------

def test_global_prefix_goes_to_basenamedobjects():
    m = Machine()
    app = m.process("app.exe")
    h, err = run(m, app, create, "Global\\G1")
    assert err == 0
    assert m.objects.lookup(r"\BaseNamedObjects\G1") is object_of(app, h)
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects\G1") is None


def test_global_prefix_shares_one_object_across_sessions():
    m = Machine()
    one = m.process("one.exe", session=1)
    two = m.process("two.exe", session=2)
    h1, _ = run(m, one, create, "Global\\Both")
    h2, err = run(m, two, create, "Global\\Both")
    assert err == ERROR_ALREADY_EXISTS
    assert object_of(two, h2) is object_of(one, h1)


def test_service_in_session_0_and_app_meet_through_global_prefix():
    # The service runs as the app's user, so the default DACL lets the app in (as
    # SYSTEM its event would be refused to the app: see test_security.py).
    m = Machine()
    svc = m.process("svc.exe", user="learner", session=0)
    app = m.process("app.exe")
    hs, _ = run(m, svc, create, "Rendezvous")          # plain name in session 0
    ha, _ = run(m, app, open_event, "Global\\Rendezvous")
    assert ha == 4
    assert object_of(app, ha) is object_of(svc, hs)


def test_local_prefix_goes_to_the_callers_session_directory():
    m = Machine()
    app = m.process("app.exe")
    h, err = run(m, app, create, "Local\\L1")
    assert err == 0
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects\L1") is object_of(app, h)
    assert m.objects.lookup(r"\BaseNamedObjects\L1") is None


def test_local_prefix_in_session_0_is_basenamedobjects():
    m = Machine()
    svc = m.process("svc.exe", user="SYSTEM", session=0)
    h, _ = run(m, svc, create, "Local\\L0")
    assert m.objects.lookup(r"\BaseNamedObjects\L0") is object_of(svc, h)


def test_global_prefix_is_case_sensitive():
    # "global" is not the link: it is looked up, case-sensitively, as a directory in the
    # session directory and is not there (Microsoft: "These keywords are case-sensitive";
    # om.c test_case_sensitive: a directory name in the wrong case is
    # STATUS_OBJECT_PATH_NOT_FOUND when OBJ_CASE_INSENSITIVE is not given).
    m = Machine()
    app = m.process("app.exe")
    assert run(m, app, create, "global\\Lower") == (None, ERROR_PATH_NOT_FOUND)
    assert m.objects.lookup(r"\BaseNamedObjects\Lower") is None


def test_local_prefix_is_case_sensitive():
    m = Machine()
    app = m.process("app.exe")
    assert run(m, app, create, "LOCAL\\Upper") == (None, ERROR_PATH_NOT_FOUND)


def test_session_prefix_is_reserved_and_reaches_other_sessions_through_bnolinks():
    # \BaseNamedObjects\Session and each session's Session link point at
    # \Sessions\BNOLINKS, whose entries link to each session's directory (Wine om.c
    # get_base_dir opens \BaseNamedObjects\Session\<id> and finds kernel32's objects).
    m = Machine()
    one = m.process("one.exe", session=1)
    two = m.process("two.exe", session=2)
    h1, _ = run(m, one, create, "InOne")
    h2, _ = run(m, two, open_event, "Session\\1\\InOne")
    assert h2 == 4
    assert object_of(two, h2) is object_of(one, h1)


def test_session_prefix_name_is_not_a_name_in_the_session_directory():
    m = Machine()
    app = m.process("app.exe")
    run(m, app, create, "Thing")
    # Session\Thing is \Sessions\BNOLINKS\Thing, not the app's Thing.
    assert run(m, app, open_event, "Session\\Thing") == (None, ERROR_FILE_NOT_FOUND)


# --- NT4 / Windows 2000 single namespace ----------------------------------------------

def test_nt4_namespace_has_no_session_directories():
    m = Machine(namespace="nt4")
    m.process("app.exe", session=1)
    assert m.objects.lookup(r"\BaseNamedObjects") is not None
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects") is None


def test_nt4_namespace_puts_plain_names_in_basenamedobjects():
    m = Machine(namespace="nt4")
    app = m.process("app.exe", session=1)
    h, err = run(m, app, create, "Old")
    assert err == 0
    assert m.objects.lookup(r"\BaseNamedObjects\Old") is object_of(app, h)


def test_nt4_namespace_shares_plain_names_across_sessions():
    m = Machine(namespace="nt4")
    one = m.process("one.exe", session=1)
    two = m.process("two.exe", session=2)
    h1, _ = run(m, one, create, "Common")
    h2, err = run(m, two, create, "Common")
    assert err == ERROR_ALREADY_EXISTS
    assert object_of(two, h2) is object_of(one, h1)


def test_driver_finds_plain_named_app_event_in_basenamedobjects_only_in_nt4():
    # The 1999 DriverStudio tip: the app names its event "SynchEvent", the driver opens
    # \BaseNamedObjects\SynchEvent. That works with one namespace and not with sessions.
    old, new = Machine(namespace="nt4"), Machine()
    for m in (old, new):
        run(m, m.process("app.exe"), create, "SynchEvent")
    assert kopen(old, r"\BaseNamedObjects\SynchEvent")[0] == STATUS_SUCCESS
    assert kopen(new, r"\BaseNamedObjects\SynchEvent") == (STATUS_OBJECT_NAME_NOT_FOUND, None)


def test_driver_finds_global_named_app_event_in_the_modern_namespace():
    m = Machine()
    run(m, m.process("app.exe"), create, "Global\\SynchEvent")
    assert kopen(m, r"\BaseNamedObjects\SynchEvent")[0] == STATUS_SUCCESS


# --- before the Win32 subsystem --------------------------------------------------------

def test_machine_before_win32_has_no_basenamedobjects():
    m = Machine(boot=False)
    assert m.objects.lookup("\\") is not None
    assert m.objects.lookup(r"\BaseNamedObjects") is None


def test_kernel_create_in_basenamedobjects_before_win32_is_path_not_found():
    m = Machine(boot=False)
    assert kcreate(m, r"\BaseNamedObjects\Early") == (STATUS_OBJECT_PATH_NOT_FOUND, None)


def test_start_win32_creates_basenamedobjects():
    m = Machine(boot=False)
    m.start_win32()
    assert m.objects.lookup(r"\BaseNamedObjects") is not None
    status, h = kcreate(m, r"\BaseNamedObjects\Late")
    assert status == STATUS_SUCCESS and h is not None


def test_start_win32_creates_the_session_directories():
    m = Machine(boot=False)
    m.start_win32()
    app = m.process("app.exe", session=1)
    h, err = run(m, app, create, "AfterBoot")
    assert err == 0
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects\AfterBoot") is object_of(app, h)


# --- case sensitivity -------------------------------------------------------------------

def test_event_names_are_case_sensitive():
    # sync.c test_event: "Test Event" and "TEST EVENT" are two events; the second create
    # sets the last error to 0, not ERROR_ALREADY_EXISTS.
    m = Machine()
    app = m.process("app.exe")
    h1, err1 = run(m, app, create, "Test Event")
    h2, err2 = run(m, app, create, "TEST EVENT")
    assert (err1, err2) == (0, 0)
    assert object_of(app, h1) is not object_of(app, h2)


def test_openevent_in_another_case_is_error_file_not_found():
    m = Machine()
    app = m.process("app.exe")
    run(m, app, create, "Test Event")
    assert run(m, app, open_event, "TEST EVENT", EVENT_ALL_ACCESS) == (None, ERROR_FILE_NOT_FOUND)


def test_kernel_lookup_is_case_sensitive_without_obj_case_insensitive():
    m = Machine()
    assert kcreate(m, r"\BaseNamedObjects\Test")[0] == STATUS_SUCCESS
    assert kopen(m, r"\BaseNamedObjects\TEST") == (STATUS_OBJECT_NAME_NOT_FOUND, None)


def test_obj_case_insensitive_finds_the_name_in_another_case():
    m = Machine()
    _, h1 = kcreate(m, r"\BaseNamedObjects\Test")
    status, h2 = kopen(m, r"\BaseNamedObjects\tEsT", OBJ_CASE_INSENSITIVE)
    assert status == STATUS_SUCCESS
    assert object_of(m.system, h2) is object_of(m.system, h1)


def test_directory_names_are_case_sensitive_too():
    # om.c test_case_sensitive: \BASENamedObjects\test without OBJ_CASE_INSENSITIVE is
    # STATUS_OBJECT_PATH_NOT_FOUND.
    m = Machine()
    assert kcreate(m, r"\BASENamedObjects\test") == (STATUS_OBJECT_PATH_NOT_FOUND, None)


def test_case_insensitive_create_of_an_existing_event_without_openif_is_collision():
    # om.c test_case_sensitive: NtCreateEvent on \BASENamedObjects\test with
    # OBJ_CASE_INSENSITIVE while \BaseNamedObjects\Test is an event.
    m = Machine()
    kcreate(m, r"\BaseNamedObjects\Test")
    assert kcreate(m, r"\BASENamedObjects\test", OBJ_CASE_INSENSITIVE) == \
        (STATUS_OBJECT_NAME_COLLISION, None)


# --- creating a name that exists ---------------------------------------------------------

def test_create_existing_event_with_openif_gives_name_exists_and_a_new_handle():
    m = Machine()
    s1, h1 = kcreate(m, r"\BaseNamedObjects\Twice", OBJ_OPENIF)
    s2, h2 = kcreate(m, r"\BaseNamedObjects\Twice", OBJ_OPENIF)
    assert (s1, s2) == (STATUS_SUCCESS, STATUS_OBJECT_NAME_EXISTS)
    assert h2 is not None and h2 != h1
    assert object_of(m.system, h2) is object_of(m.system, h1)


def test_create_existing_event_with_openif_keeps_its_type_and_state():
    m = Machine()
    kcreate(m, r"\BaseNamedObjects\Kept", OBJ_OPENIF, NotificationEvent, True)
    status, h = kcreate(m, r"\BaseNamedObjects\Kept", OBJ_OPENIF, SynchronizationEvent, False)
    assert status == STATUS_OBJECT_NAME_EXISTS
    # Still a signaled notification event: two polls both succeed, nothing is consumed.
    assert m.kernel.ZwWaitForSingleObject(h, False, 0) == STATUS_SUCCESS
    assert m.kernel.ZwWaitForSingleObject(h, False, 0) == STATUS_SUCCESS


def test_create_existing_event_without_openif_is_name_collision():
    m = Machine()
    kcreate(m, r"\BaseNamedObjects\Once")
    assert kcreate(m, r"\BaseNamedObjects\Once") == (STATUS_OBJECT_NAME_COLLISION, None)


def test_create_event_over_another_type_with_openif_is_type_mismatch():
    # om.c test_name_collisions: NtCreateMutant on "\" (a directory) with OBJ_OPENIF.
    m = Machine()
    assert kcreate(m, r"\BaseNamedObjects", OBJ_OPENIF) == (STATUS_OBJECT_TYPE_MISMATCH, None)


def test_create_event_over_another_type_without_openif_is_type_mismatch():
    # om.c test_case_sensitive: an event over an existing mutant is
    # STATUS_OBJECT_TYPE_MISMATCH on Vista and later (COLLISION only on older Windows).
    m = Machine()
    assert kcreate(m, r"\BaseNamedObjects") == (STATUS_OBJECT_TYPE_MISMATCH, None)


def test_open_event_on_another_type_is_type_mismatch():
    m = Machine()
    assert kopen(m, r"\BaseNamedObjects") == (STATUS_OBJECT_TYPE_MISMATCH, None)


def test_createevent_on_an_existing_name_returns_the_existing_event_with_already_exists():
    def body(api):
        yield api.SetLastError(JUNK)
        h1 = yield api.CreateEvent(None, True, True, "Exists")         # manual, signaled
        e1 = yield api.GetLastError()
        h2 = yield api.CreateEvent(None, False, False, "Exists")       # asks for auto, clear
        e2 = yield api.GetLastError()
        w1 = yield api.WaitForSingleObject(h2, 0)
        w2 = yield api.WaitForSingleObject(h2, 0)
        return h1, e1, h2, e2, w1, w2

    m = Machine()
    app = m.process("app.exe")
    h1, e1, h2, e2, w1, w2 = run(m, app, body)
    assert (h1, e1) == (4, 0)
    assert (h2, e2) == (8, ERROR_ALREADY_EXISTS)
    assert object_of(app, h2) is object_of(app, h1)
    assert (w1, w2) == (WAIT_OBJECT_0, WAIT_OBJECT_0)     # still manual-reset and signaled


def test_createevent_with_a_new_name_sets_last_error_0():
    m = Machine()
    assert run(m, m.process("app.exe"), create, "Fresh") == (4, 0)


def test_createevent_over_another_type_returns_null_with_error_invalid_handle():
    # "Local" in a session directory is a symbolic link to that directory. Opening it as
    # an event follows the link (ReactOS ObpParseSymbolicLink reparses when the caller's
    # type is not the link type), and finds a directory: STATUS_OBJECT_TYPE_MISMATCH,
    # which RtlNtStatusToDosError turns into ERROR_INVALID_HANDLE.
    m = Machine()
    assert run(m, m.process("app.exe"), create, "Local") == (None, ERROR_INVALID_HANDLE)


def test_openevent_on_another_type_is_error_invalid_handle():
    # om.c test_name_limits: an empty name relative to the BaseNamedObjects directory
    # names the directory itself; NtOpenEvent on it is STATUS_OBJECT_TYPE_MISMATCH.
    m = Machine()
    assert run(m, m.process("app.exe"), open_event, "") == (None, ERROR_INVALID_HANDLE)


def test_createevent_with_an_empty_name_makes_an_unnamed_event():
    # om.c test_name_limits: a zero-length name creates an unnamed object.
    m = Machine()
    assert run(m, m.process("app.exe"), create, "") == (4, 0)


# --- lookup errors -------------------------------------------------------------------------

def test_missing_leaf_is_object_name_not_found():
    m = Machine()
    assert kopen(m, r"\BaseNamedObjects\Nobody") == (STATUS_OBJECT_NAME_NOT_FOUND, None)


def test_openevent_missing_leaf_is_error_file_not_found():
    m = Machine()
    assert run(m, m.process("app.exe"), open_event, "Nobody") == (None, ERROR_FILE_NOT_FOUND)


def test_missing_directory_is_object_path_not_found():
    # om.c test_directory: \BasedNamedObjects\Local\... is STATUS_OBJECT_PATH_NOT_FOUND.
    m = Machine()
    assert kopen(m, r"\BasedNamedObjects\X") == (STATUS_OBJECT_PATH_NOT_FOUND, None)
    assert kcreate(m, r"\BasedNamedObjects\X") == (STATUS_OBJECT_PATH_NOT_FOUND, None)


def test_openevent_missing_directory_is_error_path_not_found():
    m = Machine()
    assert run(m, m.process("app.exe"), open_event, "NoDir\\X") == (None, ERROR_PATH_NOT_FOUND)


def test_createevent_missing_directory_is_error_path_not_found():
    m = Machine()
    assert run(m, m.process("app.exe"), create, "NoDir\\X") == (None, ERROR_PATH_NOT_FOUND)


def test_kernel_name_not_starting_with_backslash_is_path_syntax_bad():
    m = Machine()
    assert kopen(m, "BaseNamedObjects\\X") == (STATUS_OBJECT_PATH_SYNTAX_BAD, None)
    assert kcreate(m, "BaseNamedObjects\\X") == (STATUS_OBJECT_PATH_SYNTAX_BAD, None)


def test_empty_component_is_object_name_invalid():
    # om.c test_directory: \BaseNamedObjects\\om.c-test
    m = Machine()
    assert kcreate(m, "\\BaseNamedObjects\\\\X") == (STATUS_OBJECT_NAME_INVALID, None)
    assert kopen(m, "\\BaseNamedObjects\\\\X") == (STATUS_OBJECT_NAME_INVALID, None)


def test_trailing_backslash_is_object_name_invalid():
    # om.c test_directory: \BaseNamedObjects\ (an empty last component)
    m = Machine()
    assert kopen(m, "\\BaseNamedObjects\\") == (STATUS_OBJECT_NAME_INVALID, None)


def test_leading_double_backslash_is_object_name_invalid():
    # om.c test_directory: \\BaseNamedObjects
    m = Machine()
    assert kopen(m, "\\\\BaseNamedObjects") == (STATUS_OBJECT_NAME_INVALID, None)


def test_missing_directory_before_an_empty_component_is_path_not_found():
    # om.c test_directory: \BaseNamedObjects\om.c-test\ with no om.c-test
    m = Machine()
    assert kopen(m, "\\BaseNamedObjects\\NoDir\\") == (STATUS_OBJECT_PATH_NOT_FOUND, None)


def test_win32_empty_component_is_error_invalid_name():
    m = Machine()
    assert run(m, m.process("app.exe"), create, "Global\\\\X") == (None, ERROR_INVALID_NAME)


def test_openevent_without_a_name_is_error_invalid_parameter():
    # sync.c test_event: OpenEventA/W(EVENT_ALL_ACCESS, FALSE, NULL)
    m = Machine()
    assert run(m, m.process("app.exe"), open_event, None, EVENT_ALL_ACCESS) == \
        (None, ERROR_INVALID_PARAMETER)


def test_zwopenevent_without_object_attributes_is_invalid_parameter():
    # om.c test_name_limits: NtOpenEvent(&h, GENERIC_ALL, NULL)
    m = Machine()
    assert m.kernel.ZwOpenEvent(EVENT_ALL_ACCESS, None) == (STATUS_INVALID_PARAMETER, None)


def test_zwopenevent_with_no_name_and_no_root_is_path_syntax_bad():
    # om.c test_name_limits: ObjectName NULL, RootDirectory 0: open is PATH_SYNTAX_BAD
    m = Machine()
    attrs = K.InitializeObjectAttributes(None, 0, None, None)
    assert m.kernel.ZwOpenEvent(EVENT_ALL_ACCESS, attrs) == (STATUS_OBJECT_PATH_SYNTAX_BAD, None)


def test_zwcreateevent_with_no_name_makes_an_unnamed_event():
    m = Machine()
    attrs = K.InitializeObjectAttributes(None, 0, None, None)
    status, h = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attrs, NotificationEvent, False)
    assert status == STATUS_SUCCESS
    assert object_of(m.system, h).header.name in (None, "")


def test_name_of_32767_characters_is_object_name_invalid():
    # om.c test_name_limits: a name of 65534 bytes (32767 UTF-16 units) is
    # STATUS_OBJECT_NAME_INVALID; 65532 bytes (32766 units) is accepted.
    m = Machine()
    prefix = "\\BaseNamedObjects\\"
    too_long = prefix + "a" * (32767 - len(prefix))
    assert kcreate(m, too_long) == (STATUS_OBJECT_NAME_INVALID, None)


def test_name_of_32766_characters_is_accepted():
    m = Machine()
    prefix = "\\BaseNamedObjects\\"
    longest = prefix + "a" * (32766 - len(prefix))
    assert kcreate(m, longest)[0] == STATUS_SUCCESS


def test_kernel_names_may_be_unicode_strings():
    m = Machine()
    status, h = kcreate(m, K.RtlInitUnicodeString(r"\BaseNamedObjects\Counted"))
    assert status == STATUS_SUCCESS
    assert m.objects.lookup(r"\BaseNamedObjects\Counted") is object_of(m.system, h)
