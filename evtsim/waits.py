"""One pass of a kernel wait, and the APCs that can interrupt one (machine layer).

`wait` does what KeWaitForSingleObject / KeWaitForMultipleObjects do on each pass, in
the kernel's order (docs/semantics.md section 2): the objects signaled, then alerts and
APCs, then the timeout, then block. Kernel APCs take a waiting thread out of its wait
and put it back; user APCs run in alertable user-mode waits (ReactOS ke/wait.c,
ke/apc.c). Machine mixes this in.

Deadlines are kept in interrupt time (`self.time`, since boot). A positive timeout is
an absolute *system* time (since 1601), turned into interrupt time once, as ReactOS
KiComputeDueTime does: `+10_000_000` is one second after 1601, long past, so such a
wait times out at once (MS KeWaitForSingleObject; docs/semantics.md section 2).
"""
from __future__ import annotations

from collections.abc import Callable
from types import GeneratorType
from typing import Any, cast

from . import dispatcher
from .calls import BLOCKED, FOREVER
from .errors import BugCheckSignal, ProtocolError, WouldBlockError
from .observed import MachineState
from .scheduler import READY, TERMINATED, WAITING, Thread, WaitInfo
from .status import (
    PASSIVE_LEVEL,
    STATUS_KERNEL_APC,
    STATUS_TIMEOUT,
    STATUS_USER_APC,
    STATUS_WAIT_0,
)
from .units import BOOT_SYSTEM_TIME


class Waits(MachineState):
    """The waits part of Machine (a mixin: it works on Machine's state)."""

    # --- the two clocks -----------------------------------------------------------------
    @property
    def system_time(self) -> int:
        """KeQuerySystemTime: 100 ns units since 1601 (UTC). The machine boots at
        BOOT_SYSTEM_TIME and nobody sets the clock, so it is that plus the interrupt time."""
        return BOOT_SYSTEM_TIME + self.time

    def due_time(self, timeout: int) -> int:
        """The interrupt time at which a non-zero timeout or DueTime ends: negative is
        relative to now; positive is an absolute system time (in the past: now)."""
        if timeout < 0:
            return self.time - timeout
        return self.time + max(0, timeout - self.system_time)

    # --- waits: one pass of KeWaitForXxx ----------------------------------------------
    def wait(self, thread: Thread, objects: tuple, wait_type: int, mode: int,
             alertable: bool, timeout: int | None, op: str,
             timeout_status: int = STATUS_TIMEOUT,
             translate: Callable[[Any], Any] | None = None) -> Any:
        """Check objects, then alerts and APCs, then the timeout; else block.

        `timeout` is None (forever), 0 (poll), negative (relative, 100 ns) or positive
        (an absolute system time). The deadline is fixed the first time, in interrupt
        time, so a wait that is interrupted and run again keeps its original deadline.
        `translate` turns the final status into what the routine returns (a Win32 wait
        result, say). Returns that status, or BLOCKED when the thread now waits.
        """
        call = thread.next_call if thread is not self.instructor else None
        deadline = call.deadline if call is not None else None
        if deadline is None:
            if timeout is None:
                deadline = FOREVER
            elif timeout == 0:
                deadline = self.time
            else:
                deadline = self.due_time(timeout)
            if call is not None:
                call.deadline = deadline
        wait_irql = thread.saved_irql if thread.wait_next else thread.irql
        if len(objects) == 1:
            obj = objects[0]
            self._reads.append(obj.name)
            if obj.SignalState > 0:
                if obj.Type == 1:
                    dispatcher.set_state(obj, 0)
                return self._wait_done(thread, wait_irql, STATUS_WAIT_0, translate)
        elif objects:
            self._reads.extend(o.name for o in objects)
            status = dispatcher.try_satisfy(objects, wait_type)
            if status is not None:
                return self._wait_done(thread, wait_irql, status, translate)
        status = dispatcher.check_alertable(thread, mode, alertable)
        if status is not None:
            return self._wait_done(thread, wait_irql, status, translate)
        if deadline <= self.time:
            return self._wait_done(thread, wait_irql, timeout_status, translate)
        if thread is self.instructor:
            raise WouldBlockError(
                f"m.kernel acts at once and cannot wait: {op} would block. Start a thread "
                f"to wait, or pass a zero timeout to poll.")
        if thread.is_dpc:
            raise BugCheckSignal(
                0xB8, "a DPC must never wait",
                f"{op} would block inside a DPC routine. A DPC runs at DISPATCH_LEVEL in "
                f"no particular thread, so there is nothing that could wait. Poll with a "
                f"zero timeout, or queue a work item to a thread instead.")
        thread.wait_next = False
        thread.wait_irql = wait_irql
        thread.wait = WaitInfo(op, objects, wait_type, mode, alertable, deadline,
                               self.time, self.seq, call.line if call else None,
                               timeout_status, translate)
        thread.wait_blocks = dispatcher.enqueue(thread, objects, wait_type)
        if deadline != FOREVER:         # so a whole number of 100 ns units
            self.timers.add(cast(int, deadline), "wait", thread, thread.wait_generation)
        return BLOCKED

    @staticmethod
    def _wait_done(thread: Thread, wait_irql: int, status: int,
                   translate: Callable[[Any], Any] | None) -> Any:
        thread.wait_next = False
        thread.irql = wait_irql
        return translate(status) if translate else status

    def _deliver_kernel_apc(self, thread: Thread) -> tuple:
        """Run a queued kernel APC; the step's (op, args, result, remark)."""
        routine, argument = thread.kernel_apcs.pop(0)
        thread.state = READY
        if routine is not None:
            self._call_apc_routine(thread, routine, argument)
        return ("KernelApc", (routine,), None,
                "a kernel APC runs: the thread is out of its wait until it waits again")

    def _deliver_user_apcs(self, thread: Thread) -> None:
        thread.user_apc_pending = False
        while thread.user_apcs and thread.state != TERMINATED:
            routine, argument = thread.user_apcs.pop(0)
            self._call_apc_routine(thread, routine, argument)

    def _call_apc_routine(self, thread: Thread, routine: Callable[[Any], object],
                          argument: object) -> None:
        try:
            out = routine(argument)
        except Exception as error:
            self._exit(thread, None, error)
            return
        if isinstance(out, GeneratorType):
            out.close()
            self._exit(thread, None, ProtocolError(
                f"the APC routine {getattr(routine, '__name__', routine)} is a generator; "
                f"in evtsim APC routines are plain functions and make no calls."))

    def queue_apc(self, target: Thread, routine: Callable[[Any], object] | None, mode: int,
                  argument: object) -> None:
        """Queue an APC to a thread (KiInsertQueueApc).

        A kernel APC takes a thread waiting at PASSIVE_LEVEL out of its wait to run;
        the thread then waits again. A user APC ends an alertable user-mode wait with
        STATUS_USER_APC; otherwise it waits for the next alertable wait.
        """
        wait = target.wait
        if mode == dispatcher.KernelMode:
            target.kernel_apcs.append((routine, argument))
            if target.state == WAITING and target.wait_irql == PASSIVE_LEVEL:
                target.unwait(STATUS_KERNEL_APC)
        else:
            target.user_apcs.append((routine, argument))
            if (target.state == WAITING and wait is not None
                    and wait.mode == dispatcher.UserMode and wait.alertable):
                target.user_apc_pending = True
                target.unwait(STATUS_USER_APC)


__all__ = ["Waits"]
