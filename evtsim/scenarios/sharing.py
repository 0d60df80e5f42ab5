"""Sharing an event between a driver and an application: the documented methods.

Sources: Microsoft's IoCreateNotificationEvent / IoCreateSynchronizationEvent pages
(the two ways to share with user mode and their caveats), the WDK `general/event`
sample (the event method and the pending-IRP method), and the 1999 DriverStudio tip.
"""
from __future__ import annotations

from ..api.driverworks import KEvent, KUstring
from ..api.kernel import (
    CTL_CODE,
    FILE_ANY_ACCESS,
    FILE_DEVICE_UNKNOWN,
    IO_NO_INCREMENT,
    IRP_MJ_CLEANUP,
    IRP_MJ_DEVICE_CONTROL,
    METHOD_BUFFERED,
    ExEventObjectType,
    KernelMode,
    SynchronizationEvent,
)
from ..machine import Machine
from ..status import (
    EVENT_MODIFY_STATE,
    INFINITE,
    STATUS_CANCELLED,
    STATUS_INVALID_DEVICE_REQUEST,
    STATUS_PENDING,
    STATUS_SUCCESS,
    SYNCHRONIZE,
)
from .registry import scenario

MS = 10_000
IOCTL_REGISTER_EVENT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
IOCTL_WAIT_FOR_HARDWARE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
IOCTL_OPEN_NAMED_EVENT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS)
IOCTL_CREATE_NAMED_EVENT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x803, METHOD_BUFFERED, FILE_ANY_ACCESS)


def complete(k, irp, status, out=None):
    """Finish an IRP: set its status and output, give it back (a helper generator)."""
    irp.IoStatus.Status = status
    irp.OutputBuffer = out
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return status


class EventDriver:
    """A small driver in the style of the WDK `general/event` sample.

    IOCTL_REGISTER_EVENT: the app's event handle arrives in the input buffer; the
    dispatch routine (in the app's context) references it and arms a timer whose DPC
    (the "hardware interrupt") sets it. IOCTL_WAIT_FOR_HARDWARE: the IRP is pended and
    the DPC completes it (the inverted call). Cleanup drops the reference and cancels
    a pended IRP.
    """

    def __init__(self, machine: Machine, due_ms: int = 10, dereference: bool = True,
                 reference_in: str = "dispatch"):
        self.machine = machine
        self.due = -due_ms * MS
        self.dereference = dereference
        self.reference_in = reference_in      # "dispatch" (right) or "work item" (trap)
        self.event = None                     # the referenced KEVENT, while registered
        self.pending = None                   # the pended IRP, while pended
        self.lookup_status = None             # what ObReferenceObjectByHandle said
        self.timer = self.dpc = None

    def load(self, name: str = "evtdemo.sys"):
        return self.machine.driver(name, self.driver_entry)

    def driver_entry(self, k, driver):
        status, device = yield k.IoCreateDevice(driver, r"\Device\EvtDemo")
        if status != STATUS_SUCCESS:
            return status
        yield k.IoCreateSymbolicLink(r"\??\EvtDemo", r"\Device\EvtDemo")
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = self.on_ioctl
        driver.MajorFunction[IRP_MJ_CLEANUP] = self.on_cleanup
        self.timer = yield k.KeInitializeTimer(name="HardwareTimer")
        self.dpc = yield k.KeInitializeDpc(self.hardware_fired, None)
        return STATUS_SUCCESS

    def on_ioctl(self, k, device, irp):
        if irp.IoControlCode == IOCTL_REGISTER_EVENT:
            if self.reference_in == "work item":
                item = yield k.IoAllocateWorkItem(device)
                yield k.IoQueueWorkItem(item, self.reference_later, 1, irp.InputBuffer)
                return (yield from complete(k, irp, STATUS_SUCCESS))
            status, event = yield k.ObReferenceObjectByHandle(
                irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
            self.lookup_status = status
            if status == STATUS_SUCCESS:
                self.event = event
                yield k.KeSetTimer(self.timer, self.due, self.dpc)
            return (yield from complete(k, irp, status))
        if irp.IoControlCode == IOCTL_WAIT_FOR_HARDWARE:
            yield k.IoMarkIrpPending(irp)
            yield k.IoSetCancelRoutine(irp, self.on_cancel)
            self.pending = irp
            yield k.KeSetTimer(self.timer, self.due, self.dpc)
            return STATUS_PENDING
        return (yield from complete(k, irp, STATUS_INVALID_DEVICE_REQUEST))

    def reference_later(self, k, device, handle):
        """The trap: the handle value is looked up in the System process's table."""
        status, event = yield k.ObReferenceObjectByHandle(
            handle, EVENT_MODIFY_STATE, ExEventObjectType, KernelMode)
        self.lookup_status = status
        if status == STATUS_SUCCESS:
            self.event = event
            yield k.KeSetTimer(self.timer, self.due, self.dpc)

    def hardware_fired(self, k, dpc, context, arg1, arg2):
        """The DPC: runs at DISPATCH_LEVEL in whatever process happened to be current."""
        if self.event is not None:
            yield k.KeSetEvent(self.event, IO_NO_INCREMENT, False)
        irp, self.pending = self.pending, None
        if irp is not None:
            yield k.IoSetCancelRoutine(irp, None)
            yield from complete(k, irp, STATUS_SUCCESS, "hardware fired")

    def on_cancel(self, k, device, irp):
        if self.pending is irp:
            self.pending = None
            yield k.KeCancelTimer(self.timer)
            yield from complete(k, irp, STATUS_CANCELLED)

    def on_cleanup(self, k, device, irp):
        event, self.event = self.event, None
        if event is not None and self.dereference:
            yield k.KeCancelTimer(self.timer)
            yield k.ObDereferenceObject(event)
        elif event is not None:
            self.leaked = event
        return (yield from complete(k, irp, STATUS_SUCCESS))


@scenario(
    "handle_by_ioctl",
    "The recommended way: the app creates the event and passes its handle by IOCTL",
    "Microsoft, IoCreateSynchronizationEvent / IoCreateNotificationEvent pages; WDK "
    "general/event sample (event method)",
    "The driver's ObReferenceObjectByHandle succeeds because it runs in the app's "
    "context; the timer's DPC sets the event and the app's WaitForSingleObject returns "
    "WAIT_OBJECT_0; closing the device handle makes the driver drop its reference.")
def handle_by_ioctl(policy: str = "round_robin", seed: int = 0, due_ms: int = 10,
                    exit_early: bool = False) -> Machine:
    """The app creates an unnamed event, sends its handle in IOCTL_REGISTER_EVENT, and
    waits. The driver references the handle in its dispatch routine and sets the event
    from a DPC when its timer ("the hardware") fires. With `exit_early` the app closes
    the device before the hardware fires: the driver's cleanup drops the reference and
    stops the timer, so nothing touches the event afterwards.
    """
    m = Machine(policy=policy, seed=seed)
    driver = EventDriver(m, due_ms)
    m.evtdemo = driver
    driver.load()
    app = m.process("app.exe")

    def main(api, exit_early):
        device = yield api.CreateFile(r"\\.\EvtDemo")
        event = yield api.CreateEvent(None, False, False, None)
        ok, _ = yield api.DeviceIoControl(device, IOCTL_REGISTER_EVENT, event)
        if exit_early:
            yield api.CloseHandle(device)
            return ok, None
        result = yield api.WaitForSingleObject(event, INFINITE)
        yield api.CloseHandle(device)
        yield api.CloseHandle(event)
        return ok, result

    app.start(main, exit_early, name="main")
    return m


@scenario(
    "inverted_call",
    "The other documented method: a pended IRP that the driver completes later",
    "WDK general/event sample (pending-IRP method); Microsoft, IoMarkIrpPending",
    "DeviceIoControl does not return until the DPC completes the pended IRP; the trace "
    "shows IoCompleteRequest releasing the app. If the app exits first, the I/O "
    "manager cancels the IRP and the driver's cancel routine completes it with "
    "STATUS_CANCELLED.")
def inverted_call(policy: str = "round_robin", seed: int = 0, due_ms: int = 10,
                  exit_early: bool = False) -> Machine:
    """The app sends IOCTL_WAIT_FOR_HARDWARE; the driver marks the IRP pending, sets a
    cancel routine and returns STATUS_PENDING. When the timer fires, the DPC completes
    the IRP and the app's DeviceIoControl returns (True, "hardware fired"). With
    `exit_early` a second app thread calls ExitProcess while the first waits.
    """
    m = Machine(policy=policy, seed=seed)
    driver = EventDriver(m, due_ms)
    m.evtdemo = driver
    driver.load()
    app = m.process("app.exe")

    def main(api):
        device = yield api.CreateFile(r"\\.\EvtDemo")
        ok, out = yield api.DeviceIoControl(device, IOCTL_WAIT_FOR_HARDWARE, None)
        yield api.CloseHandle(device)
        return ok, out

    def quitter(api):
        yield api.Sleep(1)
        yield api.ExitProcess(0)

    app.start(main, name="main")
    if exit_early:
        app.start(quitter, name="quitter")
    return m


@scenario(
    "driverstudio_tip",
    "The 1999 DriverStudio tip: a named event opened by the driver with KEvent",
    "NuMega DriverStudio technical tip, How to Share an Event between Kernel Mode and "
    "User Mode (1999)",
    "On the NT4 namespace the app wakes up. On a modern namespace the app's "
    "'SynchEvent' lives in its session directory, the driver opens a different "
    "\\BaseNamedObjects\\SynchEvent, and the app waits for ever; naming it "
    "Global\\SynchEvent fixes it.")
def driverstudio_tip(policy: str = "round_robin", seed: int = 0, namespace: str = "nt4",
                     app_name: str = "SynchEvent", due_ms: int = 10) -> Machine:
    """Step 1: the app creates a named event with CreateEvent. Step 2: it calls the
    driver with DeviceIoControl, and the driver opens the event with
    `KEvent(KUstring(r"\\BaseNamedObjects\\SynchEvent"), SynchronizationEvent)`.
    Step 3: the app waits with WaitForSingleObject. Step 4: the driver's DPC calls
    `TheEvent.Set()`, which should make the app return.
    """
    m = Machine(policy=policy, seed=seed, namespace=namespace)
    state: dict = {"event": None}
    m.tip = state

    def driver_entry(k, driver):
        status, device = yield k.IoCreateDevice(driver, r"\Device\SynchDrv")
        yield k.IoCreateSymbolicLink(r"\??\SynchDrv", r"\Device\SynchDrv")
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = on_ioctl
        state["timer"] = yield k.KeInitializeTimer(name="HardwareTimer")
        state["dpc"] = yield k.KeInitializeDpc(hardware_fired, None)
        return status

    def on_ioctl(k, device, irp):
        TheEvent = yield KEvent(KUstring(r"\BaseNamedObjects\SynchEvent"),
                                SynchronizationEvent)
        state["event"] = TheEvent
        yield k.KeSetTimer(state["timer"], -due_ms * MS, state["dpc"])
        return (yield from complete(k, irp, STATUS_SUCCESS))

    def hardware_fired(k, dpc, context, arg1, arg2):
        TheEvent = state["event"]
        yield TheEvent.Set()

    m.driver("synchdrv.sys", driver_entry)
    app = m.process("app.exe")

    def main(api, name):
        event = yield api.CreateEvent(None, False, False, name)
        device = yield api.CreateFile(r"\\.\SynchDrv")
        yield api.DeviceIoControl(device, IOCTL_OPEN_NAMED_EVENT, None)
        result = yield api.WaitForSingleObject(event, INFINITE)
        return result

    app.start(main, app_name, name="main")
    return m


@scenario(
    "driver_created_event",
    "A driver-created event in \\BaseNamedObjects, opened by the app as Global\\Name",
    "Microsoft, IoCreateNotificationEvent page; Microsoft KB 228785",
    "Created in DriverEntry (System context) the event gets the System default DACL: a "
    "standard user's OpenEvent fails with ERROR_ACCESS_DENIED and an administrator may "
    "only wait on it. Created in the dispatch routine (the app's context) it gets the "
    "app's DACL and the standard user can open it.")
def driver_created_event(policy: str = "round_robin", seed: int = 0, admin: bool = False,
                         create_in: str = "DriverEntry", due_ms: int = 10) -> Machine:
    """The driver makes `\\BaseNamedObjects\\EvtsimDriverEvent` with
    IoCreateNotificationEvent, clears it (new named events start Signaled!) and sets it
    when its timer fires. The app opens `Global\\EvtsimDriverEvent` for SYNCHRONIZE and
    waits; it also tries to open it for EVENT_MODIFY_STATE, which only the app's own
    DACL allows. `create_in` is "DriverEntry" or "dispatch".
    """
    if create_in not in ("DriverEntry", "dispatch"):
        from ..errors import BadArgumentError
        raise BadArgumentError("create_in is 'DriverEntry' or 'dispatch'")
    m = Machine(policy=policy, seed=seed)
    name = r"\BaseNamedObjects\EvtsimDriverEvent"
    state: dict = {"event": None, "handle": None}
    m.named = state

    def create(k):
        event, handle = yield k.IoCreateNotificationEvent(name)
        if event is not None:
            yield k.KeClearEvent(event)
        state["event"], state["handle"] = event, handle

    def driver_entry(k, driver):
        status, device = yield k.IoCreateDevice(driver, r"\Device\NamedDrv")
        yield k.IoCreateSymbolicLink(r"\??\NamedDrv", r"\Device\NamedDrv")
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = on_ioctl
        state["timer"] = yield k.KeInitializeTimer(name="HardwareTimer")
        state["dpc"] = yield k.KeInitializeDpc(hardware_fired, None)
        if create_in == "DriverEntry":
            yield from create(k)
        return status

    def on_ioctl(k, device, irp):
        if create_in == "dispatch" and state["event"] is None:
            yield from create(k)
        yield k.KeSetTimer(state["timer"], -due_ms * MS, state["dpc"])
        return (yield from complete(k, irp, STATUS_SUCCESS))

    def hardware_fired(k, dpc, context, arg1, arg2):
        if state["event"] is not None:
            yield k.KeSetEvent(state["event"], IO_NO_INCREMENT, False)

    m.driver("nameddrv.sys", driver_entry)
    app = m.process("app.exe", admin=admin)

    def main(api):
        device = yield api.CreateFile(r"\\.\NamedDrv")
        yield api.DeviceIoControl(device, IOCTL_CREATE_NAMED_EVENT, None)
        modify = yield api.OpenEvent(EVENT_MODIFY_STATE, False, r"Global\EvtsimDriverEvent")
        modify_error = yield api.GetLastError()
        wait = yield api.OpenEvent(SYNCHRONIZE, False, r"Global\EvtsimDriverEvent")
        wait_error = yield api.GetLastError()
        result = None
        if wait is not None:
            result = yield api.WaitForSingleObject(wait, INFINITE)
        return {"modify": modify, "modify_error": modify_error, "wait": wait,
                "wait_error": wait_error, "result": result}

    app.start(main, name="main")
    return m


@scenario(
    "boot_start_driver",
    "A boot-start driver cannot create the named event in DriverEntry",
    "Microsoft, IoCreateNotificationEvent / IoCreateSynchronizationEvent pages",
    "In DriverEntry, before the Win32 subsystem has started, \\BaseNamedObjects does not "
    "exist and IoCreateNotificationEvent returns NULL. Once the Win32 subsystem is up, "
    "the same call from the driver's worker succeeds.")
def boot_start_driver(policy: str = "round_robin", seed: int = 0,
                      retry_after_win32: bool = True) -> Machine:
    """The driver loads on a machine that has not started Win32 yet (boot start). Its
    DriverEntry tries IoCreateNotificationEvent and gets (None, None). Then the Win32
    subsystem starts and, with `retry_after_win32`, a system thread of the driver
    tries again and succeeds.
    """
    m = Machine(policy=policy, seed=seed, boot=False)
    name = r"\BaseNamedObjects\EvtsimBootEvent"
    outcome: dict = {"in_driver_entry": None, "after_win32": None}
    m.boot = outcome

    def driver_entry(k, driver):
        event, handle = yield k.IoCreateNotificationEvent(name)
        outcome["in_driver_entry"] = (event, handle)
        return STATUS_SUCCESS

    def retry(k, context):
        event, handle = yield k.IoCreateNotificationEvent(name)
        outcome["after_win32"] = (event, handle)
        return STATUS_SUCCESS

    m.driver("bootdrv.sys", driver_entry)
    m.start_win32()
    if retry_after_win32:
        m.system.start(retry, None, name="bootdrv.sys:retry")
    return m


__all__ = ["EventDriver", "IOCTL_REGISTER_EVENT", "IOCTL_WAIT_FOR_HARDWARE",
           "handle_by_ioctl", "inverted_call", "driverstudio_tip", "driver_created_event",
           "boot_start_driver"]
