"""Dynamic partial-order reduction: one schedule per class of equivalent interleavings.

DPOR with sleep sets (Flanagan and Godefroid 2005), with the backtrack points chosen as
source sets (the "Source-DPOR" of Abdulla, Aronis, Jonsson and Sagonas 2014). Each step
is recorded as an event (thread, footprint, vector clock); after a run, every race of a
new step with an earlier dependent one that it does not already happen after puts a
thread into the backtrack set of the node before the earlier step, so the reversed
order is tried; sleep sets cut runs that would only reorder independent steps. It finds
every end state "dfs" finds provided threads share state only through kernel objects
(see `independence`). The tree walk itself is the explorer's (`search`).
"""
from __future__ import annotations

from .independence import _dependent, _step_footprint
from .tree import _Node


def observed_step(m, thread, stack, index):
    """Step `thread` and return its DPOR event: (thread, footprint, clock)."""
    name = thread.name
    fp = _step_footprint(m, thread)
    # The clock: the latest step of each thread that happens before this one.
    clock = {}
    for j in range(index - 1, -1, -1):
        other = stack[j].event
        if other[0] == name:
            _join(clock, other[2])
            break
    for j in range(index - 1, -1, -1):
        other = stack[j].event
        if other[0] != name and clock.get(other[0], -1) < j and _dependent(fp, other[1]):
            _join(clock, other[2])
    clock[name] = index
    return (name, fp, clock)


def choose_dpor(m, ready, last, stack):
    """A new node: asleep are the threads whose next step commutes with the last one."""
    names = [t.name for t in ready]
    node = _Node(names, last, 0)
    node.explored = {}
    if stack:
        parent = stack[-1]
        chosen = parent.event[1]
        asleep = {}
        for source in (parent.sleep, parent.explored):
            for name, fp in source.items():
                if name != parent.choice and not _dependent(fp, chosen):
                    asleep[name] = fp
        node.sleep = asleep
    else:
        node.sleep = {}
    awake = [n for n in names if n not in node.sleep]
    if not awake:
        return None
    first = last if last in awake else awake[0]
    node.todo = [first]
    node.choice = first
    return node


def races(stack, diverge):
    """Source-DPOR: for each race of a new step with an earlier one, make sure the
    reversed order will be tried from the point before the earlier step."""
    events = [n.event for n in stack]
    for j in range(max(diverge, 1), len(events)):
        name_j, fp_j, _clock_j = events[j]
        # the clock of e_j without its direct dependencies on other threads
        base = {}
        for k in range(j - 1, -1, -1):
            if events[k][0] == name_j:
                base = dict(events[k][2])
                break
        candidates = [i for i in range(j - 1, -1, -1)
                      if events[i][0] != name_j and _dependent(fp_j, events[i][1])]
        for i in candidates:                       # latest first
            name_i = events[i][0]
            if base.get(name_i, -1) >= i:         # e_i happens before via others
                continue
            reverse(stack, events, i, j)
            _join(base, events[i][2])


def reverse(stack, events, i, j):
    node = stack[i]
    name_i, _, _ = events[i]
    # v: the steps after e_i that do not depend on it, then e_j
    v = [k for k in range(i + 1, j) if events[k][2].get(name_i, -1) < i]
    v.append(j)
    positions: dict = {}
    for k in v:
        positions.setdefault(events[k][0], []).append(k)
    initials = []
    for name, ks in positions.items():
        first = ks[0]
        clock = events[first][2]
        if not any(other != name and oks[0] < first and clock.get(other, -1) >= oks[0]
                   for other, oks in positions.items()):
            initials.append(name)
    initials = [n for n in initials if n in node.enabled]
    if not initials:
        return                      # not reversible: e_i made e_j's thread ready
    covered = set(node.todo) | set(node.done) | set(node.sleep)
    if any(n in covered for n in initials):
        return
    node.todo.append(initials[0])


def _join(clock, other) -> None:
    for name, position in other.items():
        if clock.get(name, -1) < position:
            clock[name] = position
