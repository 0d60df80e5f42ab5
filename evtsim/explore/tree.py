"""A choice point of the schedule tree: who could run there, who is still to try.

The systematic strategies ("dfs", "bounded", "dpor") walk the tree of schedules depth
first, keeping only the current path: a list of these nodes, one per step, each with
the thread chosen there. No machine state is stored (the walk is stateless, as in CHESS,
Musuvathi and Qadeer 2007): the path is replayed from a fresh build. The sampling
strategies ("random", "pct") use the same node for the choice they made. DPOR's fields
(sleep set, wake-up tree, happens-before) are `dpor`'s.
"""
from __future__ import annotations

from typing import Any


class _Node:
    """A choice point of the current path: who could run, who is still to try."""

    __slots__ = ("enabled", "todo", "done", "choice", "sleep", "explored", "event",
                 "preempts", "last", "wut", "pred", "jump", "floor", "index", "started",
                 "woken")

    def __init__(self, enabled, last, preempts):
        self.enabled = enabled
        self.todo: list = []
        self.done: list = []
        self.choice: Any = None
        self.sleep: dict = {}       # DPOR: thread -> its next step's Event, asleep here
        self.explored: Any = None
        self.event: Any = None      # DPOR: the Event of `choice`'s step
        self.last = last
        self.preempts = preempts
        self.wut: list = []         # DPOR: the wake-up tree; [0] is `choice` while it runs
        self.pred = 0               # DPOR: bits of the path's steps that happen before
        self.jump: Any = None       # DPOR: the clock at this choice point (see dpor.robust)
        self.floor = 0              # DPOR: index of the last clock jump at or before here
        self.index = 0              # DPOR: this point's place in the path
        self.started: frozenset = frozenset()   # DPOR symmetry: not fresh any more
        self.woken: frozenset = frozenset()     # DPOR strict timing: woken between steps
