"""The step record says what happened as data (docs/engine.md, "Threads and steps").

Each record names who ran and of what kind, whom the call released or woke to re-check,
what the thread now waits on, the driver routine it entered or returned from, and what
its routines read and wrote: objects, the namespace, and handle slots. Views and the
schedule explorer read these fields; the English `note` is made from them.
"""
from __future__ import annotations

from evtsim import Machine, scenarios
from evtsim.api.kernel import (Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent, WaitAll)


def only(m, op, thread=None):
    found = [r for r in m.trace if r.op == op and (thread is None or r.thread == thread)]
    assert len(found) == 1, found
    return found[0]


def test_a_set_writes_the_event_and_a_read_of_its_state_only_reads_it():
    m = Machine()
    ev = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")

    def body(k):
        yield k.KeReadStateEvent(ev)
        yield k.KeSetEvent(ev, 0, False)

    m.system.start(body, name="t")
    m.run()
    read, wrote = only(m, "KeReadStateEvent"), only(m, "KeSetEvent", "t")
    assert (read.reads, read.writes) == (("Go",), ())
    assert wrote.writes == ("Go",) and wrote.changes == (("Go", 0, 1),)


def test_a_blocking_wait_reads_its_objects_and_says_what_it_waits_on():
    m = Machine()
    a = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="A")
    b = m.kernel.KeInitializeEvent(NotificationEvent, False, name="B")

    def both(k):
        yield k.KeWaitForMultipleObjects(2, [a, b], WaitAll, Executive, KernelMode, False,
                                         None)

    def one(k):
        yield k.KeWaitForSingleObject(a, Executive, KernelMode, False, None)

    m.system.start(both, name="all")
    m.system.start(one, name="any")
    m.run()
    blocked = [r for r in m.trace if r.state == "waiting"]
    assert [(r.thread, r.waits) for r in blocked] == [("all", ("WaitAll", ("A", "B"))),
                                                      ("any", ("Wait", ("A",)))]
    assert blocked[0].reads == ("A", "B")
    m.kernel.KeSetEvent(a, 0, False)
    record = m.trace[-1]
    assert (record.kind, record.released, record.rechecked) == ("instructor", ("any",),
                                                                ("all",))
    m.run()
    returns = [r for r in m.trace if r.thread == "any" and r.resumed == "wait"]
    assert len(returns) == 1 and returns[0].waits is None


def test_win32_calls_read_and_write_handle_slots():
    m = Machine()
    app = m.process("app.exe")

    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        yield api.SetEvent(h)
        yield api.CloseHandle(h)

    app.start(main, name="main")
    m.run()
    slot = f"handle:{app.pid}:4"
    create, set_, close = (only(m, op) for op in ("CreateEvent", "SetEvent", "CloseHandle"))
    assert slot in create.writes
    assert slot in set_.reads and slot not in set_.writes
    assert slot in close.writes


def test_a_dispatch_routine_is_entered_and_returned_from():
    m = scenarios.build("handle_by_ioctl")
    m.run()
    calls = [r for r in m.trace if r.op == "DeviceIoControl"]
    assert [(r.enters, r.resumed) for r in calls] == [
        ("evtdemo.sys IRP_MJ_DEVICE_CONTROL", None), (None, "driver")]
    assert calls[0].note == "calls evtdemo.sys IRP_MJ_DEVICE_CONTROL"


def test_kinds_say_who_ran_without_reading_names():
    m = scenarios.build("notification_broadcast")
    m.run()
    kinds = {(r.thread, r.kind) for r in m.trace}
    assert ("instructor", "instructor") in kinds and ("clock", "clock") in kinds
    assert {k for t, k in kinds if t.startswith("waiter")} == {"thread"}


def test_a_pended_irp_leaves_the_caller_waiting_on_its_completion():
    m = scenarios.build("inverted_call")
    m.run()
    pended = [r for r in m.trace if any("returned STATUS_PENDING" in x for x in r.remarks)]
    assert pended and all(r.waits is not None and r.waits[0] == "Wait" for r in pended)
