"""The Windows fine points (issue 18): one test per outcome, each naming its source.

Five places where evtsim once followed a reading of the documentation and now follows
what Windows does:

* closing a handle that is not open, or protected, from kernel mode (docs/semantics.md
  section 3): STATUS_INVALID_HANDLE on a normal machine; bug check 0x93 only with a
  kernel debugger in a user process, or for a protected handle;
* how OBJECT_ATTRIBUTES is read, in order (section 3);
* the two Io event calls with every kind of name, NULL included (section 5);
* the two clocks: a positive timeout is a system time, 100 ns since 1601 (section 2);
* Driver Verifier's IRQL rules, with bug check 0xC4's parameter 1, the same way for each
  Ke event routine (section 2).

Sources, as the docstrings name them: Wine's conformance tests, which also run on real
Windows (`dlls/ntdll/tests/om.c` test_name_limits, test_directory, test_name_collisions;
`dlls/ntoskrnl.exe/tests/driver.c` test_sync, test_object_name); ReactOS
`ntoskrnl/ob/obhandle.c` (ObpCloseHandle, ObpCloseHandleTableEntry), `ob/oblife.c`
(ObpCaptureObjectCreateInformation, ObpCaptureObjectName), `ob/obname.c`
(ObpLookupObjectName), `io/iomgr/ioevent.c` (IopCreateEvent), `include/internal/ke_x.h`
(KiComputeDueTime); the Windows 11 close path a System Informer maintainer quoted in
winsiderss/systeminformer#2630; Microsoft's pages ZwClose, Bug Check 0x93, Bug Check 0xC4,
SetHandleInformation, KeWaitForSingleObject, KeQuerySystemTime, KeQueryInterruptTime,
KeSetEvent, KePulseEvent, KeReadStateEvent, KeInitializeEvent and the DDI compliance
rules IrqlKeSetEvent, IrqlKeDispatchLte, IrqlIoPassive4 and IrqlZwPassive.
"""
from __future__ import annotations

import pytest

import evtsim.api.kernel as K
from evtsim import Machine
from evtsim.api.kernel import (APC_LEVEL, CTL_CODE, DISPATCH_LEVEL, FILE_ANY_ACCESS,
                               FILE_DEVICE_UNKNOWN, HIGH_LEVEL, IO_NO_INCREMENT,
                               IRP_MJ_DEVICE_CONTROL, METHOD_BUFFERED, Executive, KernelMode,
                               NotificationEvent, SynchronizationEvent, WaitAny)
from evtsim.status import (ERROR_INVALID_HANDLE, EVENT_ALL_ACCESS, HANDLE_FLAG_INHERIT,
                           HANDLE_FLAG_PROTECT_FROM_CLOSE, INVALID_KERNEL_HANDLE,
                           OBJ_KERNEL_HANDLE, OBJ_OPENIF, STATUS_INVALID_HANDLE,
                           STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_INVALID,
                           STATUS_OBJECT_PATH_SYNTAX_BAD,
                           STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, STATUS_TIMEOUT)
from evtsim.units import BOOT_SYSTEM_TIME

KERNEL_BITS = 0xFFFFFFFF80000000
NOT_OPEN = KERNEL_BITS | 0xFF0               # a kernel handle value nobody was given
BAD_ROOT = 0xDEADBEEF                        # om.c's root handle that is not open
NT_CURRENT_PROCESS, NT_CURRENT_THREAD = -1, -2
CODE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
MS = 10_000                                  # 100 ns units per millisecond
SECOND = 10_000_000
BNO = r"\BaseNamedObjects"


# --- helpers ---------------------------------------------------------------------------

def in_system(m, body, *args):
    """Run `body(k, *args)` as a System thread; return (thread, run result)."""
    t = m.system.start(body, *args, name="driver")
    return t, m.run()


def load_runner(m):
    """A driver whose IOCTL routine runs the generator function the app sends,
    `body(k)`, in the app's thread and process, and hands back what it returns."""
    def on_ioctl(k, device, irp):
        irp.OutputBuffer = yield from irp.InputBuffer(k)
        irp.IoStatus.Status = STATUS_SUCCESS
        yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
        return STATUS_SUCCESS

    def driver_entry(k, driver):
        status, dev = yield k.IoCreateDevice(driver, r"\Device\Runner")
        yield k.IoCreateSymbolicLink(r"\??\Runner", r"\Device\Runner")
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = on_ioctl
        return status
    return m.driver("runner.sys", driver_entry)


def in_dispatch(m, body, prepare=None):
    """An app (after `prepare(api)`, a generator function, if given) sends the driver
    code `body(k)` in an IOCTL, and the dispatch routine runs it in the app's thread.
    Returns (app thread, run result); the thread's result is what `body` returned."""
    load_runner(m)

    def app(api):
        device = yield api.CreateFile(r"\\.\Runner")
        if prepare is not None:
            yield from prepare(api)
        ok, out = yield api.DeviceIoControl(device, CODE, body)
        return out
    t = m.process("app.exe").start(app, name="app")
    return t, m.run()


def kernel_event(k):
    """ZwCreateEvent of an unnamed event with a kernel handle: (status, handle)."""
    return k.ZwCreateEvent(EVENT_ALL_ACCESS, K.InitializeObjectAttributes(
        None, OBJ_KERNEL_HANDLE, None, None), NotificationEvent, False)


def at_irql(m, irql, call):
    """A System thread raises the IRQL to `irql`, makes `call(k)` and lowers it again."""
    def body(k):
        old = yield k.KeRaiseIrql(irql)
        result = yield call(k)
        yield k.KeLowerIrql(old)
        return result
    return in_system(m, body)


def stop_of(m):
    """(code, parameter 1) of the machine's bug check."""
    assert m.bugcheck is not None, "the machine did not stop"
    return m.bugcheck.code, m.bugcheck.parameters[0]


def attributes(name=None, flags=0, root=None):
    return K.InitializeObjectAttributes(name, flags, root, None)


def ucs(text, length=None):
    """A UNICODE_STRING for `text`, with its Length set by hand if `length` is given."""
    name = K.RtlInitUnicodeString(text)
    if length is not None:
        name.Length = length
    return name


def kcreate(m, oa):
    return m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, oa, NotificationEvent, False)[0]


def kopen(m, oa):
    return m.kernel.ZwOpenEvent(EVENT_ALL_ACCESS, oa)[0]


# --- 1. closing a bad handle from kernel mode (docs/semantics.md section 3) ---------------

def test_zwclose_of_a_kernel_handle_never_opened_returns_invalid_handle():
    """A System thread closes a kernel handle value nobody was given: STATUS_INVALID_HANDLE
    and no bug check (ReactOS ob/obhandle.c ObpCloseHandle; MS ZwClose)."""
    m = Machine()

    def body(k):
        return (yield k.ZwClose(NOT_OPEN))
    t, r = in_system(m, body)
    assert (r.reason, t.result, m.bugcheck) == ("done", STATUS_INVALID_HANDLE, None)


def test_zwclose_twice_in_a_dispatch_routine_returns_invalid_handle_without_a_debugger():
    """In the app's context, no kernel debugger: the second close is STATUS_INVALID_HANDLE
    (ReactOS ObpCloseHandle; systeminformer#2630: the 0x93 there needs KdDebuggerEnabled)."""
    def body(k):
        status, kh = yield kernel_event(k)
        return (yield k.ZwClose(kh)), (yield k.ZwClose(kh))

    m = Machine()
    t, r = in_dispatch(m, body)
    assert (r.reason, m.bugcheck) == ("done", None)
    assert t.result == (STATUS_SUCCESS, STATUS_INVALID_HANDLE)


def test_zwclose_twice_in_a_dispatch_routine_with_a_kernel_debugger_is_0x93_with_1():
    """Kernel debugger attached, kernel mode, a user process's context (it has a PEB), a
    thread that is not ending: bug check 0x93 (handle, 1, 0, 0), the handle without its
    kernel bits (ReactOS ObpCloseHandle; systeminformer#2630; MS Bug Check 0x93)."""
    seen = {}

    def body(k):
        status, kh = yield kernel_event(k)
        seen["handle"] = kh
        yield k.ZwClose(kh)
        yield k.ZwClose(kh)

    m = Machine(kernel_debugger=True)
    t, r = in_dispatch(m, body)
    assert r.reason == "bugcheck" and m.bugcheck.code == INVALID_KERNEL_HANDLE
    assert m.bugcheck.parameters == (seen["handle"] & ~KERNEL_BITS, 1, 0, 0)
    assert m.bugcheck.process == "app.exe"


def test_with_a_kernel_debugger_a_system_thread_still_gets_invalid_handle():
    """The System process has no PEB, so even with a debugger a bad close there returns
    STATUS_INVALID_HANDLE (ReactOS ObpCloseHandle: the `Peb` test)."""
    m = Machine(kernel_debugger=True)

    def body(k):
        status, kh = yield kernel_event(k)
        return (yield k.ZwClose(kh)), (yield k.ZwClose(kh)), (yield k.ZwClose(NOT_OPEN))
    t, r = in_system(m, body)
    assert (r.reason, m.bugcheck) == ("done", None)
    assert t.result == (STATUS_SUCCESS, STATUS_INVALID_HANDLE, STATUS_INVALID_HANDLE)


def test_with_a_kernel_debugger_a_thread_attached_to_the_app_gets_0x93():
    """Attached to a user process, a System thread runs in that process's context, which
    has a PEB: with a debugger the bad close stops (ReactOS ObpCloseHandle reads the
    current, attached, process)."""
    m = Machine(kernel_debugger=True)
    app = m.process("app.exe")

    def body(k):
        yield k.KeStackAttachProcess(app)
        yield k.ZwClose(NOT_OPEN)
    t, r = in_system(m, body)
    assert r.reason == "bugcheck"
    assert m.bugcheck.parameters == (NOT_OPEN & ~KERNEL_BITS, 1, 0, 0)


def test_zwclose_of_a_handle_value_handed_out_again_closes_the_new_owners_handle():
    """A freed value is reused first, so a late second close succeeds and closes
    somebody else's handle: this is why a double close is dangerous (ReactOS
    ExDestroyHandle reuse; docs/semantics.md section 3, handle values)."""
    m = Machine()

    def body(k):
        _, first = yield kernel_event(k)
        yield k.ZwClose(first)
        _, second = yield kernel_event(k)                  # the same value again
        late = yield k.ZwClose(first)                      # the driver's bug
        gone, _ = yield k.ZwSetEvent(second)
        return first == second, late, gone
    t, r = in_system(m, body)
    assert t.result == (True, STATUS_SUCCESS, STATUS_INVALID_HANDLE)


def test_zwclose_of_the_apps_own_handle_in_its_dispatch_routine_succeeds():
    """Kernel mode may close a handle of the current process (MS ZwClose: a non-kernel
    handle can be closed when the previous mode is KernelMode); the app then finds it gone."""
    seen = {}

    def prepare(api):
        seen["h"] = yield api.CreateEvent(None, True, False, None)

    def body(k):
        return (yield k.ZwClose(seen["h"]))

    m = Machine()
    t, r = in_dispatch(m, body, prepare)
    assert (t.result, m.bugcheck) == (STATUS_SUCCESS, None)
    assert t.process.handles.get(seen["h"]) is None


def test_zwclose_of_null_and_pseudo_handles_never_stops_even_with_a_debugger():
    """NULL, NtCurrentProcess() and NtCurrentThread() are left out of the bug check test
    (ReactOS ObpCloseHandle; the `Handle + 6 > 6`-style test of systeminformer#2630):
    STATUS_INVALID_HANDLE, in a user process's context with a debugger."""
    def body(k):
        results = []
        for h in (None, 0, NT_CURRENT_PROCESS, NT_CURRENT_THREAD):
            results.append((yield k.ZwClose(h)))
        return results

    m = Machine(kernel_debugger=True)
    t, r = in_dispatch(m, body)
    assert (r.reason, m.bugcheck) == ("done", None)
    assert t.result == [STATUS_INVALID_HANDLE] * 4


def protect(api, h, on=True):
    """SetHandleInformation(h, HANDLE_FLAG_PROTECT_FROM_CLOSE, on or off)."""
    return api.SetHandleInformation(h, HANDLE_FLAG_PROTECT_FROM_CLOSE,
                                    HANDLE_FLAG_PROTECT_FROM_CLOSE if on else 0)


def test_zwclose_of_a_protected_handle_is_always_0x93_with_0():
    """Closing a handle protected from close in kernel mode is bug check 0x93 with
    parameter 2 = 0, with no debugger needed (ReactOS ObpCloseHandleTableEntry; MS Bug
    Check 0x93: "a protected handle was closed"; OSR thread 249508's dump {304, 0, 0, 0})."""
    seen = {}

    def prepare(api):
        seen["h"] = yield api.CreateEvent(None, True, False, None)
        seen["set"] = yield protect(api, seen["h"])

    def body(k):
        yield k.ZwClose(seen["h"])

    m = Machine()
    t, r = in_dispatch(m, body, prepare)
    assert seen["set"] is True
    assert r.reason == "bugcheck" and m.bugcheck.code == INVALID_KERNEL_HANDLE
    assert m.bugcheck.parameters == (seen["h"], 0, 0, 0)


def test_closehandle_of_a_protected_handle_fails_and_the_handle_stays_open():
    """From user mode the close fails with STATUS_HANDLE_NOT_CLOSABLE, which Win32 reads as
    ERROR_INVALID_HANDLE, and the handle still works; cleared, it closes (ReactOS
    ObpCloseHandleTableEntry; MS SetHandleInformation, GetHandleInformation)."""
    def app(api):
        h = yield api.CreateEvent(None, True, False, None)
        yield protect(api, h)
        flags = yield api.GetHandleInformation(h)
        closed = yield api.CloseHandle(h)
        error = yield api.GetLastError()
        still = yield api.SetEvent(h)
        yield protect(api, h, on=False)
        return flags, closed, error, still, (yield api.CloseHandle(h))

    m = Machine()
    t = m.process("app.exe").start(app)
    m.run()
    assert t.result == ((True, HANDLE_FLAG_PROTECT_FROM_CLOSE), False, ERROR_INVALID_HANDLE,
                        True, True)


def test_sethandleinformation_sets_and_clears_only_the_masked_flags():
    """dwMask picks the flags to change, dwFlags their new values (MS SetHandleInformation)."""
    def app(api):
        h = yield api.CreateEvent(None, True, False, None)
        yield api.SetHandleInformation(h, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE,
                                       HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE)
        both = yield api.GetHandleInformation(h)
        yield api.SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0)
        one = yield api.GetHandleInformation(h)
        bad = yield api.SetHandleInformation(0x7FC, HANDLE_FLAG_INHERIT, 0)
        return both, one, bad, (yield api.GetLastError())

    m = Machine()
    t = m.process("app.exe").start(app)
    m.run()
    assert t.result == ((True, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE),
                        (True, HANDLE_FLAG_PROTECT_FROM_CLOSE), False, ERROR_INVALID_HANDLE)


def test_process_exit_closes_a_protected_handle_without_a_bug_check():
    """Rundown closes every handle whatever its protection (ReactOS ObpCloseHandleTableEntry
    with IgnoreHandleProtection; the thread-terminating test of ObpCloseHandle)."""
    def app(api):
        h = yield api.CreateEvent(None, True, False, "Kept")
        yield protect(api, h)
        yield api.ExitProcess(0)

    m = Machine()
    app_process = m.process("app.exe")
    app_process.start(app)
    r = m.run()
    assert (r.reason, m.bugcheck) == ("done", None)
    assert len(app_process.handles) == 0
    assert m.objects.lookup(r"\Sessions\1\BaseNamedObjects\Kept") is None


def test_zwclose_above_passive_level_is_0xc4_rule_irqlzwpassive():
    """ZwClose needs PASSIVE_LEVEL; Verifier's DDI rule IrqlZwPassive is 0xC4 with
    parameter 1 0x0002001F, parameter 2 the rule's text (MS Bug Check 0xC4, IrqlZwPassive)."""
    m = Machine()
    at_irql(m, APC_LEVEL, lambda k: k.ZwClose(NOT_OPEN))
    assert stop_of(m) == (0xC4, 0x0002001F)
    assert "IrqlZwPassive" in m.bugcheck.parameters[1]


# --- 2. how OBJECT_ATTRIBUTES is read (docs/semantics.md section 3) ------------------------

def test_no_object_attributes_open_is_invalid_parameter_and_create_is_unnamed():
    """om.c test_name_limits: NtOpenEvent(..., NULL) is STATUS_INVALID_PARAMETER;
    NtCreateEvent(..., NULL) succeeds with an unnamed event."""
    m = Machine()
    assert m.kernel.ZwOpenEvent(EVENT_ALL_ACCESS, None) == (STATUS_INVALID_PARAMETER, None)
    status, h = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, None, NotificationEvent, False)
    assert status == STATUS_SUCCESS
    assert m.system.handles.get(h).object.header.name is None


@pytest.mark.parametrize("length", [0, 24, 47, 49, 96])
def test_a_wrong_object_attributes_length_is_invalid_parameter(length):
    """om.c test_name_limits loops Length over 0 .. 2 * sizeof: every wrong one is
    STATUS_INVALID_PARAMETER, for a create and an open, with a good name."""
    m = Machine()
    kcreate(m, attributes(BNO + r"\Sized"))                        # the name exists
    oa = attributes(BNO + r"\Sized")
    oa.Length = length
    assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_INVALID_PARAMETER,) * 2


def test_an_attribute_bit_outside_obj_valid_attributes_is_invalid_parameter():
    """ReactOS ob/oblife.c refuses `Attributes & ~OBJ_VALID_KERNEL_ATTRIBUTES` with
    STATUS_INVALID_PARAMETER; 0x1 is such a bit. (ReactOS only: no test on Windows.)"""
    m = Machine()
    oa = attributes(BNO + r"\Flagged", 0x1)
    assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_INVALID_PARAMETER,) * 2
    assert m.objects.lookup(BNO + r"\Flagged") is None


def test_an_odd_name_length_is_name_invalid_before_a_bad_root_is_looked_at():
    """om.c test_name_limits: a name Length of 67 bytes with RootDirectory 0xdeadbeef is
    STATUS_OBJECT_NAME_INVALID, not STATUS_INVALID_HANDLE, for a create and an open."""
    m = Machine()
    oa = attributes(ucs("x" * 40, length=67), 0, BAD_ROOT)
    assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_OBJECT_NAME_INVALID,) * 2


def test_a_name_of_65534_bytes_is_name_invalid_and_65532_bytes_is_taken():
    """om.c test_name_limits: Length 65534 fails, 65532 (32766 characters) succeeds."""
    m = Machine()
    prefix = BNO + "\\"
    assert kcreate(m, attributes(ucs(prefix + "a" * (32767 - len(prefix))))) == \
        STATUS_OBJECT_NAME_INVALID
    assert kcreate(m, attributes(ucs(prefix + "a" * (32766 - len(prefix))))) == STATUS_SUCCESS


@pytest.mark.parametrize("root", ["directory", BAD_ROOT], ids=["directory", "bad_handle"])
def test_no_name_with_a_root_directory_is_name_invalid(root):
    """om.c test_name_limits (NULL name, root 0xdeadbeef) and test_directory (NULL name, a
    good directory): STATUS_OBJECT_NAME_INVALID, for a create and an open."""
    m = Machine()
    root = m.objects.directory_at(BNO) if root == "directory" else root
    oa = attributes(None, 0, root)
    assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_OBJECT_NAME_INVALID,) * 2


def test_a_create_with_an_empty_name_never_looks_at_the_root():
    """om.c test_name_limits: Length 0 with RootDirectory 0xdeadbeef, NtCreateEvent
    succeeds and the event is unnamed; the open looks the bad root up first."""
    m = Machine()
    oa = attributes(ucs(""), 0, BAD_ROOT)
    status, h = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, oa, NotificationEvent, False)
    assert status == STATUS_SUCCESS and m.system.handles.get(h).object.header.name is None
    assert kopen(m, oa) == STATUS_INVALID_HANDLE


def test_without_a_root_an_empty_or_relative_name_is_path_syntax_bad():
    """om.c test_name_limits (open with L"") and test_directory (BaseNamedObjects with no
    leading backslash): STATUS_OBJECT_PATH_SYNTAX_BAD."""
    m = Machine()
    assert kopen(m, attributes(ucs(""))) == STATUS_OBJECT_PATH_SYNTAX_BAD
    assert kopen(m, attributes("BaseNamedObjects\\X")) == STATUS_OBJECT_PATH_SYNTAX_BAD
    assert kcreate(m, attributes("BaseNamedObjects\\X")) == STATUS_OBJECT_PATH_SYNTAX_BAD


def test_an_open_with_an_empty_name_under_a_directory_names_the_directory():
    """om.c test_name_limits: NtOpenEvent with the BaseNamedObjects directory as root and
    Length 0 is STATUS_OBJECT_TYPE_MISMATCH: the name is the directory, not an event."""
    m = Machine()
    assert kopen(m, attributes(ucs(""), 0, m.objects.directory_at(BNO))) == \
        STATUS_OBJECT_TYPE_MISMATCH


def test_under_a_root_a_name_starting_with_a_backslash_is_path_syntax_bad():
    """om.c test_directory: root \\BaseNamedObjects and the names `\\`, `\\om.c-test`:
    STATUS_OBJECT_PATH_SYNTAX_BAD. ReactOS ObpLookupObjectName checks this before the
    root's type, so an event as the root gives the same."""
    m = Machine()
    _, event = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                      NotificationEvent, False)
    for root in (m.objects.directory_at(BNO), event):
        for name in ("\\", "\\X"):
            oa = attributes(name, 0, root)
            assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_OBJECT_PATH_SYNTAX_BAD,) * 2


def test_a_root_handle_that_is_not_open_is_invalid_handle():
    """ReactOS ObpLookupObjectName references the root first: a handle that is not open is
    STATUS_INVALID_HANDLE (Wine shows the same for pipes and keys with root 0xdeadbeef)."""
    m = Machine()
    oa = attributes("X", 0, BAD_ROOT)
    assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_INVALID_HANDLE,) * 2


def test_an_event_as_the_root_is_type_mismatch():
    """om.c test_name_limits, attr3 (the event itself as root): STATUS_OBJECT_TYPE_MISMATCH
    on Windows 7 and later (before: STATUS_INVALID_HANDLE, as ReactOS still gives)."""
    m = Machine()
    _, event = m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, attributes(None, OBJ_KERNEL_HANDLE),
                                      NotificationEvent, False)
    for name in ("X", ucs("")):
        oa = attributes(name, 0, event)
        assert kopen(m, oa) == STATUS_OBJECT_TYPE_MISMATCH
    assert kcreate(m, attributes("X", 0, event)) == STATUS_OBJECT_TYPE_MISMATCH


def test_a_symbolic_link_as_the_root_is_type_mismatch():
    """om.c test_directory ("Can't use symlinks as a directory") and test_name_limits with
    \\BaseNamedObjects\\Local as root: STATUS_OBJECT_TYPE_MISMATCH for a create and an open."""
    m = Machine()
    local = m.objects.lookup(BNO).entries["Local"]
    oa = attributes("X", 0, local)
    assert (kcreate(m, oa), kopen(m, oa)) == (STATUS_OBJECT_TYPE_MISMATCH,) * 2


def test_an_event_in_the_middle_of_a_path_is_type_mismatch():
    """ReactOS ObpLookupObjectName: an object with no parse routine before the last part
    is STATUS_OBJECT_TYPE_MISMATCH. (ReactOS only: no test on Windows has this case.)"""
    m = Machine()
    assert kcreate(m, attributes(BNO + r"\Ev")) == STATUS_SUCCESS
    assert kopen(m, attributes(BNO + r"\Ev\X")) == STATUS_OBJECT_TYPE_MISMATCH
    assert kcreate(m, attributes(BNO + r"\Ev\X")) == STATUS_OBJECT_TYPE_MISMATCH


def test_creating_the_root_directorys_name_with_openif_is_type_mismatch():
    """om.c test_name_collisions: NtCreateMutant on `\\` with OBJ_OPENIF is
    STATUS_OBJECT_TYPE_MISMATCH (the name is the root directory)."""
    m = Machine()
    assert kcreate(m, attributes("\\", OBJ_OPENIF)) == STATUS_OBJECT_TYPE_MISMATCH


# --- 3. the Io event calls and every kind of name (docs/semantics.md section 5) -----------

IO_CALLS = pytest.mark.parametrize("io_call", ["IoCreateNotificationEvent",
                                               "IoCreateSynchronizationEvent"])


def poll(k, ev):
    return k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)


@IO_CALLS
@pytest.mark.parametrize("name", [None, "", "empty UNICODE_STRING"])
def test_io_create_with_no_name_makes_a_new_unnamed_signaled_event(io_call, name):
    """Wine driver.c test_sync and test_object_name (run on Windows) call
    IoCreateSynchronizationEvent(NULL, &handle): a new event, signaled (the first zero
    wait succeeds), with an empty name, and ZwClose of its handle succeeds. An empty
    UNICODE_STRING is captured as no name (ReactOS ObpCaptureObjectName)."""
    event_name = ucs("") if name == "empty UNICODE_STRING" else name

    def body(k):
        ev, h = yield getattr(k, io_call)(event_name)
        again, h2 = yield getattr(k, io_call)(event_name)
        return (ev.header.name, h & KERNEL_BITS == KERNEL_BITS, again is not ev,
                (yield poll(k, ev)), (yield poll(k, ev)), (yield k.ZwClose(h)),
                (yield k.ZwClose(h2)))

    m = Machine()
    t, r = in_system(m, body)
    second = STATUS_TIMEOUT if io_call == "IoCreateSynchronizationEvent" else STATUS_SUCCESS
    assert t.result == (None, True, True, STATUS_SUCCESS, second, STATUS_SUCCESS,
                        STATUS_SUCCESS)


@IO_CALLS
@pytest.mark.parametrize("name", ["MyEvent", "BaseNamedObjects\\MyEvent",
                                  r"\NoSuchDir\X", BNO + r"\Missing\X", BNO + "\\",
                                  "\\\\X", BNO, "\\"])
def test_io_create_with_a_name_windows_refuses_returns_none_none(io_call, name):
    """IopCreateEvent (ReactOS io/iomgr/ioevent.c) is ZwCreateEvent with no root, so a
    relative name is PATH_SYNTAX_BAD, a missing directory PATH_NOT_FOUND, an empty part
    NAME_INVALID, and a directory's own name TYPE_MISMATCH (om.c test_directory,
    test_name_collisions); any failure gives NULL and no handle."""
    m = Machine()
    handles = len(m.system.handles)
    assert getattr(m.kernel, io_call)(name) == (None, None)
    assert len(m.system.handles) == handles


@IO_CALLS
def test_io_create_with_an_odd_length_unicode_string_returns_none_none(io_call):
    """An odd Length is STATUS_OBJECT_NAME_INVALID at capture (ReactOS ObpCaptureObjectName;
    om.c test_name_limits), so the Io call returns NULL."""
    m = Machine()
    assert getattr(m.kernel, io_call)(ucs(BNO + r"\Odd", length=33)) == (None, None)


@IO_CALLS
def test_io_create_above_passive_level_is_0xc4_rule_irqliopassive4(io_call):
    """Both Io calls need PASSIVE_LEVEL: DDI rule IrqlIoPassive4, 0xC4 with parameter 1
    0x0002000D (MS IoCreateNotificationEvent, IoCreateSynchronizationEvent, Bug Check 0xC4)."""
    m = Machine()
    at_irql(m, APC_LEVEL, lambda k: getattr(k, io_call)(BNO + r"\Late"))
    assert stop_of(m) == (0xC4, 0x0002000D)
    assert "IrqlIoPassive4" in m.bugcheck.parameters[1]


# --- 4. the two clocks (docs/semantics.md section 2) ----------------------------------------

def test_the_machine_boots_at_2026_with_interrupt_time_0():
    """System time counts 100 ns units since 1601-01-01 UTC (MS KeQuerySystemTime); the
    interrupt time counts from 0 at boot (MS KeQueryInterruptTime). 2026-01-01 00:00 UTC
    is 134,116,992,000,000,000 such units."""
    import datetime as dt
    since_1601 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) - dt.datetime(
        1601, 1, 1, tzinfo=dt.timezone.utc)
    assert BOOT_SYSTEM_TIME == since_1601 // dt.timedelta(microseconds=1) * 10
    m = Machine()
    assert (m.kernel.KeQuerySystemTime(), m.kernel.KeQueryInterruptTime()) == \
        (BOOT_SYSTEM_TIME, 0)


def test_both_clocks_move_together_and_keep_their_distance():
    """Nobody sets the clock, so system time - interrupt time stays the boot instant while
    steps and timeouts move both (MS KeQueryInterruptTime: setting the system time does
    not change it; evtsim never sets it, docs/semantics.md section 10)."""
    def body(k):
        seen = []
        for _ in range(3):
            seen.append(((yield k.KeQuerySystemTime()), (yield k.KeQueryInterruptTime())))
            yield k.KeDelayExecutionThread(KernelMode, False, -5 * MS)
        return seen

    m = Machine()
    t, r = in_system(m, body)
    # each read is a step of its own, so the pairs are read 1 step (10 units) apart
    assert [s - i for s, i in t.result] == [BOOT_SYSTEM_TIME - m.step_time] * 3
    assert t.result[-1][1] >= 10 * MS > t.result[0][1]


def test_a_positive_timeout_of_one_second_is_in_1601_and_times_out_at_once():
    """+10,000,000 is the absolute time 1601-01-01 00:00:01, long past: the wait checks the
    object, then returns STATUS_TIMEOUT without blocking (MS KeWaitForSingleObject; ReactOS
    KiComputeDueTime). On a signaled event the object wins."""
    m = Machine()
    closed = m.kernel.KeInitializeEvent(NotificationEvent, False)
    open_ = m.kernel.KeInitializeEvent(NotificationEvent, True)

    def body(k):
        first = yield k.KeWaitForSingleObject(closed, Executive, KernelMode, False, SECOND)
        second = yield k.KeWaitForSingleObject(open_, Executive, KernelMode, False, SECOND)
        slept = yield k.KeDelayExecutionThread(KernelMode, False, SECOND)
        return [first, second, slept]
    t, r = in_system(m, body)
    assert t.result == [STATUS_TIMEOUT, STATUS_SUCCESS, STATUS_SUCCESS]
    assert m.time < 1 * MS
    assert not [row for row in m.trace if row.op == "Timeout"]     # nothing ever blocked


def test_system_time_plus_one_second_and_minus_one_second_both_wait_one_second():
    """`KeQuerySystemTime() + 10_000_000` (absolute) and `-10_000_000` (relative) both end
    one second later (MS KeWaitForSingleObject)."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def body(k):
        ends = []
        now = yield k.KeQuerySystemTime()
        for timeout in (now + SECOND, -SECOND):
            start = yield k.KeQueryInterruptTime()
            status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, timeout)
            ends.append((status, (yield k.KeQueryInterruptTime()) - start))
        return ends
    t, r = in_system(m, body)
    for status, took in t.result:
        assert status == STATUS_TIMEOUT and SECOND <= took <= SECOND + 100


def test_a_timer_due_time_is_read_as_system_time_too():
    """KeSetTimer's positive DueTime is an absolute system time (MS KeSetTimer): the system
    time + 5 ms fires 5 ms later; +10,000,000 (in 1601) fires at once."""
    m = Machine()

    def body(k):
        late = yield k.KeInitializeTimer("late")
        past = yield k.KeInitializeTimer("past")
        now = yield k.KeQuerySystemTime()
        yield k.KeSetTimer(late, now + 5 * MS)
        yield k.KeSetTimer(past, SECOND)
        first = yield k.KeWaitForMultipleObjects(2, [late, past], WaitAny, Executive,
                                                 KernelMode, False, None)
        at_first = yield k.KeQueryInterruptTime()
        yield k.KeWaitForSingleObject(late, Executive, KernelMode, False, None)
        return first, at_first, (yield k.KeQueryInterruptTime())
    t, r = in_system(m, body)
    first, at_first, at_late = t.result
    assert first == 1 and at_first < 1 * MS                        # "past", at once
    assert 5 * MS <= at_late <= 5 * MS + 100


# --- 5. Driver Verifier's IRQL rules (docs/semantics.md section 2) --------------------------

def test_kesetevent_above_dispatch_level_is_0xc4_0x80_with_the_irql_and_the_event():
    """MS Bug Check 0xC4: 0x80, "KeSetEvent with IRQL > DISPATCH_LEVEL", parameter 2 the
    IRQL, parameter 3 the event (evtsim passes the event itself for its address)."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    at_irql(m, HIGH_LEVEL, lambda k: k.KeSetEvent(ev, 0, False))
    assert m.bugcheck.code == 0xC4
    assert m.bugcheck.parameters == (0x80, HIGH_LEVEL, ev, 0)


def test_kesetevent_wait_true_above_apc_level_is_0xc4_rule_irqlkesetevent():
    """DDI rule IrqlKeSetEvent (0x00020016): Wait=TRUE only at IRQL <= APC_LEVEL (MS
    KeSetEvent, Bug Check 0xC4)."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    at_irql(m, DISPATCH_LEVEL, lambda k: k.KeSetEvent(ev, 0, True))
    assert stop_of(m) == (0xC4, 0x00020016)
    assert "IrqlKeSetEvent" in m.bugcheck.parameters[1]


@pytest.mark.parametrize("routine", ["KeResetEvent", "KeClearEvent", "KePulseEvent",
                                     "KeReadStateEvent"])
def test_the_other_ke_event_routines_above_dispatch_level_are_0xc4_irqlkedispatchlte(routine):
    """Each page says IRQL <= DISPATCH_LEVEL and names DDI rule IrqlKeDispatchLte
    (0x00020011): the same stop for each (MS KeResetEvent, KeClearEvent, KePulseEvent,
    KeReadStateEvent, Bug Check 0xC4)."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    at_irql(m, HIGH_LEVEL, lambda k: getattr(k, routine)(ev))
    assert stop_of(m) == (0xC4, 0x00020011)
    assert m.bugcheck.thread == "driver" and routine in m.bugcheck.rule


@pytest.mark.parametrize("routine", ["KeResetEvent", "KeClearEvent", "KePulseEvent",
                                     "KeReadStateEvent", "KeSetEvent"])
def test_every_ke_event_routine_works_at_dispatch_level(routine):
    """DISPATCH_LEVEL is allowed for each of them (MS pages: IRQL <= DISPATCH_LEVEL)."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t, r = at_irql(m, DISPATCH_LEVEL, lambda k: getattr(k, routine)(ev))
    assert (r.reason, m.bugcheck) == ("done", None)


def test_keinitializeevent_works_at_any_irql():
    """MS KeInitializeEvent: "IRQL Any level"; no Verifier rule covers it."""
    m = Machine()
    t, r = at_irql(m, HIGH_LEVEL, lambda k: k.KeInitializeEvent(SynchronizationEvent, True))
    assert (r.reason, m.bugcheck) == ("done", None)
    assert t.result.SignalState == 1


WAITS = {
    "single": lambda ev, timeout: lambda k: k.KeWaitForSingleObject(
        ev, Executive, KernelMode, False, timeout),
    "multiple": lambda ev, timeout: lambda k: k.KeWaitForMultipleObjects(
        1, [ev], WaitAny, Executive, KernelMode, False, timeout),
}


@pytest.mark.parametrize("kind", sorted(WAITS))
@pytest.mark.parametrize("irql,timeout,code", [
    (DISPATCH_LEVEL, None, 0x121), (DISPATCH_LEVEL, -1 * MS, 0x122),
    (HIGH_LEVEL, 0, 0x120), (HIGH_LEVEL, None, 0x120)],
    ids=["dispatch-forever", "dispatch-timed", "high-poll", "high-forever"])
def test_a_ke_wait_that_breaks_its_irql_rule_is_0xc4_0x120_0x121_or_0x122(kind, irql,
                                                                          timeout, code):
    """MS Bug Check 0xC4 (Windows 7 and later): 0x120 a wait above DISPATCH_LEVEL, 0x121 at
    DISPATCH_LEVEL with no timeout, 0x122 at DISPATCH_LEVEL with a non-zero timeout; the
    same for KeWaitForSingleObject and KeWaitForMultipleObjects. Parameters 2 to 4: the
    IRQL, the object(s), the timeout. A signaled object does not help: the check is first."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, True)
    at_irql(m, irql, WAITS[kind](ev, timeout))
    assert stop_of(m) == (0xC4, code)
    assert m.bugcheck.parameters[1] == irql and m.bugcheck.parameters[3] == timeout


@pytest.mark.parametrize("kind", sorted(WAITS))
def test_a_zero_timeout_wait_at_dispatch_level_is_allowed(kind):
    """MS KeWaitForSingleObject: at DISPATCH_LEVEL a zero timeout is allowed."""
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False)
    t, r = at_irql(m, DISPATCH_LEVEL, WAITS[kind](ev, 0))
    assert (r.reason, t.result) == ("done", STATUS_TIMEOUT)


def test_kepulseevent_wait_true_at_dispatch_level_needs_a_zero_timeout_wait_next():
    """MS KePulseEvent: Wait=TRUE is allowed up to DISPATCH_LEVEL, and then the KeWaitXxx
    that follows must have a zero timeout; Verifier checks KePulseEvent against
    DISPATCH_LEVEL only (IrqlKeDispatchLte). The wait's rule uses the caller's own IRQL."""
    def pulse_then_wait(timeout):
        m = Machine()
        ev = m.kernel.KeInitializeEvent(NotificationEvent, False)

        def body(k):
            old = yield k.KeRaiseIrql(DISPATCH_LEVEL)
            yield k.KePulseEvent(ev, 0, True)
            status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, timeout)
            yield k.KeLowerIrql(old)
            return status
        t, r = in_system(m, body)
        return t, m

    t, m = pulse_then_wait(0)
    assert (m.bugcheck, t.result) == (None, STATUS_TIMEOUT)
    t, m = pulse_then_wait(-1 * MS)
    assert stop_of(m) == (0xC4, 0x122)


def test_a_0xc4_that_no_source_gives_a_code_for_has_no_parameters():
    """KeDelayExecutionThread above APC_LEVEL stops with 0xC4, but no Microsoft page gives
    its parameter 1, so evtsim gives none (docs/semantics.md section 2)."""
    m = Machine()
    at_irql(m, DISPATCH_LEVEL, lambda k: k.KeDelayExecutionThread(KernelMode, False, -MS))
    assert m.bugcheck.code == 0xC4 and m.bugcheck.parameters is None
