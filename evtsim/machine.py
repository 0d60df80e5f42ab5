"""The simulated computer: processes, threads, one CPU, virtual time and the trace.

`Machine` owns everything and is the only thing that advances the simulation. A *step*
completes one call of one thread: it runs the call (or returns from a finished wait),
sends the result into the thread's generator and runs the thread's own code to its next
`yield`. Before every step, due timers fire and queued DPCs run, as on a uniprocessor
where DISPATCH_LEVEL work pre-empts threads. Nothing here uses real time, threads or
I/O, so a run is a pure function of the scenario, the policy and the seed.
"""
from __future__ import annotations

import gc
import heapq
from collections import deque
from types import GeneratorType

from . import dispatcher
from .api import base as api_base
from .api.base import Call, Nested
from .errors import (BadArgumentError, BugCheckError, BugCheckSignal, EvtsimError,
                     MachineStateError, MissingYieldError, NotACallError,
                     ProtocolError, WouldBlockError, learner_frames)
from .scheduler import (KDPC, NO_VALUE, POLICIES, READY, RUNNING, TERMINATED,
                        WAITING, Policy, Scheduler, Thread, Timers, WaitInfo)
from .status import (STATUS_KERNEL_APC, STATUS_TIMEOUT, STATUS_USER_APC, STATUS_WAIT_0,
                     name_of)
from .trace import Trace, TraceRecord

# Returned by a routine whose thread now waits.
BLOCKED = object()
FOREVER = float("inf")
MAX_IDLE_EXPIRIES = 10_000      # timer expiries in a row that ready no thread
MAX_DPCS_IN_A_ROW = 10_000      # then the DPC watchdog stops the machine (0x133)
PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL = 0, 1, 2



class Process:
    """A process: a name, a session, a token's user, and its threads."""

    def __init__(self, machine, name: str, pid: int, user: str, admin: bool,
                 session: int, kernel: bool = False):
        self.machine = machine
        self.name = name
        self.pid = pid
        self.user = user
        self.admin = admin
        self.session = session
        self.kernel = kernel
        self.threads: list[Thread] = []
        from .objects import HandleTable, system_token, user_token
        self.token = system_token() if kernel else user_token(user, admin)
        self.handles = HandleTable(self, kernel=kernel)
        self.exiting = False
        self.exit_code = None

    def exit(self, exit_code: int = 0) -> None:
        """End this process (as ExitProcess would): see Machine.terminate_process."""
        self.machine.terminate_process(self, exit_code)

    @property
    def named_objects(self):
        """The directory where this process's plain Win32 names go (None before Win32)."""
        return self.machine.session_directory(self.session)

    def start(self, fn, *args, name: str | None = None) -> Thread:
        """Start a thread running generator function `fn(api, *args)`."""
        return self.machine.start_thread(self, fn, args, name)

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid} session={self.session}>"


class BugCheckInfo:
    """A simulated blue screen: the stop code and what went wrong, in plain words."""

    def __init__(self, code, rule, explanation, thread, process, line, time, seq):
        self.code = code
        self.name = name_of(code, "bugcheck")
        self.rule = rule
        self.explanation = explanation
        self.thread = thread
        self.process = process
        self.line = line
        self.time = time
        self.seq = seq

    def describe(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        return (f"Bug check 0x{self.code:X} ({self.name}): {self.rule}.\n"
                f"{self.explanation}\n"
                f"It happened in {self.thread} ({self.process}){where}, t={self.time}. "
                f"The machine has stopped; build it again to retry.")

    __str__ = describe

    def __repr__(self) -> str:
        return f"<BugCheck 0x{self.code:X} {self.name}: {self.rule}>"


class BlockedThread:
    """One line of a deadlock report."""

    def __init__(self, thread: Thread):
        wait = thread.wait
        self.thread = thread.name
        self.process = thread.process.name
        self.waits_for = wait.describe()
        self.objects = [o.name for o in wait.objects]
        self.since_time = wait.since_time
        self.line = wait.line
        self.holders = {o.name: o.holders() for o in wait.objects}

    def describe(self) -> str:
        text = (f"{self.thread} ({self.process}) waits on {self.waits_for} since "
                f"t={self.since_time}, line {self.line}.")
        for name, holders in self.holders.items():
            if holders:
                text += f" {name} can still be set by: {', '.join(holders)}."
        return text


class DeadlockReport:
    """Every thread that waits forever, on what, and since when."""

    def __init__(self, threads: list[Thread]):
        self.blocked = [BlockedThread(t) for t in threads]

    def describe(self) -> str:
        return "\n".join("  " + b.describe() for b in self.blocked)

    __str__ = describe

    def __repr__(self) -> str:
        return f"<DeadlockReport {[b.thread for b in self.blocked]}>"


class RunResult:
    """Why `run` stopped: done, deadlock, idle, budget, bugcheck, error, manual or time."""

    def __init__(self, reason, steps, message, time, thread=None, bugcheck=None,
                 deadlock=None):
        self.reason = reason
        self.steps = steps
        self.message = message
        self.time = time
        self.thread = thread
        self.bugcheck = bugcheck
        self.deadlock = deadlock

    def __repr__(self) -> str:
        return f"RunResult({self.reason!r}, steps={self.steps}, t={self.time})\n{self.message}"

    __str__ = __repr__


def _call_name(call) -> str:
    """The routine to suggest in a missing-yield message, as the learner would write it."""
    special = getattr(call, "call_name", None)
    if special:
        return special
    surface = getattr(getattr(call, "surface", None), "surface_name", "kernel")
    return f"{'k' if surface == 'kernel' else 'api'}.{call.name}"


def _as_generator(value):
    """Let DriverEntry and DriverUnload be plain functions when they make no calls."""
    if isinstance(value, GeneratorType):
        return (yield from value)
    return value


def _explain_error(thread: Thread, error: BaseException) -> str:
    frames = learner_frames(error.__traceback__)
    where = ""
    if frames:
        f = frames[-1]
        where = f" at line {f.lineno} ({(f.line or '').strip()})"
    return (f"{thread.name} ({thread.process.name}) stopped with "
            f"{type(error).__name__}{where}: {error}")


class Machine:
    """A booted Windows machine with one CPU, run in virtual time."""

    def __init__(self, policy: str | Policy = "round_robin", seed: int = 0, *,
                 boot: bool = True, step_time: int = 10, trace: bool = True,
                 debug: bool = False, namespace: str = "modern"):
        if isinstance(policy, str):
            if policy not in POLICIES:
                raise BadArgumentError(
                    f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
            policy = POLICIES[policy](seed)
        elif not isinstance(policy, Policy):
            raise BadArgumentError("policy must be a name such as 'round_robin'")
        if not isinstance(step_time, int) or step_time < 0:
            raise BadArgumentError("step_time must be a whole number of 100 ns units, >= 0")
        if namespace not in ("modern", "nt4"):
            raise BadArgumentError("namespace is 'modern' (sessions, Vista and later) or "
                                   "'nt4' (one \\BaseNamedObjects for everybody)")
        self.namespace = namespace
        self.policy = policy
        self.seed = seed
        self.step_time = step_time
        self.tracing = trace
        self.debug = debug
        self.time = 0
        self.trace = Trace()
        self._rows = self.trace._rows
        self.seq = 0
        self.scheduler = Scheduler(policy)
        self.timers = Timers()
        self.dpc_queue: deque = deque()
        self.threads: list[Thread] = []
        self.processes: list[Process] = []
        self.bugcheck: BugCheckInfo | None = None
        self.interactive = False
        self.win32_started = False
        self._next_pid = 4
        self._object_counts: dict[str, int] = {}
        self._thread_names: set[str] = set()
        self._labels: set[str] = set()
        self.dispatcher_objects: list = []
        self.drivers: list = []
        self.pending_irps: list = []
        self.scenario = None            # (name, params) when built by evtsim.scenarios
        # What was done to the machine from outside (run, step, m.kernel calls, new
        # threads), in order: with the scenario, policy and seed it replays the run.
        self.actions: list[tuple] = []
        self._released: list = []
        self._rechecked: list = []
        self._changes: list = []
        self._notes: list = []
        # The dispatcher objects the current step read or changed; `footprint` keeps
        # the last step's, so a schedule explorer can tell independent steps apart.
        self.touched: list = []
        self._footprint: list = []
        self.raised: Thread | None = None   # a ready thread at DISPATCH_LEVEL or above
        self._acting = 0                    # > 0 while a routine runs (not an outside action)
        self._in_step = False               # a thread's step is under way
        self._errored: Thread | None = None
        self._observers: list = []
        self._hooks: dict[str, list] = {}
        from .objects import ObjectManager
        self.ob = ObjectManager(self)
        self.system = self._new_process("System", user="SYSTEM", admin=True, session=0,
                                        kernel=True)
        self.current_process = self.system
        from .api.kernel import KernelApi
        self.instructor = Thread(self, self.system, "instructor", dispatcher.KernelMode)
        self.instructor.state = RUNNING
        self.kernel = KernelApi(self, self.instructor)
        self.kernel.immediate = True
        if boot:
            self.start_win32()

    # --- building ---------------------------------------------------------------------
    def start_win32(self) -> None:
        """Start the Win32 subsystem: it creates \\BaseNamedObjects and the session
        directories. Before this, a boot-start driver finds no \\BaseNamedObjects."""
        if self.win32_started:
            return
        self.win32_started = True
        ob = self.ob
        bno = ob.make_directory(ob.root, "BaseNamedObjects")
        ob.make_link(bno, "Global", r"\BaseNamedObjects")
        ob.make_link(bno, "Local", r"\BaseNamedObjects")
        if self.namespace == "modern":
            links = ob.make_directory(ob.directory_at(r"\Sessions"), "BNOLINKS")
            links.read_only = True
            ob.make_link(links, "0", r"\BaseNamedObjects")
            ob.make_link(bno, "Session", r"\Sessions\BNOLINKS")
        for process in self.processes:
            self.session_directory(process.session)

    def session_directory(self, session: int):
        """The BaseNamedObjects directory of a session, made on first use."""
        if not self.win32_started:
            return None
        ob = self.ob
        bno = ob.directory_at(r"\BaseNamedObjects")
        if session == 0 or self.namespace == "nt4":
            return bno
        sessions = ob.directory_at(r"\Sessions")
        path = rf"\Sessions\{session}\BaseNamedObjects"
        existing = ob.directory_at(path)
        if existing is not None:
            return existing
        own = ob.make_directory(ob.make_directory(sessions, str(session)), "BaseNamedObjects")
        ob.make_link(own, "Global", r"\BaseNamedObjects")
        ob.make_link(own, "Local", path)
        ob.make_link(own, "Session", r"\Sessions\BNOLINKS")
        ob.make_link(ob.directory_at(r"\Sessions\BNOLINKS"), str(session), path)
        return own

    @property
    def objects(self):
        """The object namespace: print it to see the tree."""
        return self.ob

    def _new_process(self, name, user, admin, session, kernel=False) -> Process:
        process = Process(self, name, self._next_pid, user, admin, session, kernel)
        self._next_pid += 4
        self.processes.append(process)
        return process

    def process(self, name: str, user: str | None = None, admin: bool = False,
                session: int = 1) -> Process:
        """Create a user-mode process (session 1, a standard user, by default)."""
        if not isinstance(name, str) or not name:
            raise BadArgumentError("a process needs a name, such as 'app.exe'")
        if isinstance(session, bool) or not isinstance(session, int) or session < 0:
            raise BadArgumentError("session must be a whole number >= 0")
        if user is not None and (not isinstance(user, str) or not user):
            raise BadArgumentError("user must be a user name such as 'ann'")
        process = self._new_process(name, user or "learner", bool(admin), session)
        self.session_directory(session)
        return process

    def object_name(self, prefix: str) -> str:
        """A fresh default name such as Event1, Event2 (deterministic)."""
        n = self._object_counts.get(prefix, 0) + 1
        self._object_counts[prefix] = n
        return self.unique_label(f"{prefix}{n}")

    def unique_label(self, wanted: str) -> str:
        """`wanted`, or `wanted#2`, `wanted#3`... so views can tell objects apart."""
        if not isinstance(wanted, str) or not wanted:
            raise BadArgumentError(f"a name is a non-empty string, not {wanted!r}")
        label, n = wanted, 1
        while label in self._labels:
            n += 1
            label = f"{wanted}#{n}"
        self._labels.add(label)
        return label

    def register(self, obj) -> None:
        """Every dispatcher object, in creation order (for views and replay)."""
        self.dispatcher_objects.append(obj)

    def find(self, name: str):
        """The thread or dispatcher object with this label, or None."""
        for obj in self.dispatcher_objects:
            if obj.name == name:
                return obj
        return self._thread_named(name)

    def start_thread(self, process: Process, fn, args, name=None) -> Thread:
        if self.bugcheck:
            raise MachineStateError(self._crashed_message())
        if not callable(fn):
            raise BadArgumentError(f"start() needs a generator function, not {fn!r}")
        base = name or getattr(fn, "__name__", "thread")
        if not isinstance(base, str) or not base:
            raise BadArgumentError("a thread name must be a non-empty string")
        name, n = base, 1
        while name in self._thread_names:
            n += 1
            name = f"{base}#{n}"
        self._thread_names.add(name)
        mode = dispatcher.KernelMode if process.kernel else dispatcher.UserMode
        thread = Thread(self, process, name, mode)
        thread.api = self._surface_for(thread)
        try:
            gen = fn(thread.api, *args)
        except Exception as error:
            self._thread_names.discard(name)
            surface = "k" if mode == dispatcher.KernelMode else "api"
            if isinstance(error, TypeError) and error.__traceback__.tb_next is None:
                raise BadArgumentError(                  # the call itself did not fit
                    f"{base} cannot take these arguments: {error}. A thread function "
                    f"takes its API first, then the extra arguments you pass, like "
                    f"`def {base}({surface}, ...)`.") from None
            raise ProtocolError(
                f"{base} raised {type(error).__name__} ({error}) as soon as it was "
                f"called: it is not a generator function. A thread must `yield` each "
                f"call, like `yield {surface}.KeSetEvent(ev, 0, False)`.") from error
        if not isinstance(gen, GeneratorType):
            self._thread_names.discard(name)
            made = ", ".join(repr(c) for c in thread.unyielded)
            extra = f" It made {made} without yielding." if made else ""
            raise ProtocolError(
                f"{base} is not a generator function: a thread must `yield` every call, "
                f"for example `yield k.KeSetEvent(ev, 0, False)`.{extra}")
        thread.gen = gen
        if not self._acting:        # threads a routine starts (work items) replay by themselves
            self.actions.append(("start", process.name, getattr(fn, "__qualname__", base),
                                 name))
        process.threads.append(thread)
        self.threads.append(thread)
        self._notify("thread_started", thread)
        self._advance(thread, None)
        if thread.state == READY:
            self.scheduler.make_ready(thread)
        return thread

    def _surface_for(self, thread: Thread):
        if thread.mode == dispatcher.KernelMode:
            from .api.kernel import KernelApi
            return KernelApi(self, thread)
        from .api.win32 import Win32Api
        return Win32Api(self, thread)

    def driver(self, name: str, entry, max_steps: int = 10_000):
        """Load a driver: run `entry(k, driver)` (DriverEntry) in the System process.

        DriverEntry runs at once, to its end, before anything else moves; if it has to
        wait, it goes on as an ordinary thread. Returns the DRIVER_OBJECT, whose
        `status` is DriverEntry's return value once it has returned.
        """
        from .io import DRIVER_OBJECT
        if not isinstance(name, str) or not name:
            raise BadArgumentError("a driver needs a name, such as 'evtdemo.sys'")
        if not callable(entry):
            raise BadArgumentError("m.driver(name, entry) needs DriverEntry, a generator "
                                   "function `entry(k, driver)`")
        driver = DRIVER_OBJECT(self, name)
        self.drivers.append(driver)

        def driver_entry(k, drv):
            status = yield from _as_generator(entry(k, drv))
            drv.status = status
            return status
        thread = self.start_thread(self.system, driver_entry, (driver,),
                                   f"{name}:DriverEntry")
        driver.entry_thread = thread
        self.run_alone(thread, max_steps)
        return driver

    def unload_driver(self, driver) -> None:
        """Run the driver's DriverUnload routine (if it has one) in a System thread."""
        if driver.DriverUnload is None:
            raise MachineStateError(f"{driver.name} has no DriverUnload routine, so "
                                    f"Windows would not unload it")

        def unload(k, drv):
            yield from _as_generator(drv.DriverUnload(k, drv))
        thread = self.start_thread(self.system, unload, (driver,), f"{driver.name}:Unload")
        self.run_alone(thread, 10_000)

    def run_alone(self, thread: Thread, max_steps: int) -> None:
        """Step only `thread` (timers and DPCs still fire) until it waits or ends."""
        steps = 0
        while (thread.state == READY and not self.bugcheck and steps < max_steps
               and self._errored is None):
            self._service(None)
            if thread.state != READY or self.bugcheck:
                break
            self._step_thread(thread)
            steps += 1

    def terminate_process(self, process: Process, exit_code: int = 0) -> None:
        """End a process: its threads stop, its IRPs are cancelled, its handles closed.

        The closing runs in an "exit" thread of the process, so drivers see the
        cleanup IRPs in that process's context, as on Windows.
        """
        if process.kernel:
            raise BadArgumentError("the System process cannot exit")
        if process.exiting:
            return
        if not self._acting:
            self.actions.append(("exit", process.name, exit_code))
        process.exiting = True
        process.exit_code = exit_code
        irps = [irp for irp in self.pending_irps if irp.Process is process]
        for thread in process.threads:
            if thread.state != TERMINATED:
                self._kill(thread)
        handles = [value for value, _ in process.handles]

        def rundown(k):
            for irp in irps:
                yield k.IoCancelIrp(irp)
            for value in handles:
                yield k.ZwClose(value)
            return exit_code
        thread = Thread(self, process, f"{process.name}:exit", dispatcher.KernelMode)
        thread.api = self._kernel_surface(thread)
        thread.gen = rundown(thread.api)
        process.threads.append(thread)
        self.threads.append(thread)
        self._notify("thread_started", thread)
        self._advance(thread, None)
        if thread.state == READY:
            self.scheduler.make_ready(thread)

    def _kill(self, thread: Thread) -> None:
        """Stop a thread where it is (process exit)."""
        if thread.state == WAITING:
            dispatcher.dequeue(thread.wait_blocks)
            thread.wait_blocks = ()
            thread.wait_generation += 1
            release = getattr(thread.wait.translate, "releases_references", None)
            if release is not None:
                release()
        elif thread.state == READY and thread in self.scheduler.ready:
            self.scheduler.ready.remove(thread)
        thread.frames.clear()
        thread.unyielded.clear()
        if thread.gen is not None:
            thread.gen.close()
        thread.state = TERMINATED
        thread.wait = None
        thread.next_call = None
        self._signal_thread_object(thread)
        self._notify("thread_exited", thread)
        self._record(thread, "Terminated", (), None, None, "ends with its process")

    def _signal_thread_object(self, thread: Thread) -> None:
        if thread.object is not None:
            dispatcher.signal(thread.object)

    # --- observers (trio's Instrument) ------------------------------------------------
    HOOKS = ("thread_started", "before_step", "after_step", "thread_exited", "bugcheck",
             "run_stopped")

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

    # --- the generator protocol -------------------------------------------------------
    def _advance(self, thread: Thread, value, exc: BaseException | None = None) -> None:
        """Send a result into the thread and run its code to the next acceptable yield.

        When a driver routine running in the thread (a nested frame) returns, the
        thread stops there: its next step returns from the call that entered the driver.
        """
        previous = api_base.running
        api_base.running = thread
        try:
            problems = 0
            while True:
                gen = thread.gen
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
            api_base.running = previous

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

    def _leave_frame(self, thread: Thread, value) -> None:
        parent, call, nested = thread.frames.pop()
        thread.gen = parent
        if thread.irql != PASSIVE_LEVEL:
            raise BugCheckSignal(
                0xC4, "a dispatch routine must return at the IRQL it was called at",
                f"{nested.label} returned at IRQL {thread.irql} instead of PASSIVE_LEVEL.")
        self._returned(thread, nested, call, value)

    def _returned(self, thread: Thread, nested: Nested, call: Call, value) -> None:
        """A driver routine returned: finish the call that entered it."""
        thread.next_call = call
        outcome = nested.on_return(value)
        if isinstance(outcome, Nested):
            thread.resume = outcome            # the caller's next step enters it
        elif outcome is BLOCKED:
            thread.state = WAITING
            self._notes.append(f"{nested.label} returned STATUS_PENDING; "
                               f"waits: {thread.wait.describe()}")
        else:
            thread.resume = outcome            # the next step returns it to the caller

    def _kernel_exception(self, thread: Thread, error: BaseException) -> BugCheckSignal:
        """An exception nobody caught in kernel-mode code stops the machine."""
        return BugCheckSignal(
            0x1E, "an exception in kernel-mode code was not handled",
            _explain_error(thread, error) + " Kernel code that raises takes the whole "
            "machine down, not just one thread.")

    def _kernel_surface(self, thread: Thread):
        from .api.kernel import KernelApi
        return KernelApi(self, thread)

    def _accept(self, thread: Thread, yielded) -> Call | EvtsimError:
        """The call a yielded value stands for, or the error to throw back in."""
        as_call = getattr(type(yielded), "__evtsim_call__", None)
        if as_call is not None:
            if yielded in thread.unyielded:
                thread.unyielded.remove(yielded)
            call = as_call(yielded, thread.current_api, thread.gen.gi_frame)
            problem = self._protocol_problem(thread, call)
            return call if problem is None else problem
        problem = self._protocol_problem(thread, yielded)
        return yielded if problem is None else problem

    def _protocol_problem(self, thread: Thread, yielded) -> EvtsimError | None:
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

    def _exit(self, thread: Thread, result, error) -> None:
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

    # --- waits: one pass of KeWaitForXxx ----------------------------------------------
    def wait(self, thread: Thread, objects: tuple, wait_type: int, mode: int,
             alertable: bool, timeout, op: str, timeout_status: int = STATUS_TIMEOUT,
             translate=None):
        """Check objects, then alerts and APCs, then the timeout; else block.

        `timeout` is None (forever), 0 (poll), negative (relative, 100 ns) or positive
        (absolute). The deadline is fixed the first time, so a wait that is interrupted
        and run again keeps its original deadline. `translate` turns the final status
        into what the routine returns (a Win32 wait result, say).
        """
        call = thread.next_call if thread is not self.instructor else None
        deadline = call.deadline if call is not None else None
        if deadline is None:
            if timeout is None:
                deadline = FOREVER
            elif timeout < 0:
                deadline = self.time - timeout
            elif timeout == 0:
                deadline = self.time
            else:
                deadline = timeout
            if call is not None:
                call.deadline = deadline
        wait_irql = thread.saved_irql if thread.wait_next else thread.irql
        self.touched.extend(objects)
        if len(objects) == 1:
            obj = objects[0]
            if obj.SignalState > 0:
                if obj.Type == 1:
                    dispatcher.set_state(obj, 0)
                return self._wait_done(thread, wait_irql, STATUS_WAIT_0, translate)
        elif objects:
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
        if deadline != FOREVER:
            self.timers.add(deadline, "wait", thread, thread.wait_generation)
        return BLOCKED

    @staticmethod
    def _wait_done(thread: Thread, wait_irql: int, status: int, translate) -> int:
        thread.wait_next = False
        thread.irql = wait_irql
        return translate(status) if translate else status

    # --- stepping ---------------------------------------------------------------------
    def step(self, thread: Thread | None = None) -> TraceRecord | None:
        """Run one step: the policy's choice, or `thread` if given. None if none ran."""
        if self.bugcheck:
            return None
        self.actions.append(("step", thread.name if isinstance(thread, Thread) else None))
        if thread is not None:
            self._check_steppable(thread)
            self._service(until=None)
            if self.bugcheck or thread.state != READY:
                return None
        else:
            thread = self._next_thread(until=None)
            if thread is None:
                return None
        before = self.seq
        self._step_thread(thread)
        return self.trace[-1] if self.seq > before and self.tracing else None

    @property
    def footprint(self) -> tuple:
        """Names of the objects the last step read or changed (in first-touch order)."""
        return tuple(dict.fromkeys(o.name for o in self._footprint))

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

    def run(self, max_steps: int = 100_000, until: int | None = None) -> RunResult:
        """Run until every thread ends or nothing more can run; say why it stopped."""
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
            raise BadArgumentError("max_steps must be a whole number >= 0")
        if until is not None and (isinstance(until, bool) or not isinstance(until, int)
                                  or until < 0):
            raise BadArgumentError("until must be an absolute virtual time (100 ns units)")
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

    def _run(self, max_steps: int, until) -> RunResult:
        steps = 0
        counts: dict[str, int] = {}
        step_thread = self._step_thread
        ready = self.scheduler.ready
        heap = self.timers.heap
        dpcs = self.dpc_queue
        head_first = self.policy.picks_head
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

    def _next_thread(self, until) -> Thread | None:
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

    def _service(self, until) -> None:
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

    def _next_due(self):
        heap = self.timers.heap
        while heap and not self._timer_live(heap[0][2], heap[0][3]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _next_wait_timeout(self):
        """The earliest time a waiting thread's timeout ends, or None."""
        dues = [entry[0] for entry in self.timers.heap
                if entry[2] == "wait" and self._timer_live(entry[2], entry[3])]
        return min(dues) if dues else None

    @staticmethod
    def _timer_live(action, payload) -> bool:
        target, generation = payload
        if action == "wait":
            return target.state == WAITING and target.wait_generation == generation
        return target.generation == generation

    def _why_nothing_runs(self, until) -> str:
        if self.bugcheck:
            return "bugcheck"
        if self.scheduler.ready:
            return "manual"
        if until is not None and self.time >= until and self._next_due() is not None:
            return "time"
        if not any(t.state == WAITING for t in self.threads):
            return "done"
        return "idle" if self.interactive else "deadlock"

    def _stopped(self, reason: str, steps: int, thread=None) -> RunResult:
        deadlock = None
        if reason == "done":
            message = f"All threads have ended ({steps} steps this run, t={self.time})."
        elif reason in ("deadlock", "idle"):
            waiting = [t for t in self.threads if t.state == WAITING]
            deadlock = DeadlockReport(waiting)
            head = ("Deadlock: every thread waits and nothing inside the machine can "
                    "wake them." if reason == "deadlock" else
                    "Idle: every thread waits; set an event to let one go on.")
            message = f"{head}\n{deadlock.describe()}"
        elif reason == "bugcheck":
            message = self.bugcheck.describe()
        elif reason == "error":
            message = _explain_error(thread, thread.error)
        elif reason == "manual":
            ready = ", ".join(t.name for t in self.scheduler.ready)
            message = f"Manual policy: choose the next thread with m.step(thread). Ready: {ready}."
        else:
            message = f"Reached t={self.time}; call run() again to go on."
        result = RunResult(reason, steps, message, self.time, thread=thread,
                           bugcheck=self.bugcheck, deadlock=deadlock)
        self._notify("run_stopped", result)
        return result

    def _budget(self, steps: int, counts: dict) -> RunResult:
        busiest = max(counts, key=counts.get) if counts else None
        who = f" {busiest} took {counts[busiest]} of them;" if busiest else ""
        message = (f"Stopped after {steps} steps (the step budget).{who} a thread that "
                   f"never waits may loop forever. Call run() again to go on, or pass a "
                   f"larger max_steps.")
        result = RunResult("budget", steps, message, self.time,
                           thread=self._thread_named(busiest))
        self._notify("run_stopped", result)
        return result

    def _thread_named(self, name):
        for t in self.threads:
            if t.name == name:
                return t
        return None

    def _step_thread(self, thread: Thread) -> None:
        self._in_step = True
        try:
            self._step(thread)
        finally:
            self._in_step = False
        if self.debug:
            self._check_invariants()

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
        op, args, note = call.name, call.args, None
        try:
            if thread.kernel_apcs and thread.irql == PASSIVE_LEVEL:
                op, args, result, note = self._deliver_kernel_apc(thread)
            elif thread.resume is not NO_VALUE:
                result, thread.resume = thread.resume, NO_VALUE
                wait = thread.wait
                if wait is not None:
                    if wait.translate:
                        result = wait.translate(result)
                    thread.wait = None
                    thread.irql = thread.wait_irql
                    note = "returns from its wait"
                else:
                    note = "returns from the driver"
                if type(result) is Nested:
                    thread.state = READY
                    self._enter(thread, result, call)
                    note, result = f"calls {result.label}", None
                else:
                    self._complete(thread, result)
            else:
                if thread.wait_next and not op.startswith(("KeWaitFor", "KeDelayExec")):
                    raise BugCheckSignal(
                        0xC4, "KeSetEvent with Wait=TRUE must be followed by a wait",
                        f"{thread.name} called KeSetEvent(..., Wait=TRUE), which keeps the "
                        f"IRQL raised, and then called {op} instead of "
                        f"KeWaitForSingleObject or KeWaitForMultipleObjects.")
                self._acting += 1
                try:
                    result = call.impl(call.surface, *args, **call.kwargs)
                except (TypeError, EvtsimError) as error:
                    result, note = self._call_failed(thread, call, error)
                else:
                    if thread.state == TERMINATED:          # ExitProcess ended it
                        note = "the thread ends with its process"
                    elif result is BLOCKED:
                        thread.state = WAITING
                        result, note = None, f"waits: {thread.wait.describe()}"
                    elif type(result) is Nested:
                        note = f"calls {result.label}"
                        thread.state = READY
                        self._enter(thread, result, call)
                        result = None
                        if thread.state == WAITING:
                            note += f"; waits: {thread.wait.describe()}"
                    else:
                        self._complete(thread, result)
        except BugCheckSignal as signal:
            self._crash(signal, thread, call)
            result = "bug check"
        finally:
            self._acting = 0
        self._record(thread, op, args, result, call.line, note)
        self.time += self.step_time
        self.raised = (thread if thread.state == READY and thread.irql >= DISPATCH_LEVEL
                       else None)
        self.scheduler.last = thread
        if thread.state == READY:
            if self.policy.keeps_cpu:
                ready.appendleft(thread)
            else:
                ready.append(thread)

    def _call_failed(self, thread: Thread, call: Call, error: Exception):
        """A routine refused its arguments: throw the error in at the learner's line."""
        if isinstance(error, TypeError) and not isinstance(error, EvtsimError):
            if error.__traceback__.tb_next is not None:
                raise error                     # a bug inside evtsim, not the learner's
            error = BadArgumentError(f"{call.name}: {error}")
        thread.state = READY
        self._advance(thread, None, error)
        return type(error).__name__, str(error)

    def _complete(self, thread: Thread, result) -> None:
        thread.state = READY
        if thread.user_apc_pending:
            self._deliver_user_apcs(thread)
            if thread.state == TERMINATED:
                return
        self._advance(thread, result)

    def _deliver_kernel_apc(self, thread: Thread):
        routine, argument = thread.kernel_apcs.popleft()
        thread.state = READY
        if routine is not None:
            self._call_apc_routine(thread, routine, argument)
        return ("KernelApc", (routine,), None,
                "a kernel APC runs; the thread is out of its wait until it waits again")

    def _deliver_user_apcs(self, thread: Thread) -> None:
        thread.user_apc_pending = False
        while thread.user_apcs and thread.state != TERMINATED:
            routine, argument = thread.user_apcs.popleft()
            self._call_apc_routine(thread, routine, argument)

    def _call_apc_routine(self, thread: Thread, routine, argument) -> None:
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

    def _record(self, thread, op, args, result, line, note) -> None:
        """Append the step's trace row and reset what routines noted during it."""
        self.seq += 1
        if self._notes:
            extra = "; ".join(self._notes)
            note = f"{note}; {extra}" if note else extra
            self._notes.clear()
        rechecked = self._rechecked
        if rechecked:
            woke = f"woke {', '.join(rechecked)} to re-check"
            note = f"{note}; {woke}" if note else woke
            rechecked.clear()
        released, changes = self._released, self._changes
        row = (self.seq, self.time, thread.name, thread.process.name, op, args, result,
               tuple(released) if released else (), thread.state, line,
               tuple(changes) if changes else (), note)
        released.clear()
        changes.clear()
        if self.touched:
            self._footprint, self.touched = self.touched, self._footprint
            self.touched.clear()
        elif self._footprint:
            self._footprint.clear()
        if self.tracing:
            self._rows.append(row)
        if self._hooks and self._hooks["after_step"]:
            self._notify("after_step", TraceRecord(*row))
        if self.debug and not self._in_step:
            self._check_invariants()

    def _check_invariants(self) -> None:
        """Debug mode: the machine's invariants hold between steps (evtsim.invariants)."""
        from .invariants import check
        check(self)

    # --- timers and DPCs --------------------------------------------------------------
    def _expire(self, action: str, payload) -> None:
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

    def queue_apc(self, target: Thread, routine, mode: int, argument) -> None:
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
            if target.state == WAITING and wait.mode == dispatcher.UserMode and wait.alertable:
                target.user_apc_pending = True
                target.unwait(STATUS_USER_APC)

    def insert_dpc(self, dpc: KDPC, argument1, argument2) -> bool:
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
            _explain_error(thread, error)), thread, None)

    # --- crashing ---------------------------------------------------------------------
    def _crash(self, signal: BugCheckSignal, thread: Thread, call: Call | None) -> None:
        self.bugcheck = BugCheckInfo(signal.code, signal.rule, signal.explanation,
                                     thread.name, thread.process.name,
                                     call.line if call is not None else None,
                                     self.time, self.seq + 1)
        self._released.clear()
        self._changes.clear()
        self._notify("bugcheck", self.bugcheck)

    def _crashed_message(self) -> str:
        return (f"The machine has crashed (bug check 0x{self.bugcheck.code:X}, "
                f"{self.bugcheck.name}); build a new Machine to go on.")

    # --- the immediate surface (m.kernel) ---------------------------------------------
    def call_now(self, surface, name: str, impl, args, kwargs):
        """Run a routine at once for the instructor and record it in the trace."""
        if self.bugcheck:
            raise MachineStateError(self._crashed_message())
        from .trace import describe
        action = ("kernel", name, describe(args), describe(kwargs))
        self._acting += 1
        try:
            result = impl(surface, *args, **kwargs)
        except TypeError as error:
            if error.__traceback__.tb_next is not None:
                raise
            raise BadArgumentError(f"{name}: {error}") from None
        except BugCheckSignal as signal:
            self.actions.append(action)     # replay crashes the same way
            self._crash(signal, surface.thread, None)
            self._record(surface.thread, name, args, "bug check", None, None)
            raise BugCheckError(self.bugcheck) from None
        finally:
            self._acting -= 1
        if self._changes or self._released:
            self.interactive = True
        self.actions.append(action)
        self._record(surface.thread, name, args, result, None, None)
        return result

    # --- reading ----------------------------------------------------------------------
    def thread(self, name: str) -> Thread:
        """The thread with this name."""
        found = self._thread_named(name)
        if found is None:
            raise BadArgumentError(f"no thread named {name!r}")
        return found

    @property
    def ready(self) -> list[Thread]:
        return list(self.scheduler.ready)

    def __repr__(self) -> str:
        states = ", ".join(f"{t.name}:{t.state}" for t in self.threads)
        return f"<Machine t={self.time} policy={self.policy.name} [{states}]>"


class _Clock:
    """Stands for the clock interrupt in trace records of timer expiries."""

    name = "clock"
    state = None

    def __init__(self, machine: Machine):
        self.process = machine.system



__all__ = ["Machine", "Process", "RunResult", "BugCheckInfo", "DeadlockReport",
           "BlockedThread", "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL"]
