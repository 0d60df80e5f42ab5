"""The door into the simulated kernel: calls are values a thread yields (core layer).

As in curio, a yield is a system call. Calling `k.KeSetEvent(ev)` does nothing yet: it
returns a `Call` that remembers the learner's line. Yielding it hands it to the
scheduler, which runs it as one atomic step and sends the result back. A call that is
made but never yielded is caught at the thread's next yield (or when it ends) and
reported with the line where it was made.

`syscall` turns a method whose body is the implementation into such a call factory;
the surfaces (evtsim.api) are built from it, and the machine runs the calls. This
module sits below both, so neither imports the other to speak the protocol.
"""
from __future__ import annotations

import sys
from functools import wraps

from .errors import BadArgumentError, is_evtsim_frame
from .records import describe

# Returned by a routine whose thread now waits; and a wait's deadline with no timeout.
BLOCKED = object()
FOREVER = float("inf")

# The thread whose own code is running right now (set while its generator runs), so
# that objects such as DriverWorks' KEvent can make calls for it.
running = None


class Call:
    """An API call made by a thread, waiting to be yielded and run."""

    __slots__ = ("name", "impl", "surface", "args", "kwargs", "line", "filename",
                 "deadline")

    def __init__(self, name, impl, surface, args, kwargs, line, filename):
        self.name = name
        self.impl = impl
        self.surface = surface
        self.args = args
        self.kwargs = kwargs
        self.line = line
        self.filename = filename
        self.deadline = None        # absolute timeout, fixed the first time a wait runs

    def run(self):
        return self.impl(self.surface, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        parts = [repr(describe(a)) for a in self.args]
        parts += [f"{k}={describe(v)!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


class Nested:
    """What a routine returns to run driver code in the calling thread before it
    returns (the I/O manager calling a dispatch routine).

    `routine(kernel_api, *args)` runs as a nested frame of the same thread; when it
    returns, `on_return(value)` gives the result for the caller, BLOCKED (the caller
    now waits), or another Nested to run next.
    """

    __slots__ = ("routine", "args", "on_return", "label")

    def __init__(self, routine, args, on_return, label: str):
        self.routine = routine
        self.args = args
        self.on_return = on_return
        self.label = label


def new_call(surface, name, impl, args, frame, kwargs=None) -> Call:
    """A call made on the learner's behalf (by a helper class) at `frame`'s line."""
    call = Call(name, impl, surface, args, kwargs or {}, frame.f_lineno,
                frame.f_code.co_filename)
    surface.thread.unyielded.append(call)
    return call


def value_call(name: str, value, surface, frame) -> Call:
    """A step that does nothing but hand `value` back (for yielded pure helpers)."""
    return Call(name, lambda _surface: value, surface, (), {}, frame.f_lineno,
                frame.f_code.co_filename)


def learner_frame(depth: int = 1):
    """Where the learner's code is making a call: the running thread's own generator
    frame (scenario code counts as learner code), else the nearest frame outside evtsim."""
    thread = running
    gen = getattr(thread, "gen", None)
    if gen is not None and gen.gi_frame is not None and gen.gi_running:
        return gen.gi_frame
    frame = sys._getframe(depth)
    while frame.f_back is not None and is_evtsim_frame(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def helper(fn):
    """A pure helper (a macro in C): it runs at once, and a wrong number of arguments
    is explained rather than left as Python's TypeError."""
    @wraps(fn)
    def checked(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError as error:
            if error.__traceback__.tb_next is not None:
                raise
            raise BadArgumentError(f"{fn.__name__}: {error}") from None
    return checked


def syscall(impl):
    """Make `impl(self, ...)` a call factory: it returns a Call instead of running."""
    name = impl.__name__

    @wraps(impl)
    def make_call(self, *args, **kwargs):
        if self.immediate:
            return self.machine.call_now(self, name, impl, args, kwargs)
        frame = sys._getframe(1)
        call = Call(name, impl, self, args, kwargs, frame.f_lineno,
                    frame.f_code.co_filename)
        self.thread.unyielded.append(call)
        return call

    make_call.impl = impl
    make_call.is_syscall = True
    return make_call


__all__ = ["BLOCKED", "FOREVER", "Call", "Nested", "new_call", "value_call", "learner_frame", "helper", "syscall",
           "running"]
