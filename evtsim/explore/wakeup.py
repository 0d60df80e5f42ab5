"""Wake-up trees: the schedules optimal DPOR still has to start from a point of the path.

Optimal DPOR (Abdulla, Aronis, Jonsson and Sagonas, "Source sets: a foundation for
optimal dynamic partial order reduction", JACM 2017, section 6) keeps, at every point of
the current path, an ordered tree of step sequences to run from there. When a finished
run shows a race, the sequence that reverses it (`v`) is inserted, unless a tree
already holds a sequence that starts the same class of runs. Each tree node is one
step: a thread and its `Event` as it was seen.

A sequence to insert is a list of `Step`s: the event, a bit of its own (its place in the
run it came from) and `pred`, the bits of the steps before it in the sequence that
happen before it. Only those bits are compared, so the sequence never has to be run
to be ordered.

The last step of a reversing sequence is the second step of the race, moved before the
first: it may read different values there, and in evtsim what a step touches can
depend on what it reads (a wait that would block may now pass). So its event is not
known (`None`) until it runs: it counts as dependent with every step, and as coming
after every step before it in the sequence.
"""
from __future__ import annotations

from .independence import Event, dependent


def _dependent(a: Event | None, b: Event | None) -> bool:
    """`dependent`, with an unknown event dependent with everything."""
    return a is None or b is None or dependent(a, b)


class WNode:
    """One step of a wake-up tree: a thread, its event, the steps to run after it."""

    __slots__ = ("thread", "event", "children")

    def __init__(self, thread: str, event: Event | None,
                 children: list[WNode] | None = None) -> None:
        self.thread = thread
        self.event = event
        self.children: list[WNode] = children if children is not None else []

    def __repr__(self) -> str:
        return f"<WNode {self.thread} {len(self.children)} children>"


class Step:
    """A step of a sequence to insert: its event, its bit, its predecessors' bits."""

    __slots__ = ("thread", "event", "bit", "pred")

    def __init__(self, thread: str, event: Event | None, bit: int, pred: int) -> None:
        self.thread = thread
        self.event = event
        self.bit = bit
        self.pred = pred


def insert(tree: list[WNode], sequence: list[Step]) -> bool:
    """Insert `sequence` into the tree whose top-level children are `tree`.

    Finds the first node (in post-order, left to right) whose path is compatible with
    the sequence (`v ~ w` of the paper): if it is a leaf, the sequence's class is
    already covered and nothing changes; otherwise what is left of the sequence goes
    under it as a new last branch. Returns True when something was added.
    """
    found = _insert_below(tree, sequence, 0)
    if found is None:
        tree.append(_chain(sequence, 0))
        return True
    return found


def _insert_below(children: list[WNode], sequence: list[Step], removed: int):
    """None when no child is compatible; else whether a branch was added."""
    for child in children:
        after = _advance(child, sequence, removed)
        if after is None:
            continue
        deeper = _insert_below(child.children, sequence, after) if child.children else None
        if deeper is not None:
            return deeper
        if not child.children:
            return False                    # a leaf covers it already
        rest = [s for s in sequence if not after & s.bit]
        if rest:
            child.children.append(_chain(rest, 0))
            return True
        return False
    return None


def _advance(node: WNode, sequence: list[Step], removed: int) -> int | None:
    """One step of the compatibility check: the bits used up after `node`, or None.

    The node's thread either takes the first step of its own left in the sequence,
    when nothing left before that step happens before it (an initial), or has a step
    that commutes with everything left (it can go first without changing them)."""
    thread = node.thread
    for s in sequence:
        if removed & s.bit or s.thread != thread:
            continue
        if s.pred & ~removed:
            return None
        return removed | s.bit
    event = node.event
    if event is None:
        return None
    for s in sequence:
        if not removed & s.bit and _dependent(event, s.event):
            return None
    return removed


def _chain(sequence: list[Step], removed: int) -> WNode:
    """A branch that runs the steps of `sequence` not in `removed`, in order."""
    steps = [s for s in sequence if not removed & s.bit]
    top = node = WNode(steps[0].thread, steps[0].event)
    for s in steps[1:]:
        child = WNode(s.thread, s.event)
        node.children.append(child)
        node = child
    return top


def weak_initial(thread: str, event: Event | None, sequence: list[Step]) -> bool:
    """Whether `thread` (whose next step is `event`) could start `sequence` without
    changing its class: its first step there has no predecessor in the sequence, or it
    has no step there and commutes with every step (the paper's WI)."""
    for s in sequence:
        if s.thread == thread:
            return s.pred == 0
    if event is None:
        return False
    return not any(_dependent(event, s.event) for s in sequence)
