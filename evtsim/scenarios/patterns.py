"""The documented patterns as scenarios: a notification event that wakes every waiter, and a
named synchronization event used as a lock (sources: shared/seeds, WDK `general/event`)."""
from __future__ import annotations

from ..api.kernel import Executive, KernelMode, NotificationEvent
from ..machine import Machine
from ..status import STATUS_SUCCESS
from .registry import scenario

MS = 10_000          # 100 ns units in a millisecond
HARDWARE_LOCK = r"\BaseNamedObjects\EvtsimHardwareLock"     # the name hardware_lock shares


@scenario(
    "notification_broadcast",
    "Notification event: one KeSetEvent releases every waiter",
    "Microsoft, KeInitializeEvent and KeSetEvent reference pages (the notification "
    "behaviour the IoCreateNotificationEvent page describes)",
    "Every waiter is released by the single KeSetEvent; the event stays signaled, so "
    "the poller's zero-timeout wait returns STATUS_TIMEOUT before the set and "
    "STATUS_SUCCESS after it, until KeClearEvent.")
def notification_broadcast(policy: str = "round_robin", seed: int = 0, waiters: int = 3,
                           clear: bool = True) -> Machine:
    """Several threads wait on one notification event; a setter sets it once.

    A poller tests the event with a zero timeout before and after the set. At the end
    the setter clears the event again (with `clear=True`).
    """
    m = Machine(policy=policy, seed=seed)
    ready = m.kernel.KeInitializeEvent(NotificationEvent, False, name="DataReady")

    def waiter(k, event):
        status = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
        return status

    def setter(k, event, clear):
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        previous = yield k.KeSetEvent(event, 0, False)
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
        if clear:
            yield k.KeClearEvent(event)
        return previous

    def poller(k, event):
        before = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, 0)
        yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS - 5000)
        after = yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, 0)
        return before, after

    for i in range(1, waiters + 1):
        m.system.start(waiter, ready, name=f"waiter{i}")
    m.system.start(poller, ready, name="poller")
    m.system.start(setter, ready, clear, name="setter")
    return m


@scenario(
    "hardware_lock",
    "IoCreateSynchronizationEvent: two unrelated drivers share one piece of hardware",
    "Microsoft, IoCreateSynchronizationEvent reference page",
    "The first wait passes at once because a new named event starts Signaled; then each "
    "KeSetEvent releases exactly one waiting driver, so the hardware never has two users. "
    "With use_lock=False the drivers never wait, and both use the hardware at once.")
def hardware_lock(policy: str = "round_robin", seed: int = 0, rounds: int = 2,
                  use_lock: bool = True) -> Machine:
    """Two drivers open the same named synchronization event and use it as a lock
    around their access to a shared device register: wait, use it (one step), set.
    `m.hardware["log"]` records who used it, and `m.hardware["overlaps"]` counts the
    times two drivers were inside together (0 with the lock). With `use_lock=False`
    they skip the wait and the set, as if there were no lock (lesson 02 shows it)."""
    m = Machine(policy=policy, seed=seed)
    hardware: dict = {"user": None, "log": [], "overlaps": 0}
    m.hardware = hardware

    def driver(k, who, rounds):
        """One driver: open the lock by its name, then use the hardware `rounds` times."""
        event, handle = yield k.IoCreateSynchronizationEvent(HARDWARE_LOCK)
        for _ in range(rounds):
            if use_lock:
                yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)
            if hardware["user"] is not None:
                hardware["overlaps"] += 1
            hardware["user"] = who
            hardware["log"].append(who)
            yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)   # use the device
            hardware["user"] = None
            if use_lock:
                yield k.KeSetEvent(event, 0, False)
        yield k.ZwClose(handle)
        return STATUS_SUCCESS

    m.system.start(driver, "driverA", rounds, name="driverA")
    m.system.start(driver, "driverB", rounds, name="driverB")
    return m


__all__ = ["notification_broadcast", "hardware_lock", "HARDWARE_LOCK", "MS"]
