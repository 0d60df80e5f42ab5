"""How a thread's generator talks to the machine: the yield protocol (machine layer).

As in curio, a yield is a system call. `_advance` sends a result into a thread's
generator and runs its own code to the next `yield`; `_accept` checks that what came out
is a Call (a missing yield is reported with the learner's line); driver code that a
routine runs in the calling thread (a dispatch routine) is a nested frame (`_enter`,
`_returned`); `_exit` ends the thread. Machine mixes this in.
"""
from __future__ import annotations

from types import GeneratorType
from typing import Any, cast

from . import calls
from .api.kernel import KernelApi
from .calls import BLOCKED, Call, Nested
from .errors import BugCheckSignal, EvtsimError, MissingYieldError, NotACallError
from .observed import MachineState
from .reports import explain_error
from .scheduler import TERMINATED, WAITING, Thread
from .status import PASSIVE_LEVEL


def _call_name(call) -> str:
    """The routine to suggest in a missing-yield message, as the learner would write it."""
    special = getattr(call, "call_name", None)
    if special:
        return special
    surface = getattr(getattr(call, "surface", None), "surface_name", "kernel")
    return f"{'k' if surface == 'kernel' else 'api'}.{call.name}"


class ThreadProtocol(MachineState):
    """The protocol part of Machine (a mixin: it works on Machine's state)."""

    # --- the generator protocol -------------------------------------------------------
    def _advance(self, thread: Thread, value: object,
                 exc: BaseException | None = None) -> None:
        """Send a result into the thread and run its code to the next acceptable yield.

        When a driver routine running in the thread (a nested frame) returns, the
        thread stops there: its next step returns from the call that entered the driver.
        """
        previous = calls.running
        calls.running = thread
        try:
            problems = 0
            while True:
                gen = thread.gen
                assert gen is not None, "a thread that takes steps has its generator"
                try:
                    yielded = gen.send(value) if exc is None else gen.throw(exc)
                except StopIteration as stop:
                    if thread.frames:
                        self._leave_frame(thread, stop.value)
                        return
                    self._exit(thread, stop.value, None)
                    return
                except Exception as error:          # the learner's own code raised
                    if thread.frames:
                        raise self._kernel_exception(thread, error) from None
                    self._exit(thread, None, error)
                    return
                pending = thread.unyielded
                if len(pending) == 1 and pending[0] is yielded and type(yielded) is Call:
                    pending.clear()
                    thread.next_call = yielded
                    return
                accepted = self._accept(thread, yielded)
                if isinstance(accepted, Call):
                    thread.next_call = accepted
                    return
                exc, value = accepted, None
                problems += 1
                if problems >= 100:
                    self._exit(thread, None, NotACallError(
                        f"{thread.name} kept yielding things that are not calls; it was "
                        f"stopped."))
                    return
        finally:
            calls.running = previous

    # --- driver code running in a thread (nested frames) -------------------------------
    def _enter(self, thread: Thread, nested: Nested, call: Call) -> None:
        """Run a driver routine in this thread, on top of the code that called it."""
        if thread.kernel_api is None:
            thread.kernel_api = self._kernel_surface(thread)
        try:
            out = nested.routine(thread.kernel_api, *nested.args)
        except Exception as error:
            raise self._kernel_exception(thread, error) from None
        if isinstance(out, GeneratorType):
            assert thread.gen is not None, "the calling code is a running generator"
            thread.frames.append((thread.gen, call, nested))
            thread.gen = out
            self._advance(thread, None)
            return
        if thread.unyielded:
            first = thread.unyielded[0]
            thread.unyielded.clear()
            raise self._kernel_exception(thread, MissingYieldError(
                f"{first!r} on line {first.line} was made in a driver routine that never "
                f"yields, so it did not run. Write `yield` before each call."))
        self._returned(thread, nested, call, out)

    def _leave_frame(self, thread: Thread, value: object) -> None:
        parent, call, nested = thread.frames.pop()
        thread.gen = parent
        if thread.irql != PASSIVE_LEVEL:
            raise BugCheckSignal(
                0xC4, "a dispatch routine must return at the IRQL it was called at",
                f"{nested.label} returned at IRQL {thread.irql} instead of PASSIVE_LEVEL.")
        self._returned(thread, nested, call, value)

    def _returned(self, thread: Thread, nested: Nested, call: Call, value: object) -> None:
        """A driver routine returned: finish the call that entered it."""
        thread.next_call = call
        outcome = nested.on_return(value)
        if isinstance(outcome, Nested):
            thread.resume = outcome            # the caller's next step enters it
        elif outcome is BLOCKED:
            thread.state = WAITING
            assert thread.wait is not None, "a pending driver left the thread waiting"
            self._notes.append(f"{nested.label} returned STATUS_PENDING")
            self._pended = thread.wait.label()
        else:
            thread.resume = outcome            # the next step returns it to the caller

    def _kernel_exception(self, thread: Thread, error: BaseException) -> BugCheckSignal:
        """An exception nobody caught in kernel-mode code stops the machine."""
        return BugCheckSignal(
            0x1E, "an exception in kernel-mode code was not handled",
            explain_error(thread, error) + " Kernel code that raises takes the whole "
            "machine down, not just one thread.")

    def _kernel_surface(self, thread: Thread) -> KernelApi:
        return KernelApi(self, thread)

    def _accept(self, thread: Thread, yielded: object) -> Call | EvtsimError:
        """The call a yielded value stands for, or the error to throw back in."""
        as_call = getattr(type(yielded), "__evtsim_call__", None)
        if as_call is not None:
            if yielded in thread.unyielded:
                thread.unyielded.remove(yielded)
            assert thread.gen is not None, "only a running generator yields"
            call = as_call(yielded, thread.current_api, thread.gen.gi_frame)
            problem = self._protocol_problem(thread, call)
            return call if problem is None else problem
        problem = self._protocol_problem(thread, yielded)
        if problem is None:
            return cast(Call, yielded)      # _protocol_problem finds nothing only in a Call
        return problem

    def _protocol_problem(self, thread: Thread, yielded: Any) -> EvtsimError | None:
        """What is wrong with what the learner's code yielded (anything at all), or None
        for a proper Call."""
        pending = thread.unyielded
        if isinstance(yielded, Call):
            if yielded.surface.thread is not thread:
                if yielded in yielded.surface.thread.unyielded:
                    yielded.surface.thread.unyielded.remove(yielded)
                return NotACallError(
                    f"{yielded!r} was made with the api of thread "
                    f"{yielded.surface.thread.name}; each thread must use the api it "
                    f"was given (its first argument).")
            if yielded in pending:
                pending.remove(yielded)
            yielded.deadline = None
            if pending:
                first = pending[0]
                pending.clear()
                return MissingYieldError(
                    f"{first!r} on line {first.line} was made but never yielded, so it "
                    f"did not run. Write `yield {_call_name(first)}(...)` there.")
            return None
        if getattr(yielded, "is_syscall", False) or getattr(
                getattr(yielded, "__func__", None), "is_syscall", False):
            return NotACallError(
                f"{thread.name} yielded the routine {yielded.__name__} itself, without "
                f"calling it. Add the arguments: `yield api.{yielded.__name__}(...)`.")
        if yielded is None:
            return NotACallError(
                f"{thread.name} used a bare `yield`, which hands nothing to the kernel. "
                f"Yield an API call, such as `yield k.KeSetEvent(ev, 0, False)`.")
        shown = repr(yielded)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return NotACallError(
            f"{thread.name} yielded {shown}, which is not an evtsim call. Yield the "
            f"result of an API call, such as `yield k.KeWaitForSingleObject(ev)`.")

    def _exit(self, thread: Thread, result: object, error: BaseException | None) -> None:
        if error is None and thread.unyielded:
            first = thread.unyielded[0]
            error = MissingYieldError(
                f"{first!r} on line {first.line} was made but never yielded, so it did "
                f"not run. Write `yield {_call_name(first)}(...)` there.")
        thread.unyielded.clear()
        thread.state = TERMINATED
        thread.result = result
        thread.error = error
        thread.next_call = None
        thread.wait = None
        if error is not None:
            self._errored = thread
        self._signal_thread_object(thread)
        self._notify("thread_exited", thread)
        if error is None and not thread.is_dpc and (
                thread.irql != PASSIVE_LEVEL or thread.wait_next):
            level = thread.irql
            thread.irql = PASSIVE_LEVEL
            raise BugCheckSignal(
                0xC4, "a thread must end at PASSIVE_LEVEL",
                f"{thread.name} returned while still at IRQL {level}. Lower the IRQL "
                f"with KeLowerIrql before the thread ends.")


__all__ = ["ThreadProtocol"]
