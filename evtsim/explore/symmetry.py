"""Interchangeable threads: the same code with the same arguments, not started yet.

With `explore(..., symmetry=True)`, threads of one process that run the same function
with the same arguments form an *orbit*. As long as two of them have taken no step and
no other step has touched either, swapping their names maps every run onto a run that
ends the same way up to the names (Emerson and Sistla 1996; Ip and Dill 1996, for
state graphs). So once one of them has been tried first from a point, the others go
to sleep there too, and the search keeps one run per class up to renaming. This is
opt-in: a check that names threads (`m.thread("waiter1")`) can tell them apart, and so
can code that passes one thread object to another.
"""
from __future__ import annotations

from ..api.base import Surface


def orbits(m) -> list[tuple[str, ...]]:
    """Groups (two or more) of the machine's threads that are interchangeable now.

    A thread whose Thread object another thread holds (in its local variables or the
    arguments of its next call) is left out: that other thread can tell it apart."""
    groups: dict = {}
    for t in m.threads:
        key = _signature(t)
        if key is not None:
            groups.setdefault(key, []).append(t)
    named = _held_threads(m)
    out = []
    for members in groups.values():
        names = tuple(t.name for t in members if id(t) not in named)
        if len(names) > 1:
            out.append(names)
    return out


def _held_threads(m) -> set:
    """ids of the threads some thread's code holds a reference to."""
    threads = {id(t) for t in m.threads}
    held: set = set()
    for t in m.threads:
        values = []
        frame = t.gen.gi_frame if t.gen is not None else None
        if frame is not None:
            values.extend(frame.f_locals.values())
        if t.next_call is not None:
            values.extend(t.next_call.args)
            values.extend(t.next_call.kwargs.values())
        for value in values:
            for item in (value if isinstance(value, (list, tuple, set)) else (value,)):
                if id(item) in threads and item is not t:
                    held.add(id(item))
    return held


def _signature(t):
    """What must be equal for two threads to be interchangeable, or None (never)."""
    gen = t.gen
    if gen is None or gen.gi_frame is None or t.steps or t.frames or t.state != "ready":
        return None
    if t.kernel_apcs or t.user_apcs or any(t.alerted) or t.wait is not None:
        return None
    frame = gen.gi_frame
    values = []
    for name, value in sorted(frame.f_locals.items()):
        values.append((name, _value_key(value, t)))
    call = t.next_call
    if call is not None:
        args = tuple(_value_key(a, t) for a in call.args)
        kwargs = tuple(sorted((k, _value_key(v, t)) for k, v in call.kwargs.items()))
        call_key = (call.name, args, kwargs, call.line)
    else:
        call_key = None
    return (id(t.process), t.mode, t.irql, gen.gi_code, frame.f_lasti, tuple(values),
            call_key)


def _value_key(value, thread):
    """Equal keys for equal values: plain values by value, a thread's own API surface
    as "its own", everything else by identity."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return ("v", type(value).__name__, value)
    if isinstance(value, Surface) and value.thread is thread:
        return ("own", type(value).__name__)
    if isinstance(value, tuple):
        return ("t", tuple(_value_key(v, thread) for v in value))
    return ("id", id(value))


def canonical_state(key, groups) -> tuple:
    """An end state (`state_key`) up to renaming the threads of each orbit: the least
    of its renamings, threads sorted by name (to compare a symmetric search's end
    states with a full one's)."""
    from itertools import permutations, product
    best = None
    for choice in product(*(permutations(g) for g in groups)):
        mapping: dict[str, str] = {}
        for group, order in zip(groups, choice, strict=True):
            mapping.update(zip(group, order, strict=True))
        threads, objects, crash = _rename(key, mapping)
        renamed = (tuple(sorted(threads, key=repr)), objects, crash)
        text = repr(renamed)
        if best is None or text < best[0]:
            best = (text, renamed)
    return best[1] if best is not None else key


def _rename(value, mapping):
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, tuple):
        items = tuple(_rename(v, mapping) for v in value)
        return items
    return value
