"""A choice point of the schedule tree: who could run there, who is still to try.

The systematic strategies ("dfs", "bounded", "dpor") walk the tree of schedules depth
first, keeping only the current path: a list of these nodes, one per step, each with
the thread chosen there. No machine state is stored (the walk is stateless, as in CHESS,
Musuvathi and Qadeer 2007): the path is replayed from a fresh build. The sampling
strategies ("random", "pct") use the same node for the choice they made.
"""
from __future__ import annotations


class _Node:
    """A choice point of the current path: who could run, who is still to try."""

    __slots__ = ("enabled", "todo", "done", "choice", "sleep", "explored", "event",
                 "preempts", "last")

    def __init__(self, enabled, last, preempts):
        self.enabled = enabled
        self.todo: list = []
        self.done: list = []
        self.choice = None
        self.sleep = None           # DPOR: thread -> its step's footprint, asleep here
        self.explored = None        # DPOR: thread -> footprint, children tried already
        self.event = None           # DPOR: (thread, footprint, clock) of `choice`
        self.last = last
        self.preempts = preempts
