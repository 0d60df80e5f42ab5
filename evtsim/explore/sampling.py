"""The sampling strategies' choosers: uniformly random, and PCT.

"random" picks any ready thread with a seeded `random.Random`. "pct" is probabilistic
concurrency testing (Burckhardt, Kothari, Musuvathi and Nagarakatte 2010): threads get
distinct random priorities, the highest-priority ready thread runs, and at `depth - 1`
random steps the running thread drops below every other. Neither is a proof: the
explorer (`search`) runs `max_schedules` such schedules and reports what it saw.
"""
from __future__ import annotations

from .tree import _Node


class _RandomChooser:
    def __init__(self, rng):
        self.rng = rng

    def __call__(self, m, ready, last, stack):
        thread = ready[self.rng.randrange(len(ready))]
        node = _Node(None, last, 0)
        node.choice = thread.name
        return node


class _PctChooser:
    """PCT: distinct random priorities; at `depth - 1` random steps the running thread
    drops below every other (Burckhardt, Kothari, Musuvathi, Nagarakatte 2010)."""

    def __init__(self, rng, depth, horizon):
        self.rng = rng
        self.depth = depth
        self.priority: dict = {}
        changes = min(depth - 1, horizon)
        self.changes = dict(zip(sorted(rng.sample(range(1, horizon + 1), changes)),
                                range(changes, 0, -1), strict=True)) if changes > 0 else {}
        self.step = 0

    def __call__(self, m, ready, last, stack):
        priority = self.priority
        for t in ready:
            if t.name not in priority:
                # new threads get a random rank above the change-point priorities
                priority[t.name] = self.depth + self.rng.random()
        self.step += 1
        best = max(ready, key=lambda t: priority[t.name])
        low = self.changes.get(self.step)
        if low is not None:
            priority[best.name] = low - 1 + self.rng.random() * 0.5
            best = max(ready, key=lambda t: priority[t.name])
        node = _Node(None, last, 0)
        node.choice = best.name
        return node
