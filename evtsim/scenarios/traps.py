"""The traps: each one a real mistake, with `fixed=True` for the version that works.

Sources: Microsoft's pages on PulseEvent/KePulseEvent (unreliable), IoCreate*Event
(new events start Signaled; the handle is valid only in the creator's context),
KeWaitForSingleObject (IRQL rules), ObReferenceObjectByHandle / ObDereferenceObject.
"""
from __future__ import annotations

from ..api.kernel import (
    DISPATCH_LEVEL,
    Executive,
    KernelMode,
    NotificationEvent,
    SynchronizationEvent,
)
from ..machine import Machine
from ..status import INFINITE, STATUS_SUCCESS
from .registry import scenario
from .sharing import IOCTL_REGISTER_EVENT, EventDriver

MS = 10_000


@scenario(
    "trap_wrong_context",
    "Trap: the app's handle used from a work item (the wrong process)",
    "Microsoft, IoCreateSynchronizationEvent page (validate the handle in the creating "
    "process's context); docs/semantics.md section 6",
    "The work item runs in the System process, where the app's handle value names "
    "nothing: ObReferenceObjectByHandle returns STATUS_INVALID_HANDLE and the app waits "
    "for ever. Fixed: reference the handle in the dispatch routine and hand the "
    "pointer on.")
def trap_wrong_context(policy: str = "round_robin", seed: int = 0,
                       fixed: bool = False) -> Machine:
    """Like handle_by_ioctl, but the driver passes the raw handle value to a work item
    and references it there."""
    m = Machine(policy=policy, seed=seed)
    driver = EventDriver(m, reference_in="dispatch" if fixed else "work item")
    m.evtdemo = driver
    driver.load()
    app = m.process("app.exe")

    def main(api):
        device = yield api.CreateFile(r"\\.\EvtDemo")
        event = yield api.CreateEvent(None, False, False, None)
        yield api.DeviceIoControl(device, IOCTL_REGISTER_EVENT, event)
        return (yield api.WaitForSingleObject(event, INFINITE))

    app.start(main, name="main")
    return m


@scenario(
    "trap_pulse_lost_wakeup",
    "Trap: KePulseEvent misses a waiter that is briefly out of its wait",
    "Microsoft, PulseEvent (documented as unreliable: a kernel-mode APC can take a "
    "waiting thread out of its wait for a moment)",
    "A kernel APC takes the waiter off the wait list just as the pulse comes; the pulse "
    "finds nobody, leaves the event 0, and the waiter waits again for ever. Fixed: a "
    "notification event that is set (not pulsed) stays signaled, so the waiter sees it "
    "when it comes back.")
def trap_pulse_lost_wakeup(policy: str = "round_robin", seed: int = 0,
                           fixed: bool = False) -> Machine:
    """A waiter waits on a notification event. A millisecond later the system queues a
    kernel APC to it (as the kernel does for I/O completion, say) and, in that same
    moment, calls KePulseEvent (fixed: KeSetEvent). The signalling runs at
    DISPATCH_LEVEL, as code in an interrupt path would, so no thread can run between
    the APC and the pulse: the order is the same under every scheduling policy."""
    m = Machine(policy=policy, seed=seed)
    event = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Work")

    def waiter(k):
        return (yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None))

    def signaller(k, target):
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)    # the waiter waits
        old = yield k.KeRaiseIrql(DISPATCH_LEVEL)
        yield k.KeInsertQueueApc(target)
        if fixed:
            yield k.KeSetEvent(event, 0, False)
        else:
            yield k.KePulseEvent(event, 0, False)
        yield k.KeLowerIrql(old)

    target = m.system.start(waiter, name="waiter")
    m.system.start(signaller, target, name="signaller")
    return m


@scenario(
    "trap_two_sets_one_wake",
    "Trap: two SetEvents on an auto-reset event before anyone waits wake only one",
    "Microsoft, SetEvent (setting an already signaled event has no effect)",
    "The second SetEvent finds the event already signaled and does nothing, so only "
    "one of the two consumers wakes; the other waits for ever. Fixed: the producer "
    "waits for each consumer's acknowledgement before it signals again.")
def trap_two_sets_one_wake(policy: str = "round_robin", seed: int = 0,
                           fixed: bool = False) -> Machine:
    """A producer has two items and signals an auto-reset event once per item; two
    consumers, busy for a millisecond, then each wait for one item."""
    m = Machine(policy=policy, seed=seed)
    app = m.process("app.exe")

    def producer(api):
        item = yield api.CreateEvent(None, False, False, "ItemReady")
        ack = yield api.CreateEvent(None, False, False, "ItemTaken")
        for _ in range(2):
            yield api.SetEvent(item)
            if fixed:
                yield api.WaitForSingleObject(ack, INFINITE)
        return STATUS_SUCCESS

    def consumer(api):
        item = yield api.CreateEvent(None, False, False, "ItemReady")
        ack = yield api.CreateEvent(None, False, False, "ItemTaken")
        yield api.Sleep(1)                          # busy with earlier work
        result = yield api.WaitForSingleObject(item, INFINITE)
        yield api.SetEvent(ack)
        return result

    app.start(producer, name="producer")
    app.start(consumer, name="consumer1")
    app.start(consumer, name="consumer2")
    return m


@scenario(
    "trap_initially_signaled",
    "Trap: forgetting that a new named event starts Signaled",
    "Microsoft, IoCreateSynchronizationEvent / IoCreateNotificationEvent pages (the "
    "event is created in the Signaled state)",
    "The consumer driver's first wait returns at once, before the producer has any "
    "data, so it reads nothing. Fixed: the creator clears the event right after "
    "IoCreateSynchronizationEvent.")
def trap_initially_signaled(policy: str = "round_robin", seed: int = 0,
                            fixed: bool = False) -> Machine:
    """Two drivers share `\\BaseNamedObjects\\EvtsimDataReady` as a "data is ready"
    signal. The consumer creates it first and waits; the producer writes the data later
    and sets the event."""
    m = Machine(policy=policy, seed=seed)
    name = r"\BaseNamedObjects\EvtsimDataReady"
    shared = {"data": None, "read": "nothing yet"}
    m.shared = shared

    def consumer(k):
        event, handle = yield k.IoCreateSynchronizationEvent(name)
        if fixed:
            yield k.KeClearEvent(event)
        yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
        shared["read"] = shared["data"]
        yield k.ZwClose(handle)
        return shared["read"]

    def producer(k):
        event, handle = yield k.IoCreateSynchronizationEvent(name)
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        shared["data"] = "sensor reading 42"
        yield k.KeSetEvent(event, 0, False)
        yield k.ZwClose(handle)

    m.system.start(consumer, name="consumer")
    m.system.start(producer, name="producer")
    return m


@scenario(
    "trap_wait_at_dispatch",
    "Trap: waiting with a timeout at DISPATCH_LEVEL",
    "Microsoft, KeWaitForSingleObject (a non-zero timeout needs IRQL <= APC_LEVEL)",
    "Driver Verifier stops the machine with bug check 0xC4 naming the rule. Fixed: at "
    "DISPATCH_LEVEL only a zero-timeout poll is allowed.")
def trap_wait_at_dispatch(policy: str = "round_robin", seed: int = 0,
                          fixed: bool = False) -> Machine:
    """A driver thread raises the IRQL to DISPATCH_LEVEL (as holding a spin lock does)
    and then waits for an event with a 1 ms timeout (fixed: polls with 0)."""
    m = Machine(policy=policy, seed=seed)
    event = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Ready")

    def driver_thread(k):
        old = yield k.KeRaiseIrql(DISPATCH_LEVEL)
        status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False,
                                               0 if fixed else -1 * MS)
        yield k.KeLowerIrql(old)
        return status

    m.system.start(driver_thread, name="driver")
    return m


@scenario(
    "trap_leaked_reference",
    "Trap: a reference taken with ObReferenceObjectByHandle and never dropped",
    "Microsoft, ObReferenceObjectByHandle (each reference needs an ObDereferenceObject)",
    "After the app closes everything, the event still has a pointer reference from the "
    "driver, so it is never freed (a leak). Fixed: the cleanup routine calls "
    "ObDereferenceObject and the event is freed.")
def trap_leaked_reference(policy: str = "round_robin", seed: int = 0,
                          fixed: bool = False) -> Machine:
    """handle_by_ioctl where the driver forgets ObDereferenceObject in its cleanup
    (fixed: it remembers). The app closes the device early, then its event."""
    m = Machine(policy=policy, seed=seed)
    driver = EventDriver(m, dereference=fixed)
    m.evtdemo = driver
    driver.load()
    app = m.process("app.exe")
    seen: dict = {}
    m.seen = seen

    def main(api):
        device = yield api.CreateFile(r"\\.\EvtDemo")
        event = yield api.CreateEvent(None, False, False, None)
        yield api.DeviceIoControl(device, IOCTL_REGISTER_EVENT, event)
        entry = m.processes[-1].handles.get(event)
        assert entry is not None, "CreateEvent gave a handle"
        seen["event"] = entry.object
        yield api.CloseHandle(device)
        yield api.CloseHandle(event)
        return STATUS_SUCCESS

    app.start(main, name="main")
    return m


__all__ = ["trap_wrong_context", "trap_pulse_lost_wakeup", "trap_two_sets_one_wake",
           "trap_initially_signaled", "trap_wait_at_dispatch", "trap_leaked_reference"]
