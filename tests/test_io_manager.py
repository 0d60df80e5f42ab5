"""The I/O manager (issue 4): drivers, devices, IRPs, work items, DPCs and process exit.

Each test is one rule of docs/semantics.md sections 6 and 7 and of the "Drivers and IOCTLs"
contract of DESIGN.md section 3, with exact values. The facts were checked against
Microsoft's WDM pages (IoCompleteRequest, IoMarkIrpPending, IRP_MJ_CLEANUP,
KeInsertQueueDpc, ObReferenceObjectByHandle, bug checks 0x44, 0xB8, 0x1E and 0xC9 with
its I/O Verification error table) and ReactOS `ntoskrnl/io/iomgr` (IofCompleteRequest
stops with MULTIPLE_IRP_COMPLETE_REQUESTS when an IRP is completed again).

Where evtsim and Windows differ the test follows Windows, so it fails until evtsim does.
"""
from __future__ import annotations

import pytest

from evtsim import EvtsimError, Machine
from evtsim.api.kernel import (CTL_CODE, DISPATCH_LEVEL, FILE_ANY_ACCESS,
                               FILE_DEVICE_UNKNOWN, IO_NO_INCREMENT, IRP_MJ_CLEANUP,
                               IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL,
                               METHOD_BUFFERED, PASSIVE_LEVEL, DelayedWorkQueue, Executive,
                               ExEventObjectType, KernelMode, NotificationEvent, UserMode)
from evtsim.io import DEVICE_OBJECT, FILE_OBJECT, INVALID_HANDLE_VALUE
from evtsim.objects import is_kernel_handle
from evtsim.status import (ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_INVALID_FUNCTION,
                           ERROR_INVALID_HANDLE, EVENT_MODIFY_STATE, INFINITE,
                           STATUS_ACCESS_DENIED, STATUS_CANCELLED, STATUS_INVALID_HANDLE,
                           STATUS_OBJECT_TYPE_MISMATCH, STATUS_PENDING, STATUS_SUCCESS,
                           STATUS_TIMEOUT, STATUS_UNSUCCESSFUL, SYNCHRONIZE, WAIT_OBJECT_0)

CODE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
MS = 10_000                                  # 100 ns units per millisecond
APP_EVENT = r"\Sessions\1\BaseNamedObjects\AppEvent"


# --- helpers ------------------------------------------------------------------------------

def load(m, routines=None, name="evtdemo.sys", device="EvtDemo", unload=None, entry_extra=None):
    """Load a driver that makes \\Device\\<device> and \\??\\<device> and sets `routines`.

    `entry_extra(k, driver, dev)` (a generator function) runs at the end of DriverEntry.
    """
    def driver_entry(k, driver):
        status, dev = yield k.IoCreateDevice(driver, rf"\Device\{device}")
        assert status == STATUS_SUCCESS
        yield k.IoCreateSymbolicLink(rf"\??\{device}", rf"\Device\{device}")
        for major, routine in (routines or {}).items():
            driver.MajorFunction[major] = routine
        if unload is not None:
            driver.DriverUnload = unload
        if entry_extra is not None:
            yield from entry_extra(k, driver, dev)
        return STATUS_SUCCESS
    return m.driver(name, driver_entry)


def complete(k, irp, status=STATUS_SUCCESS):
    """Set the status, complete the IRP and give the status back (use with `yield from`)."""
    irp.IoStatus.Status = status
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return status


def succeed(k, device, irp):
    """A dispatch routine that completes every IRP with STATUS_SUCCESS."""
    return (yield from complete(k, irp))


def ioctl_app(event_name="AppEvent", access=None):
    """An app thread: CreateEvent, (OpenEvent with `access`), CreateFile, DeviceIoControl.

    Returns (event handle sent, file handle, (ok, out), last error).
    """
    def main(api):
        ev = yield api.CreateEvent(None, True, False, event_name)
        sent = ev
        if access is not None:
            sent = yield api.OpenEvent(access, False, event_name)
        h = yield api.CreateFile(r"\\.\EvtDemo")
        result = yield api.DeviceIoControl(h, CODE, sent)
        err = yield api.GetLastError()
        return sent, h, result, err
    return main


def run_app(m, main, *args, name="main", process=None):
    """Start `main` in app.exe (or `process`), run the machine; (thread, run result)."""
    app = process or m.process("app.exe")
    t = app.start(main, *args, name=name)
    r = m.run()
    return t, r


def records(m, op=None, thread=None):
    return [r for r in m.trace
            if (op is None or r.op == op) and (thread is None or r.thread == thread)]


def one(m, op, thread=None):
    found = records(m, op, thread)
    assert len(found) == 1, f"expected one {op} record, got {found}"
    return found[0]


# --- the contract example (DESIGN.md section 3) ------------------------------------------

def test_design_contract_example_hands_the_apps_event_to_the_driver():
    def driver_entry(k, driver):                      # runs in the System process
        status, dev = yield k.IoCreateDevice(driver, r"\Device\EvtDemo")
        yield k.IoCreateSymbolicLink(r"\??\EvtDemo", r"\Device\EvtDemo")
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = on_ioctl
        return STATUS_SUCCESS

    def on_ioctl(k, device, irp):                     # runs in the caller's thread and process
        status, ev = yield k.ObReferenceObjectByHandle(
            irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
        irp.IoStatus.Status = status
        yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
        return status

    m = Machine()
    drv = m.driver("evtdemo.sys", driver_entry)

    def main(api):
        e = yield api.CreateEvent(None, False, False, "AppEvent")
        h = yield api.CreateFile(r"\\.\EvtDemo")
        ok, out = yield api.DeviceIoControl(h, CODE, e)
        return e, h, ok, out

    app = m.process("app.exe")
    t = app.start(main, name="main")
    r = m.run()

    assert r.reason == "done", r.message
    e, h, ok, out = t.result
    assert drv.status == STATUS_SUCCESS
    assert (ok, out) == (True, None)
    event = app.handles.get(e).object
    ref = one(m, "ObReferenceObjectByHandle")
    assert (ref.thread, ref.process) == ("main", "app.exe")
    assert ref.result[0] == STATUS_SUCCESS
    assert ref.result[1] is event
    assert event.header.pointer_count == 2            # the handle + the driver's reference


def test_ctl_code_packs_like_the_macro():
    assert CODE == 0x222000
    assert CTL_CODE(0x22, 0x801, 3, 2) == 0x22A007


# --- loading drivers ----------------------------------------------------------------------

def test_driver_entry_runs_at_once_in_the_system_process():
    m = Machine()
    seen = {}

    def entry(k, driver):
        seen["process"] = yield k.PsGetCurrentProcess()
        seen["thread"] = (yield k.PsGetCurrentThread()).name
        seen["irql"] = yield k.KeGetCurrentIrql()
        return STATUS_SUCCESS

    drv = m.driver("first.sys", entry)

    assert seen == {"process": m.system, "thread": "first.sys:DriverEntry",
                    "irql": PASSIVE_LEVEL}
    assert drv.entry_thread.state == "terminated"
    assert [(r.thread, r.process) for r in m.trace] == [("first.sys:DriverEntry", "System")] * 3


def test_driver_status_is_what_driver_entry_returned():
    m = Machine()

    def failing(k, driver):
        yield k.KeGetCurrentIrql()
        return STATUS_UNSUCCESSFUL

    def working(k, driver):
        yield k.KeGetCurrentIrql()
        return STATUS_SUCCESS

    assert m.driver("bad.sys", failing).status == STATUS_UNSUCCESSFUL
    assert m.driver("good.sys", working).status == STATUS_SUCCESS


def test_boot_start_driver_cannot_create_a_named_event_until_win32_starts():
    m = Machine(boot=False)
    got = []

    def entry(k, driver):
        got.append((yield k.IoCreateNotificationEvent(r"\BaseNamedObjects\BootEvent")))
        return STATUS_SUCCESS

    m.driver("boot.sys", entry)
    assert got == [(None, None)]
    assert m.objects.lookup(r"\BaseNamedObjects") is None

    m.start_win32()
    m.driver("late.sys", entry)
    event, handle = got[1]
    assert m.objects.lookup(r"\BaseNamedObjects\BootEvent") is event
    assert is_kernel_handle(handle)
    assert event.SignalState == 1                     # a new Io event starts Signaled


def test_unload_driver_runs_driver_unload_in_the_system_process():
    m = Machine()
    seen = []

    def unload(k, driver):
        seen.append((yield k.PsGetCurrentProcess()))
        yield k.IoDeleteSymbolicLink(r"\??\EvtDemo")
        yield k.IoDeleteDevice(driver.DeviceObject)

    drv = load(m, unload=unload)
    assert m.objects.lookup(r"\Device\EvtDemo") is drv.DeviceObject
    m.unload_driver(drv)

    assert seen == [m.system]
    assert m.objects.lookup(r"\Device\EvtDemo") is None
    assert m.objects.lookup(r"\??\EvtDemo") is None

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        return h, (yield api.GetLastError())

    t, _ = run_app(m, main)
    assert t.result == (INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND)


def test_unload_driver_without_driver_unload_is_refused():
    m = Machine()
    drv = load(m)
    with pytest.raises(EvtsimError):
        m.unload_driver(drv)


# --- CreateFile ---------------------------------------------------------------------------

def test_createfile_opens_the_device_through_the_dos_devices_link():
    m = Machine()
    drv = load(m)

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        return h, (yield api.GetLastError())

    t, r = run_app(m, main)
    h, err = t.result
    entry = t.process.handles.get(h)
    assert isinstance(entry.object, FILE_OBJECT)
    assert entry.object.DeviceObject is drv.DeviceObject
    assert isinstance(drv.DeviceObject, DEVICE_OBJECT)
    assert err == 0


def test_createfile_of_a_missing_device_returns_invalid_handle_value_and_file_not_found():
    m = Machine()

    def main(api):
        h = yield api.CreateFile(r"\\.\NoSuchDevice")
        return h, (yield api.GetLastError())

    t, _ = run_app(m, main)
    assert t.result == (-1, ERROR_FILE_NOT_FOUND)
    assert INVALID_HANDLE_VALUE == -1


def test_irp_mj_create_routine_runs_in_the_callers_thread():
    m = Machine()
    seen = {}

    def on_create(k, device, irp):
        seen["thread"] = yield k.PsGetCurrentThread()
        seen["process"] = yield k.PsGetCurrentProcess()
        seen["mode"] = irp.RequestorMode
        return (yield from complete(k, irp))

    load(m, {IRP_MJ_CREATE: on_create})

    def main(api):
        return (yield api.CreateFile(r"\\.\EvtDemo"))

    t, _ = run_app(m, main)
    assert seen == {"thread": t, "process": t.process, "mode": UserMode}
    create = records(m, "CreateFile")
    assert [r.note for r in create] == ["calls evtdemo.sys IRP_MJ_CREATE",
                                       "returns from the driver"]
    assert one(m, "PsGetCurrentThread").thread == "main"
    assert one(m, "IoCompleteRequest").process == "app.exe"


def test_createfile_fails_with_the_status_the_create_routine_completed():
    m = Machine()

    def on_create(k, device, irp):
        return (yield from complete(k, irp, STATUS_ACCESS_DENIED))

    load(m, {IRP_MJ_CREATE: on_create})

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        return h, (yield api.GetLastError())

    t, _ = run_app(m, main)
    assert t.result == (INVALID_HANDLE_VALUE, ERROR_ACCESS_DENIED)
    assert len(t.process.handles) == 0


# --- the dispatch routine's context -------------------------------------------------------

def test_dispatch_routine_runs_in_the_callers_thread_and_process_at_passive_level():
    m = Machine()
    seen = {}

    def on_ioctl(k, device, irp):
        seen["thread"] = yield k.PsGetCurrentThread()
        seen["process"] = yield k.PsGetCurrentProcess()
        seen["irql"] = yield k.KeGetCurrentIrql()
        seen["mode"] = irp.RequestorMode
        seen["code"] = k.IoGetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.IoControlCode
        return (yield from complete(k, irp))

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    t, r = run_app(m, ioctl_app())

    assert r.reason == "done", r.message
    assert seen == {"thread": t, "process": t.process, "irql": PASSIVE_LEVEL,
                    "mode": UserMode, "code": CODE}
    driver_ops = ["PsGetCurrentThread", "PsGetCurrentProcess", "KeGetCurrentIrql",
                  "IoCompleteRequest"]
    for op in driver_ops:
        rec = one(m, op)
        assert (rec.thread, rec.process) == ("main", "app.exe"), op
    calls = records(m, "DeviceIoControl")
    assert [r.note for r in calls] == ["calls evtdemo.sys IRP_MJ_DEVICE_CONTROL",
                                      "returns from the driver"]
    assert t.result[2] == (True, None)


def test_handle_sent_by_ioctl_names_the_apps_event_in_the_dispatch_routine():
    m = Machine()
    got = {}

    def on_ioctl(k, device, irp):
        status, ev = yield k.ObReferenceObjectByHandle(
            irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
        got["status"], got["event"] = status, ev
        yield k.KeSetEvent(ev, IO_NO_INCREMENT, False)
        yield k.ObDereferenceObject(ev)
        return (yield from complete(k, irp, status))

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})

    def main(api):
        ev = yield api.CreateEvent(None, True, False, "AppEvent")
        h = yield api.CreateFile(r"\\.\EvtDemo")
        result = yield api.DeviceIoControl(h, CODE, ev)
        return ev, result, (yield api.WaitForSingleObject(ev, 0))

    t, r = run_app(m, main)
    ev, result, wait = t.result
    assert got["status"] == STATUS_SUCCESS
    assert got["event"] is t.process.handles.get(ev).object
    assert got["event"] is m.objects.lookup(APP_EVENT)
    assert result == (True, None)
    assert wait == WAIT_OBJECT_0


# --- the same handle value in the wrong context (docs/semantics.md section 6) ---------------------

def _wrong_context_driver(m, context, own_event=False):
    """A driver whose IOCTL hands the app's handle value to a work item or a DPC.

    Both look it up with KernelMode (as a driver that forgot the context would) and
    record (process, status, object). With `own_event`, DriverEntry first makes a
    kernel-handle event of its own, so the System table has an entry at the same value.
    """
    seen = {}

    def look_up(k, handle):
        seen["process"] = yield k.PsGetCurrentProcess()
        seen["status"], seen["object"] = yield k.ObReferenceObjectByHandle(
            handle, EVENT_MODIFY_STATE, ExEventObjectType, KernelMode)

    def dpc_routine(k, dpc, ctx, handle, _):
        yield from look_up(k, handle)

    def work(k, device, handle):
        if context == "work item":
            yield from look_up(k, handle)
        else:
            dpc = yield k.KeInitializeDpc(dpc_routine, None)
            yield k.KeInsertQueueDpc(dpc, handle, None)

    def on_ioctl(k, device, irp):
        item = yield k.IoAllocateWorkItem(device)
        yield k.IoQueueWorkItem(item, work, DelayedWorkQueue, irp.InputBuffer)
        return (yield from complete(k, irp))

    def extra(k, driver, dev):
        if own_event:
            seen["own"] = yield k.IoCreateNotificationEvent(r"\BaseNamedObjects\DriverEvent")

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl}, entry_extra=extra)
    return seen


@pytest.mark.parametrize("context", ["work item", "DPC"])
def test_app_handle_value_in_a_system_context_names_nothing(context):
    m = Machine()
    seen = _wrong_context_driver(m, context)
    t, r = run_app(m, ioctl_app())

    assert r.reason == "done", r.message
    assert t.result[2] == (True, None)
    assert seen["process"] is m.system
    assert (seen["status"], seen["object"]) == (STATUS_INVALID_HANDLE, None)


@pytest.mark.parametrize("context", ["work item", "DPC"])
def test_app_handle_value_in_a_system_context_names_a_different_object(context):
    m = Machine()
    seen = _wrong_context_driver(m, context, own_event=True)
    own_event, own_handle = seen["own"]
    t, r = run_app(m, ioctl_app())

    assert r.reason == "done", r.message
    sent = t.result[0]
    assert (sent, own_handle) == (4, 0xFFFFFFFF80000004)      # the same slot, 4
    assert seen["process"] is m.system
    assert seen["status"] == STATUS_SUCCESS
    assert seen["object"] is own_event
    assert seen["object"] is not t.process.handles.get(sent).object


# --- ObReferenceObjectByHandle checks from user mode --------------------------------------

def _reference_driver(m, mode_of):
    seen = {}

    def on_ioctl(k, device, irp):
        status, ev = yield k.ObReferenceObjectByHandle(
            irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, mode_of(irp))
        seen["status"], seen["object"] = status, ev
        if ev is not None:
            yield k.ObDereferenceObject(ev)
        return (yield from complete(k, irp, status))

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    return seen


def test_reference_of_a_file_handle_as_an_event_is_object_type_mismatch():
    m = Machine()
    seen = _reference_driver(m, lambda irp: irp.RequestorMode)

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        result = yield api.DeviceIoControl(h, CODE, h)          # the file handle, not an event
        return result, (yield api.GetLastError())

    t, _ = run_app(m, main)
    assert (seen["status"], seen["object"]) == (STATUS_OBJECT_TYPE_MISMATCH, None)
    assert t.result == ((False, None), ERROR_INVALID_HANDLE)


def test_reference_from_user_mode_without_event_modify_state_is_access_denied():
    m = Machine()
    seen = _reference_driver(m, lambda irp: irp.RequestorMode)
    t, _ = run_app(m, ioctl_app(access=SYNCHRONIZE))

    sent, h, result, err = t.result
    assert t.process.handles.get(sent).granted_access == SYNCHRONIZE
    assert (seen["status"], seen["object"]) == (STATUS_ACCESS_DENIED, None)
    assert result == (False, None)
    assert err == ERROR_ACCESS_DENIED


def test_reference_with_kernel_mode_skips_the_access_check():
    m = Machine()
    seen = _reference_driver(m, lambda irp: KernelMode)
    t, _ = run_app(m, ioctl_app(access=SYNCHRONIZE))

    assert seen["status"] == STATUS_SUCCESS
    assert seen["object"] is m.objects.lookup(APP_EVENT)
    assert t.result[2] == (True, None)


# --- pending IRPs (the inverted call) -----------------------------------------------------

def _pending_driver(m, due=-10 * MS, with_cancel=False):
    """IOCTL: mark pending, arm a timer whose DPC (the "interrupt") completes the IRP."""
    state = {}

    def interrupt(k, dpc, irp, _a1, _a2):
        irp.OutputBuffer = b"ready"
        irp.IoStatus.Information = 5
        yield k.IoSetCancelRoutine(irp, None)
        yield from complete(k, irp)

    def cancel(k, device, irp):
        state["cancel"] = ((yield k.PsGetCurrentThread()).name,
                           (yield k.PsGetCurrentProcess()).name)
        yield from complete(k, irp, STATUS_CANCELLED)

    def on_ioctl(k, device, irp):
        state["irp"] = irp
        yield k.IoMarkIrpPending(irp)
        if with_cancel:
            yield k.IoSetCancelRoutine(irp, cancel)
        if due is not None:
            timer = yield k.KeInitializeTimer("hardware")
            dpc = yield k.KeInitializeDpc(interrupt, irp)
            yield k.KeSetTimer(timer, due, dpc)
        return STATUS_PENDING

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    return state


def test_pended_irp_keeps_the_caller_waiting_until_a_dpc_completes_it():
    m = Machine()
    state = _pending_driver(m)
    app = m.process("app.exe")

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        return (yield api.DeviceIoControl(h, CODE, None))

    t = app.start(main, name="main")
    r = m.run(until=5 * MS)
    assert r.reason == "time", r.message
    assert t.state == "waiting"
    irp = state["irp"]
    assert t.waiting_on[0] is irp.done

    r = m.run()
    assert r.reason == "done", r.message
    assert t.result == (True, b"ready")
    done = one(m, "IoCompleteRequest")
    assert done.thread == "DPC:interrupt"
    assert done.released == ("main",)
    back = records(m, "DeviceIoControl")[-1]
    assert back.note == "returns from its wait"
    assert back.seq > done.seq
    assert back.time >= 10 * MS


def test_returning_status_pending_without_io_mark_irp_pending_is_a_verifier_bug_check():
    m = Machine()

    def on_ioctl(k, device, irp):
        yield k.KeGetCurrentIrql()
        return STATUS_PENDING

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    t, r = run_app(m, ioctl_app())

    assert r.reason == "bugcheck"
    info = m.bugcheck
    assert "IoMarkIrpPending" in info.rule + info.explanation
    assert "evtdemo.sys" in info.explanation
    assert info.thread == "main"
    # Driver Verifier's I/O Verification reports this as 0xC9, I/O error 0x23D/0x24C.
    assert (info.code, info.name) == (0xC9, "DRIVER_VERIFIER_IOMANAGER_VIOLATION")


def test_returning_without_completing_or_pending_is_a_verifier_bug_check():
    m = Machine()

    def on_ioctl(k, device, irp):
        yield k.KeGetCurrentIrql()
        return STATUS_SUCCESS

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    t, r = run_app(m, ioctl_app())

    assert r.reason == "bugcheck"
    info = m.bugcheck
    assert "IoCompleteRequest" in info.explanation
    assert "STATUS_PENDING" in info.explanation
    assert info.thread == "main"
    # Driver Verifier's I/O Verification reports this as 0xC9, I/O error 0x226.
    assert (info.code, info.name) == (0xC9, "DRIVER_VERIFIER_IOMANAGER_VIOLATION")


def test_completing_an_irp_twice_is_bug_check_0x44():
    m = Machine()

    def on_ioctl(k, device, irp):
        yield from complete(k, irp)
        return (yield from complete(k, irp))

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    t, r = run_app(m, ioctl_app())

    assert r.reason == "bugcheck"
    assert m.bugcheck.code == 0x44
    assert len(records(m, "IoCompleteRequest")) == 2
    assert m.bugcheck.name == "MULTIPLE_IRP_COMPLETE_REQUESTS"


def test_exception_in_a_dispatch_routine_is_bug_check_0x1e():
    m = Machine()

    def on_ioctl(k, device, irp):
        yield k.KeGetCurrentIrql()
        raise ValueError("driver bug")

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    t, r = run_app(m, ioctl_app())

    assert r.reason == "bugcheck"
    assert (m.bugcheck.code, m.bugcheck.name) == (0x1E, "KMODE_EXCEPTION_NOT_HANDLED")
    assert m.bugcheck.thread == "main"
    assert "driver bug" in m.bugcheck.explanation


# --- DeviceIoControl failures -------------------------------------------------------------

def test_unset_device_control_routine_fails_with_error_invalid_function():
    m = Machine()
    load(m)
    t, r = run_app(m, ioctl_app())
    assert r.reason == "done", r.message
    assert t.result[2:] == ((False, None), ERROR_INVALID_FUNCTION)


@pytest.mark.parametrize("which", ["never opened", "an event handle", "closed"])
def test_deviceiocontrol_on_a_bad_handle_fails_with_error_invalid_handle(which):
    m = Machine()
    load(m, {IRP_MJ_DEVICE_CONTROL: succeed})

    def main(api):
        if which == "never opened":
            h = 0x1234
        elif which == "an event handle":
            h = yield api.CreateEvent(None, True, False, None)
        else:
            h = yield api.CreateFile(r"\\.\EvtDemo")
            yield api.CloseHandle(h)
        result = yield api.DeviceIoControl(h, CODE, None)
        return result, (yield api.GetLastError())

    t, _ = run_app(m, main)
    assert t.result == ((False, None), ERROR_INVALID_HANDLE)
    assert records(m, "IoCompleteRequest") == []


# --- cleanup and close --------------------------------------------------------------------

def test_closing_the_last_file_handle_sends_cleanup_then_close_in_the_callers_thread():
    m = Machine()
    order = []

    def make(label):
        def routine(k, device, irp):
            order.append((label, (yield k.PsGetCurrentThread()).name))
            return (yield from complete(k, irp))
        return routine

    load(m, {IRP_MJ_CLEANUP: make("cleanup"), IRP_MJ_CLOSE: make("close")})

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        return (yield api.CloseHandle(h))

    t, r = run_app(m, main)
    assert t.result is True
    assert order == [("cleanup", "main"), ("close", "main")]
    notes = [r.note for r in records(m, "CloseHandle")]
    assert notes == ["calls evtdemo.sys IRP_MJ_CLEANUP", "calls evtdemo.sys IRP_MJ_CLOSE",
                     "returns from the driver"]
    assert len(t.process.handles) == 0


def _referencing_driver(m):
    """Keeps a reference to the app's event from the IOCTL; drops it in cleanup."""
    seen = {}

    def on_ioctl(k, device, irp):
        status, ev = yield k.ObReferenceObjectByHandle(
            irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
        device.DeviceExtension["event"] = ev
        return (yield from complete(k, irp, status))

    def on_cleanup(k, device, irp):
        seen["cleanup"] = ((yield k.PsGetCurrentThread()).name,
                           (yield k.PsGetCurrentProcess()).name)
        ev = device.DeviceExtension.pop("event", None)
        if ev is not None:
            yield k.ObDereferenceObject(ev)
        return (yield from complete(k, irp))

    load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl, IRP_MJ_CLEANUP: on_cleanup})
    return seen


def test_driver_reference_dropped_in_cleanup_restores_the_pointer_count():
    m = Machine()
    _referencing_driver(m)
    counts = []

    def main(api):
        ev = yield api.CreateEvent(None, True, False, "AppEvent")
        counts.append(m.objects.lookup(APP_EVENT).header.pointer_count)
        h = yield api.CreateFile(r"\\.\EvtDemo")
        yield api.DeviceIoControl(h, CODE, ev)
        counts.append(m.objects.lookup(APP_EVENT).header.pointer_count)
        yield api.CloseHandle(h)
        counts.append(m.objects.lookup(APP_EVENT).header.pointer_count)
        return ev

    t, r = run_app(m, main)
    assert r.reason == "done", r.message
    assert counts == [1, 2, 1]
    assert m.objects.lookup(APP_EVENT).header.handle_count == 1


# --- process exit -------------------------------------------------------------------------

def test_process_exit_cancels_a_pending_irp_through_its_cancel_routine():
    m = Machine()
    state = _pending_driver(m, due=None, with_cancel=True)
    app = m.process("app.exe")

    def main(api):
        h = yield api.CreateFile(r"\\.\EvtDemo")
        return (yield api.DeviceIoControl(h, CODE, None))

    t = app.start(main, name="main")
    r = m.run()
    assert t.state == "waiting", r.message
    irp = state["irp"]

    app.exit()
    r = m.run()
    assert r.reason == "done", r.message
    assert t.state == "terminated"
    assert state["cancel"] == ("app.exe:exit", "app.exe")
    assert irp.Cancel is True
    assert irp.completed is True
    assert irp.IoStatus.Status == STATUS_CANCELLED
    cancel_done = records(m, "IoCompleteRequest", "app.exe:exit")
    assert len(cancel_done) == 1


def test_process_exit_closes_handles_and_sends_cleanup_in_the_apps_context():
    m = Machine()
    seen = _referencing_driver(m)
    app = m.process("app.exe")

    def main(api):
        ev = yield api.CreateEvent(None, True, False, "AppEvent")
        h = yield api.CreateFile(r"\\.\EvtDemo")
        yield api.DeviceIoControl(h, CODE, ev)
        yield api.Sleep(INFINITE)

    def other(api):
        yield api.Sleep(INFINITE)

    t1 = app.start(main, name="main")
    t2 = app.start(other, name="other")
    m.run()
    event = m.objects.lookup(APP_EVENT)
    file_object = next(e.object for _, e in app.handles if isinstance(e.object, FILE_OBJECT))
    assert (event.header.handle_count, event.header.pointer_count) == (1, 2)

    app.exit()
    r = m.run()
    assert r.reason == "done", r.message
    assert (t1.state, t2.state) == ("terminated", "terminated")
    assert len(app.handles) == 0
    assert m.objects.lookup(APP_EVENT) is None
    assert event.header.handle_count == 0
    assert file_object.header.handle_count == 0
    assert seen["cleanup"] == ("app.exe:exit", "app.exe")
    assert event.header.pointer_count == 0            # the driver noticed and let go
    assert event.header.deleted is True


def test_thread_ended_by_process_exit_in_a_handle_wait_drops_the_waits_reference():
    m = Machine()
    app = m.process("app.exe")

    def main(api):
        ev = yield api.CreateEvent(None, True, False, "AppEvent")
        yield api.WaitForSingleObject(ev, INFINITE)

    t = app.start(main, name="main")
    m.run()
    event = m.objects.lookup(APP_EVENT)
    assert t.state == "waiting"

    app.exit()
    r = m.run()
    assert r.reason == "done", r.message
    assert t.state == "terminated"
    assert event.header.handle_count == 0
    assert event.header.pointer_count == 0
    assert event.header.deleted is True


def test_exitprocess_from_a_thread_ends_every_thread_of_the_process():
    m = Machine()
    app = m.process("app.exe")

    def waiter(api):
        ev = yield api.CreateEvent(None, True, False, "AppEvent")
        yield api.WaitForSingleObject(ev, INFINITE)
        return "woke"

    def quitter(api):
        yield api.Sleep(1)
        yield api.ExitProcess(7)
        return "went on"

    t1 = app.start(waiter, name="waiter")
    t2 = app.start(quitter, name="quitter")
    r = m.run()

    assert r.reason == "done", r.message
    assert (t1.state, t2.state) == ("terminated", "terminated")
    assert (t1.result, t2.result) == (None, None)
    assert app.exit_code == 7
    assert one(m, "ExitProcess").note == "the thread ends with its process"
    assert records(m, thread="quitter")[-1].op == "ExitProcess"
    assert len(app.handles) == 0
    assert m.objects.lookup(APP_EVENT) is None


# --- work items, system threads, DPCs -----------------------------------------------------

def test_work_item_runs_on_a_worker_thread_of_the_system_process():
    m = Machine()
    seen = {}

    def my_work(k, device, context):
        seen["thread"] = (yield k.PsGetCurrentThread()).name
        seen["process"] = yield k.PsGetCurrentProcess()
        seen["irql"] = yield k.KeGetCurrentIrql()
        seen["args"] = (device, context)

    def on_ioctl(k, device, irp):
        item = yield k.IoAllocateWorkItem(device)
        yield k.IoQueueWorkItem(item, my_work, DelayedWorkQueue, "ctx")
        return (yield from complete(k, irp))

    drv = load(m, {IRP_MJ_DEVICE_CONTROL: on_ioctl})
    t, r = run_app(m, ioctl_app())

    assert r.reason == "done", r.message
    assert seen == {"thread": "worker:my_work", "process": m.system, "irql": PASSIVE_LEVEL,
                    "args": (drv.DeviceObject, "ctx")}
    assert one(m, "KeGetCurrentIrql").process == "System"


def test_system_thread_handle_is_signaled_when_the_thread_ends():
    m = Machine()
    seen = {}

    def body(k, context):
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        seen["body"] = context

    def starter(k):
        status, h = yield k.PsCreateSystemThread(body, "ctx", name="body")
        seen["handle"] = h
        ref_status, obj = yield k.ObReferenceObjectByHandle(h, SYNCHRONIZE, None, KernelMode)
        wait = yield k.KeWaitForSingleObject(obj, Executive, KernelMode, False, None)
        seen["ended"] = m.thread("body").state
        yield k.ObDereferenceObject(obj)
        closed = yield k.ZwClose(h)
        return status, ref_status, wait, closed

    t = m.system.start(starter, name="starter")
    r = m.run()

    assert r.reason == "done", r.message
    assert t.result == (STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS)
    assert is_kernel_handle(seen["handle"])
    assert seen["body"] == "ctx"
    assert seen["ended"] == "terminated"
    waits = records(m, "KeWaitForSingleObject", "starter")
    assert waits[0].note.startswith("waits")
    assert waits[-1].seq > records(m, thread="body")[-1].seq


def test_dpc_inserted_again_while_queued_returns_false_and_runs_once():
    m = Machine()
    ran = []

    def dpc_routine(k, dpc, ctx, a1, a2):
        ran.append((yield k.KeGetCurrentIrql()))

    def thread(k):
        dpc = yield k.KeInitializeDpc(dpc_routine, None)
        old = yield k.KeRaiseIrql(DISPATCH_LEVEL)
        first = yield k.KeInsertQueueDpc(dpc)
        second = yield k.KeInsertQueueDpc(dpc)        # still queued: DPCs wait for the IRQL
        yield k.KeLowerIrql(old)
        return first, second

    t = m.system.start(thread, name="t")
    r = m.run()
    assert r.reason == "done", r.message
    assert t.result == (True, False)
    assert ran == [DISPATCH_LEVEL]
    lower = one(m, "KeLowerIrql")
    assert one(m, "KeGetCurrentIrql").seq > lower.seq


def test_wait_with_a_timeout_inside_a_dpc_is_bug_check_0xb8():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Never")

    def dpc_routine(k, dpc, ctx, a1, a2):
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, -1 * MS)

    def thread(k):
        dpc = yield k.KeInitializeDpc(dpc_routine, None)
        yield k.KeInsertQueueDpc(dpc)
        yield k.KeGetCurrentIrql()

    m.system.start(thread, name="t")
    r = m.run()
    assert r.reason == "bugcheck"
    assert (m.bugcheck.code, m.bugcheck.name) == (0xB8, "ATTEMPTED_SWITCH_FROM_DPC")
    assert m.bugcheck.thread == "DPC:dpc_routine"


def test_kesetevent_from_a_dpc_at_dispatch_level_releases_the_waiter():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Done")
    seen = {}

    def dpc_routine(k, dpc, ctx, a1, a2):
        seen["irql"] = yield k.KeGetCurrentIrql()
        seen["previous"] = yield k.KeSetEvent(ev, IO_NO_INCREMENT, False)

    def waiter(k):
        return (yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None))

    def setter(k):
        timer = yield k.KeInitializeTimer("hardware")
        dpc = yield k.KeInitializeDpc(dpc_routine, None)
        yield k.KeSetTimer(timer, -2 * MS, dpc)

    w = m.system.start(waiter, name="waiter")
    m.system.start(setter, name="setter")
    r = m.run()

    assert r.reason == "done", r.message
    assert m.bugcheck is None
    assert seen == {"irql": DISPATCH_LEVEL, "previous": 0}
    assert w.result == STATUS_SUCCESS
    assert one(m, "KeSetEvent").released == ("waiter",)


def test_polling_wait_inside_a_dpc_is_allowed():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Poll")
    seen = []

    def dpc_routine(k, dpc, ctx, a1, a2):
        seen.append((yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, 0)))

    def thread(k):
        dpc = yield k.KeInitializeDpc(dpc_routine, None)
        yield k.KeInsertQueueDpc(dpc)
        yield k.KeGetCurrentIrql()

    m.system.start(thread, name="t")
    r = m.run()
    assert r.reason == "done", r.message
    assert seen == [STATUS_TIMEOUT]
