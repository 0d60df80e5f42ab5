"""Simulated threads, the ready queue, scheduling policies and virtual time.

One CPU. A thread is a generator; the scheduler picks which ready thread takes the next
step. Policies decide only that choice, so the same policy and seed always give the
same schedule (SimPy's lesson: a counter, never an address, breaks ties). Time is
virtual, in 100 ns units like the Windows interrupt time, and moves only when steps run
or when every thread waits and the next timer is due.
"""
from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from types import GeneratorType
from typing import Any

from .calls import Call, Nested
from .dispatcher import DispatcherObject, KernelMode, WaitBlock, dequeue
from .status import STATUS_KERNEL_APC

READY, RUNNING, WAITING, TERMINATED = "ready", "running", "waiting", "terminated"

# Marks a thread whose next step runs its next call (rather than returning from a wait).
NO_VALUE = object()


class WaitInfo:
    """What a waiting thread waits for, and since when (for views and reports)."""

    __slots__ = ("op", "objects", "wait_type", "mode", "alertable", "deadline",
                 "since_time", "since_seq", "line", "timeout_status", "translate")

    def __init__(self, op: str, objects: tuple[DispatcherObject, ...], wait_type: int,
                 mode: int, alertable: bool, deadline: float, since_time: int,
                 since_seq: int, line: int | None, timeout_status: int,
                 translate: Callable[[Any], Any] | None = None) -> None:
        self.op = op
        self.translate = translate
        self.timeout_status = timeout_status
        self.objects = objects
        self.wait_type = wait_type
        self.mode = mode
        self.alertable = alertable
        self.deadline = deadline
        self.since_time = since_time
        self.since_seq = since_seq
        self.line = line

    def label(self) -> tuple:
        """`("Wait", ("Go",))`, `("WaitAny", ("EvA", "EvB"))` or `("Delay", ())`: what a
        trace record's `waits` field holds."""
        objects = self.objects
        if len(objects) == 1:
            return ("Wait", (objects[0].name,))
        names = tuple(o.name for o in objects)
        if not names:
            return ("Delay", ())
        return ("WaitAll" if self.wait_type == 0 else "WaitAny", names)

    def describe(self) -> str:
        """`WaitAny(EvA, EvB)`, `Wait(Go)` or `Delay` — the label on a waiting span."""
        kind, names = self.label()
        return kind if kind == "Delay" else f"{kind}({', '.join(names)})"


class Thread:
    """A simulated thread (ETHREAD/KTHREAD): a generator plus its kernel state."""

    # Slots, not a dict: an idle waiting thread is mostly this object (its dict of some
    # thirty attributes cost 1.5 KB).
    __slots__ = ("machine", "process", "name", "mode", "is_dpc", "kind", "api", "gen",
                 "state", "next_call", "resume", "result", "error", "wait", "wait_blocks",
                 "wait_generation", "irql", "wait_irql", "wait_next", "alerted",
                 "kernel_apcs", "user_apcs", "user_apc_pending", "unyielded", "last_error",
                 "attached", "frames", "kernel_api", "object", "saved_irql", "steps",
                 "created_time", "created_seq")

    def __init__(self, machine: Any, process: Any, name: str, mode: int,
                 is_dpc: bool = False) -> None:
        # The Machine, the Process and the surfaces sit above this module (process.py
        # imports it), so they are not named here.
        self.machine = machine
        self.process = process
        self.name = name
        self.mode = mode
        self.is_dpc = is_dpc
        self.kind = "dpc" if is_dpc else "thread"      # records.KINDS: who takes a step
        self.api: Any = None
        self.gen: GeneratorType[Any, Any, Any] | None = None
        self.state = READY
        self.next_call: Call | None = None
        self.resume: object = NO_VALUE  # the result a woken thread's next step returns
        self.result: Any = None
        self.error: BaseException | None = None
        self.wait: WaitInfo | None = None
        self.wait_blocks: Sequence[WaitBlock] = ()
        self.wait_generation = 0
        self.irql = 2 if is_dpc else 0
        self.wait_irql = 0              # IRQL to go back to when the wait ends
        self.wait_next = False          # KeSetEvent(Wait=TRUE) was called
        self.alerted = [False, False]   # per KPROCESSOR_MODE
        self.kernel_apcs: list = []     # queued APCs, oldest first (a list: an idle
        self.user_apcs: list = []       # thread's empty deque would cost 600 bytes)
        self.user_apc_pending = False
        # calls (and DriverWorks KEvents) made but not yet yielded
        self.unyielded: list[Any] = []
        self.last_error = 0             # Win32 GetLastError
        self.attached: Any = None       # process attached by KeStackAttachProcess
        # driver routines running on top of this thread: (caller's generator, the call
        # that entered the driver, the Nested it runs)
        self.frames: list[tuple[GeneratorType[Any, Any, Any], Call, Nested]] = []
        self.kernel_api: Any = None     # the kernel surface its driver routines get
        self.object: Any = None         # its waitable thread object, once a handle exists
        self.saved_irql = 0             # IRQL before KeSetEvent(Wait=TRUE) raised it
        self.steps = 0
        self.created_time = machine.time
        self.created_seq = len(machine.trace)

    # --- what views and learners read -------------------------------------------------
    @property
    def waiting_on(self) -> list:
        return list(self.wait.objects) if self.wait else []

    @property
    def line(self) -> int | None:
        """The source line of the call this thread will make next."""
        return self.next_call.line if self.next_call is not None else None

    @property
    def current_api(self) -> Any:
        """The surface the code running now uses (the kernel one inside a driver)."""
        return self.kernel_api if self.frames else self.api

    @property
    def alive(self) -> bool:
        return self.state != TERMINATED

    def __repr__(self) -> str:
        what = f" on {self.wait.describe()}" if self.wait else ""
        return f"<Thread {self.name} ({self.process.name}) {self.state}{what}>"

    # --- the dispatcher's protocol ----------------------------------------------------
    def unwait(self, status: int) -> None:
        """End this thread's wait with `status` (KiUnwaitThread).

        STATUS_KERNEL_APC means "woken to re-check": the thread runs its wait again
        instead of returning from it.
        """
        blocks = self.wait_blocks
        if len(blocks) == 1:
            wait_list = blocks[0].obj.wait_list
            if wait_list[0] is blocks[0]:
                wait_list.popleft()
            else:
                wait_list.remove(blocks[0])
        else:
            dequeue(blocks)
        self.wait_blocks = ()
        self.wait_generation += 1
        machine = self.machine
        if status == STATUS_KERNEL_APC:
            self.resume = NO_VALUE
            machine.note_recheck(self)
        else:
            self.resume = status
            machine.note_release(self)
        self.state = READY
        machine.scheduler.ready.append(self)


class KDPC:
    """A deferred procedure call: a routine queued to run at DISPATCH_LEVEL.

    It runs before any thread takes its next step, in whatever process happened to be
    current (an arbitrary context), and it must never wait.
    """

    def __init__(self, routine: Callable[..., Any], context: object, name: str) -> None:
        self.routine = routine
        self.context = context
        self.name = name
        self.queued = False
        self.arguments: tuple[object, object] = (None, None)

    def __repr__(self) -> str:
        return f"<KDPC {self.name} queued={self.queued}>"


class Policy:
    """Chooses the next ready thread. `name` is what Machine(policy=...) accepts."""

    name = "policy"
    picks_head = True       # always takes the head of the ready queue (a fast path)
    keeps_cpu = False       # a thread still ready after its step goes back to the head

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def pick(self, ready: deque[Thread], last: Thread | None) -> Thread | None:
        return ready[0]


class RoundRobin(Policy):
    """One step each, in turn (the default: it shows interleaving best)."""

    name = "round_robin"


class RunUntilBlock(Policy):
    """A thread keeps the CPU until it waits or ends, as a uniprocessor without
    preemption would."""

    name = "run_until_block"
    keeps_cpu = True


class SeededRandom(Policy):
    """Any ready thread, chosen by a seeded generator: reproducible chaos."""

    name = "random"
    picks_head = False

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.rng = random.Random(seed)

    def pick(self, ready: deque[Thread], last: Thread | None) -> Thread | None:
        return ready[self.rng.randrange(len(ready))]


class Manual(Policy):
    """The caller chooses every step with `m.step(thread)`."""

    name = "manual"
    picks_head = False

    def pick(self, ready: deque[Thread], last: Thread | None) -> Thread | None:
        return None


POLICIES = {p.name: p for p in (RoundRobin, RunUntilBlock, SeededRandom, Manual)}


class Scheduler:
    """The ready queue and the policy that picks from it."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.ready: deque[Thread] = deque()
        self.last: Thread | None = None

    def make_ready(self, thread: Thread) -> None:
        self.ready.append(thread)

    def pick(self) -> Thread | None:
        if not self.ready:
            return None
        return self.policy.pick(self.ready, self.last)


class Timers:
    """Pending expiries in virtual time, ordered by (due time, arrival)."""

    def __init__(self) -> None:
        # (due time, arrival, action, payload): the arrival breaks ties, never an address
        self.heap: list[tuple[int, int, str, tuple]] = []
        self.counter = 0

    def add(self, due: int, action: str, *payload: object) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (due, self.counter, action, payload))

    def next_due(self) -> int | None:
        return self.heap[0][0] if self.heap else None

    def pop_due(self, now: int) -> Iterator[tuple[str, tuple]]:
        """Yield every (action, payload) due at or before `now`, earliest first."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            _, _, action, payload = heapq.heappop(heap)
            yield action, payload

    def pending(self) -> list[tuple[str, tuple]]:
        """Every (action, payload) still pending, in no particular order (to read)."""
        return [(action, payload) for _, _, action, payload in self.heap]

    def __len__(self) -> int:
        return len(self.heap)


# Limits of the run loop: timer expiries in a row that ready no thread, and DPCs in a
# row before the DPC watchdog stops the machine (bug check 0x133).
MAX_IDLE_EXPIRIES = 10_000
MAX_DPCS_IN_A_ROW = 10_000

__all__ = ["MAX_IDLE_EXPIRIES", "MAX_DPCS_IN_A_ROW", "Thread", "WaitInfo", "KDPC",
           "Scheduler", "Policy", "RoundRobin", "RunUntilBlock", "SeededRandom", "Manual",
           "POLICIES", "Timers", "READY", "RUNNING", "WAITING", "TERMINATED", "KernelMode"]
