"""The run loop: step until nothing can run, and say why it stopped (machine layer).

`run` asks the policy for the next thread, services due timers and DPCs first, jumps
the virtual clock to the next timeout when every thread waits, and stops with a reason
(done, deadlock, idle, budget, bugcheck, error, manual, time) and a plain message, with
times in microseconds. Machine mixes this in.
"""
from __future__ import annotations

import gc
import heapq

from .errors import BadArgumentError, BugCheckSignal
from .observed import MachineState
from .reports import DeadlockReport, RunResult, explain_error
from .scheduler import MAX_DPCS_IN_A_ROW, MAX_IDLE_EXPIRIES, WAITING, Thread
from .units import time_us


class RunLoop(MachineState):
    """The runloop part of Machine (a mixin: it works on Machine's state)."""

    def run(self, max_steps: int = 100_000, until: int | None = None) -> RunResult:
        """Run until every thread ends or nothing more can run; say why it stopped."""
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
            raise BadArgumentError(f"max_steps must be a whole number >= 0, not {max_steps!r}")
        if until is not None and (isinstance(until, bool) or not isinstance(until, int)
                                  or until < 0):
            raise BadArgumentError(f"until is a time on the machine's clock since boot "
                                   f"(like m.time), in 100 ns units (10 is 1 \u00b5s): a "
                                   f"whole number >= 0, not {until!r}")
        self.actions.append(("run", max_steps, until))
        # The trace grows by a record a step and the engine makes no reference cycles,
        # so the cyclic collector would only rescan the trace again and again (it halves
        # the speed). It is paused for the run and restored after.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run(max_steps, until)
        finally:
            if collecting:
                gc.enable()

    def _run(self, max_steps: int, until: int | None) -> RunResult:
        steps = 0
        counts: dict[str, int] = {}
        step_thread = self._step_thread
        ready = self.scheduler.ready
        heap = self.timers.heap
        dpcs = self.dpc_queue
        head_first = self.policy.picks_head
        thread: Thread | None
        while True:
            if self.bugcheck:
                return self._stopped("bugcheck", steps)
            if self._errored is not None:
                thread, self._errored = self._errored, None
                return self._stopped("error", steps, thread=thread)
            if steps >= max_steps:
                return self._budget(steps, counts)
            if (head_first and ready and not dpcs and self.raised is None
                    and not (heap and heap[0][0] <= self.time)):
                thread = ready[0]
            else:
                thread = self._next_thread(until)
                if thread is None:
                    return self._stopped(self._why_nothing_runs(until), steps)
            step_thread(thread)
            steps += 1
            counts[thread.name] = counts.get(thread.name, 0) + 1

    def _next_thread(self, until: int | None) -> Thread | None:
        """Fire due timers, run DPCs, then ask the policy; move the clock if idle.

        A periodic timer that wakes nobody would move the clock for ever: after
        MAX_IDLE_EXPIRIES expiries with no thread made ready, nothing more can run.
        """
        idle = 0
        while True:
            if self.raised is not None:         # it alone may run until it lowers IRQL
                return self.raised
            self._service(until)
            if self.bugcheck:
                return None
            thread = self.scheduler.pick()
            if thread is not None or self.scheduler.ready:
                return thread
            due = self._next_due()
            if idle >= MAX_IDLE_EXPIRIES:
                # Only periodic timers tick: skip to the next thread's timeout (their
                # missed periods are not made up), or stop if no thread has one.
                due = self._next_wait_timeout()
                idle = 0
            if due is None or (until is not None and due > until):
                if until is not None and self.time < until:
                    self.time = until
                return None
            if due > self.time:
                self.time = due
            idle += 1

    def _service(self, until: int | None) -> None:
        """Everything that pre-empts threads: expired timers, then queued DPCs.

        Nothing pre-empts a thread running at DISPATCH_LEVEL or above: on one CPU, its
        IRQL holds off the dispatcher and DPCs until it lowers it.
        """
        if self.raised is not None:
            return
        dpcs = 0
        while True:
            if self.timers.heap and self.timers.heap[0][0] <= self.time:
                for action, payload in self.timers.pop_due(self.time):
                    self._expire(action, payload)
                    if self.bugcheck:
                        return
            if not self.dpc_queue:
                return
            dpcs += 1
            if dpcs > MAX_DPCS_IN_A_ROW:
                dpc = self.dpc_queue[0]
                self._crash(BugCheckSignal(
                    0x133, "DPCs kept the processor too long",
                    f"{MAX_DPCS_IN_A_ROW} DPCs ran one after another without letting a "
                    f"thread run; the last one queued was {dpc.name}. A DPC that queues "
                    f"itself again never lets the processor go, and Windows' DPC "
                    f"watchdog stops the machine."), self.instructor, None)
                return
            self._run_dpc(self.dpc_queue.popleft())
            if self.bugcheck:
                return

    def _next_due(self) -> int | None:
        heap = self.timers.heap
        while heap and not self._timer_live(heap[0][2], heap[0][3]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _next_wait_timeout(self) -> int | None:
        """The earliest time a waiting thread's timeout ends, or None."""
        dues = [entry[0] for entry in self.timers.heap
                if entry[2] == "wait" and self._timer_live(entry[2], entry[3])]
        return min(dues) if dues else None

    @staticmethod
    def _timer_live(action: str, payload: tuple) -> bool:
        target, generation = payload
        if action == "wait":
            return target.state == WAITING and target.wait_generation == generation
        return target.generation == generation

    def _why_nothing_runs(self, until: int | None) -> str:
        if self.bugcheck:
            return "bugcheck"
        if self.scheduler.ready:
            return "manual"
        if until is not None and self.time >= until and self._next_due() is not None:
            return "time"
        if not any(t.state == WAITING for t in self.threads):
            return "done"
        return "idle" if self.interactive else "deadlock"

    def _stopped(self, reason: str, steps: int, thread: Thread | None = None) -> RunResult:
        message, deadlock = self._stop_message(reason, steps, thread)
        result = RunResult(reason, steps, message, self.time, thread=thread,
                           bugcheck=self.bugcheck, deadlock=deadlock)
        self._notify("run_stopped", result)
        return result

    def _stop_message(self, reason: str, steps: int | None,
                      thread: Thread | None = None) -> tuple[str, DeadlockReport | None]:
        """(message, DeadlockReport or None): why nothing more runs, in plain words.

        `run` and `step` say the same; `steps` is None for a step (no count to give).
        """
        deadlock = None
        now = time_us(self.time)
        if reason == "done":
            count = f"{steps} steps this run, " if steps is not None else ""
            message = f"All threads have ended ({count}at time {now})."
        elif reason in ("deadlock", "idle"):
            waiting = [t for t in self.threads if t.state == WAITING]
            deadlock = DeadlockReport(waiting)
            head = ("Deadlock: every thread waits and nothing inside the machine can "
                    "wake them." if reason == "deadlock" else
                    "Idle: every thread waits; set an event to let one go on.")
            message = f"{head}\n{deadlock.describe()}"
        elif reason == "bugcheck":
            assert self.bugcheck is not None, "the machine has crashed"
            message = self.bugcheck.describe()
        elif reason == "error":
            assert thread is not None and thread.error is not None, "a thread raised"
            message = explain_error(thread, thread.error)
        elif reason == "manual":
            ready = ", ".join(t.name for t in self.scheduler.ready)
            message = f"Manual policy: choose the next thread with m.step(thread). Ready: {ready}."
        else:
            message = f"Reached time {now}; call run() again to go on."
        return message, deadlock

    def _budget(self, steps: int, counts: dict[str, int]) -> RunResult:
        busiest = max(counts, key=counts.__getitem__) if counts else None
        who = f" {busiest} took {counts[busiest]} of them;" if busiest else ""
        message = (f"Stopped after {steps} steps (the step budget).{who} a thread that "
                   f"never waits may loop forever. Call run() again to go on, or pass a "
                   f"larger max_steps.")
        result = RunResult("budget", steps, message, self.time,
                           thread=self._thread_named(busiest))
        self._notify("run_stopped", result)
        return result

    def _thread_named(self, name: str | None) -> Thread | None:
        for t in self.threads:
            if t.name == name:
                return t
        return None


__all__ = ["RunLoop"]
