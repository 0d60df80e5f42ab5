"""Exercises of notebook 04, Sharing by handle: the statuses ObReferenceObjectByHandle
gives for the three mistakes, a dispatch routine that validates and keeps the app's
event, where the reference is dropped, and what releases the app in the inverted call.

The lesson's driver (DriverEntry, DispatchDeviceControl, HardwareDpc, DispatchCleanup)
and app live here too, once: the lesson shows them with show_source, and the check of
04-dispatch runs the same driver with the learner's dispatch routine plugged in.

Sources: Microsoft's IoCreateSynchronizationEvent / IoCreateNotificationEvent pages
(the recommended method), the ObReferenceObjectByHandle page, the WDK general/event
sample; docs/semantics.md sections 3 and 6.
"""
from __future__ import annotations

from ..api.kernel import IO_NO_INCREMENT, IRP_MJ_CLEANUP, IRP_MJ_DEVICE_CONTROL, ExEventObjectType
from ..errors import BadArgumentError
from ..machine import Machine
from ..scenarios.sharing import IOCTL_REGISTER_EVENT, MS
from ..status import EVENT_MODIFY_STATE, INFINITE, STATUS_SUCCESS, SYNCHRONIZE
from .base import Feedback, exercise
from .lesson00 import as_status, joined, need_generator_function, no_answer, status_text

LESSON = "04-sharing-by-handle"
HARDWARE_MS = 10        # the lesson's "hardware" fires 10 ms after the IOCTL
SENDS = ("event", "wait only", "device")      # which handle the app sends
THENS = ("wait", "exit", "close event")       # what the app does after DeviceIoControl

FAILURES = {"wrong context": "STATUS_INVALID_HANDLE",
            "wrong access": "STATUS_ACCESS_DENIED",
            "wrong type": "STATUS_OBJECT_TYPE_MISMATCH"}


@exercise(
    "04-failures",
    "`ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE, ExEventObjectType, "
    "irp.RequestorMode)` fails in three ways in this lesson: the WRONG CONTEXT (a work "
    "item looks up the app's handle in the System process), the WRONG ACCESS (the app's "
    "handle may only wait: SYNCHRONIZE) and the WRONG TYPE (the app sends its device "
    "handle). Which status does each give? Answer with a dict with the keys "
    '`"wrong context"`, `"wrong access"`, `"wrong type"`.',
    hints=["Each check has its own status: is there such a handle? is it an event? does "
           "the handle allow the access?",
           "In the System process the app's handle value names nothing. A file is not an "
           "event. A SYNCHRONIZE handle does not grant EVENT_MODIFY_STATE."],
    answer='{"wrong context": STATUS_INVALID_HANDLE, "wrong access": STATUS_ACCESS_DENIED, '
           '"wrong type": STATUS_OBJECT_TYPE_MISMATCH}',
    lesson=LESSON)
def check_failures(answer):
    from .. import status
    if answer is None:
        return no_answer(answer)
    if not isinstance(answer, dict) or set(answer) != set(FAILURES):
        return Feedback(False, 'Answer with a dict with the keys "wrong context", '
                               '"wrong access" and "wrong type".')
    if any(v is None for v in answer.values()):
        return no_answer(None)
    wrong = []
    for key, right_name in FAILURES.items():
        given = as_status(answer[key])
        if given is None:
            return Feedback(False, f"{answer[key]!r} is not a status; use a name such as "
                                   f"STATUS_ACCESS_DENIED or its number.")
        if given != getattr(status, right_name):
            why = {"wrong context": "the handle is looked up in the current process, and "
                                    "the System process has no such handle",
                   "wrong access": "the handle exists and names an event, but it does not "
                                   "grant EVENT_MODIFY_STATE",
                   "wrong type": "the handle exists, but it names a file, not an event"}[key]
            wrong.append(f"\"{key}\": not {status_text(given)}; {why}")
    if wrong:
        return Feedback(False, joined(wrong))
    return Feedback(True, "Invalid handle, access denied, type mismatch: each check of "
                          "ObReferenceObjectByHandle has its own status.")


# --- the lesson's driver and app (the lesson shows this code, the checker runs it) ---
def DriverEntry(k, driver):
    """Make the device EvtDemo, with a name the app can open, and a timer whose DPC
    plays the hardware interrupt. The state lives in the device extension, as in C."""
    status, device = yield k.IoCreateDevice(driver, r"\Device\EvtDemo")
    yield k.IoCreateSymbolicLink(r"\??\EvtDemo", r"\Device\EvtDemo")
    driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = DispatchDeviceControl
    driver.MajorFunction[IRP_MJ_CLEANUP] = DispatchCleanup
    device.DeviceExtension["Timer"] = yield k.KeInitializeTimer(name="HardwareTimer")
    device.DeviceExtension["Dpc"] = yield k.KeInitializeDpc(HardwareDpc, device)
    return status


def DispatchDeviceControl(k, device, irp):
    """IRP_MJ_DEVICE_CONTROL. It runs in the app's thread, so the app's handle is valid
    here: validate it, keep the pointer with its reference, start the "hardware"."""
    ext = device.DeviceExtension
    status, event = yield k.ObReferenceObjectByHandle(
        irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
    if status == STATUS_SUCCESS:
        ext["Event"] = event                      # keep the pointer and its reference
        yield k.KeSetTimer(ext["Timer"], -HARDWARE_MS * MS, ext["Dpc"])   # "hardware" later
    irp.IoStatus.Status = status
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return status


def HardwareDpc(k, dpc, device, arg1, arg2):
    """The timer's DPC: DISPATCH_LEVEL, in whatever process is current, so it uses the
    kept pointer, never the app's handle."""
    event = device.DeviceExtension.get("Event")
    if event is not None:
        yield k.KeSetEvent(event, IO_NO_INCREMENT, False)


def DispatchCleanup(k, device, irp):
    """IRP_MJ_CLEANUP: the app closed the device, or exited. Stop the timer, so no DPC
    comes later, and drop the reference the driver kept."""
    ext = device.DeviceExtension
    event = ext.pop("Event", None)
    yield k.KeCancelTimer(ext["Timer"])           # no DPC after this
    if event is not None:
        yield k.ObDereferenceObject(event)
    irp.IoStatus.Status = STATUS_SUCCESS
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return STATUS_SUCCESS


def app_main(api, send: str = "event", then: str = "wait"):
    """The app: open the device, create an event, send a handle to the driver.

    `send` picks the handle: "event", "wait only" (a second handle that may only wait)
    or "device" (not an event). `then` is what the app does next: "wait" for the
    event, "exit" before the hardware fires, or "close event" (close the event handle,
    keep the device open). Returns (DeviceIoControl's ok, the wait's result); when
    DeviceIoControl fails, (False, GetLastError())."""
    device = yield api.CreateFile(r"\\.\EvtDemo")
    event = yield api.CreateEvent(None, False, False, "AppEvent")
    if send == "event":
        handle = event
    elif send == "wait only":
        handle = yield api.OpenEvent(SYNCHRONIZE, False, "AppEvent")   # may only wait
    elif send == "device":
        handle = device                                                  # not an event
    ok, _ = yield api.DeviceIoControl(device, IOCTL_REGISTER_EVENT, handle)
    if not ok:
        return ok, (yield api.GetLastError())
    if then == "exit":
        yield api.ExitProcess(0)
    if then == "close event":
        yield api.CloseHandle(event)
        yield api.Sleep(5)
        return ok, None
    result = yield api.WaitForSingleObject(event, INFINITE)
    yield api.CloseHandle(device)
    yield api.CloseHandle(event)
    return ok, result


def build(send: str = "event", then: str = "wait", dispatch=None) -> Machine:
    """The lesson's machine: the driver evtdemo.sys and the app's thread `main`.
    `dispatch` replaces DispatchDeviceControl, so a lesson or a checker can try
    another one with the same driver."""
    if send not in SENDS or then not in THENS:
        raise BadArgumentError(f"send is one of {', '.join(SENDS)}; then is one of "
                               f"{', '.join(THENS)}")
    machine = Machine()
    driver = machine.driver("evtdemo.sys", DriverEntry)
    if dispatch is not None:
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch
    machine.process("app.exe").start(app_main, send, then, name="main")
    return machine


def run_dispatch(fn, send: str = "event", close_event_early: bool = False):
    """Run the lesson's machine with `fn` as the IRP_MJ_DEVICE_CONTROL routine. The
    exercise does not ask the learner to start the hardware, so after `fn` this starts
    the timer (1 ms) when `fn` kept something in device.DeviceExtension["Event"].

    Returns (machine, app thread, the app's DeviceIoControl ok, the kept object)."""
    seen = {"stored": None}

    def dispatch(k, device, irp):
        status = yield from fn(k, device, irp)
        ext = device.DeviceExtension
        seen["stored"] = ext.get("Event")
        if seen["stored"] is not None:
            yield k.KeSetTimer(ext["Timer"], -1 * MS, ext["Dpc"])
        return status

    machine = build(send, "close event" if close_event_early else "wait", dispatch)
    machine.run(max_steps=10_000)
    returned = [r.result for r in machine.trace
                if r.thread == "main" and r.op == "DeviceIoControl" and r.result is not None]
    ok = returned[0][0] if returned else None
    return machine, machine.thread("main"), ok, seen["stored"]


def _problem(machine, thread):
    """What went wrong in a run, in words that fit inside a sentence (no full stop)."""
    if machine.bugcheck is not None:
        b = machine.bugcheck
        rule = b.rule.rstrip(".")
        return f"the machine stopped with bug check 0x{b.code:X} ({b.name}): {rule}"
    if thread.error is not None:
        error = str(thread.error).rstrip(".")
        return f"the app's thread stopped with {type(thread.error).__name__}: {error}"
    return None


# The lesson's answer cell starts with this routine. It has two mistakes: KernelMode
# (no access check) and an ObDereferenceObject that drops the reference it must keep.
STARTER_DISPATCH = '''
def MyDispatchDeviceControl(k, device, irp):
    status, event = yield k.ObReferenceObjectByHandle(
        irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, KernelMode)
    if status == STATUS_SUCCESS:
        device.DeviceExtension["Event"] = event
        yield k.ObDereferenceObject(event)
    irp.IoStatus.Status = status
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return status
'''


@exercise(
    "04-dispatch",
    "Write the driver's `DispatchDeviceControl(k, device, irp)`. The app's event handle "
    "is in `irp.InputBuffer`. Validate it, keep the event in "
    "`device.DeviceExtension[\"Event\"]` (the driver's timer DPC sets it later and its "
    "cleanup routine drops the reference), complete the IRP with the status and return "
    "the status. The checker also sends a handle that may only wait, a handle that is "
    "not an event, and closes the app's handle early.",
    hints=["Use ObReferenceObjectByHandle(irp.InputBuffer, EVENT_MODIFY_STATE, "
           "ExEventObjectType, irp.RequestorMode). It returns (status, object).",
           "Keep the object only if the status is STATUS_SUCCESS, and do not dereference "
           "it here: the reference is what keeps the event alive when the app closes its "
           "handle. Then set irp.IoStatus.Status, call IoCompleteRequest(irp, "
           "IO_NO_INCREMENT) and return the status."],
    answer="def DispatchDeviceControl(k, device, irp):\n"
           "    status, event = yield k.ObReferenceObjectByHandle(\n"
           "        irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, "
           "irp.RequestorMode)\n"
           "    if status == STATUS_SUCCESS:\n"
           "        device.DeviceExtension[\"Event\"] = event\n"
           "    irp.IoStatus.Status = status\n"
           "    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)\n"
           "    return status",
    lesson=LESSON, starter=STARTER_DISPATCH)
def check_dispatch(fn):
    from ..status import WAIT_OBJECT_0
    if fn is None:
        return no_answer(fn)
    wrong = need_generator_function(fn, "DispatchDeviceControl(k, device, irp)")
    if wrong is not None:
        return wrong
    # 1. The right handle: the app must wake up.
    machine, thread, ok, stored = run_dispatch(fn, "event")
    if isinstance(stored, int) and not isinstance(stored, bool):
        return Feedback(False, "You kept the handle value. A handle means something only "
                               "in its own process; the DPC runs in any process. Keep the "
                               "object that ObReferenceObjectByHandle returns.")
    if machine.bugcheck is not None and machine.bugcheck.code == 0x18:
        return Feedback(False, "The reference was dropped twice (bug check 0x18). Do not "
                               "call ObDereferenceObject in the dispatch routine: the "
                               "driver keeps the reference until its cleanup routine "
                               "drops it.")
    problem = _problem(machine, thread)
    if problem:
        return Feedback(False, f"With the app's event handle, {problem}.")
    if not ok:
        return Feedback(False, "With a good event handle, the app's DeviceIoControl "
                               "failed. Complete the IRP with the status of "
                               "ObReferenceObjectByHandle (STATUS_SUCCESS).")
    if stored is None:
        return Feedback(False, "Nothing was kept in device.DeviceExtension[\"Event\"], so "
                               "the DPC cannot set the event.")
    if thread.result is None or thread.result[1] != WAIT_OBJECT_0:
        waited = None if thread.result is None else thread.result[1]
        return Feedback(False, f"The app did not wake up (its wait gave "
                               f"{status_text(waited)}).")
    # 2. A handle that may only wait: the driver must refuse it.
    machine, thread, ok, stored = run_dispatch(fn, "wait only")
    problem = _problem(machine, thread)
    if problem:
        return Feedback(False, f"With a wait-only handle, {problem}.")
    if ok:
        return Feedback(False, "The app sent a handle that may only wait (SYNCHRONIZE), "
                               "and your driver accepted it, so it can set an event the "
                               "app did not allow it to set. Ask for EVENT_MODIFY_STATE "
                               "and pass irp.RequestorMode (UserMode), not KernelMode: "
                               "KernelMode skips the access check.")
    # 3. A handle that is not an event.
    machine, thread, ok, stored = run_dispatch(fn, "device")
    problem = _problem(machine, thread)
    if problem or ok:
        return Feedback(False, "The app sent its device (file) handle, and your driver "
                               "took it as an event"
                               + (f": {problem}." if problem else ".")
                               + " Pass ExEventObjectType so that a handle to another "
                               "type of object is refused.")
    # 4. The app closes its handle before the hardware fires.
    machine, thread, ok, stored = run_dispatch(fn, "event", close_event_early=True)
    problem = _problem(machine, thread)
    if problem:
        return Feedback(False, "The app closed its event handle before the DPC ran, and "
                               f"{problem}. Keep your reference (do not call "
                               "ObDereferenceObject in the dispatch routine): it keeps "
                               "the event alive until the cleanup routine drops it.")
    return Feedback(True, "The driver validates the handle in the app's context, refuses "
                          "the wrong access and the wrong type, and keeps a reference "
                          "that outlives the app's handle.")


CLEANUP_RIGHT = {"irp_mj_cleanup", "cleanup", "dispatchcleanup", "the cleanup routine",
                 "cleanup routine"}


@exercise(
    "04-cleanup",
    "The driver keeps its reference to the app's event. Then the app exits without "
    "closing anything. In which driver routine must the driver call "
    "`ObDereferenceObject`? Answer with the IRP major function's name.",
    hints=["When a process exits, Windows closes its handles for it, in that process.",
           "Closing the last handle to the device sends the driver an IRP that says "
           "\"this app is done with you\". It comes before IRP_MJ_CLOSE."],
    answer="IRP_MJ_CLEANUP: the I/O manager sends it when the app's last handle to the "
           "device is closed, also when the app exits; the driver cancels its timer and "
           "drops the reference there.",
    lesson=LESSON)
def check_cleanup(answer):
    from ..api.kernel import IRP_MJ_CLOSE
    if answer is None:
        return no_answer(answer)
    if isinstance(answer, int) and not isinstance(answer, bool):
        if answer == IRP_MJ_CLEANUP:
            return Feedback(True, "IRP_MJ_CLEANUP (0x12).")
        answer = "IRP_MJ_CLOSE" if answer == IRP_MJ_CLOSE else str(answer)
    if not isinstance(answer, str):
        return Feedback(False, "Answer with a name, such as \"IRP_MJ_CREATE\".")
    text = answer.strip().lower()
    if text in CLEANUP_RIGHT:
        return Feedback(True, "IRP_MJ_CLEANUP comes when the app's last handle to the "
                              "device is closed, also when the app exits. Cancel the "
                              "timer and drop the reference there.")
    if "close" in text:
        return Feedback(False, "IRP_MJ_CLOSE comes only when the last reference to the "
                               "file object goes, which may be later and in another "
                               "context. The IRP sent when the app's handle is closed "
                               "comes first.")
    if "unload" in text:
        return Feedback(False, "DriverUnload is too late: a driver may stay loaded for "
                               "days, and each app that exits would leak an event.")
    if "dpc" in text:
        return Feedback(False, "The DPC may never run: if the app exits first, the "
                               "driver must stop the timer and drop the reference anyway.")
    if "device_control" in text or "devicecontrol" in text:
        return Feedback(False, "The device-control routine takes the reference; it must "
                               "not drop it at once, or the event may be freed before "
                               "the DPC sets it.")
    return Feedback(False, f"{answer!r} is not it. Which IRP does the driver get when the "
                           f"app's handle to the device is closed?")


@exercise(
    "04-inverted",
    "In the pended-IRP method (`inverted_call`) the app shares no event. Its "
    "`DeviceIoControl` waits until the driver's DPC calls one routine. Which one? Answer "
    "with its name.",
    hints=["The dispatch routine called IoMarkIrpPending and returned STATUS_PENDING: the "
           "IRP is not finished yet.",
           "The routine that finishes an IRP and gives it back to the I/O manager."],
    answer="IoCompleteRequest: completing the pended IRP releases the app's "
           "DeviceIoControl.",
    lesson=LESSON)
def check_inverted(answer):
    from .. import scenarios
    if answer is None:
        return no_answer(answer)
    if not isinstance(answer, str):
        return Feedback(False, "Answer with a routine's name, such as \"KeSetEvent\".")
    machine = scenarios.build("inverted_call")
    machine.run()
    releasing = {r.op for r in machine.trace if "main" in r.released}
    name = answer.strip().rstrip("()")
    if name in releasing:
        return Feedback(True, f"{name}: the DPC completes the pended IRP, and that "
                              f"releases the app's DeviceIoControl.")
    if name in ("KeSetEvent", "SetEvent"):
        return Feedback(False, "There is no shared event in this method. The app waits "
                               "for its IRP to be finished.")
    if name == "IoMarkIrpPending":
        return Feedback(False, "IoMarkIrpPending is what makes the app wait, in the "
                               "dispatch routine. What finishes the IRP later?")
    return Feedback(False, f"{answer!r} is not it. Look in the log for the step that "
                           f"releases main.")


__all__ = ["FAILURES", "check_failures", "DriverEntry", "DispatchDeviceControl",
           "HardwareDpc", "DispatchCleanup", "app_main", "build", "run_dispatch",
           "check_dispatch", "check_cleanup", "check_inverted"]
