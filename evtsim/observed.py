"""What the machine tells its observers, and what routines tell the machine (machine layer).

Everything that watches a run is an observer, in the style of trio's `Instrument`: an
object with any of the methods named in `Machine.HOOKS` (thread_started, before_step,
after_step, between_steps, thread_exited, bugcheck, run_stopped), subscribed with
`add_observer`. Debug mode is one: it subscribes evtsim.invariants' checker. Routines in
lower layers report what a step did through the `note_*` methods (a state change, a
release, a re-check, a read, a write); the step's record is made from those notes.
Machine mixes this in.
"""
from __future__ import annotations

from .invariants import InvariantChecker


class Observed:
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


__all__ = ["Observed"]
