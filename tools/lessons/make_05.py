"""Write notebooks/05-sharing-by-name.ipynb: the 1999 DriverStudio tip, Global\\, the
security of a driver-created event (KB 228785) and the boot-start caveat.

    .venv/bin/python tools/lessons/make_05.py
"""
from lessonkit import build, code, lab, md, write  # noqa: F401 (build: for the tests)

FILENAME = "05-sharing-by-name.ipynb"
PREFIX = "sharing-by-name"

CELLS = [
    md("""
# 05 · Sharing an event by name

An app and a driver can share an event **by its name**. This lesson follows three
public documents:

- the NuMega **DriverStudio technical tip** *How to Share an Event between Kernel Mode
  and User Mode* (1999);
- Microsoft's reference pages for **`IoCreateNotificationEvent`** and
  **`IoCreateSynchronizationEvent`** (the part about sharing with user mode);
- Microsoft **KB 228785** (why an app cannot open an event that a driver made).

You will see why the 1999 recipe worked then and fails today, how `Global\\` repairs
it, why security can refuse the app, and why a boot-start driver cannot create the
event in `DriverEntry`.

Lesson 04 showed the **recommended** way (the app sends a handle). Naming is the other
way; it has more traps.
"""),
    md("""
## The 1999 tip, in plain words

1. The app creates a **named** event with `CreateEvent`.
2. The app calls the driver with `DeviceIoControl`. The driver opens the same event by
   its name, `\\BaseNamedObjects\\SynchEvent`. The tip uses the DriverWorks class
   `KEvent` for this, with a `KUstring` for the name and the type `SynchronizationEvent`.
   (The tip adds: the app could also send the handle instead of the name.)
3. The app waits with `WaitForSingleObject`.
4. The driver calls `TheEvent.Set()`. The app's wait returns.
"""),
    code("""
import evtsim
import evtsim.plot
from evtsim import Machine, scenarios
from evtsim.status import *
from evtsim.api.kernel import (SynchronizationEvent, KernelMode, IRP_MJ_DEVICE_CONTROL,
                               IO_NO_INCREMENT, CTL_CODE, FILE_DEVICE_UNKNOWN,
                               METHOD_BUFFERED, FILE_ANY_ACCESS)
from evtsim.api.driverworks import KEvent, KUstring
from evtsim.exercises import get

MS = 10_000                       # 100 ns units in one millisecond
IOCTL_OPEN_EVENT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS)
"""),
    md("""
## The tip as code

Here is the tip, line by line. The driver is `synchdrv.sys`. Its dispatch routine
runs in the app's thread (that is how `DeviceIoControl` works). It opens the event with
`KEvent` and starts a driver thread that sets the event 10 ms later ("the hardware is
ready").

`tip_machine(namespace, app_name)` builds it. `namespace="nt4"` is a Windows NT 4.0 or
2000 machine: one `\\BaseNamedObjects` for everybody. `namespace="modern"` is Windows
Vista or later: every logon session has its own directory.
"""),
    code("""
def tip_machine(namespace="nt4", app_name="SynchEvent"):
    m = Machine(namespace=namespace)
    driver_state = {}

    def DriverEntry(k, driver):
        status, device = yield k.IoCreateDevice(driver, r"\\Device\\SynchDrv")
        yield k.IoCreateSymbolicLink(r"\\??\\SynchDrv", r"\\Device\\SynchDrv")
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = DispatchIoctl
        return STATUS_SUCCESS

    def DispatchIoctl(k, device, irp):          # step 2: open the event by name
        TheEvent = yield KEvent(KUstring(r"\\BaseNamedObjects\\SynchEvent"),
                                SynchronizationEvent)
        driver_state["TheEvent"] = TheEvent
        yield k.PsCreateSystemThread(HardwareReady, None, name="synchdrv:thread")
        irp.IoStatus.Status = STATUS_SUCCESS
        yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
        return STATUS_SUCCESS

    def HardwareReady(k, context):              # step 4: the driver sets it
        yield k.KeDelayExecutionThread(KernelMode, False, -10 * MS)
        yield driver_state["TheEvent"].Set()

    def app_main(api):
        event = yield api.CreateEvent(None, False, False, app_name)   # step 1
        device = yield api.CreateFile(r"\\\\.\\SynchDrv")
        yield api.DeviceIoControl(device, IOCTL_OPEN_EVENT, None)      # step 2
        result = yield api.WaitForSingleObject(event, 1000)            # step 3 (1 s)
        return result

    m.driver("synchdrv.sys", DriverEntry)
    m.process("app.exe").start(app_main, name="app")
    return m
"""),
    md("""
## Run it on NT 4.0

The app waits at most one second (1000 ms), so that a broken run still ends.
"""),
    code("""
m = tip_machine("nt4")
print(m.run().reason)
print("app's wait returned:", name_of(m.thread("app").result, "wait"))
"""),
    code("""
display(evtsim.plot.timeline(m))
"""),
    code("""
print(evtsim.trace.text_timeline(m))
"""),
    md("""
It works: the driver's `Set()` releases the app (the arrow in the timeline).

## Run the same code on a modern Windows
"""),
    code("""
m = tip_machine("modern")
print(m.run().reason)
print("app's wait returned:", name_of(m.thread("app").result, "wait"))
print(m.objects)
"""),
    md("""
The wait ends with `WAIT_TIMEOUT`: the driver's `Set()` did not reach the app. The
namespace tree shows why. There are **two** events called `SynchEvent`:

- the app's, in `\\Sessions\\1\\BaseNamedObjects` (a plain name goes to the app's
  **session** directory on Vista and later);
- the driver's, in `\\BaseNamedObjects`. `KEvent` did not find the app's event, so it
  **created a new one** (as `IoCreateSynchronizationEvent` does). The driver set that
  one, and nobody waits on it.

In 1999 there was only one `\\BaseNamedObjects`, so the tip was right for its time.
"""),
    code("""
display(evtsim.plot.timeline(m))
"""),
    md("""
## The repair: `Global\\`

Microsoft's Io pages say: from user mode, use the name `Global\\Xxx` to reach an
event in `\\BaseNamedObjects`. `Global` is a symbolic link in each session directory.
It points to `\\BaseNamedObjects`. The keyword is case-sensitive.
"""),
    code("""
m = tip_machine("modern", app_name=r"Global\\SynchEvent")
print(m.run().reason)
print("app's wait returned:", name_of(m.thread("app").result, "wait"))
print("Global in the session directory leads to:",
      m.objects.lookup(r"\\Sessions\\1\\BaseNamedObjects\\Global"))
"""),
    md("""
## What if...

- ...the app writes `global\\SynchEvent` (small g)? There is no such directory, so
  `CreateEvent` fails and the wait fails too.
- ...the app writes `Local\\SynchEvent`? That is the session directory again.
"""),
    code("""
for name in (r"global\\SynchEvent", r"Local\\SynchEvent", r"Global\\SynchEvent"):
    m = tip_machine("modern", app_name=name)
    m.run()
    print(f"{name:<20} -> {name_of(m.thread('app').result, 'wait')}")
"""),
    md("""
## Play with it in the lab

The scenario `driverstudio_tip` is the same tip (its driver sets the event from a
timer DPC). Try `namespace="nt4"` and `namespace="modern"`: click **Run**, then look
at the thread `main`.
"""),
    lab('"driverstudio_tip", namespace="modern"'),
    md("""
## Check yourself (1)

Answer in the cell under each question. `ex.hint()` gives the next hint; the last
"hint" is the answer.
"""),
    code("""
ex = get("05-session-path")
ex.show();
"""),
    code("""
answer = None        # put your answer here, for example r"\\Somewhere\\SynchEvent"
ex.check(answer)
"""),
    code("""
ex = get("05-global-name")
ex.show();
"""),
    code("""
answer = None        # the name the app should pass to CreateEvent
ex.check(answer)
"""),
    md("""
## A driver-created event, and security

The Io pages give a second way to share by name: the **driver** creates the event in
`\\BaseNamedObjects` (with `IoCreateNotificationEvent`, say) and the app opens
`Global\\Name`. They warn: *security settings can stop the app from opening it*.

KB 228785 explains why. A new named object gets the **default security** of the
process that creates it. `DriverEntry` runs in the **System** process. System's
default gives:

- SYSTEM: everything;
- Administrators: read and execute only. For an event that means *look at the state*
  and *wait* (SYNCHRONIZE), but **not set** (EVENT_MODIFY_STATE);
- a standard user: **nothing**.

Also remember: a new named event starts **Signaled**. The driver clears it at once.
"""),
    code("""
def created_in_driver_entry(admin):
    m = Machine()

    def DriverEntry(k, driver):
        event, handle = yield k.IoCreateNotificationEvent(r"\\BaseNamedObjects\\DrvEvent")
        yield k.KeClearEvent(event)
        return STATUS_SUCCESS

    def app_main(api):
        results = {}
        for right in (SYNCHRONIZE, EVENT_MODIFY_STATE):
            handle = yield api.OpenEvent(right, False, r"Global\\DrvEvent")
            error = yield api.GetLastError()
            results[access_names(right)] = "opened" if handle else name_of(error, "error")
        return results

    m.driver("nameddrv.sys", DriverEntry)
    m.process("app.exe", admin=admin).start(app_main, name="app")
    m.run()
    return m


for admin in (False, True):
    m = created_in_driver_entry(admin)
    print("admin" if admin else "standard user", m.thread("app").result)
print(m.objects.lookup(r"\\BaseNamedObjects\\DrvEvent").header.security)
"""),
    md("""
The standard user gets `ERROR_ACCESS_DENIED` even just to wait. The administrator
may wait, but may not set the event.

**The fix** (KB 228785): create the event in a dispatch routine, which runs in the
app's process, so it gets the app's default security. Or pass your own security
descriptor. The scenario `driver_created_event` has both: `create_in="DriverEntry"` or
`create_in="dispatch"`.
"""),
    code("""
for create_in in ("DriverEntry", "dispatch"):
    m = scenarios.build("driver_created_event", create_in=create_in)
    m.run()
    r = m.thread("main").result
    print(f"{create_in:<12} open to wait: {'ok' if r['wait'] else name_of(r['wait_error'], 'error')},"
          f" wait: {name_of(r['result'], 'wait') if r['result'] is not None else '-'}")
"""),
    code("""
m = scenarios.build("driver_created_event", create_in="DriverEntry", admin=True)
m.run()
print(evtsim.trace.text_timeline(m, last=10))
"""),
    lab('"driver_created_event", admin=True'),
    md("""
## Check yourself (2)
"""),
    code("""
ex = get("05-standard-user")
ex.show();
"""),
    code("""
answer = None        # a Win32 error code, for example ERROR_FILE_NOT_FOUND
ex.check(answer)
"""),
    code("""
ex = get("05-admin-rights")
ex.show();
"""),
    code("""
answer = None        # a set, for example {SYNCHRONIZE}
ex.check(answer)
"""),
    code("""
ex = get("05-create-in-dispatch")
ex.show();
"""),
    code("""
answer = None        # "DriverEntry" or "dispatch"
ex.check(answer)
"""),
    md("""
## A boot-start driver cannot create it in `DriverEntry`

The Io pages add one more rule. `\\BaseNamedObjects` is made when the **Win32
subsystem** starts. A driver that loads at boot time runs its `DriverEntry` before
that. So it cannot create an event in `\\BaseNamedObjects` there.

`Machine(boot=False)` is a machine where Win32 has not started yet.
"""),
    code("""
m = Machine(boot=False)
tries = {}

def DriverEntry(k, driver):
    tries["DriverEntry"] = yield k.IoCreateNotificationEvent(r"\\BaseNamedObjects\\BootEvent")
    return STATUS_SUCCESS

m.driver("bootdrv.sys", DriverEntry)
print("in DriverEntry:", tries["DriverEntry"])
print(m.objects)
"""),
    md("""
`IoCreateNotificationEvent` returns `(None, None)`: a NULL pointer and no handle.
It returns no status, so check the pointer. Later, when Win32 is up, the same call
works (for example from a dispatch routine, or a driver thread that runs later).
"""),
    code("""
m.start_win32()

def later(k, context):
    tries["later"] = yield k.IoCreateNotificationEvent(r"\\BaseNamedObjects\\BootEvent")

m.system.start(later, None, name="bootdrv:later")
m.run()
print("after Win32 started:", tries["later"])
"""),
    code("""
ex = get("05-boot-start")
ex.show();
"""),
    code("""
answer = "?"         # the pair that IoCreateNotificationEvent returns
ex.check(answer)
"""),
    md("""
## Summary

- The 1999 tip shares an event by name: the app creates `SynchEvent`, the driver
  opens `\\BaseNamedObjects\\SynchEvent` with DriverWorks `KEvent` and sets it.
- It worked on NT 4.0 and Windows 2000. On Vista and later a plain name goes to the
  app's **session** directory, so the driver makes (and sets) a **different** event.
  The app must use `Global\\SynchEvent`.
- A driver-created event in `\\BaseNamedObjects` gets the security of the process that
  creates it. From `DriverEntry` (System) a standard user cannot open it, and an admin
  can only wait (KB 228785). Create it in the app's context or give it a descriptor.
- A boot-start driver cannot create it in `DriverEntry`: `\\BaseNamedObjects` does not
  exist before Win32 starts. The call returns NULL.
- The recommended way is still lesson 04: the app sends a handle by IOCTL.

Next: lesson 06, pitfalls and races.
"""),
]

if __name__ == "__main__":
    write(CELLS, FILENAME, PREFIX)
