"""Timers and DPCs: the work that runs at DISPATCH_LEVEL before any thread (machine layer).

Due timers expire (ending waits with STATUS_TIMEOUT, signaling timer objects, queuing
their DPCs) and queued DPCs run in no particular thread, as on a uniprocessor where
DISPATCH_LEVEL work pre-empts threads (docs/semantics.md sections 2 and 7). A DPC that
re-queues itself for ever trips the DPC watchdog (bug check 0x133). Machine mixes this in.
"""
from __future__ import annotations

from types import GeneratorType

from . import dispatcher
from .errors import BugCheckSignal, EvtsimError, MissingYieldError
from .observed import MachineState
from .reports import explain_error
from .scheduler import KDPC, TERMINATED, Thread


class _Clock:
    """Stands for the clock interrupt in trace records of timer expiries."""

    name = "clock"
    kind = "clock"
    state = None

    def __init__(self, machine: MachineState) -> None:
        self.process = machine.system


class Deferred(MachineState):
    """The deferred part of Machine (a mixin: it works on Machine's state)."""

    # --- timers and DPCs --------------------------------------------------------------
    def _expire(self, action: str, payload: tuple) -> None:
        target, generation = payload
        if not self._timer_live(action, payload):
            return
        if action == "wait":
            status = target.wait.timeout_status
            target.unwait(status)
            self._record(_Clock(self), "Timeout", (target.name,), status, None, None)
            return
        timer = target
        if timer.period:
            timer.due = self.time + timer.period      # missed periods are not made up
            self.timers.add(timer.due, "ktimer", timer, timer.generation)
        else:
            timer.due = None
        dispatcher.signal(timer)
        if timer.dpc is not None:
            self.insert_dpc(timer.dpc, self.time, None)
        self._record(_Clock(self), "TimerExpired", (timer,), None, None, None)

    def insert_dpc(self, dpc: KDPC, argument1: object, argument2: object) -> bool:
        if dpc.queued:
            return False
        dpc.queued = True
        dpc.arguments = (argument1, argument2)
        self.dpc_queue.append(dpc)
        return True

    def _run_dpc(self, dpc: KDPC) -> None:
        """Run a DPC routine to its end at DISPATCH_LEVEL in the current process."""
        dpc.queued = False
        thread = Thread(self, self.current_process, f"DPC:{dpc.name}",
                        dispatcher.KernelMode, is_dpc=True)
        thread.api = self._surface_for(thread)
        try:
            gen = dpc.routine(thread.api, dpc, dpc.context, *dpc.arguments)
        except Exception as error:
            self._dpc_failed(thread, error)
            return
        if not isinstance(gen, GeneratorType):
            if thread.unyielded:
                self._dpc_failed(thread, MissingYieldError(
                    f"{thread.unyielded[0]!r} was made in a DPC routine that never yields; "
                    f"write `yield` before each call."))
            return
        thread.gen = gen
        self._advance(thread, None)
        while thread.state != TERMINATED and not self.bugcheck:
            call = thread.next_call
            assert call is not None, "a DPC that has not ended has a call to make"
            note = None
            try:
                try:
                    result = call.impl(call.surface, *call.args, **call.kwargs)
                except (TypeError, EvtsimError) as error:
                    result, note = self._call_failed(thread, call, error)
                else:
                    self._complete(thread, result)    # wait() bug checks before blocking
            except BugCheckSignal as signal:
                self._crash(signal, thread, call)
                result = "bug check"
            self._record(thread, call.name, call.args, result, call.line, note)
            self.time += self.step_time
        if thread.error is not None and not self.bugcheck:
            self._errored = None
            self._dpc_failed(thread, thread.error)

    def _dpc_failed(self, thread: Thread, error: BaseException) -> None:
        self._crash(BugCheckSignal(
            0x1E, "an exception in a DPC routine was not handled",
            explain_error(thread, error)), thread, None)


__all__ = ["Deferred"]
