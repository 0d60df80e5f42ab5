"""A minimal step-atomic dispatcher: the yardstick for evtsim's hot path (issue 14).

It keeps evtsim's contract and nothing more: a thread is a generator that yields every
call; each call is one atomic step; a synchronization event releases its first waiter
(FIFO) or stays signaled; a blocking wait ends the step and its return is a step of its
own; round robin, one step at a time; and every step appends a trace row with the same
12 fields evtsim 0.1.0 recorded, source line included (taken with sys._getframe, as
evtsim does). No namespace, handles, IRQL, APCs, timers or checks: whatever evtsim
spends beyond this is the price of what it models.
"""
from __future__ import annotations

import sys
from collections import deque

BLOCKED = object()


class Event:
    __slots__ = ("name", "state", "waiters")

    def __init__(self, name):
        self.name, self.state, self.waiters = name, 0, deque()


class Call:
    __slots__ = ("op", "fn", "args", "line")

    def __init__(self, op, fn, args, line):
        self.op, self.fn, self.args, self.line = op, fn, args, line


class Thread:
    __slots__ = ("name", "gen", "call", "state", "resume")

    def __init__(self, name):
        self.name, self.gen, self.call, self.state, self.resume = name, None, None, "ready", None


class Api:
    """The calls a thread makes: each returns a Call that remembers the learner's line."""

    def __init__(self, machine, thread):
        self.machine, self.thread = machine, thread

    def KeSetEvent(self, event, increment, wait):
        return Call("KeSetEvent", self.machine.set_event, (event,), sys._getframe(1).f_lineno)

    def KeWaitForSingleObject(self, event, reason, mode, alertable, timeout):
        return Call("KeWaitForSingleObject", self.machine.wait, (self.thread, event),
                    sys._getframe(1).f_lineno)


class Machine:
    def __init__(self):
        self.ready: deque = deque()
        self.rows: list = []
        self.seq = self.time = 0
        self.released: list = []
        self.changes: list = []

    def start(self, fn, *args, name):
        thread = Thread(name)
        thread.gen = fn(Api(self, thread), *args)
        thread.call = next(thread.gen)
        self.ready.append(thread)
        return thread

    def set_event(self, event):
        previous = event.state
        if previous:
            return previous
        if event.waiters:
            waiter = event.waiters.popleft()
            waiter.state, waiter.resume = "ready", 0
            self.ready.append(waiter)
            self.released.append(waiter.name)
        else:
            event.state = 1
            self.changes.append((event.name, 0, 1))
        return previous

    def wait(self, thread, event):
        if event.state:
            event.state = 0
            self.changes.append((event.name, 1, 0))
            return 0
        event.waiters.append(thread)
        thread.state = "waiting"
        return BLOCKED

    def run(self, max_steps=10**9):
        ready, rows = self.ready, self.rows
        steps = 0
        while ready and steps < max_steps:
            thread = ready.popleft()
            call = thread.call
            note = None
            if thread.resume is not None:
                result, thread.resume = thread.resume, None
                note = "returns from its wait"
            else:
                result = call.fn(*call.args)
                if result is BLOCKED:
                    note = "waits"
            self.seq += 1
            rows.append((self.seq, self.time, thread.name, "System", call.op, call.args,
                         None if result is BLOCKED else result,
                         tuple(self.released), thread.state, call.line,
                         tuple(self.changes), note))
            self.released.clear()
            self.changes.clear()
            self.time += 10
            steps += 1
            if result is not BLOCKED:
                try:
                    thread.call = thread.gen.send(result)
                except StopIteration:
                    thread.state = "terminated"
                    continue
                ready.append(thread)
        return steps


def pingpong(round_trips: int) -> int:
    """Two threads over two synchronization events; returns the steps taken."""
    m = Machine()
    a, b = Event("A"), Event("B")

    def ping(k):
        for _ in range(round_trips):
            yield k.KeSetEvent(a, 0, False)
            yield k.KeWaitForSingleObject(b, 0, 0, False, None)

    def pong(k):
        for _ in range(round_trips):
            yield k.KeWaitForSingleObject(a, 0, 0, False, None)
            yield k.KeSetEvent(b, 0, False)

    m.start(ping, name="ping")
    m.start(pong, name="pong")
    return m.run()
