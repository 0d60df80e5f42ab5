"""Write notebooks/04-sharing-by-handle.ipynb.

    .venv/bin/python tools/lessons/make_04.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "04-sharing-by-handle.ipynb"
PREFIX = "sharing-by-handle"

CELLS = [
    md("""
# 04 · Sharing an event with an application: pass the handle

An application wants to know when the hardware has done something. The driver finds
out in a DPC (the interrupt's follow-up). How does the driver wake the application?
The recommended way: the **application** creates the event and gives its **handle** to
the driver.

**Sources.** Microsoft's reference pages for `IoCreateSynchronizationEvent` and
`IoCreateNotificationEvent` both describe this method and call it the recommended one.
The 1999 DriverStudio tip mentions it too ("pass the handle instead of the name").
The WDK sample `general/event` shows it, and the pended-IRP method as well.
"""),
    md("""
## The rules

1. The app creates the event (`CreateEvent`) and sends its **handle** to the driver in
   an IOCTL (`DeviceIoControl`).
2. A handle is only a number in **one process's** handle table. So the driver must use
   it **in the context of the app's process**. The dispatch routine of a top-level
   driver runs in the app's own thread, so it is the right place.
3. The driver **validates** the handle with `ObReferenceObjectByHandle(Handle,
   EVENT_MODIFY_STATE, *ExEventObjectType, Irp->RequestorMode, &Event)`. This checks
   that the handle exists, that it is an **event**, and that the app **allowed** the
   driver to set it.
4. The driver **keeps** the pointer. The reference keeps the event alive, even if the
   app closes its handle.
5. Later, for example in a DPC at DISPATCH_LEVEL, the driver calls `KeSetEvent`.
6. When it is done, the driver calls `ObDereferenceObject`: at the latest in its
   `IRP_MJ_CLEANUP` routine, which runs when the app closes the device or exits.

In evtsim `ObReferenceObjectByHandle` returns `(status, object)`.
"""),
    code("""
%matplotlib inline
from IPython.display import display

import evtsim.plot
import evtsim.trace
from evtsim import Machine, scenarios
from evtsim.status import *
from evtsim.api.kernel import (ExEventObjectType, KernelMode, IO_NO_INCREMENT,
                               IRP_MJ_DEVICE_CONTROL, IRP_MJ_CLEANUP, CTL_CODE,
                               FILE_DEVICE_UNKNOWN, METHOD_BUFFERED, FILE_ANY_ACCESS)
from evtsim.exercises import get

MS = 10_000
IOCTL_REGISTER_EVENT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
"""),
    md("""
## The driver code

`DriverEntry` makes the device `\\\\.\\EvtDemo` and a timer whose DPC plays the
hardware interrupt. The driver keeps its state in the device extension.
"""),
    code("""
def DriverEntry(k, driver):
    status, device = yield k.IoCreateDevice(driver, r"\\Device\\EvtDemo")
    yield k.IoCreateSymbolicLink(r"\\??\\EvtDemo", r"\\Device\\EvtDemo")
    driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = DispatchDeviceControl
    driver.MajorFunction[IRP_MJ_CLEANUP] = DispatchCleanup
    device.DeviceExtension["Timer"] = yield k.KeInitializeTimer(name="HardwareTimer")
    device.DeviceExtension["Dpc"] = yield k.KeInitializeDpc(HardwareDpc, device)
    return status


def DispatchDeviceControl(k, device, irp):          # runs in the app's thread
    ext = device.DeviceExtension
    status, event = yield k.ObReferenceObjectByHandle(
        irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
    if status == STATUS_SUCCESS:
        ext["Event"] = event                          # keep the pointer and its reference
        if not KEEP_REFERENCE:
            yield k.ObDereferenceObject(event)        # (a mistake, for "what if" below)
        yield k.KeSetTimer(ext["Timer"], -10 * MS, ext["Dpc"])   # "hardware" in 10 ms
    irp.IoStatus.Status = status
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return status


def HardwareDpc(k, dpc, device, arg1, arg2):        # DISPATCH_LEVEL, any process
    event = device.DeviceExtension.get("Event")
    if event is not None:
        yield k.KeSetEvent(event, IO_NO_INCREMENT, False)


def DispatchCleanup(k, device, irp):                # the app closed the device, or exited
    ext = device.DeviceExtension
    if KEEP_REFERENCE and "Event" in ext:
        yield k.KeCancelTimer(ext["Timer"])           # no DPC after this
        yield k.ObDereferenceObject(ext.pop("Event"))
    irp.IoStatus.Status = STATUS_SUCCESS
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return STATUS_SUCCESS


KEEP_REFERENCE = True
"""),
    md("""
## The application code

The app opens the device, creates an unnamed auto-reset event, sends the handle, and
waits. `send` chooses which handle it sends, for the "what if" cells below;
`exit_early` makes it exit before the hardware fires.
"""),
    code("""
def app_main(api, send="event", exit_early=False):
    device = yield api.CreateFile(r"\\\\.\\EvtDemo")
    event = yield api.CreateEvent(None, False, False, "AppEvent")
    if send == "event":
        handle = event
    elif send == "wait only":
        handle = yield api.OpenEvent(SYNCHRONIZE, False, "AppEvent")   # may only wait
    elif send == "device":
        handle = device                                                  # not an event
    ok, _ = yield api.DeviceIoControl(device, IOCTL_REGISTER_EVENT, handle)
    if not ok:
        error = yield api.GetLastError()
        return "DeviceIoControl failed, error " + name_of(error, "error")
    if exit_early:
        yield api.ExitProcess(0)
    result = yield api.WaitForSingleObject(event, INFINITE)
    yield api.CloseHandle(device)
    yield api.CloseHandle(event)
    return name_of(result, "wait")


def build(send="event", exit_early=False):
    m = Machine()
    m.driver("evtdemo.sys", DriverEntry)
    app = m.process("app.exe")
    app.start(app_main, send, exit_early, name="main")
    return m
"""),
    md("""
## Run it
"""),
    code("""
m = build()
print("stopped:", m.run().reason)
print("the app's main thread returned:", m.find("main").result)
"""),
    md("""
In the log, find: `main` calls the driver, and the driver's calls run **under `main`**
(the app's thread and process); `ObReferenceObjectByHandle` succeeds; 10 ms later the
clock fires the timer and the DPC's `KeSetEvent` **releases main**; closing the device
runs `DispatchCleanup`, which drops the reference.
"""),
    code("""
display(evtsim.plot.timeline(m))
print(evtsim.trace.text_timeline(m))
"""),
    md("""
## Play with it in the lab

The lab runs the kit's version of this pattern (`handle_by_ioctl`). Step `main` one
call at a time and watch the driver's calls appear under the app's thread.
"""),
    lab('"handle_by_ioctl"'),
    md("""
## What if ...

### ... the driver uses the handle in the wrong context?

The trap `trap_wrong_context` passes the raw handle value to a **work item**. A work
item runs on a system thread, in the **System** process. There the number names
nothing: `STATUS_INVALID_HANDLE`, and the app waits for ever.
"""),
    code("""
t = scenarios.build("trap_wrong_context")
print(t.run().message)
print("ObReferenceObjectByHandle in the work item:", name_of(t.evtdemo.lookup_status))
print(evtsim.trace.text_timeline(t, last=6))
"""),
    md("""
It can be worse. If another driver has kernel handles open, the same number **does**
name something in the System process: **another driver's event**. The lookup succeeds,
and the DPC will set the wrong event.
"""),
    code("""
def other_driver(k):
    yield k.IoCreateNotificationEvent(r"\\BaseNamedObjects\\OtherDriverA")
    yield k.IoCreateNotificationEvent(r"\\BaseNamedObjects\\OtherDriverB")


t = scenarios.build("trap_wrong_context")
t.system.start(other_driver, name="otherdrv")
t.run()
print("lookup status:", name_of(t.evtdemo.lookup_status))
print("the driver now holds:", t.evtdemo.event)
print(t.system.handles)
"""),
    code("""
t = scenarios.build("trap_wrong_context", fixed=True)
t.run()
print("fixed (referenced in the dispatch routine):", name_of(t.evtdemo.lookup_status),
      "- the app's wait returned", name_of(t.find("main").result, "wait"))
"""),
    md("""
### ... the handle does not allow the driver to set the event?

The app opens a second handle with `SYNCHRONIZE` only (it may wait, not set). Passing
`irp.RequestorMode` (UserMode) makes `ObReferenceObjectByHandle` check the access:
`STATUS_ACCESS_DENIED`, and the app's `DeviceIoControl` fails.
"""),
    code("""
m = build(send="wait only")
m.run()
print(m.find("main").result)
"""),
    md("""
### ... the handle is not an event?

The app sends its device handle. `ExEventObjectType` makes the driver refuse it:
`STATUS_OBJECT_TYPE_MISMATCH`. Without the type check the driver would call
`KeSetEvent` on a file object.
"""),
    code("""
m = build(send="device")
m.run()
print(m.find("main").result)
print([name_of(r.result[0]) for r in m.trace if r.op == "ObReferenceObjectByHandle"])
"""),
    md("""
### ... the app exits before the hardware fires?

Windows closes the app's handles for it. Closing the device sends `IRP_MJ_CLEANUP`:
the driver stops the timer and drops its reference, so nothing touches the event
later. The event is freed when the app's handle is closed too.
"""),
    code("""
m = build(exit_early=True)
print("stopped:", m.run().reason, "- bug check:", m.bugcheck)
print(evtsim.trace.text_timeline(m, last=8))
"""),
    md("""
Now a driver that does **not** keep its reference: it dereferences at once ("I only
wanted to check the handle"), so its cleanup thinks it has nothing to do and leaves the
timer running. When the app exits, the event is freed, and the DPC sets freed memory:
bug check 0xCC.
"""),
    code("""
KEEP_REFERENCE = False
m = build(exit_early=True)
print(m.run().message)
KEEP_REFERENCE = True
"""),
    md("""
The opposite mistake, a reference that is **never** dropped, leaks the event: it lives
until the machine restarts. The trap `trap_leaked_reference` shows it (and lesson 06
comes back to it).
"""),
    code("""
for fixed in (False, True):
    t = scenarios.build("trap_leaked_reference", fixed=fixed)
    t.run()
    header = t.seen["event"].header
    print(f"fixed={fixed}: after the app closed everything, the event has "
          f"{header.handle_count} handles, {header.pointer_count} pointer references, "
          f"freed: {header.deleted}")
"""),
    md("""
## The other documented method: a pended IRP

The app can also send an IOCTL that the driver does **not** finish at once. The driver
marks the IRP pending and returns `STATUS_PENDING`; the app's `DeviceIoControl` waits.
When the hardware fires, the DPC completes the IRP with `IoCompleteRequest`, and the
app goes on. No event is shared, so there is no handle to validate. This is the
"inverted call" (the WDK sample `general/event` shows both methods).
"""),
    code("""
m = scenarios.build("inverted_call")
m.run()
print("the app's DeviceIoControl returned:", m.find("main").result)
print(evtsim.trace.text_timeline(m, last=7))
"""),
    md("""
If the app exits while the IRP is pending, the I/O manager cancels it, and the driver's
cancel routine completes it with `STATUS_CANCELLED`.
"""),
    code("""
m = scenarios.build("inverted_call", exit_early=True)
m.run()
print("main is", m.find("main").state, "(ExitProcess ended it)")
print(evtsim.trace.text_timeline(m, last=6))
"""),
    md("""
## Check yourself
"""),
    code("""
get("04-failures").show();
"""),
    code("""
answer = {"wrong context": None, "wrong access": None, "wrong type": None}
get("04-failures").check(answer)
"""),
    code("""
get("04-cleanup").show();
"""),
    code("""
answer = None   # the name of an IRP major function, for example "IRP_MJ_CREATE"
get("04-cleanup").check(answer)
"""),
    code("""
get("04-inverted").show();
"""),
    code("""
answer = None   # a routine's name
get("04-inverted").check(answer)
"""),
    md("""
Now code. Write the dispatch routine yourself. This first try has **two** mistakes.
"""),
    code("""
get("04-dispatch").show();
"""),
    code("""
def MyDispatchDeviceControl(k, device, irp):
    status, event = yield k.ObReferenceObjectByHandle(
        irp.InputBuffer, EVENT_MODIFY_STATE, ExEventObjectType, KernelMode)
    if status == STATUS_SUCCESS:
        device.DeviceExtension["Event"] = event
        yield k.ObDereferenceObject(event)
    irp.IoStatus.Status = status
    yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
    return status


get("04-dispatch").check(MyDispatchDeviceControl)
"""),
    md("""
## Summary

- The app creates the event and sends its **handle** by `DeviceIoControl`.
- The driver validates it with `ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE,
  ExEventObjectType, irp.RequestorMode)` **in the dispatch routine**, in the app's
  context. Wrong context: `STATUS_INVALID_HANDLE` (or another object!); wrong access:
  `STATUS_ACCESS_DENIED`; wrong type: `STATUS_OBJECT_TYPE_MISMATCH`.
- It keeps the pointer with its reference, sets the event later (a DPC may), and drops
  the reference in `IRP_MJ_CLEANUP` at the latest. No reference: a freed event (0xCC).
  Never dropped: a leak.
- The other method: pend the IRP and complete it later (`IoCompleteRequest`).

Next: **05 · Sharing by name**, the 1999 DriverStudio tip, and why it breaks today.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
