"""What the machine tells its observers, and what routines tell the machine (machine layer).

Everything that watches a run is an observer, in the style of trio's `Instrument`: an
object with any of the methods named in `Machine.HOOKS` (thread_started, before_step,
after_step, between_steps, thread_exited, bugcheck, run_stopped), subscribed with
`add_observer`. Debug mode is one: it subscribes evtsim.invariants' checker. Routines in
lower layers report what a step did through the `note_*` methods (a state change, a
release, a re-check, a read, a write); the step's record is made from those notes.
Machine mixes this in. `MachineState` declares, for the type checker, the state every
part of Machine works on; each part (this one, protocol, waits, ...) builds on it.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .api.base import Surface
from .calls import Call, Nested
from .errors import BugCheckSignal
from .invariants import InvariantChecker
from .process import Process
from .records import Trace
from .reports import BugCheckInfo, DeadlockReport
from .scheduler import KDPC, Policy, Scheduler, Thread, Timers


class MachineState:
    """What every part of Machine works on: the state Machine.__init__ sets up, and the
    routines one part calls in another (each defined in the part named beside it).

    Only declared here, for the type checker: nothing below exists at run time, so
    each part (a mixin) can be checked on its own and Machine still owns everything.
    """

    # --- the state (set up in Machine.__init__) ----------------------------------------
    policy: Policy
    step_time: int
    tracing: bool
    time: int
    trace: Trace
    _rows: list[tuple]                  # the trace's own rows, appended to step by step
    seq: int
    scheduler: Scheduler
    timers: Timers
    dpc_queue: deque[KDPC]
    threads: list[Thread]
    system: Process
    current_process: Process
    instructor: Thread
    bugcheck: BugCheckInfo | None
    interactive: bool
    actions: list[tuple]
    raised: Thread | None
    # what routines noted during the step under way (see the note_* methods)
    _released: list[str]
    _rechecked: list[str]
    _changes: list[tuple[str, int, int]]
    _notes: list[str]
    _pended: tuple | None
    _reads: list[str]
    _writes: list[str]
    _footprint: tuple[tuple, tuple]
    _acting: int
    _in_step: bool
    _errored: Thread | None
    _observers: list[object]
    _hooks: dict[str, list[Callable[[Any], object]]]
    _checker: InvariantChecker | None

    if TYPE_CHECKING:
        # --- routines one part calls in another --------------------------------------
        def _notify(self, hook: str, arg: object) -> None: ...              # Observed

        def _advance(self, thread: Thread, value: object,                   # ThreadProtocol
                     exc: BaseException | None = None) -> None: ...

        def _enter(self, thread: Thread, nested: Nested,                    # ThreadProtocol
                   call: Call) -> None: ...

        def _exit(self, thread: Thread, result: object,                     # ThreadProtocol
                  error: BaseException | None) -> None: ...

        def _deliver_kernel_apc(self, thread: Thread) -> tuple: ...         # Waits

        def _deliver_user_apcs(self, thread: Thread) -> None: ...           # Waits

        def _expire(self, action: str, payload: tuple) -> None: ...         # Deferred

        def _run_dpc(self, dpc: KDPC) -> None: ...                          # Deferred

        def _step_thread(self, thread: Thread) -> None: ...                 # Stepping

        def _call_failed(self, thread: Thread, call: Call,                  # Stepping
                         error: Exception) -> tuple[str, str]: ...

        def _complete(self, thread: Thread, result: object) -> None: ...    # Stepping

        def _record(self, thread: Any, op: str, args: tuple, result: object,  # Stepping
                    line: int | None, remark: str | None = None,
                    waits: tuple | None = None, resumed: object = None,
                    enters: str | None = None) -> None: ...

        def _service(self, until: int | None) -> None: ...                  # RunLoop

        def _next_thread(self, until: int | None) -> Thread | None: ...     # RunLoop

        def _next_due(self) -> int | None: ...                              # RunLoop

        def _next_wait_timeout(self) -> int | None: ...                     # RunLoop

        @staticmethod
        def _timer_live(action: str, payload: tuple) -> bool: ...           # RunLoop

        def _why_nothing_runs(self, until: int | None) -> str: ...          # RunLoop

        def _stop_message(self, reason: str, steps: int | None,             # RunLoop
                          thread: Thread | None = None) -> tuple[str, DeadlockReport | None]: ...

        def _surface_for(self, thread: Thread) -> Surface: ...              # Machine

        def _signal_thread_object(self, thread: Thread) -> None: ...        # Machine

        def _crash(self, signal: BugCheckSignal, thread: Any,               # Machine
                   call: Call | None) -> None: ...


class Observed(MachineState):
    """The observer and note part of Machine (a mixin: it works on Machine's state)."""

    # --- observers (trio's Instrument) ------------------------------------------------
    HOOKS = ("thread_started", "before_step", "after_step", "between_steps",
             "thread_exited", "bugcheck", "run_stopped")

    @property
    def debug(self) -> bool:
        """Debug mode: the invariants (evtsim.invariants) are checked between steps, by an
        observer subscribed to `between_steps`."""
        return self._checker is not None

    @debug.setter
    def debug(self, on: bool) -> None:
        if on and self._checker is None:
            self._checker = InvariantChecker()
            self.add_observer(self._checker)
        elif not on and self._checker is not None:
            self.remove_observer(self._checker)
            self._checker = None

    def add_observer(self, observer) -> None:
        """Subscribe an object to any of the hooks in `Machine.HOOKS` it defines."""
        self._observers.append(observer)
        self._rebuild_hooks()

    def remove_observer(self, observer) -> None:
        self._observers.remove(observer)
        self._rebuild_hooks()

    def _rebuild_hooks(self) -> None:
        self._hooks = {h: [getattr(o, h) for o in self._observers if hasattr(o, h)]
                       for h in self.HOOKS}

    def _notify(self, hook: str, arg) -> None:
        for fn in self._hooks.get(hook, ()):
            fn(arg)

    # --- what routines report while a step runs --------------------------------------
    def note_change(self, obj, old: int, new: int) -> None:
        self._changes.append((obj.name, old, new))

    def note_release(self, thread) -> None:
        """A call released `thread` from its wait during this step."""
        self._released.append(thread.name)

    def note_recheck(self, thread) -> None:
        """A call woke wait-all waiter `thread` only to check its objects again."""
        self._rechecked.append(thread.name)

    def note_read(self, name: str) -> None:
        """A routine read the object or handle slot called `name` during this step."""
        self._reads.append(name)

    def note_write(self, name: str) -> None:
        """A routine changed the object or handle slot called `name` during this step."""
        self._writes.append(name)


__all__ = ["MachineState", "Observed"]
