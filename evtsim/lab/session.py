"""The lab session: one machine played by hand, with its undo points and its log.

`LabSession` does every action of the event lab and writes what happened to
`log_lines` as sentences; an action returns False when it was refused before it
touched the machine, else True. `status()` says where the run stands now and
`verdict()` how it ended (`evtsim.lab.verdicts`). Bad parameters are refused at once
with a BadArgumentError that names them. It holds no widgets: `evtsim.widgets.EventLab`
shows a session and calls it from its buttons.
"""
from __future__ import annotations

import inspect
from typing import Callable

from .. import scenarios
from .. import trace as tracefiles
from ..errors import BadArgumentError, BugCheckError, EvtsimError, MachineStateError
from ..machine import Machine
from ..scheduler import POLICIES
from ..units import time_us
from .rebuild import added_waiter, buildable, call_builder, replay_actions, start_again
from .texts import record_words, result_words, source_line
from .verdicts import Verdict, at_rest, verdict_of

# the instructor's buttons, a subset of evtsim.instructor.INSTRUCTOR_ROUTINES
LAB_ROUTINES = ("KeSetEvent", "KeResetEvent", "KeClearEvent", "KePulseEvent")

__all__ = ["LabSession", "RUN_BUDGET"]

RUN_BUDGET = 10_000
SEED_MAX = 2**31 - 1


def check_params(params: dict, builder=None) -> None:
    """Refuse a policy or seed that cannot work, at once and by name (a scenario checks
    its own parameters when it is built)."""
    if "policy" in params:
        policy = params["policy"]
        if not isinstance(policy, str) or policy not in POLICIES:
            raise BadArgumentError(f"policy={policy!r} is not a policy; choose one of "
                                   f"{', '.join(repr(p) for p in POLICIES)}")
    if "seed" in params:
        seed = params["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            raise BadArgumentError(f"seed={seed!r} is not a seed; give a whole number "
                                   f"from 0 to {SEED_MAX}, like seed=7")
    if builder is not None:
        extra = sorted(set(params) - {"policy", "seed"})
        if extra:
            raise BadArgumentError(f"{extra[0]}={params[extra[0]]!r}: a build function "
                                   f"gets only policy and seed from the lab; put the "
                                   f"other values into the function itself")


class LabSession:
    """A machine driven by hand: its actions, undo points and log (no widgets).

    `LabSession("notification_broadcast", waiters=3)`, `LabSession(scenarios.get(name))`,
    `LabSession(machine)` or `LabSession(build_function)`. A plain Machine that was not
    built from a scenario cannot be rebuilt, so Undo, Start over and `choose` only
    explain why (`rebuildable` is False). `on_log`, when set, is called with each batch
    of new log lines. `verdict` is a lesson's own check of a run at rest (see
    `evtsim.lab.verdicts.verdict_of`).
    """

    why_not_rebuildable = ("this Machine was not built from a scenario, so the lab cannot "
                           "build it again; pass a scenario name or a build function "
                           "to EventLab to get Undo and Start over.")

    def __init__(self, machine_or_scenario="notification_broadcast", *,
                 verdict: Callable | None = None, **params):
        builder, machine, name, defaults = buildable(machine_or_scenario)
        if params and (machine is not None):
            raise BadArgumentError("scenario parameters go with a scenario name, not a "
                                   "Machine: build the machine with them instead")
        if verdict is not None and not callable(verdict):
            raise BadArgumentError(f"verdict={verdict!r} is not a function; give a "
                                   f"function of the machine, like LEVELS[2].verdict")
        check_params(params, builder)
        self.check = verdict
        self.builder = builder
        self.scenario_name = name
        self.params = {**defaults, **params}
        self.rebuildable = builder is not None or name is not None
        self.checkpoints: list[int] = []
        self.last_result = None
        self.log_lines: list[str] = []
        self.on_log: Callable[[list[str]], object] | None = None
        self._reported_errors: set[str] = set()
        base = 0
        if machine is None:
            machine = self.build()
            base = len(machine.actions)
        self._attach(machine, base)
        self.say(f"Lab opened on {self.what()}.")
        if not self.rebuildable:
            self.say("Undo and Start over are off: " + self.why_not_rebuildable)

    # --- the log ------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Add a line (or several) to the log."""
        lines = str(text).splitlines() or [""]
        self.log_lines.extend(lines)
        if self.on_log is not None:
            self.on_log(lines)

    def note_errors(self) -> None:
        """Log, once each, the threads that stopped with an error since the last look
        (not while the machine has crashed: the bug check says it all)."""
        m = self.machine
        if m.bugcheck is not None:
            return
        for t in m.threads:
            if t.error is not None and t.name not in self._reported_errors:
                self._reported_errors.add(t.name)
                self.say(f"{t.name} stopped with {type(t.error).__name__}: {t.error}")

    # --- building -----------------------------------------------------------------------
    def what(self) -> str:
        """What the lab shows, in words: `scenario x (policy='round_robin', ...)`."""
        if self.scenario_name:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
            return f"scenario {self.scenario_name} ({shown})"
        if self.builder is not None:
            return (f"{getattr(self.builder, '__name__', 'a build function')}(policy="
                    f"{self.params['policy']!r}, seed={self.params['seed']})")
        return "a hand-built machine"

    def build(self) -> Machine:
        """A new machine from the scenario or the build function, with the params.

        An EvtsimError (a scenario refusing a parameter) goes through as it is; any
        other error while building becomes a BadArgumentError that says what was built
        with which parameters, so the learner never sees only a TypeError."""
        policy, seed = self.params.get("policy", "round_robin"), self.params.get("seed", 0)
        if self.scenario_name is None and self.builder is None:
            raise MachineStateError(self.why_not_rebuildable)
        try:
            if self.scenario_name is not None:
                return scenarios.build(self.scenario_name, **self.params)
            assert self.builder is not None, "checked above"
            return call_builder(self.builder, policy, seed)
        except EvtsimError:
            raise
        except Exception as error:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
            raise BadArgumentError(f"{self.what()} could not be built with {shown}: "
                                   f"{type(error).__name__}: {error}. Check these "
                                   f"values.") from error

    def _attach(self, machine, base=0):
        """Work on `machine`; its actions from `base` on are the ones Undo repeats (a
        build function's own start-up calls come before `base`)."""
        self.machine = machine
        self.base = base
        # The lab is an instructor at the keyboard: when every thread waits, someone
        # can still set an event, so the engine says "idle" (docs/engine.md).
        machine.interactive = True
        self._reported_errors = {t.name for t in machine.threads if t.error is not None}

    def takes(self, key) -> bool:
        """Whether building again can honour a new `key` (policy or seed)."""
        if self.builder is None:
            return True
        try:
            return key in inspect.signature(self.builder).parameters
        except (TypeError, ValueError):
            return False

    # --- actions on the machine ---------------------------------------------------------
    def _act(self, what, fn) -> bool:
        """Run one action on the machine, log a refusal, keep an undo point."""
        m = self.machine
        before = (len(m.actions), len(m.trace), m.bugcheck is not None)
        try:
            fn(m)
        except EvtsimError as error:
            self.say(f"{what}: refused: {error}")
        finally:
            after = (len(m.actions), len(m.trace), m.bugcheck is not None)
            if after != before:
                self.checkpoints.append(before[0])
            self.note_errors()
        return True

    def _manual_run_refused(self, m) -> bool:
        """In manual mode the learner is the scheduler: Run would choose nobody."""
        if m.policy.name != "manual" or not m.ready:
            return False
        ready = ", ".join(t.name for t in m.ready)
        self.say(f"Run: you are the scheduler (policy manual), so Run does not choose "
                 f"threads. Click Step on a ready thread: {ready}.")
        return True

    def _released_since(self, seq_before):
        released = []
        for record in self.machine.trace[seq_before:]:
            released.extend(record.released)
        return released

    def kernel(self, op: str, event_name: str) -> bool:
        """Call `op` (KeSetEvent, KeResetEvent, KeClearEvent, KePulseEvent) on the event
        as the instructor, through `m.kernel`. Like a trace file's kernel action, it may
        name only the lab's four routines, so a caller cannot reach the rest of m.kernel."""
        if op not in LAB_ROUTINES:
            raise BadArgumentError(f"the lab calls one of {', '.join(LAB_ROUTINES)} on an "
                                   f"event, not {op!r}")
        obj = self.machine.find(event_name)
        if obj is None:
            self.say(f"{op}({event_name}): there is no event {event_name} (any more)")
            return False
        call = f"{op}({event_name}" + (", 0, FALSE)" if op in ("KeSetEvent", "KePulseEvent")
                                       else ")")

        def act(m):
            n = len(m.trace)
            routine = getattr(m.kernel, op)
            args = (obj, 0, False) if op in ("KeSetEvent", "KePulseEvent") else (obj,)
            try:
                result = routine(*args)
            except BugCheckError as error:
                self.say(f"instructor: {call} -> {error}")
                return
            released = self._released_since(n)
            words = ("previous state " + str(result) if isinstance(result, int)
                     and not isinstance(result, bool) else result_words(result))
            tail = (f"; released {', '.join(released)}" if released else
                    "; released nobody")
            self.say(f"instructor: {call} -> {words}{tail}; {obj.name} is now "
                     f"{'SIGNALED' if obj.SignalState else 'not signaled'}")
        return self._act(call, act)

    def step(self, thread_name: str) -> bool:
        """Run one step of the thread (the learner is the scheduler)."""
        def act(m):
            thread = m.find(thread_name)
            if m.bugcheck is not None:
                self.say(f"Step {thread_name}: refused: the machine has crashed; "
                         f"use Undo or Start over")
                return
            if thread is None or thread.state != "ready":
                state = thread.state if thread is not None else "gone"
                what = f" on {thread.wait.describe()}" if thread is not None and thread.wait else ""
                ready = ", ".join(t.name for t in m.ready) or "none"
                self.say(f"Step {thread_name}: refused: it is {state}{what}. "
                         f"Ready threads: {ready}.")
                return
            n = len(m.trace)
            m.step(thread)
            for record in m.trace[n:]:
                self.say(f"step #{record.seq} {record.thread}: {record_words(record)}")
            if len(m.trace) == n:
                self.say(f"Step {thread_name}: nothing ran")
        return self._act(f"Step {thread_name}", act)

    def run(self) -> bool:
        """Run until every thread ends or waits (idle), at most RUN_BUDGET steps.

        With the manual policy Run only lets the clock move (timers, timeouts) when no
        thread is ready; while one is, Run is refused with a pointer to the Step
        buttons. A Run that changed nothing is no action at all: it leaves no undo
        point and no recorded action for Undo to take back."""
        m = self.machine
        if m.bugcheck is not None:
            self.say("Run: refused: the machine has crashed; use Undo or Start over")
            return False
        if self._manual_run_refused(m):
            return False

        def act(m):
            before = (len(m.actions), len(m.trace), m.time)
            result = m.run(max_steps=RUN_BUDGET)
            self.last_result = result
            if (len(m.trace), m.time) == before[1:] and len(m.actions) == before[0] + 1 \
                    and m.bugcheck is None and m.actions[-1][0] == "run":
                m.actions.pop()             # nothing happened: nothing to undo
                self.say(f"Run: nothing could run ({result.reason}). "
                         + _why_nothing(m))
                return
            self.say(f"Run: stopped ({result.reason}) after {result.steps} steps, "
                     f"t = {time_us(result.time)}")
            self.say(result.message)
        return self._act("Run", act)

    def add_waiter(self, event_name) -> bool:
        """Start one more kernel thread (`added_waiter`) that will wait on the event."""
        name = event_name
        if not name:
            self.say("Add waiter: there is no event to wait on yet (Step or Run until "
                     "the scenario has made one)")
            return False

        def act(m):
            event = m.find(name)
            if event is None:
                self.say(f"Add waiter: there is no event {name}")
                return
            thread = m.system.start(added_waiter, event, name=f"added({name})")
            line, code = source_line(thread)
            self.say(f"Add waiter: started {thread.name} (System, kernel mode); its next "
                     f"line is {line}: {code}. Step it to make it wait on {name}.")
        return self._act("Add waiter", act)

    # --- going back ---------------------------------------------------------------------
    def undo(self) -> bool:
        """Go back one action: build again and repeat every action but the last."""
        if not self.rebuildable:
            self.say("Undo: " + self.why_not_rebuildable)
            return False
        if not self.checkpoints:
            self.say("Undo: nothing to undo; this is where the lab started "
                     "(Start over builds the scenario again from the start).")
            return False
        keep = self.checkpoints[-1]
        actions = list(self.machine.actions[self.base:keep])
        machine = self.build()
        base = len(machine.actions)
        replay_actions(machine, actions)
        self.checkpoints.pop()
        self._attach(machine, base)
        self.last_result = None
        self.say(f"Undo: rebuilt {self.what()} and repeated {len(actions)} action(s); "
                 f"now at step {len(machine.trace)}.")
        return True

    def start_over(self) -> bool:
        """Build the scenario again from the start (with the current policy and seed)."""
        if not self.rebuildable:
            self.say("Start over: " + self.why_not_rebuildable)
            return False
        self._rebuild("Start over")
        return True

    def _rebuild(self, why):
        machine = self.build()
        self.checkpoints = []
        self.last_result = None
        self._attach(machine, len(machine.actions))
        self.say(f"{why}: built {self.what()} again.")

    def choose(self, key: str, value) -> bool:
        """Set the `policy` or the `seed` and build again (False if nothing changed)."""
        if key not in ("policy", "seed"):
            raise BadArgumentError(f"the lab chooses 'policy' or 'seed', not {key!r}")
        check_params({key: value})
        if self.params.get(key) == value:
            return False
        if not self.rebuildable:
            self.say(f"{key}: " + self.why_not_rebuildable)
            return False
        old = self.params.get(key)
        self.params[key] = value
        try:
            self._rebuild(f"{key} {old!r} -> {value!r}")
        except Exception:
            self.params[key] = old
            raise
        return True

    # --- trace files --------------------------------------------------------------------
    def trace_text(self) -> str:
        """The trace file's text (JSON) for the current run."""
        return tracefiles.dumps(tracefiles.to_data(self.machine))

    def load(self, saved) -> Machine:
        """Go on from a saved run (a SavedTrace from `evtsim.trace.load`): the scenario
        is built again and the saved actions repeated, checked against the file's
        records as `evtsim.trace.replay` checks them (a ReplayError leaves the lab as
        it was); each action is an undo point."""
        machine = tracefiles.replay(saved, start_again=start_again)
        self.scenario_name, self.builder = saved.scenario, None
        self.params = dict(saved.params or {})
        self.rebuildable = True
        self.checkpoints = list(range(len(machine.actions)))
        self._attach(machine)
        self.say(f"Loaded {saved.source}: {self.what()}, {len(saved.actions)} action(s), "
                 f"{len(machine.trace)} steps, identical to the file. Undo goes back one "
                 f"action at a time.")
        return machine

    # --- where the run stands -----------------------------------------------------------
    def verdict(self) -> Verdict | None:
        """How the run ended (`evtsim.lab.verdicts.verdict_of` with the lesson's check),
        or None while something can still run."""
        return verdict_of(self.machine, self.check)

    def status(self) -> tuple[str, str]:
        """(tone, text): where the run stands now and what the learner can do.

        Tone is "crashed", "stopped" (a thread raised), "blocked" (at rest with waiting
        threads), "ended" or "running"; time is in microseconds (`time_us`)."""
        m = self.machine
        count = len(m.trace)
        head = f"{count} step{'' if count == 1 else 's'} so far, t = {time_us(m.time)}."
        if m.bugcheck is not None:
            return "crashed", (f"{head} The machine has crashed. Undo goes back before "
                               f"the crash; Start over builds it again.")
        ready = [t.name for t in m.ready]
        waiting = [t.name for t in m.threads if t.state == "waiting"]
        text = f"{head} Ready: {', '.join(ready) or 'none'}."
        if waiting:
            text += f" Waiting: {', '.join(waiting)}."
        if any(t.error is not None for t in m.threads):
            return "stopped", text + " A thread stopped with an error (see above)."
        if m.threads and all(t.state == "terminated" for t in m.threads):
            return "ended", text + " Undo or Start over to try another schedule."
        if ready:
            hint = (" You are the scheduler: click Step on a ready thread."
                    if m.policy.name == "manual" else " Step a thread, or Run.")
            return "running", text + hint
        return ("blocked" if at_rest(m) else "running"), text + " " + _why_nothing(m)


def _why_nothing(m) -> str:
    """Why no thread is ready, and what the learner can do about it."""
    if m.ready:
        return "A thread is ready."
    if m.threads and all(t.state == "terminated" for t in m.threads):
        return "Every thread has ended."
    if not at_rest(m):
        return ("No thread is ready, but a timer or a timeout is pending: Run lets the "
                "clock move on.")
    return ("Nothing inside the machine can run: Set an event as the instructor, or "
            "Undo.")
