"""The lab session: one machine played by hand, with its undo points and its log.

`LabSession` does every action of the event lab and writes what happened to
`log_lines` as sentences; an action returns False when it was refused before it
touched the machine, else True. `status()` says where the run stands. It holds no
widgets: `evtsim.widgets.EventLab` shows a session and calls it from its buttons.
"""
from __future__ import annotations

import inspect
import linecache
import traceback

from .. import scenarios
from .. import trace as tracefiles
from ..errors import BugCheckError, EvtsimError, MachineStateError
from ..machine import Machine
from .rebuild import added_waiter, buildable, call_builder, replay_actions
from .texts import record_words, result_words, source_line

__all__ = ["LabSession", "RUN_BUDGET"]

RUN_BUDGET = 10_000


class LabSession:
    """A machine driven by hand: its actions, undo points and log (no widgets).

    `LabSession("notification_broadcast", waiters=3)`, `LabSession(scenarios.get(name))`,
    `LabSession(machine)` or `LabSession(build_function)`. A plain Machine that was not
    built from a scenario cannot be rebuilt, so Undo, Reset and `choose` only explain
    why (`rebuildable` is False). `on_log`, when set, is called with each batch of new
    log lines.
    """

    why_not_rebuildable = ("this Machine was not built from a scenario, so the lab cannot "
                           "build it again; pass a scenario name or a build function "
                           "to EventLab to get Undo and Reset.")

    def __init__(self, machine_or_scenario="notification_broadcast", **params):
        builder, machine, name, defaults = buildable(machine_or_scenario)
        if params and (machine is not None):
            raise EvtsimError("scenario parameters go with a scenario name, not a Machine")
        self.builder = builder
        self.scenario_name = name
        self.params = {**defaults, **params}
        self.rebuildable = builder is not None or name is not None
        self.checkpoints: list[int] = []
        self.last_result = None
        self.log_lines: list[str] = []
        self.on_log = None
        self._reported_errors: set[str] = set()
        base = 0
        if machine is None:
            machine = self.build()
            base = len(machine.actions)
        self._attach(machine, base)
        self.say(f"Lab opened on {self.what()}.")
        if not self.rebuildable:
            self.say("Undo and Reset are off: " + self.why_not_rebuildable)

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
        """A new machine from the scenario or the build function, with the params."""
        policy, seed = self.params.get("policy", "round_robin"), self.params.get("seed", 0)
        if self.scenario_name is not None:
            return scenarios.build(self.scenario_name, **self.params)
        if self.builder is not None:
            return call_builder(self.builder, policy, seed)
        raise MachineStateError(self.why_not_rebuildable)

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

    def _released_since(self, seq_before):
        released = []
        for record in self.machine.trace[seq_before:]:
            released.extend(record.released)
        return released

    def kernel(self, op: str, event_name: str) -> bool:
        """Call `op` (KeSetEvent, KeResetEvent, KeClearEvent, KePulseEvent) on the event
        as the instructor, through `m.kernel`."""
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
                         f"use Undo or Reset")
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
        """Run until every thread ends or waits (idle), at most RUN_BUDGET steps."""
        def act(m):
            if m.bugcheck is not None:
                self.say("Run: refused: the machine has crashed; use Undo or Reset")
                return
            result = m.run(max_steps=RUN_BUDGET)
            self.last_result = result
            self.say(f"Run: stopped ({result.reason}) after {result.steps} steps, "
                     f"t={result.time}")
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
                     "(Reset builds the scenario again from the start).")
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

    def reset(self) -> bool:
        """Build the scenario again from the start (with the current policy and seed)."""
        if not self.rebuildable:
            self.say("Reset: " + self.why_not_rebuildable)
            return False
        self._rebuild("Reset")
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
            raise EvtsimError(f"the lab chooses 'policy' or 'seed', not {key!r}")
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
        is built again and the saved actions repeated; each is an undo point."""
        if saved.scenario is None:
            raise tracefiles.ReplayError(
                f"cannot load {saved.source}: {tracefiles.why_not_replayable(None, [])}")
        if saved.scenario not in scenarios.names():
            raise tracefiles.ReplayError(f"cannot load {saved.source}: this evtsim has no "
                                         f"scenario {saved.scenario!r}")
        params = dict(saved.params or {})
        machine = scenarios.build(saved.scenario, **params)
        replay_actions(machine, list(saved.actions))
        if machine.trace.to_dicts() != saved.to_dicts():
            self.say(f"Load: warning: the replay of {saved.source} differs from the "
                     f"file (was it made by another evtsim version?)")
        self.scenario_name, self.builder = saved.scenario, None
        self.params = params
        self.rebuildable = True
        self.checkpoints = list(range(len(machine.actions)))
        self._attach(machine)
        self.say(f"Loaded {saved.source}: {self.what()}, {len(saved.actions)} action(s), "
                 f"{len(machine.trace)} steps. Undo goes back one action at a time.")
        return machine

    # --- where the run stands -----------------------------------------------------------
    def status(self) -> tuple[str, str]:
        """(tone, text): tone is "crashed", "stopped" (a thread raised), "blocked"
        (every thread waits), "ended" or "running"."""
        m = self.machine
        if m.bugcheck is not None:
            b = m.bugcheck
            _, code = self.source_of(b.thread, b.line)
            where = f" at line {b.line}: {code}" if b.line else ""
            return "crashed", (
                f"\u2716 BUG CHECK 0x{b.code:X} ({b.name}) in {b.thread} ({b.process})"
                f"{where}\n{b.rule}.\n{b.explanation}\nThe machine has stopped. Undo goes "
                f"back before the crash; Reset starts again.")
        errored = [t for t in m.threads if t.error is not None]
        if errored:
            lines = []
            for t in errored:
                frames = traceback.extract_tb(t.error.__traceback__)
                at = next((f for f in reversed(frames) if "/evtsim/" not in f.filename
                           .replace("\\", "/") or "/scenarios/" in f.filename), None)
                where = f" at line {at.lineno}: {(at.line or '').strip()}" if at else ""
                lines.append(f"\u2716 {t.name} ({t.process.name}) stopped with "
                             f"{type(t.error).__name__}{where}\n  {t.error}")
            return "stopped", "\n".join(lines)
        result = self.last_result
        if result is not None and result.reason in ("deadlock", "idle") \
                and not m.ready and result.steps >= 0 and self._still(result):
            head = ("\u26a0 Deadlock: every thread waits and nothing inside the machine "
                    "can wake them." if result.reason == "deadlock" else
                    "\u26a0 Every thread waits: nothing inside the machine will wake "
                    "them (a deadlock, unless you Set an event).")
            lines = [head]
            for t in m.threads:
                if t.state == "waiting":
                    line, code = source_line(t)
                    lines.append(f"  {t.name} ({t.process.name}) waits on "
                                 f"{t.wait.describe()} at line {line}: {code}")
            return "blocked", "\n".join(lines)
        if all(t.state == "terminated" for t in m.threads) and m.threads:
            return "ended", "\u2714 All threads have ended."
        ready = ", ".join(t.name for t in m.ready)
        waiting = ", ".join(t.name for t in m.threads if t.state == "waiting")
        count = len(m.trace)
        text = (f"{count} trace record{'' if count == 1 else 's'}, t={m.time}. "
                f"Ready: {ready or 'none'}.")
        if waiting:
            text += f" Waiting: {waiting}."
        if not ready and waiting:
            text += " No thread is ready: Run lets timers fire, or Set an event."
        return "running", text

    def _still(self, result):
        """The run result still describes the machine (nothing changed since)."""
        return self.machine.actions and self.machine.actions[-1][0] == "run"

    def source_of(self, thread_name, line):
        """(line, source text) of `line` in the file of the thread's code."""
        thread = self.machine.find(thread_name)
        if thread is None or line is None:
            return line, ""
        call = thread.next_call
        filename = call.filename if call is not None else None
        if filename is None:
            frame = getattr(getattr(thread, "gen", None), "gi_frame", None)
            filename = frame.f_code.co_filename if frame is not None else None
        return line, (linecache.getline(filename, line).strip() if filename else "")
