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
from collections.abc import Callable
from functools import wraps
from types import FrameType
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from .errors import BadArgumentError, is_evtsim_frame
from .records import describe

# Returned by a routine whose thread now waits; and a wait's deadline with no timeout.
BLOCKED = object()
FOREVER = float("inf")

# The thread whose own code is running right now (set while its generator runs), so
# that objects such as DriverWorks' KEvent can make calls for it. (A scheduler.Thread:
# that module is in a layer above this one.)
running: Any = None

P = ParamSpec("P")
R = TypeVar("R")


class Call:
    """An API call made by a thread, waiting to be yielded and run."""

    __slots__ = ("name", "impl", "surface", "args", "kwargs", "line", "filename",
                 "deadline")

    def __init__(self, name: str, impl: Callable[..., Any], surface: Any, args: tuple,
                 kwargs: dict[str, Any], line: int, filename: str) -> None:
        self.name = name
        self.impl = impl
        self.surface = surface
        self.args = args
        self.kwargs = kwargs
        self.line = line
        self.filename = filename
        # when the wait's timeout ends (interrupt time), fixed the first time it runs
        self.deadline: int | float | None = None

    def run(self) -> Any:
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

    def __init__(self, routine: Callable[..., Any], args: tuple,
                 on_return: Callable[[Any], Any], label: str) -> None:
        self.routine = routine
        self.args = args
        self.on_return = on_return
        self.label = label


def new_call(surface: Any, name: str, impl: Callable[..., Any], args: tuple, frame: FrameType,
             kwargs: dict[str, Any] | None = None) -> Call:
    """A call made on the learner's behalf (by a helper class) at `frame`'s line."""
    call = Call(name, impl, surface, args, kwargs or {}, frame.f_lineno,
                frame.f_code.co_filename)
    surface.thread.unyielded.append(call)
    return call


def value_call(name: str, value: object, surface: Any, frame: FrameType) -> Call:
    """A step that does nothing but hand `value` back (for yielded pure helpers)."""
    return Call(name, lambda _surface: value, surface, (), {}, frame.f_lineno,
                frame.f_code.co_filename)


def learner_frame(depth: int = 1) -> FrameType:
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


def helper(fn: Callable[P, R]) -> Callable[P, R]:
    """A pure helper (a macro in C): it runs at once, and a wrong number of arguments
    is explained rather than left as Python's TypeError."""
    @wraps(fn)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TypeError as error:
            here = error.__traceback__
            if here is not None and here.tb_next is not None:
                raise
            raise BadArgumentError(f"{fn.__name__}: {error}") from None
    return checked


class Routine(Protocol):
    """What `syscall` makes of a method: calling it makes a Call (or, on an immediate
    surface, runs it at once); `impl` is the method itself, which runs the call."""

    impl: Callable[..., Any]
    is_syscall: bool

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def syscall(impl: Callable[..., Any]) -> Routine:
    """Make `impl(self, ...)` a call factory: it returns a Call instead of running."""
    name = impl.__name__

    @wraps(impl)
    def make_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.immediate:
            return self.machine.call_now(self, name, impl, args, kwargs)
        frame = sys._getframe(1)
        call = Call(name, impl, self, args, kwargs, frame.f_lineno,
                    frame.f_code.co_filename)
        self.thread.unyielded.append(call)
        return call

    routine = cast(Routine, make_call)      # the function, with the two marks below
    routine.impl = impl
    routine.is_syscall = True
    return routine


__all__ = ["BLOCKED", "FOREVER", "Call", "Nested", "Routine", "new_call", "value_call",
           "learner_frame", "helper", "syscall", "running"]
