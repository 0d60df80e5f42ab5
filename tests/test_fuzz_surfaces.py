"""Fuzzing the surfaces: a learner cannot crash evtsim (issue 10).

Hypothesis writes programs of hostile calls: every public routine of the kernel surface,
the Win32 surface and DriverWorks' KEvent, with random and hostile arguments (None, wrong
types, huge and negative integers, floats, closed and foreign handles, kernel handles
from user mode, handles of the wrong type, odd, empty and very long names, objects from
another Machine), made in random order by user threads, System threads, a driver's
dispatch routine (nested in a user thread), a DPC, and `m.kernel` directly.

Every call must end in one of three ways:

* it returns a value (a status, a last error, a handle...), or it is still waiting at
  the end (a wait that nobody satisfies is a legal outcome);
* a simulated bug check (`m.bugcheck` is set; `m.kernel` raises `BugCheckError`), after
  which the program goes on on a freshly booted machine;
* an `EvtsimError` thrown into the thread at the call (which the fuzz thread catches and
  counts) or raised by `m.kernel`.

Anything else (a TypeError out of `m.run()`, an AttributeError in a thread, a broken
invariant: every machine here runs with `debug=True`) is recorded and fails the test
with the call that caused it. A run that hangs (no return in 20 s of real time) fails
too. Set EVTSIM_FUZZ_COLLECT=1 to list every distinct failure instead of stopping at
the first; set EVTSIM_FUZZ_EXAMPLES to change how many programs each test runs.

The number of calls tried is printed (`pytest -s`) and recorded with `record_property`.
"""
from __future__ import annotations

import inspect
import os

import budgets
import signal
import threading
import traceback
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evtsim import EvtsimError, Machine
from evtsim.api.driverworks import KEvent, KUstring
from evtsim.api.kernel import (APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL, KAPC_STATE,
                               OBJECT_ATTRIBUTES, SECURITY_DESCRIPTOR, ExEventObjectType,
                               IoFileObjectType, KernelApi, InitializeObjectAttributes,
                               KWAIT_BLOCK, NotificationEvent, SynchronizationEvent,
                               UNICODE_STRING, OBJ_KERNEL_HANDLE, OBJ_OPENIF,
                               IRP_MJ_DEVICE_CONTROL, CTL_CODE, FILE_DEVICE_UNKNOWN,
                               METHOD_BUFFERED, FILE_ANY_ACCESS, PsThreadType)
from evtsim.api.win32 import SECURITY_ATTRIBUTES, Win32Api
from evtsim.errors import BugCheckError
from evtsim.invariants import InvariantViolation
from evtsim.status import (EVENT_ALL_ACCESS, EVENT_MODIFY_STATE, INFINITE, SYNCHRONIZE,
                           STATUS_PENDING, STATUS_SUCCESS)

COLLECT = bool(os.environ.get("EVTSIM_FUZZ_COLLECT"))
EXAMPLES = int(os.environ.get("EVTSIM_FUZZ_EXAMPLES", "0")) or None
HANG_SECONDS = 20
MAX_STEPS = 3_000
HORIZON = 10 ** 8          # virtual time a run may move on (10 s): bounds periodic timers

KERNEL_ROUTINES = Machine().kernel.routines()
WIN32_ROUTINES = Win32Api(Machine(), None).routines()
KERNEL_HELPERS = ["InitializeObjectAttributes", "RtlInitUnicodeString",
                  "IoGetCurrentIrpStackLocation"]
KEVENT_OPS = ["KEvent", "KEvent.unyielded", "KEvent.Set", "KEvent.Clear", "KEvent.Reset",
              "KEvent.Pulse", "KEvent.Wait", "KEvent.State", "KEvent.Invalidate",
              "KEvent.IsValid"]
IOCTL_FUZZ = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)

# Pure helpers and DriverWorks methods are plain Python methods, not syscalls: the fuzzer
# calls them with their own number of arguments (test_plain_helpers_... checks the rest).
PLAIN_METHODS = set(KERNEL_HELPERS) | set(KEVENT_OPS)

THREAD_ACTORS = ("user", "user2", "admin", "kernel", "driver", "dpc")
ACTORS = THREAD_ACTORS + ("instructor",)


def _params(routine: str) -> list[str]:
    if routine in KERNEL_ROUTINES or routine in KERNEL_HELPERS:
        fn = getattr(KernelApi, routine)
        fn = getattr(fn, "impl", fn)
    elif routine in WIN32_ROUTINES:
        fn = getattr(Win32Api, routine).impl
    elif routine in ("KEvent", "KEvent.unyielded"):
        return ["name_or_type", "Type"]
    elif routine.startswith("KEvent."):
        fn = getattr(KEvent, routine.split(".")[1])
    else:
        return []
    return [p for p in inspect.signature(fn).parameters if p != "self"]


PARAMS = {r: _params(r) for r in KERNEL_ROUTINES + WIN32_ROUTINES + KERNEL_HELPERS + KEVENT_OPS}


# --- hostile values -------------------------------------------------------------------
class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


def _plain(*args):
    return None


def _gen(*args):
    yield from ()


class LearnerBug(Exception):
    """What a learner's own routine raises (legal: that thread stops, or kernel code
    crashes the machine with 0x1E)."""


def _raises(*args):
    raise LearnerBug("learner code raised")


def _gen_k(k, *args):
    yield k.KeGetCurrentIrql()


LITERALS = [None, True, False, 0, 1, 2, 3, -1, 4, 8, 64, 65, 0x102, 0x7FFFFFFF, 2 ** 31,
            2 ** 32 - 1, 2 ** 32, 2 ** 63, -2 ** 63, 2 ** 64 + 4, 10 ** 40, -10 ** 40, 1.5,
            -0.0, float("nan"), float("inf"), "", b"Ev", [], [None], (), {}, 1j, Opaque(),
            INFINITE, 0xFFFFFFFF80000004]
NAMES = ["Ev", "Other", "Kev", "Global\\Ev", "Local\\Ev", "Global\\Kev", "Session\\1\\Ev",
         "Session\\2\\Other", "\\BaseNamedObjects\\Ev", "\\BaseNamedObjects\\Kev",
         "\\Sessions\\1\\BaseNamedObjects\\Ev", "\\", "\\\\", "a\\\\b", "\\Device\\Fuzz",
         "\\??\\Fuzz", "\\\\.\\Fuzz", "\\\\.\\Nope", "\\\\.\\", "Fuzz", "\\Device",
         "\\BaseNamedObjects", "\\BaseNamedObjects\\Global", "Ev\0tail", "\0", "é✓😀",
         "ev", "EV", " ", "..", "x" * 261, "x" * 32767, "x" * 40000, "global\\Ev",
         "\\Sessions\\BNOLINKS\\1\\Ev", "\\??\\New", "\\Device\\New", "\\BaseNamedObjects\\"]
ACCESS = [0, 1, 2, 3, SYNCHRONIZE, EVENT_MODIFY_STATE, EVENT_ALL_ACCESS, 0x80000000,
          0x40000000, 0x10000000, 0x02000000, 0xFFFFFFFF, 2 ** 32, -1]
TIMEOUTS = [None, 0, -1, -10_000, -1_000_000, 1, 5, 10 ** 40, -10 ** 40, INFINITE, 1.5,
            -0.5, 100]
SMALL = [0, 1, 2, 3, 4, 64, 65, -1, None, True]
IRQLS = [0, 1, 2, 31, -1, 32, None, 1.0]
FUNCS = [_plain, _gen, _raises, _gen_k, "not callable", None, print, Opaque()]

# Reference kinds resolved against the running machine when the call is made.
REF_KINDS = ["event", "named_event", "freed_event", "timer", "dpc", "thread", "self",
             "instructor", "process", "other_process", "handle", "kernel_handle",
             "closed_handle", "file_handle", "thread_handle", "other_handle",
             "foreign_event", "foreign_thread", "foreign_process", "foreign_timer",
             "irp", "device", "driver", "workitem", "apcstate", "kevent", "threadobj",
             "directory", "symlink", "call"]

atoms = st.deferred(lambda: st.one_of(
    st.tuples(st.just("lit"), st.integers(0, len(LITERALS) - 1)),
    st.tuples(st.just("name"), st.integers(0, len(NAMES) - 1)),
    st.tuples(st.just("text"), st.text(st.sampled_from("aZ\\.:?* \0é😀\n"), max_size=10)),
    st.tuples(st.just("int"), st.integers(-2 ** 70, 2 ** 70)),
    st.tuples(st.just("ref"), st.sampled_from(REF_KINDS), st.integers(0, 30)),
    st.tuples(st.just("list"), st.lists(atoms, max_size=5)),
    st.tuples(st.just("ustr"), st.integers(0, len(NAMES) - 1), st.booleans()),
    st.tuples(st.just("oa"), atoms, atoms, atoms, st.booleans()),
    st.tuples(st.just("func"), st.integers(0, len(FUNCS) - 1)),
    st.tuples(st.just("sa"), st.booleans(), st.booleans()),
))


def _refs(*kinds):
    return st.tuples(st.just("ref"), st.sampled_from(kinds), st.integers(0, 30))


def _pick(values, tag):
    return st.tuples(st.just(tag), st.sampled_from(values))


HANDLE_REFS = ("handle", "handle", "kernel_handle", "closed_handle", "file_handle",
               "thread_handle", "other_handle")
PREFERRED = {
    "Event": _refs("event", "event", "named_event", "kevent", "freed_event", "timer"),
    "Object": st.one_of(_refs("event", "named_event", "timer", "threadobj", "freed_event"),
                        st.tuples(st.just("list"),
                                  st.lists(_refs("event", "named_event", "timer"),
                                           min_size=1, max_size=4))),
    "Timer": _refs("timer", "timer", "event", "foreign_timer"),
    "Dpc": _refs("dpc", "dpc", "event"),
    "Irp": _refs("irp", "irp", "event"),
    "Thread": _refs("thread", "self", "instructor", "foreign_thread"),
    "hThread": _refs("thread", "self", "foreign_thread"),
    "Process": _refs("process", "other_process", "foreign_process"),
    "ApcState": _refs("apcstate"),
    "ObjectAttributes": st.tuples(st.just("oa"), st.one_of(
        st.tuples(st.just("name"), st.integers(0, len(NAMES) - 1)), atoms),
        st.one_of(_pick([0, OBJ_KERNEL_HANDLE, OBJ_OPENIF, OBJ_OPENIF | OBJ_KERNEL_HANDLE,
                         0x40, 0x10, 0x2], "val"), atoms),
        st.one_of(st.just(("lit", 0)), _refs("directory", "handle", "symlink"), atoms),
        st.booleans()),
    "lpHandles": st.tuples(st.just("list"), st.lists(st.one_of(_refs(*HANDLE_REFS), atoms),
                                                     min_size=0, max_size=5)),
    "ObjectType": _pick([ExEventObjectType, IoFileObjectType, PsThreadType, None, "Event"],
                        "val"),
    "DriverObject": _refs("driver"),
    "DeviceObject": _refs("device"),
    "IoWorkItem": _refs("workitem"),
    "lpEventAttributes": st.tuples(st.just("sa"), st.booleans(), st.booleans()),
}
for _name in ("Handle", "EventHandle", "hEvent", "hHandle", "hObject", "hObjectToSignal",
              "hObjectToWaitOn", "hDevice"):
    PREFERRED[_name] = _refs(*HANDLE_REFS)
for _name in ("lpName", "EventName", "SymbolicLinkName", "DeviceName", "lpFileName", "name",
              "SourceString", "ObjectName", "name_or_type"):
    PREFERRED[_name] = st.one_of(st.tuples(st.just("name"), st.integers(0, len(NAMES) - 1)),
                                 st.tuples(st.just("ustr"), st.integers(0, len(NAMES) - 1),
                                           st.booleans()))
for _name in ("DesiredAccess", "dwDesiredAccess"):
    PREFERRED[_name] = _pick(ACCESS, "val")
for _name in ("Timeout", "Interval", "DueTime", "dwMilliseconds", "timeout", "Period"):
    PREFERRED[_name] = _pick(TIMEOUTS, "val")
for _name in ("Count", "nCount", "dwFlags", "uExitCode", "dwErrCode", "dwData",
              "dwIoControlCode", "Increment", "increment", "PriorityBoost", "QueueType"):
    PREFERRED[_name] = _pick(SMALL + [IOCTL_FUZZ], "val")
for _name in ("WaitMode", "AccessMode", "Mode", "AlertMode", "mode", "WaitType", "Type",
              "EventType", "WaitReason", "reason"):
    PREFERRED[_name] = _pick([0, 1, 2, None, True, -1], "val")
for _name in ("NewIrql",):
    PREFERRED[_name] = _pick(IRQLS, "val")
for _name in ("StartRoutine", "DeferredRoutine", "WorkerRoutine", "Routine", "pfnAPC",
              "CancelRoutine"):
    PREFERRED[_name] = st.tuples(st.just("func"), st.integers(0, len(FUNCS) - 1))
for _name in ("Alertable", "bAlertable", "Wait", "wait", "alertable", "bManualReset",
              "bInitialState", "bWaitAll", "bInheritHandle", "State", "InitialState",
              "Exclusive"):
    PREFERRED[_name] = _pick([False, True, 0, 1, 2, None, "yes"], "val")
PREFERRED["WaitBlockArray"] = st.one_of(
    st.just(("kwb", 4)), st.just(("kwb", 64)), st.just(("lit", 0)))
PREFERRED["lpInBuffer"] = st.one_of(_refs(*HANDLE_REFS), _pick(["pend", None], "val"))


def arg_for(param: str):
    preferred = PREFERRED.get(param)
    if preferred is None:
        return atoms
    return st.one_of(preferred, preferred, preferred, preferred, preferred, atoms)


@st.composite
def an_op(draw, actors, routines):
    actor = draw(st.sampled_from(actors))
    routine = draw(st.sampled_from(routines))
    params = PARAMS.get(routine, [])
    if routine in PLAIN_METHODS:            # plain Python: see test_plain_helpers_...
        arity = len(params)
    else:
        arity = draw(st.one_of(st.just(len(params)), st.just(len(params)),
                               st.integers(0, len(params) + 1)))
    args = [draw(arg_for(params[i] if i < len(params) else "")) for i in range(arity)]
    return actor, routine, tuple(args)


def programs(actors, routines, max_ops=24):
    return st.lists(st.lists(an_op(actors, routines), min_size=1, max_size=6),
                    min_size=1, max_size=max(1, max_ops // 4))


# --- the world a program runs in --------------------------------------------------------
class FuzzOps:
    """What the driver actor's DeviceIoControl carries: ops to run in the dispatch routine."""

    def __init__(self, ops):
        self.ops = ops

    def __repr__(self) -> str:
        return f"FuzzOps({len(self.ops)})"


class Hang(BaseException):
    """A run did not come back (raised by the alarm)."""


def safe_repr(value, limit: int = 70) -> str:
    try:
        text = repr(value)
    except Exception as error:              # a repr that raises is itself reported
        text = f"<repr raised {type(error).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Failure:
    def __init__(self, kind: str, op, error: BaseException | None, detail: str = "",
                 args=None):
        self.kind = kind
        self.op = op
        self.args_text = (", ".join(safe_repr(a) for a in args) if args is not None
                          else None)
        self.error = error
        self.detail = detail
        tb = traceback.extract_tb(error.__traceback__) if error is not None else []
        inside = [f for f in tb if "/evtsim/" in f.filename.replace("\\", "/")]
        self.where = (f"{os.path.basename(inside[-1].filename)}:{inside[-1].lineno}"
                      if inside else "")

    @property
    def signature(self):
        return (self.kind, type(self.error).__name__, self.where,
                self.op[1] if self.op else None)

    def __str__(self) -> str:
        if self.args_text is not None:
            text = f"{self.kind} in {self.op[0]}: {self.op[1]}({self.args_text})"
        else:
            text = f"{self.kind} in {describe_op(self.op)}"
        if self.error is not None:
            text += f": {type(self.error).__name__}: {self.error}"
            if self.where:
                text += f" (at {self.where})"
        if self.detail:
            text += f" {self.detail}"
        return text


def describe_op(op) -> str:
    if op is None:
        return "(setup)"
    actor, routine, args = op
    return f"{actor}: {routine}{tuple(_short(a) for a in args)}"


def _short(atom):
    text = repr(atom)
    return text if len(text) < 60 else text[:57] + "..."


class Stats:
    def __init__(self):
        self.outcomes = Counter()
        self.routines = Counter()
        self.failures: dict = {}
        self.boots = 0

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())


class World:
    """A booted machine with processes, a driver, handles and objects to aim at."""

    def __init__(self, stats: Stats, seed: int, policy: str):
        stats.boots += 1
        self.stats = stats
        m = self.m = Machine(policy=policy, seed=seed, debug=True)
        self.failures: list[Failure] = []
        self.broken = False
        self.irps: list = []
        self.kevents: list = []
        self.handles: list[int] = []
        self.kernel_handles: list[int] = []
        self.apcstates: list = [KAPC_STATE(None)]
        self.workitems: list = []
        self.calls: list = []
        world = self

        def on_ioctl(k, device, irp):
            payload = irp.InputBuffer
            if isinstance(payload, FuzzOps):
                yield from world.run_ops(k, payload.ops)
            elif payload == "pend":
                world.irps.append(irp)
                yield k.IoMarkIrpPending(irp)
                return STATUS_PENDING
            else:
                status, event = yield k.ObReferenceObjectByHandle(
                    payload, EVENT_MODIFY_STATE, ExEventObjectType, irp.RequestorMode)
                if status == STATUS_SUCCESS:
                    yield k.KeSetEvent(event, 0, False)
                    yield k.ObDereferenceObject(event)
            world.irps.append(irp)
            irp.IoStatus.Status = STATUS_SUCCESS
            yield k.IoCompleteRequest(irp, 0)
            return STATUS_SUCCESS

        def driver_entry(k, driver):
            status, device = yield k.IoCreateDevice(driver, r"\Device\Fuzz")
            yield k.IoCreateSymbolicLink(r"\??\Fuzz", r"\Device\Fuzz")
            driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = on_ioctl
            world.workitems.append((yield k.IoAllocateWorkItem(device)))
            return STATUS_SUCCESS

        self.driver = m.driver("fuzz.sys", driver_entry)
        self.app = m.process("app.exe")
        self.other = m.process("other.exe", user="bob", session=2)
        self.admin = m.process("tool.exe", user="ann", admin=True)
        k = m.kernel
        self.events = [k.KeInitializeEvent(NotificationEvent, False, name="N"),
                       k.KeInitializeEvent(SynchronizationEvent, True, name="S")]
        self.timers = [k.KeInitializeTimer(), k.KeInitializeTimerEx(1)]
        self.dpcs = [k.KeInitializeDpc(self._dpc_routine, [])]
        kev, kh = k.IoCreateNotificationEvent(r"\BaseNamedObjects\Kev")
        self.named = [kev]
        self.kernel_handles.append(kh)
        status, kh2 = k.ZwCreateEvent(EVENT_ALL_ACCESS,
                                      InitializeObjectAttributes(None, OBJ_KERNEL_HANDLE), 1, 0)
        self.kernel_handles.append(kh2)
        status, th = k.PsCreateSystemThread(_idle, None, "idle")
        self.thread_handles = [th]
        self.closed_handles = [0xFFFFFFFF80000FF0, 0x7FFC]
        self.file_handles: list[int] = []
        self.other_handles: list[int] = []
        freed, fh = k.IoCreateSynchronizationEvent(r"\BaseNamedObjects\Gone")
        k.ZwClose(fh)
        self.freed = [freed]

        def app_setup(api):
            h1 = yield api.CreateEvent(None, True, False, "Ev")
            h2 = yield api.CreateEvent(None, False, True, None)
            hf = yield api.CreateFile(r"\\.\Fuzz")
            hc = yield api.CreateEvent(None, False, False, None)
            yield api.CloseHandle(hc)
            return h1, h2, hf, hc

        def other_setup(api):
            h = yield api.CreateEvent(None, False, False, "Other")
            return h

        t1 = self.app.start(app_setup, name="setup")
        t2 = self.other.start(other_setup, name="setup2")
        m.run(max_steps=1_000)
        if t1.result:
            h1, h2, hf, hc = t1.result
            self.handles += [h1, h2]
            self.file_handles.append(hf)
            self.closed_handles.append(hc)
            self.named.append(self.app.handles.get(h1).object)
        if t2.result:
            self.other_handles.append(t2.result)
        self.handles_self_made: list[int] = []

    # --- resolving atoms into values for one call -------------------------------------
    def resolve(self, atom, thread=None):
        tag = atom[0]
        if tag == "lit":
            return LITERALS[atom[1]]
        if tag == "val":
            return atom[1]
        if tag == "name":
            return NAMES[atom[1]]
        if tag in ("text", "int"):
            return atom[1]
        if tag == "list":
            return [self.resolve(a, thread) for a in atom[1]]
        if tag == "ustr":
            text = NAMES[atom[1]]
            return KUstring(text) if atom[2] else UNICODE_STRING(text)
        if tag == "oa":
            name, attributes, root = (self.resolve(a, thread) for a in atom[1:4])
            if atom[4]:
                sd = SECURITY_DESCRIPTOR([("Everyone", EVENT_ALL_ACCESS)])
            else:
                sd = None
            return OBJECT_ATTRIBUTES(name, attributes, root, sd)
        if tag == "func":
            return FUNCS[atom[1]]
        if tag == "sa":
            sd = SECURITY_DESCRIPTOR([("Everyone", SYNCHRONIZE)]) if atom[1] else None
            return SECURITY_ATTRIBUTES(sd, atom[2])
        if tag == "kwb":
            return [KWAIT_BLOCK() for _ in range(atom[1])]
        if tag == "ref":
            return self._ref(atom[1], atom[2], thread)
        raise AssertionError(f"unknown atom {atom!r}")

    def _ref(self, kind: str, i: int, thread):
        m = self.m

        def pick(values):
            return values[i % len(values)] if values else None
        if kind == "event":
            return pick([o for o in m.dispatcher_objects if type(o).__name__ == "KEVENT"])
        if kind == "named_event":
            return pick(self.named)
        if kind == "freed_event":
            return pick(self.freed)
        if kind == "timer":
            return pick([o for o in m.dispatcher_objects if type(o).__name__ == "KTIMER"])
        if kind == "threadobj":
            return pick([o for o in m.dispatcher_objects if type(o).__name__ == "ThreadObject"])
        if kind == "dpc":
            return pick(self.dpcs)
        if kind == "thread":
            return pick(m.threads)
        if kind == "self":
            return thread
        if kind == "instructor":
            return m.instructor
        if kind == "process":
            return pick(m.processes)
        if kind == "other_process":
            return self.other
        if kind == "handle":
            return pick(self.handles + self.handles_self_made)
        if kind == "kernel_handle":
            return pick(self.kernel_handles)
        if kind == "closed_handle":
            return pick(self.closed_handles)
        if kind == "file_handle":
            return pick(self.file_handles)
        if kind == "thread_handle":
            return pick(self.thread_handles)
        if kind == "other_handle":
            return pick(self.other_handles)
        if kind.startswith("foreign_"):
            return FOREIGN.get(kind)
        if kind == "irp":
            return pick(self.irps)
        if kind == "device":
            return pick(self.driver.devices) or FOREIGN.get("foreign_device")
        if kind == "driver":
            return self.driver
        if kind == "workitem":
            return pick(self.workitems)
        if kind == "apcstate":
            return pick(self.apcstates)
        if kind == "kevent":
            return pick(self.kevents)
        if kind == "directory":
            return m.ob.directory_at(r"\BaseNamedObjects")
        if kind == "symlink":
            return m.ob.lookup(r"\??\Fuzz")
        if kind == "call":
            return pick(self.calls)
        raise AssertionError(kind)

    def harvest(self, result) -> None:
        """Keep what calls return (handles, objects) as targets for later calls."""
        from evtsim.api.kernel import KAPC_STATE as ApcState, KDPC
        from evtsim.io import IO_WORKITEM
        items = result if isinstance(result, tuple) else (result,)
        for item in items:
            if isinstance(item, int) and not isinstance(item, bool) and item > 0 and item % 4 == 0:
                if item >= 0xFFFFFFFF80000000:
                    self.kernel_handles.append(item)
                elif item < 0x10000:
                    self.handles_self_made.append(item)
            elif isinstance(item, KEvent):
                self.kevents.append(item)
            elif isinstance(item, KDPC):
                self.dpcs.append(item)
            elif isinstance(item, ApcState):
                self.apcstates.append(item)
            elif isinstance(item, IO_WORKITEM):
                self.workitems.append(item)

    # --- running ops -------------------------------------------------------------------
    def fail(self, kind, op, error=None, detail="", args=None) -> None:
        failure = Failure(kind, op, error, detail, args)
        self.failures.append(failure)
        self.stats.failures.setdefault(failure.signature, failure)

    def run_ops(self, api, ops):
        """A thread's (or a driver routine's, or a DPC's) program: each op yielded."""
        for op in ops:
            yield from self.perform(api, op)

    def perform(self, api, op):
        actor, routine, atoms_ = op
        stats = self.stats
        stats.routines[routine] += 1
        try:
            args = [self.resolve(a, api.thread) for a in atoms_]
        except Exception as error:          # the harness's own fault: report it plainly
            self.fail("harness", op, error)
            return
        try:
            if routine.startswith("KEvent"):
                result = yield from self._kevent(api, routine, args)
            elif routine in KERNEL_HELPERS:
                result = getattr(api, routine)(*args)
            else:
                call = getattr(api, routine)(*args)
                self.calls.append(call)
                result = yield call
            stats.outcomes["returned"] += 1
            self.harvest(result)
        except InvariantViolation as error:
            self.fail("invariant", op, error, args=args)
            stats.outcomes["invariant"] += 1
        except EvtsimError:
            stats.outcomes["evtsim error"] += 1
        except GeneratorExit:
            raise
        except Exception as error:
            stats.outcomes["other exception"] += 1
            self.fail("exception in the thread", op, error, args=args)

    def _kevent(self, api, routine, args):
        if routine == "KEvent":
            return (yield KEvent(*args))
        if routine == "KEvent.unyielded":
            event = KEvent(*args)
            self.kevents.append(event)
            return event
        method = routine.split(".", 1)[1]
        target = (self.kevents[len(self.kevents) - 1] if self.kevents
                  else KEvent(SynchronizationEvent))
        result = getattr(target, method)(*args)
        if method == "IsValid":
            return result
        return (yield result)

    def _dpc_routine(self, k, dpc, context, arg1, arg2):
        ops = context if isinstance(context, list) else []
        yield from self.run_ops(k, ops)


def _idle(k, context):
    yield k.KeGetCurrentIrql()


def _foreign():
    other = Machine()
    event = other.kernel.KeInitializeEvent(NotificationEvent, False, name="Foreign")
    timer = other.kernel.KeInitializeTimer()
    process = other.process("foreign.exe")
    thread = process.start(lambda api: (yield api.GetLastError()), name="foreigner")

    def entry(k, driver):
        status, device = yield k.IoCreateDevice(driver, r"\Device\Foreign")
        return status
    driver = other.driver("foreign.sys", entry)
    return {"foreign_event": event, "foreign_timer": timer, "foreign_process": process,
            "foreign_thread": thread, "foreign_device": driver.DeviceObject}


FOREIGN = _foreign()


# --- executing a program ----------------------------------------------------------------
def guarded(world: World, op, action, args=None):
    """Run `action()` (m.run or an m.kernel call); record anything evtsim must not raise."""
    if world.broken:
        return None
    try:
        return action()
    except Hang:
        raise
    except InvariantViolation as error:
        world.fail("invariant", op, error, args=args)
        world.broken = True
    except BugCheckError:
        world.stats.outcomes["bug check (m.kernel)"] += 1
    except EvtsimError:
        if op is not None:
            world.stats.outcomes["evtsim error"] += 1
    except Exception as error:
        detail = ""
        if op is None:
            running = [t for t in world.m.threads if t.state == "running"]
            if running and running[0].next_call is not None:
                detail = (f"while {running[0].name} ran "
                          f"{safe_repr(running[0].next_call, 200)}")
        world.fail("exception out of m.run (or start)" if op is None else
                   "exception out of m.kernel", op, error, detail, args=args)
        world.broken = True
    return None


def launch(world: World, actor: str, ops) -> None:
    m = world.m
    if actor in ("user", "user2", "admin"):
        process = {"user": world.app, "user2": world.other, "admin": world.admin}[actor]
        if process.exiting:
            return
        guarded(world, None, lambda: process.start(world.run_ops, ops, name=actor))
    elif actor == "kernel":
        guarded(world, None, lambda: m.system.start(world.run_ops, ops, name="kernel"))
    elif actor == "driver":
        if world.app.exiting:
            return

        def caller(api, ops):
            device = yield api.CreateFile(r"\\.\Fuzz")
            yield api.DeviceIoControl(device, IOCTL_FUZZ, FuzzOps(ops))
        guarded(world, None, lambda: world.app.start(caller, ops, name="driver"))
    elif actor == "dpc":
        dpc = world.dpcs[0]

        def queue():
            world.dpcs[0] = dpc2 = m.kernel.KeInitializeDpc(world._dpc_routine, list(ops))
            return m.kernel.KeInsertQueueDpc(dpc2)
        guarded(world, None, queue)


def instructor_call(world: World, op) -> None:
    actor, routine, atoms_ = op
    world.stats.routines[routine] += 1
    m = world.m
    try:
        args = [world.resolve(a, m.instructor) for a in atoms_]
    except Exception as error:
        world.fail("harness", op, error)
        return
    before = world.stats.outcomes["evtsim error"]

    def call():
        if routine.startswith("KEvent"):
            if routine in ("KEvent", "KEvent.unyielded"):
                return KEvent(*args)
            target = world.kevents[-1] if world.kevents else None
            if target is None:
                return KEvent(SynchronizationEvent)
            return getattr(target, routine.split(".", 1)[1])(*args)
        result = getattr(m.kernel, routine)(*args)
        world.stats.outcomes["returned"] += 1
        world.harvest(result)
        return result
    guarded(world, op, call, args)
    del before


def execute(stats: Stats, program, seed: int, policy: str) -> list[Failure]:
    """Run a program (segments of ops); reboot after each bug check. Returns failures."""
    failures: list[Failure] = []
    world = World(stats, seed, policy)

    def finish(world):
        m = world.m
        for thread in m.threads:
            error = thread.error
            if error is not None and not isinstance(error, (EvtsimError, LearnerBug)):
                # the learner's own code raising is the harness's job to avoid: only
                # errors the fuzz threads did not catch land here
                world.fail("thread ended with a non-evtsim error", None, error,
                           f"(thread {thread.name})")
            elif isinstance(error, InvariantViolation):
                world.fail("invariant", None, error)
            if thread.state == "waiting":
                stats.outcomes["still waiting"] += 1
        if m.bugcheck:
            stats.outcomes["bug check"] += 1
        failures.extend(world.failures)

    for segment in program:
        if world.m.bugcheck or world.broken:
            finish(world)
            world = World(stats, seed + len(failures) + stats.boots, policy)
        by_actor: dict[str, list] = {}
        instructor_ops = []
        for op in segment:
            if op[0] == "instructor":
                instructor_ops.append(op)
            else:
                by_actor.setdefault(op[0], []).append(op)
        for actor, ops in by_actor.items():
            launch(world, actor, ops)
        m = world.m
        guarded(world, None, lambda: m.run(max_steps=7, until=m.time + HORIZON))
        for op in instructor_ops:
            if world.m.bugcheck or world.broken:
                break
            instructor_call(world, op)
        guarded(world, None, lambda: m.run(max_steps=MAX_STEPS, until=m.time + HORIZON))
    finish(world)
    return failures


def _alarm(signum, frame):
    raise Hang(f"a run did not return within {HANG_SECONDS} s")


def fuzz(stats: Stats, program, seed: int, policy: str) -> None:
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_SECONDS)
    try:
        failures = execute(stats, program, seed, policy)
    except Hang as hang:
        failures = [Failure("hang", None, hang)]
        stats.failures.setdefault(failures[0].signature, failures[0])
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    if failures and not COLLECT:
        raise AssertionError("evtsim raised what it must not:\n" +
                             "\n".join(f"  {f}" for f in failures[:5]))


TOTAL = Counter()


def report(name: str, stats: Stats, record_property) -> None:
    TOTAL["calls"] += stats.calls
    record_property("fuzz_calls", stats.calls)
    record_property("fuzz_outcomes", dict(stats.outcomes))
    print(f"\n[{name}] calls tried: {stats.calls} (all fuzz tests so far: {TOTAL['calls']}); "
          f"machines booted: {stats.boots}; outcomes: {dict(stats.outcomes)}")
    if stats.failures:
        print(f"[{name}] {len(stats.failures)} distinct failure(s):")
        for failure in stats.failures.values():
            print(f"  - {failure}")
    if COLLECT and stats.failures:
        pytest.fail(f"{len(stats.failures)} distinct failures (listed above)")


def fuzz_settings(examples: int, full: bool = False):
    count = examples if full else budgets.examples(examples)
    return settings(max_examples=EXAMPLES or count, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck), database=None)


POLICIES = st.sampled_from(["round_robin", "random", "run_until_block"])
SEEDS = st.integers(0, 1000)


def run_fuzz(name, record_property, actors, routines, examples, must_cover=(), full=False):
    """Fuzz `routines` from `actors`; `full` keeps the full budget in everyday runs too
    (a surface so wide that half the programs would not reach every routine)."""
    stats = Stats()

    @fuzz_settings(examples, full)
    @given(program=programs(actors, routines), seed=SEEDS, policy=POLICIES)
    def one(program, seed, policy):
        fuzz(stats, program, seed, policy)

    try:
        one()
        # The broad run draws routines at random, and which programs it makes depends on
        # more than the seed (what else the process ran before): a routine it missed
        # gets a few programs of its own, so every routine in must_cover is fuzzed.
        for routine in [r for r in must_cover if not stats.routines[r]]:
            @fuzz_settings(8, full=True)
            @given(program=programs(actors, [routine]), seed=SEEDS, policy=POLICIES)
            def only(program, seed, policy):
                fuzz(stats, program, seed, policy)
            only()
    finally:
        report(name, stats, record_property)
    missing = [r for r in must_cover if not stats.routines[r]]
    assert not missing, f"never tried: {missing}"
    assert stats.calls > 0


# --- the tests ------------------------------------------------------------------------
def test_fuzz_kernel_surface_from_kernel_code(record_property):
    """Every kernel routine, from System threads, a dispatch routine, a DPC and m.kernel."""
    run_fuzz("kernel", record_property, ("kernel", "driver", "dpc", "instructor"),
             KERNEL_ROUTINES + KERNEL_HELPERS, 250, KERNEL_ROUTINES, full=True)


def test_fuzz_win32_surface_from_user_threads(record_property):
    """Every Win32 function, from threads of three processes (two users, one admin)."""
    run_fuzz("win32", record_property, ("user", "user2", "admin"), WIN32_ROUTINES, 200,
             WIN32_ROUTINES)


def test_fuzz_driverworks_kevent(record_property):
    """KEvent construction and every method, from kernel code, with hostile arguments."""
    run_fuzz("driverworks", record_property, ("kernel", "driver", "dpc", "instructor"),
             KEVENT_OPS + ["KeSetEvent", "KeWaitForSingleObject", "ZwClose",
                           "ObDereferenceObject"], 120, KEVENT_OPS)


def test_fuzz_everything_from_everywhere(record_property):
    """All surfaces from all actors in random order: kernel routines from user mode and
    Win32 functions from kernel mode must be explained too."""
    run_fuzz("mixed", record_property, ACTORS,
             KERNEL_ROUTINES + WIN32_ROUTINES + KERNEL_HELPERS + KEVENT_OPS, 250)


# --- what the fuzzer found, as plain repros --------------------------------------------
def _run_with_alarm(m, seconds=5, **kwargs):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return m.run(**kwargs)
    except Hang:
        pytest.fail("m.run() did not return: it loops for ever")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_a_periodic_timer_nobody_waits_for_does_not_hang_run():
    """A periodic KTIMER with a thread waiting on something else: run() must stop
    (deadlock, idle or budget), not advance the clock from expiry to expiry for ever."""
    from evtsim.api.kernel import Executive, KernelMode
    m = Machine()
    timer = m.kernel.KeInitializeTimer()
    m.kernel.KeSetTimerEx(timer, -10, 1)
    event = m.kernel.KeInitializeEvent(NotificationEvent, False)

    def waiter(k):
        yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)

    m.system.start(waiter)
    result = _run_with_alarm(m, max_steps=1_000)
    assert result.reason == "deadlock"          # the timer wakes nobody: the waiter is stuck
    assert [b.thread for b in result.deadlock.blocked] == ["waiter"]


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_a_periodic_timer_alone_does_not_hang_choices():
    m = Machine()
    timer = m.kernel.KeInitializeTimer()
    m.kernel.KeSetTimerEx(timer, -10, 1)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(5)
    try:
        assert m.choices() == []
    except Hang:
        pytest.fail("m.choices() did not return")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_timer_name_that_is_not_a_string_is_explained():
    m = Machine()
    with pytest.raises(EvtsimError):
        m.kernel.KeInitializeTimer([None])
    with pytest.raises(EvtsimError):
        m.kernel.KeInitializeTimerEx(0, {})


def test_ps_create_system_thread_with_a_wrong_start_routine_is_explained():
    m = Machine()
    with pytest.raises(EvtsimError):
        m.kernel.PsCreateSystemThread(lambda: None)


@pytest.mark.parametrize("helper", KERNEL_HELPERS)
def test_plain_helpers_with_the_wrong_number_of_arguments_are_explained(helper):
    """The pure helpers (and KEvent) are plain methods, so a wrong number of arguments
    is Python's TypeError, not an EvtsimError as it is for every syscall."""
    m = Machine()
    with pytest.raises(EvtsimError):
        getattr(m.kernel, helper)(1, 2, 3, 4, 5)


def test_kevent_method_with_the_wrong_number_of_arguments_is_explained():
    m = Machine()
    seen = {}

    def driver_code(k):
        event = yield KEvent(SynchronizationEvent)
        try:
            yield event.Set(0, False, "extra", "more")
        except Exception as error:
            seen["error"] = error

    m.system.start(driver_code)
    m.run()
    assert isinstance(seen.get("error"), EvtsimError), seen


def test_object_attributes_repr_never_raises():
    """OBJECT_ATTRIBUTES is public and unchecked; its repr appears in every error message
    and trace record that mentions it, so it must not raise (it did for a non-int
    Attributes or a non-string ObjectName, and the TypeError escaped from m.run())."""
    for attributes in (None, "x", 1.5, []):
        repr(OBJECT_ATTRIBUTES("\\BaseNamedObjects\\X", attributes))
    repr(OBJECT_ATTRIBUTES(42, 0))
    repr(OBJECT_ATTRIBUTES([None], 0))


def test_an_error_about_a_hand_made_object_attributes_is_thrown_into_the_thread():
    m = Machine()
    seen = {}

    def driver_code(k):
        try:
            yield k.KePulseEvent(OBJECT_ATTRIBUTES(None, None), 0, False)
        except EvtsimError as error:
            seen["error"] = error

    m.system.start(driver_code)
    m.run()                                          # must not raise TypeError
    assert isinstance(seen.get("error"), EvtsimError)


def test_zw_create_event_checks_the_fields_of_hand_made_object_attributes():
    """ZwCreateEvent(..., OBJECT_ATTRIBUTES(name, "x"), ...) reached `attributes &
    OBJ_KERNEL_HANDLE` and a TypeError escaped from m.kernel and m.run()."""
    m = Machine()
    with pytest.raises(EvtsimError):
        m.kernel.ZwCreateEvent(EVENT_ALL_ACCESS, OBJECT_ATTRIBUTES(r"\BaseNamedObjects\X", "x"),
                               NotificationEvent, False)
    with pytest.raises(EvtsimError):
        m.kernel.ZwOpenEvent(EVENT_ALL_ACCESS, OBJECT_ATTRIBUTES(r"\BaseNamedObjects\X", None))


def test_a_start_routine_that_raises_at_once_does_not_escape_run():
    """A plain (non-generator) StartRoutine runs when PsCreateSystemThread calls it; if it
    raises, the learner must get an explanation, not the exception out of m.run()."""
    m = Machine()
    seen = {}

    def starter(k):
        try:
            yield k.PsCreateSystemThread(_raises, None)
        except EvtsimError as error:
            seen["error"] = error

    m.system.start(starter)
    try:
        result = m.run()
    except LearnerBug:
        pytest.fail("the StartRoutine's exception escaped from m.run()")
    assert result.reason == "done"              # the starter caught the error and ended
    assert isinstance(seen["error"], EvtsimError)
    assert "not a generator function" in str(seen["error"])
