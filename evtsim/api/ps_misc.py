"""Ke*/Ps* routines on threads, processes, alerts, APCs, DPCs and timers.

Alerts and APCs end or interrupt waits as docs/semantics.md section 2 says; DPCs and
timers (KeInsertQueueDpc, KeSetTimer, KeSetTimerEx) are section 7's, with a positive
DueTime read as system time (KeQuerySystemTime, section 2); KeStackAttachProcess
switches the handle table Zw and Ob calls use (section 3). Windows names and parameter
order. Sources: Microsoft's wdm.h reference pages (KeAlertThread, KeInsertQueueDpc,
KeSetTimerEx, KeStackAttachProcess) and ReactOS ke/*.c. `PsMisc` is mixed into KernelApi.
"""
from __future__ import annotations

from .. import dispatcher
from ..dispatcher import KTIMER, KernelMode, NotificationTimer, SynchronizationTimer, UserMode
from ..errors import BadArgumentError
from ..process import Process as ProcessClass
from ..scheduler import KDPC, Thread
from ..status import STATUS_ALERTED
from .base import syscall
from .kernel_checks import DISPATCH_LEVEL, KernelChecks


class PsMisc(KernelChecks):
    """Mixed into KernelApi: threads, alerts, APCs, DPCs, timers and process context."""

    # --- threads, alerts and APCs ----------------------------------------------------
    @syscall
    def PsGetCurrentThread(self) -> Thread:
        return self.thread

    @syscall
    def KeQueryInterruptTime(self) -> int:
        """The interrupt time: 100 ns units since boot (what `m.time` counts)."""
        return self.machine.time

    @syscall
    def KeQuerySystemTime(self) -> int:
        """The system time: 100 ns units since 1 January 1601 (UTC). A positive timeout
        or DueTime is read on this clock: `KeQuerySystemTime() + 10_000_000` is one
        second from now. (C returns it through a pointer.)"""
        return self.machine.system_time

    def _target(self, value: object, routine: str) -> Thread:
        if (not isinstance(value, Thread) or value.machine is not self.machine or value.is_dpc
                or value is self.machine.instructor):
            raise BadArgumentError(f"{routine} needs a thread of this machine, not {value!r}")
        return value

    @syscall
    def KeAlertThread(self, Thread, AlertMode=KernelMode) -> bool:
        """Alert a thread: end its alertable wait with STATUS_ALERTED, or mark it alerted."""
        target = self._target(Thread, "KeAlertThread")
        mode = self._mode(AlertMode, "KeAlertThread")
        previous = target.alerted[mode]
        if not previous:
            wait = target.wait
            if (target.state == "waiting" and wait is not None and wait.alertable
                    and (mode == KernelMode or wait.mode == mode)):
                target.unwait(STATUS_ALERTED)
            else:
                target.alerted[mode] = True
        return previous

    @syscall
    def KeInsertQueueApc(self, Thread, Routine=None, Mode=KernelMode, Argument=None) -> bool:
        """Queue an APC (KeInitializeApc + KeInsertQueueApc in one call).

        A kernel APC takes a waiting thread out of its wait to run, then the thread waits
        again; for that moment it is on no wait list and misses a pulse. A user APC ends
        an alertable user-mode wait with STATUS_USER_APC. Routines are plain functions
        called with `Argument`.
        """
        target = self._target(Thread, "KeInsertQueueApc")
        mode = self._mode(Mode, "KeInsertQueueApc")
        if Routine is not None and not callable(Routine):
            raise BadArgumentError("KeInsertQueueApc: Routine must be a function or None")
        if target.state == "terminated":
            return False
        if mode == UserMode and Routine is None:
            raise BadArgumentError("KeInsertQueueApc: a user APC needs a Routine")
        self.machine.queue_apc(target, Routine, mode, Argument)
        return True

    # --- DPCs and timers -------------------------------------------------------------
    @syscall
    def KeInitializeDpc(self, DeferredRoutine, DeferredContext=None) -> KDPC:
        """A DPC whose routine is `DeferredRoutine(k, Dpc, DeferredContext, Arg1, Arg2)`."""
        if not callable(DeferredRoutine):
            raise BadArgumentError("KeInitializeDpc needs a DeferredRoutine function")
        name = getattr(DeferredRoutine, "__name__", None) or self.machine.object_name("Dpc")
        return KDPC(DeferredRoutine, DeferredContext, name)

    @syscall
    def KeInsertQueueDpc(self, Dpc, SystemArgument1=None, SystemArgument2=None) -> bool:
        """Queue the DPC; False if it was already queued."""
        if not isinstance(Dpc, KDPC):
            raise BadArgumentError(f"KeInsertQueueDpc needs a KDPC, not {Dpc!r}")
        return self.machine.insert_dpc(Dpc, SystemArgument1, SystemArgument2)

    @syscall
    def KeRemoveQueueDpc(self, Dpc) -> bool:
        """Take a queued DPC off the queue; False if it was not queued."""
        if not isinstance(Dpc, KDPC):
            raise BadArgumentError(f"KeRemoveQueueDpc needs a KDPC, not {Dpc!r}")
        if not Dpc.queued:
            return False
        Dpc.queued = False
        self.machine.dpc_queue.remove(Dpc)
        return True

    def _label(self, name: object, prefix: str) -> str:
        """evtsim's label for a new object: `name` (made unique) or Prefix1, Prefix2..."""
        if name is None:
            return self.machine.object_name(prefix)
        if not isinstance(name, str) or not name:
            raise BadArgumentError(f"name must be a non-empty string, not {name!r}")
        return self.machine.unique_label(name)

    @syscall
    def KeInitializeTimer(self, name: str | None = None) -> KTIMER:
        """A notification timer, not signaled."""
        return KTIMER(self.machine, self._label(name, "Timer"), NotificationTimer)

    @syscall
    def KeInitializeTimerEx(self, Type, name: str | None = None) -> KTIMER:
        if Type not in (NotificationTimer, SynchronizationTimer) or isinstance(Type, bool):
            raise BadArgumentError("KeInitializeTimerEx: Type is NotificationTimer or "
                                   "SynchronizationTimer")
        return KTIMER(self.machine, self._label(name, "Timer"), Type)

    def _arm(self, timer: KTIMER, due: object, period: object, dpc: object,
             routine: str) -> bool:
        if isinstance(due, bool) or not isinstance(due, int):
            raise BadArgumentError(f"{routine}: DueTime is a negative relative time or a "
                                   f"positive absolute system time in 100 ns units, "
                                   f"not {due!r}")
        if isinstance(period, bool) or not isinstance(period, int) or period < 0:
            raise BadArgumentError(f"{routine}: Period is a number of milliseconds >= 0")
        if dpc is not None and not isinstance(dpc, KDPC):
            raise BadArgumentError(f"{routine}: Dpc must be a KDPC or None")
        self._verifier(routine, DISPATCH_LEVEL)
        machine = self.machine
        was_set = timer.due is not None
        timer.generation += 1
        dispatcher.set_state(timer, 0)
        timer.due = machine.due_time(due)    # in interrupt time; positive is system time
        timer.period = period * 10_000
        timer.dpc = dpc
        machine.timers.add(timer.due, "ktimer", timer, timer.generation)
        return was_set

    @syscall
    def KeSetTimer(self, Timer, DueTime, Dpc=None) -> bool:
        """Arm the timer (TRUE if it was already set); it signals and queues Dpc when due."""
        timer = self._object(Timer, "KeSetTimer", KTIMER)
        return self._arm(timer, DueTime, 0, Dpc, "KeSetTimer")

    @syscall
    def KeSetTimerEx(self, Timer, DueTime, Period=0, Dpc=None) -> bool:
        """KeSetTimer with a period in milliseconds (0: one shot)."""
        timer = self._object(Timer, "KeSetTimerEx", KTIMER)
        return self._arm(timer, DueTime, Period, Dpc, "KeSetTimerEx")

    @syscall
    def KeCancelTimer(self, Timer) -> bool:
        """Disarm the timer; TRUE if it was set."""
        timer = self._object(Timer, "KeCancelTimer", KTIMER)
        was_set = timer.due is not None
        timer.due = None
        timer.generation += 1
        return was_set

    @syscall
    def KeReadStateTimer(self, Timer) -> int:
        timer = self._object(Timer, "KeReadStateTimer", KTIMER)
        self.machine.note_read(timer.name)
        return timer.SignalState

    # --- process context -------------------------------------------------------------
    @syscall
    def PsGetCurrentProcess(self) -> ProcessClass:
        return self._process()

    @syscall
    def KeStackAttachProcess(self, Process) -> KAPC_STATE:
        """Run in another process's context (its handle table) until detached."""
        if not isinstance(Process, ProcessClass) or Process.machine is not self.machine:
            raise BadArgumentError(f"KeStackAttachProcess needs a process of this machine, "
                                   f"not {Process!r}")
        self._verifier("KeStackAttachProcess", DISPATCH_LEVEL)
        state = KAPC_STATE(self.thread.attached)
        self.thread.attached = Process
        return state

    @syscall
    def KeUnstackDetachProcess(self, ApcState) -> None:
        if not isinstance(ApcState, KAPC_STATE):
            raise BadArgumentError("KeUnstackDetachProcess needs the ApcState that "
                                   "KeStackAttachProcess returned")
        self.thread.attached = ApcState.previous


class KAPC_STATE:
    """What KeStackAttachProcess saves so KeUnstackDetachProcess can go back."""

    def __init__(self, previous: ProcessClass | None) -> None:
        self.previous = previous


__all__ = ["PsMisc", "KAPC_STATE"]
