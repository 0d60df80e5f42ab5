"""One step: run one call of one thread and record what it did (machine layer).

A step completes one call (or the return from a finished wait), sends the result into
the thread's generator and runs its own code to its next `yield`, then appends the
step's trace row; a step that nothing can take is refused with the reason `run()`
gives. `choices` lists the threads that could take the next step, for the manual
policy and the schedule explorer. Machine mixes this in.
"""
from __future__ import annotations

from typing import Any, NoReturn

from .calls import BLOCKED, Call, Nested
from .errors import BadArgumentError, BugCheckSignal, EvtsimError, MachineStateError
from .observed import MachineState
from .records import TraceRecord
from .scheduler import (
    MAX_IDLE_EXPIRIES,
    NO_VALUE,
    READY,
    RUNNING,
    TERMINATED,
    WAITING,
    Thread,
)
from .status import DISPATCH_LEVEL, PASSIVE_LEVEL

_make_record = TraceRecord._make


def _once(names: tuple) -> tuple:
    """Each name once, in first-noted order (most steps note one name once)."""
    return names if len(names) < 2 else tuple(dict.fromkeys(names))


class Stepping(MachineState):
    """The stepping part of Machine (a mixin: it works on Machine's state)."""

    # --- stepping ---------------------------------------------------------------------
    def step(self, thread: Thread | None = None) -> TraceRecord | None:
        """Run one step: the policy's choice, or `thread` if given; its trace record.

        When nothing can take the step (every thread has ended, all wait, the machine
        has crashed, or the manual policy waits for your choice), it raises
        MachineStateError with the reason `run()` would give, instead of doing nothing
        without a word. (It returns None only with `Machine(trace=False)`.)
        """
        if self.bugcheck:
            self._cannot_step("bugcheck")
        # Recorded first, as a refused step may still have fired due timers: a replay
        # does it again (and is refused again).
        self.actions.append(("step", thread.name if isinstance(thread, Thread) else None))
        if thread is not None:
            self._check_steppable(thread)
            self._service(until=None)
            if self.bugcheck:
                self._cannot_step("bugcheck")
            if thread.state != READY:
                raise MachineStateError(
                    f"{thread.name} cannot run now: a timer or DPC that was due first "
                    f"left it {thread.state}.")
        else:
            thread = self._next_thread(until=None)
            if thread is None:
                self._cannot_step(self._why_nothing_runs(None))
        before = self.seq
        self._step_thread(thread)
        return self.trace[-1] if self.seq > before and self.tracing else None

    def _cannot_step(self, reason: str) -> NoReturn:
        """Refuse a step that nothing can take, with the reason `run()` would give."""
        message, _ = self._stop_message(reason, None)
        raise MachineStateError(f"Nothing can take this step. {message}")

    @property
    def footprint(self) -> tuple:
        """Names of what the last step's routines read or changed (objects and handle
        slots, in first-touch order). The record's `reads` and `writes` say which."""
        reads, noted = self._footprint
        return _once(reads + noted)

    def choices(self) -> list[Thread]:
        """The threads that could take the next step, in ready-queue order.

        Due timers fire and queued DPCs run first; if no thread is ready, the clock
        moves to the next timer. An empty list means nothing can ever run again (or
        the machine has crashed). This is the choice point a schedule explorer uses.
        """
        idle = 0
        while True:
            if self.raised is not None:
                return [self.raised]
            self._service(None)
            if self.bugcheck:
                return []
            if self.scheduler.ready:
                return list(self.scheduler.ready)
            due = self._next_due()
            if idle >= MAX_IDLE_EXPIRIES:           # only periodic timers tick
                due, idle = self._next_wait_timeout(), 0
            if due is None:
                return []
            if due > self.time:
                self.time = due
            idle += 1

    def _check_steppable(self, thread: Thread) -> None:
        if not isinstance(thread, Thread) or thread.machine is not self:
            raise BadArgumentError("step() takes a thread of this machine (or nothing)")
        if self.raised is not None and thread is not self.raised:
            raise MachineStateError(
                f"{thread.name} cannot run now: {self.raised.name} runs at IRQL "
                f"{self.raised.irql} (DISPATCH_LEVEL or above), so nothing else runs on "
                f"this CPU until it lowers the IRQL.")
        if thread.state != READY:
            what = f" on {thread.wait.describe()}" if thread.wait else ""
            ready = ", ".join(t.name for t in self.scheduler.ready) or "none"
            raise MachineStateError(
                f"{thread.name} cannot run now: it is {thread.state}{what}. "
                f"Ready threads: {ready}.")

    def _step_thread(self, thread: Thread) -> None:
        """One thread step, then the `between_steps` observers (if any subscribed)."""
        if not self._hooks:                 # nobody watches: the usual case, kept cheap
            self._step(thread)
            return
        self._in_step = True
        try:
            self._step(thread)
        finally:
            self._in_step = False
        if self._hooks and self._hooks["between_steps"]:
            self._notify("between_steps", self)

    def _step(self, thread: Thread) -> None:
        ready = self.scheduler.ready
        if ready[0] is thread:
            ready.popleft()
        else:
            ready.remove(thread)
        if self._hooks:
            self._notify("before_step", thread)
        thread.state = RUNNING
        thread.steps += 1
        self.current_process = thread.process
        call = thread.next_call
        assert call is not None, "a ready thread has a call to make"
        op, args = call.name, call.args
        waits = resumed = enters = None
        remark = None
        try:
            if thread.kernel_apcs and thread.irql == PASSIVE_LEVEL:
                op, args, result, remark = self._deliver_kernel_apc(thread)
            elif thread.resume is not NO_VALUE:
                result, thread.resume = thread.resume, NO_VALUE
                wait = thread.wait
                if wait is not None:
                    if wait.translate:
                        result = wait.translate(result)
                    thread.wait = None
                    thread.irql = thread.wait_irql
                    resumed = "wait"
                else:
                    resumed = "driver"
                if type(result) is Nested:
                    thread.state = READY
                    self._enter(thread, result, call)
                    enters, result = result.label, None
                else:
                    self._complete(thread, result)
            else:
                if thread.wait_next and not op.startswith(("KeWaitFor", "KeDelayExec")):
                    raise BugCheckSignal(
                        0xC4, "KeSetEvent or KePulseEvent with Wait=TRUE must be "
                        "followed by a wait",
                        f"{thread.name} called KeSetEvent or KePulseEvent with Wait=TRUE, "
                        f"which keeps the "
                        f"IRQL raised, and then called {op} instead of "
                        f"KeWaitForSingleObject or KeWaitForMultipleObjects.")
                self._acting += 1
                try:
                    result = call.impl(call.surface, *args, **call.kwargs)
                except (TypeError, EvtsimError) as error:
                    result, remark = self._call_failed(thread, call, error)
                else:
                    if thread.state == TERMINATED:          # ExitProcess ended it
                        remark = "the thread ends with its process"
                    elif result is BLOCKED:
                        thread.state = WAITING
                        assert thread.wait is not None, "a blocked thread waits"
                        result, waits = None, thread.wait.label()
                    elif type(result) is Nested:
                        enters = result.label
                        thread.state = READY
                        self._enter(thread, result, call)
                        result = None
                        if thread.state == WAITING:
                            assert thread.wait is not None, "a waiting thread has a wait"
                            waits = thread.wait.label()
                    elif thread.user_apc_pending:
                        self._complete(thread, result)
                    else:
                        thread.state = READY
                        self._advance(thread, result)
        except BugCheckSignal as signal:
            self._crash(signal, thread, call)
            result = "bug check"
        finally:
            self._acting = 0
        self._record(thread, op, args, result, call.line, remark, waits, resumed, enters)
        self.time += self.step_time
        self.raised = (thread if thread.state == READY and thread.irql >= DISPATCH_LEVEL
                       else None)
        self.scheduler.last = thread
        if thread.state == READY:
            if self.policy.keeps_cpu:
                ready.appendleft(thread)
            else:
                ready.append(thread)

    def _call_failed(self, thread: Thread, call: Call, error: Exception) -> tuple[str, str]:
        """A routine refused its arguments: throw the error in at the learner's line."""
        if isinstance(error, TypeError) and not isinstance(error, EvtsimError):
            here = error.__traceback__
            if here is not None and here.tb_next is not None:
                raise error                     # a bug inside evtsim, not the learner's
            error = BadArgumentError(f"{call.name}: {error}")
        thread.state = READY
        self._advance(thread, None, error)
        return type(error).__name__, str(error)

    def _complete(self, thread: Thread, result: object) -> None:
        thread.state = READY
        if thread.user_apc_pending:
            self._deliver_user_apcs(thread)
            if thread.state == TERMINATED:
                return
        self._advance(thread, result)

    def _record(self, thread: Any, op: str, args: tuple, result: object,
                line: int | None, remark: str | None = None,
                waits: tuple | None = None, resumed: object = None,
                enters: str | None = None) -> None:
        """Append the step's trace record and reset what routines noted during it
        (`thread` is the Thread that took the step, or the clock for a timer)."""
        self.seq += 1
        notes = self._notes
        if notes:
            remarks = (remark, *notes) if remark else tuple(notes)
            notes.clear()
        else:
            remarks = (remark,) if remark else ()
        if self._pended is not None:            # a driver pended the IRP: it waits
            waits = waits or self._pended
            self._pended = None
        released, changes, rechecked = self._released, self._changes, self._rechecked
        r, w = self._reads, self._writes
        reads: tuple[str, ...] = ()
        noted: tuple[str, ...] = ()
        writes: tuple[str, ...] = ()
        changed: tuple[tuple[str, int, int], ...] = ()
        if r:
            reads = _once(tuple(r))
            r.clear()
        if w:
            noted = tuple(w)
            w.clear()
        if changes:
            changed = tuple(changes)
            changes.clear()
            writes = _once(noted + tuple([c[0] for c in changed]))
        elif noted:
            writes = _once(noted)
        self._footprint = (reads, noted)
        row = (self.seq, self.time, thread.name, thread.process.name, op, args, result,
               tuple(released) if released else (), thread.state, line,
               changed, thread.kind,
               tuple(rechecked) if rechecked else (), waits, resumed, enters, remarks,
               reads, writes)
        released.clear()
        rechecked.clear()
        if self.tracing:
            self._rows.append(row)
        if self._hooks and self._hooks["after_step"]:
            self._notify("after_step", _make_record(row))
        if not self._in_step and self._hooks and self._hooks["between_steps"]:
            self._notify("between_steps", self)      # a record outside a thread step


__all__ = ["Stepping"]
