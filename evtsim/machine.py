"""The simulated computer: processes, threads, one CPU, virtual time and the trace.

`Machine` owns everything and is the only thing that advances the simulation. A *step*
completes one call of one thread: it runs the call (or returns from a finished wait),
sends the result into the thread's generator and runs the thread's own code to its next
`yield`. Before every step, due timers fire and queued DPCs run, as on a uniprocessor
where DISPATCH_LEVEL work pre-empts threads. Nothing here uses real time, threads or
I/O, so a run is a pure function of the scenario, the policy and the seed.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from types import GeneratorType
from typing import Any

from . import dispatcher
from .api.base import Surface
from .api.kernel import KernelApi
from .api.verifier import parameters_of
from .api.win32 import Win32Api
from .calls import Call
from .deferred import Deferred
from .errors import (
    BadArgumentError,
    BugCheckError,
    BugCheckSignal,
    MachineStateError,
    ProtocolError,
)
from .io import DRIVER_OBJECT
from .objects import Directory, ObjectManager
from .observed import Observed
from .process import Process
from .protocol import ThreadProtocol
from .records import Trace, describe
from .reports import BlockedThread, BugCheckInfo, DeadlockReport, RunResult
from .runloop import RunLoop
from .scheduler import (
    POLICIES,
    READY,
    RUNNING,
    TERMINATED,
    WAITING,
    Policy,
    Scheduler,
    Thread,
    Timers,
)
from .status import APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL
from .stepping import Stepping
from .units import time_us
from .waits import Waits


def _as_generator(value):
    """Let DriverEntry and DriverUnload be plain functions when they make no calls."""
    if isinstance(value, GeneratorType):
        return (yield from value)
    return value


class Machine(Observed, ThreadProtocol, Waits, Deferred, Stepping, RunLoop):
    """A booted Windows machine with one CPU, run in virtual time."""

    # What a scenario or exercise that builds a machine leaves on it for lessons and
    # checks to read (evtsim.scenarios, evtsim.exercises): only such machines have them.
    evtdemo: Any                # the EvtDemo driver
    hardware: Any               # the shared device of the hardware-lock patterns
    tip: dict[str, Any]
    named: dict[str, Any]
    boot: dict[str, Any]
    shared: dict[str, Any]
    seen: dict[str, Any]
    leak: dict[str, Any]
    jobs: list[str]
    done: list[str]
    items: list[str]

    def __init__(self, policy: str | Policy = "round_robin", seed: int = 0, *,
                 boot: bool = True, step_time: int = 10, trace: bool = True,
                 debug: bool = False, namespace: str = "modern",
                 kernel_debugger: bool = False) -> None:
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
        if not isinstance(kernel_debugger, bool):
            raise BadArgumentError("kernel_debugger is True (a kernel debugger is attached) "
                                   "or False")
        self.namespace = namespace
        # A kernel debugger attached: then a kernel-mode ZwClose of a handle that is not
        # open, in a user process's context, is bug check 0x93 (docs/semantics.md section 3).
        self.kernel_debugger = kernel_debugger
        self.policy = policy
        self.seed = seed
        self.step_time = step_time
        self.tracing = trace
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
        self._pended = None             # what a thread waits on after its driver pended
        # The dispatcher objects the current step read or changed; `footprint` keeps
        # the last step's, so a schedule explorer can tell independent steps apart.
        self._reads: list = []              # what the step under way read and wrote:
        self._writes: list = []             # objects, or handle-slot names
        self._footprint: tuple = ((), ())   # the last step's (reads, noted writes)
        self.raised: Thread | None = None   # a ready thread at DISPATCH_LEVEL or above
        self._acting = 0                    # > 0 while a routine runs (not an outside action)
        self._in_step = False               # a thread's step is under way
        self._errored: Thread | None = None
        self._observers: list = []
        self._hooks: dict[str, list] = {}
        self._checker = None                # the invariant observer, in debug mode
        self.debug = debug
        self.ob = ObjectManager(self)
        self.system = self._new_process("System", user="SYSTEM", admin=True, session=0,
                                        kernel=True)
        self.current_process = self.system
        self.instructor = Thread(self, self.system, "instructor", dispatcher.KernelMode)
        self.instructor.state = RUNNING
        self.instructor.kind = "instructor"
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
            sessions = ob.directory_at(r"\Sessions")
            assert sessions is not None, "the object manager makes \\Sessions at boot"
            links = ob.make_directory(sessions, "BNOLINKS")
            links.read_only = True
            ob.make_link(links, "0", r"\BaseNamedObjects")
            ob.make_link(bno, "Session", r"\Sessions\BNOLINKS")
        for process in self.processes:
            self.session_directory(process.session)

    def session_directory(self, session: int) -> Directory | None:
        """The BaseNamedObjects directory of a session, made on first use."""
        if not self.win32_started:
            return None
        ob = self.ob
        bno = ob.directory_at(r"\BaseNamedObjects")
        if session == 0 or self.namespace == "nt4":
            return bno
        sessions = ob.directory_at(r"\Sessions")
        assert sessions is not None, "the object manager makes \\Sessions at boot"
        path = rf"\Sessions\{session}\BaseNamedObjects"
        existing = ob.directory_at(path)
        if existing is not None:
            return existing
        own = ob.make_directory(ob.make_directory(sessions, str(session)), "BaseNamedObjects")
        ob.make_link(own, "Global", r"\BaseNamedObjects")
        ob.make_link(own, "Local", path)
        ob.make_link(own, "Session", r"\Sessions\BNOLINKS")
        links = ob.directory_at(r"\Sessions\BNOLINKS")
        assert links is not None, "start_win32 made it"
        ob.make_link(links, str(session), path)
        return own

    @property
    def objects(self) -> ObjectManager:
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

    def find(self, name: str) -> Any:
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
            here = error.__traceback__
            if isinstance(error, TypeError) and here is not None and here.tb_next is None:
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
            return KernelApi(self, thread)
        return Win32Api(self, thread)

    def driver(self, name: str, entry: Callable[..., Any],
               max_steps: int = 10_000) -> DRIVER_OBJECT:
        """Load a driver: run `entry(k, driver)` (DriverEntry) in the System process.

        DriverEntry runs at once, to its end, before anything else moves; if it has to
        wait, it goes on as an ordinary thread. Returns the DRIVER_OBJECT, whose
        `status` is DriverEntry's return value once it has returned.
        """
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
            assert thread.wait is not None, "a waiting thread has a wait"
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

    # --- crashing ---------------------------------------------------------------------
    def _crash(self, signal: BugCheckSignal, thread: Thread, call: Call | None) -> None:
        self.bugcheck = BugCheckInfo(signal.code, signal.rule, signal.explanation,
                                     thread.name, thread.process.name,
                                     call.line if call is not None else None,
                                     self.time, self.seq + 1)
        # KeBugCheckEx's four parameters, or None where no source gives them.
        self.bugcheck.parameters = parameters_of(signal)
        self._released.clear()
        self._changes.clear()
        self._notify("bugcheck", self.bugcheck)

    def _crashed_message(self) -> str:
        assert self.bugcheck is not None, "asked only once the machine has crashed"
        return (f"The machine has crashed (bug check 0x{self.bugcheck.code:X}, "
                f"{self.bugcheck.name}); build a new Machine to go on.")

    # --- the immediate surface (m.kernel) ---------------------------------------------
    def call_now(self, surface: Surface, name: str, impl: Callable[..., Any], args: tuple,
                 kwargs: dict[str, Any]) -> Any:
        """Run a routine at once for the instructor and record it in the trace."""
        if self.bugcheck:
            raise MachineStateError(self._crashed_message())
        action = ("kernel", name, describe(args), describe(kwargs))
        self._acting += 1
        try:
            result = impl(surface, *args, **kwargs)
        except TypeError as error:
            here = error.__traceback__
            if here is not None and here.tb_next is not None:
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
        return (f"<Machine at time {time_us(self.time)} policy={self.policy.name} "
                f"[{states}]>")


__all__ = ["Machine", "Process", "RunResult", "BugCheckInfo", "DeadlockReport",
           "BlockedThread", "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL"]
