"""Optimal dynamic partial-order reduction: one run per class of equivalent interleavings.

The walk of Abdulla, Aronis, Jonsson and Sagonas ("Source sets: a foundation for optimal
dynamic partial order reduction", JACM 2017), with sleep sets (Godefroid 1996) and
wake-up trees (`wakeup`). Each point of the current path (a `_Node`) keeps the threads
asleep there (already covered, with their next step's `Event`) and a wake-up tree of
sequences still to run from there. After a run, every *race* (two dependent steps of
different threads, the first happening right before the second) gives the sequence
`v` that reverses it; `v` is inserted at the point before the first step unless a
thread asleep there could start it. Steps commute as `independence` says; a jump of the
clock while every thread waits (`barrier`) orders every later step after every earlier
one. With `symmetry`, interchangeable threads that have not started share one branch.

The walk is stateless (each run is built afresh, `execution`); `DporTree` only keeps
the path and decides what each run does.
"""
from __future__ import annotations

from .independence import ANY, Event, Places, dependent
from .tree import _Node
from .wakeup import Step, WNode, insert, weak_initial


class DporTree:
    """The optimal-DPOR state of one search: how to grow a run, what to run next."""

    def __init__(self, places: Places, orbits: list[tuple[str, ...]] | None = None):
        self.places = places
        self.orbits = [tuple(o) for o in orbits or () if len(o) > 1]
        self.symmetric = frozenset(n for o in self.orbits for n in o)
        self._thread_bits = {n: places.bit("T:" + n) for n in self.symmetric}
        self.inserted = 0           # sequences added to wake-up trees
        self.dropped = 0            # tree branches dropped (asleep, or thread not ready)

    # --- growing a run ----------------------------------------------------------------
    def root(self, enabled: list[str], jump) -> _Node:
        node = _Node(enabled, None, 0)
        node.sleep = {}
        node.wut = []
        node.jump = jump
        node.floor = 0
        node.started = frozenset()
        node.woken = _woken_by(jump, frozenset())
        self._pick_fresh(node)
        return node

    def child(self, parent: _Node, enabled: list[str], jump) -> _Node:
        """The next point of a run, after `parent.choice` took its step."""
        event = parent.event
        node = _Node(enabled, parent.choice, 0)
        barrier = jump is not None and jump[1] > jump[0]
        node.jump = jump
        node.floor = parent.index + 1 if barrier else parent.floor
        node.index = parent.index + 1
        if barrier:
            node.sleep = {}
        else:
            node.sleep = {q: e for q, e in parent.sleep.items() if not dependent(event, e)}
        node.started = self._started(parent)
        node.woken = _woken_by(jump, parent.woken - {parent.choice})
        node.wut = parent.wut[0].children
        self._close_symmetric(node)
        if not self._pick_from_tree(node):
            self._pick_fresh(node)
        return node

    def stepped(self, node: _Node, event: Event) -> None:
        """`node.choice` took its step: the tree now knows what that step touches."""
        node.event = event
        node.wut[0].event = event

    def _pick_from_tree(self, node: _Node) -> bool:
        while node.wut:
            thread = node.wut[0].thread
            if thread in node.sleep or thread not in node.enabled:
                node.wut.pop(0)             # covered already, or it cannot run here
                self.dropped += 1
                continue
            node.choice = thread
            return True
        return False

    def _pick_fresh(self, node: _Node) -> None:
        awake = [n for n in node.enabled if n not in node.sleep]
        if not awake:
            node.choice = None              # every ready thread asleep: a redundant run
            return
        first = node.last if node.last in awake else awake[0]
        node.wut.append(WNode(first, None))
        node.choice = first

    # --- symmetry ---------------------------------------------------------------------
    def _started(self, parent: _Node) -> frozenset:
        started = parent.started
        if not self.symmetric:
            return started
        event = parent.event
        touched = {parent.choice} if parent.choice in self.symmetric else set()
        if event is not None:
            if event.w == ANY:
                touched = set(self.symmetric)
            else:
                touched |= {n for n, bit in self._thread_bits.items() if event.w & bit}
        return started | touched if touched - started else started

    def _close_symmetric(self, node: _Node) -> None:
        """A fresh thread asleep here puts its fresh twins to sleep too."""
        if not self.orbits:
            return
        for orbit in self.orbits:
            fresh = [n for n in orbit if n not in node.started and n in node.enabled]
            asleep = [n for n in fresh if n in node.sleep]
            if not asleep or len(asleep) == len(fresh):
                continue
            model = asleep[0]
            for name in fresh:
                if name not in node.sleep:
                    node.sleep[name] = self.places.rename(node.sleep[model], model, name)

    # --- after a run: races -----------------------------------------------------------
    def analyse(self, stack: list[_Node], diverge: int) -> None:
        """Happens-before for the new steps, then a reversing sequence for each race."""
        found: list[tuple[int, int]] = []
        events = [n.event for n in stack]
        for j in range(diverge, len(stack)):
            node = stack[j]
            ej = events[j]
            r, w, thread = ej.r, ej.w, ej.thread
            touched = r | w
            floor = node.floor
            covered = (1 << floor) - 1
            for i in range(j - 1, floor - 1, -1):
                if covered >> i & 1:
                    continue
                ei = events[i]
                if ei.w & touched or w & ei.r:          # dependent(ei, ej), inlined
                    if ei.thread != thread and self._reversible(stack, i, thread):
                        found.append((i, j))
                    covered |= stack[i].pred | (1 << i)
            node.pred = covered
        for i, j in found:
            self._reverse(stack, i, j)

    @staticmethod
    def _reversible(stack: list[_Node], i: int, thread: str) -> bool:
        """Not reversible when the earlier step made the later one's thread ready."""
        return thread in stack[i].enabled or thread not in stack[i + 1].enabled

    def _reverse(self, stack: list[_Node], i: int, j: int) -> None:
        seq = []
        vmask = 0
        for k in range(i + 1, len(stack)):
            if k == j:
                continue
            node = stack[k]
            if not node.pred >> i & 1:
                bit = 1 << k
                seq.append(Step(node.event.thread, node.event, bit, node.pred & vmask))
                vmask |= bit
        ei, ej = stack[i].event, stack[j].event
        if ei.w & ej.r:
            # the race's second step read what the first wrote: moved first, it may
            # touch other places, so it stays unknown until it runs (see wakeup)
            seq.append(Step(ej.thread, None, 1 << j, vmask))
        else:
            before = 0
            for s in reversed(seq):
                if not before & s.bit and s.event is not None and dependent(s.event, ej):
                    before |= s.bit | s.pred
            seq.append(Step(ej.thread, ej, 1 << j, before))
        node = stack[i]
        for q, eq in node.sleep.items():
            if weak_initial(q, eq, seq):
                return                      # a sleeping thread covers it already
        if insert(node.wut, seq):
            self.inserted += 1

    # --- choosing the next run ----------------------------------------------------------
    def backtrack(self, stack: list[_Node]) -> int | None:
        """Put the finished choice to sleep; the deepest point with a branch left."""
        while stack:
            node = stack[-1]
            if node.choice is not None and node.event is not None:
                node.sleep[node.choice] = node.event
                self._close_symmetric(node)
            if node.wut:
                node.wut.pop(0)
            if self._pick_from_tree(node):
                node.event = None
                return len(stack) - 1
            stack.pop()
        return None


def _woken_by(jump, woken: frozenset) -> frozenset:
    """Threads a timeout woke between two steps and that have not stepped since."""
    if jump is not None and jump[1] == jump[0] and jump[4]:
        return woken | jump[4]
    return woken


def robust(stack: list[_Node], steps: int, step_time: int) -> tuple[bool, bool]:
    """Which of the run's timers were close together (docs/explore.md, "Virtual time").

    A timer is far when it fired alone, while all threads waited (the clock jumped),
    with more than twice the run's whole length in virtual time before the jump and
    before the next timer due: then no reordering of commuting steps can change when
    it fires. Returns (timeouts close, delays close): a timeout of a wait on objects or
    a kernel timer that was not far, and a delay (a wait on no object) that was not.
    """
    slack = 2 * step_time * (steps + 1)
    timeouts = delays = False
    for node in stack:
        jump = node.jump
        if jump is None:
            continue
        before, after, kinds, following, _ = jump
        close: tuple = kinds if after == before else ()
        if after > before:
            if len(kinds) > 1 or after - before <= slack:
                close = kinds
            if following is not None and following[0] - after <= slack:
                close = kinds + (following[1],)
        for kind in close:
            if kind == "delay":
                delays = True
            else:
                timeouts = True
    return timeouts, delays


def canonical(events: list[Event], barriers: frozenset = frozenset()) -> tuple:
    """The class of a run under the same independence, as a canonical sequence.

    The least topological order (by thread name) of happens-before, with each event's
    reads and writes: two runs are equivalent exactly when their canonical forms are
    equal (used to count classes by brute force in tests and bench). `barriers` are the
    step indices the clock jumped before.
    """
    n = len(events)
    pred = [0] * n
    floor = 0
    for j in range(n):
        if j in barriers:
            floor = j
        mask = (1 << floor) - 1
        for i in range(j - 1, floor - 1, -1):
            if not mask >> i & 1 and dependent(events[i], events[j]):
                mask |= pred[i] | (1 << i)
        pred[j] = mask
    done = 0
    out: list[tuple] = []
    count = [0] * n
    per_thread: dict = {}
    for k, e in enumerate(events):
        per_thread[e.thread] = per_thread.get(e.thread, 0) + 1
        count[k] = per_thread[e.thread]
    while len(out) < n:
        ready = [k for k in range(n) if not done >> k & 1 and pred[k] & ~done == 0]
        k = min(ready, key=lambda x: (events[x].thread, count[x]))
        done |= 1 << k
        out.append((events[k].thread, events[k].r, events[k].w))
    return tuple(out)
