"""DriverWorks (NuMega DriverStudio, 1999): the `KEvent` and `KUstring` classes.

Just enough of the C++ class library to run the DriverStudio technical tip "How to Share
an Event between Kernel Mode and User Mode" line for line:

    KEvent TheEvent(KUstring(L"\\\\BaseNamedObjects\\\\SynchEvent"), SynchronizationEvent);
    TheEvent.Set();

becomes, in a simulated kernel thread,

    TheEvent = yield KEvent(KUstring(r"\\BaseNamedObjects\\SynchEvent"), SynchronizationEvent)
    yield TheEvent.Set()

Constructing a KEvent with a name opens the named event, or creates it if it is
missing, as IoCreateSynchronizationEvent / IoCreateNotificationEvent do (so a new one
starts Signaled). Each method is a kernel call, so it is yielded like any other.
"""
from __future__ import annotations

from types import FrameType

from .. import calls
from ..calls import Call, Nested
from ..dispatcher import KEVENT, Executive, KernelMode, NotificationEvent, SynchronizationEvent
from ..errors import BadArgumentError, EvtsimError, MissingYieldError, ProtocolError
from ..objects import UNICODE_STRING
from . import base
from .kernel import KernelApi


class KUstring(UNICODE_STRING):
    """DriverWorks' UNICODE_STRING wrapper: `KUstring(r"\\BaseNamedObjects\\X")`."""

    __slots__ = ()


def _running_api(what: str) -> KernelApi:
    thread = calls.running
    if thread is None or not isinstance(thread.current_api, KernelApi):
        raise ProtocolError(f"{what} is kernel code: use it inside a kernel thread, a "
                            f"driver routine or a DPC, and yield it there.")
    return thread.current_api


class KEvent:
    """A DriverWorks event object wrapping a KEVENT."""

    def __init__(self, name_or_type: str | UNICODE_STRING | int,
                 type: int | None = None) -> None:
        self.event_name: str | None
        if isinstance(name_or_type, (str, UNICODE_STRING)):
            if type not in (NotificationEvent, SynchronizationEvent):
                raise BadArgumentError("KEvent(name, type): type is NotificationEvent or "
                                       "SynchronizationEvent")
            self.event_name = str(name_or_type)
            self.event_type = type
        elif name_or_type in (NotificationEvent, SynchronizationEvent) and type is None:
            self.event_name = None
            self.event_type = name_or_type
        else:
            raise BadArgumentError("KEvent takes (KUstring(name), type) or (type)")
        self.call_name = "KEvent"
        self.event: KEVENT | None = None
        self.handle: int | None = None
        self.line = base.learner_frame().f_lineno
        api = _running_api("KEvent")
        api.thread.unyielded.append(self)

    @property
    def name(self) -> str:
        """How traces and views show it: the event it wraps, or the name it will open."""
        if self.event is not None:
            return f"KEvent({self.event.name})"
        return f"KEvent({self.event_name or 'unnamed'})"

    def __repr__(self) -> str:
        kind = "SynchronizationEvent" if self.event_type else "NotificationEvent"
        if self.event_name is None:
            return f"KEvent({kind})"
        return f"KEvent(KUstring({self.event_name!r}), {kind})"

    # --- construction, as one yielded step --------------------------------------------
    def __evtsim_call__(self, api: KernelApi, frame: FrameType) -> Call:
        return base.Call("KEvent", KEvent._construct, api, (self,), {}, frame.f_lineno,
                         frame.f_code.co_filename)

    @staticmethod
    def _construct(api: KernelApi, self: "KEvent") -> "KEvent":
        if self.event_name is None:
            self.event = KernelApi.KeInitializeEvent.impl(api, self.event_type, False)
            return self
        if self.event_type == SynchronizationEvent:
            impl = KernelApi.IoCreateSynchronizationEvent.impl
        else:
            impl = KernelApi.IoCreateNotificationEvent.impl
        self.event, self.handle = impl(api, self.event_name)
        return self

    @base.helper
    def IsValid(self) -> bool:
        """True once the event was opened (a plain method: no step)."""
        return self.event is not None

    # --- methods: each one is a kernel call, yielded ------------------------------------
    def _call(self, routine: str, *args: object) -> Call:
        api = _running_api(f"KEvent.{routine}")
        if self in api.thread.unyielded:
            api.thread.unyielded.remove(self)
            raise MissingYieldError(
                f"{self!r} on line {self.line} was made but never yielded, so the event "
                f"was never opened. Write `TheEvent = yield {self!r}` there.")
        if self.event is None:
            raise EvtsimError(
                f"this KEvent is not valid: yield its construction first, e.g. "
                f"`TheEvent = yield {self!r}` (or it was invalidated).")
        impl = getattr(KernelApi, routine).impl
        return base.new_call(api, routine, impl, (self.event, *args), base.learner_frame())

    @base.helper
    def Set(self, increment: int = 0, wait: bool = False) -> Call:
        return self._call("KeSetEvent", increment, wait)

    @base.helper
    def Clear(self) -> Call:
        return self._call("KeClearEvent")

    @base.helper
    def Reset(self) -> Call:
        return self._call("KeResetEvent")

    @base.helper
    def Pulse(self, increment: int = 0, wait: bool = False) -> Call:
        return self._call("KePulseEvent", increment, wait)

    @base.helper
    def State(self) -> Call:
        return self._call("KeReadStateEvent")

    @base.helper
    def Wait(self, mode: int = KernelMode, alertable: bool = False, timeout: int | None = None,
             reason: int = Executive) -> Call:
        return self._call("KeWaitForSingleObject", reason, mode, alertable, timeout)

    @base.helper
    def Invalidate(self) -> Call:
        """Close the handle (if the event was opened by name) and forget the event."""
        if self.event is None:
            raise EvtsimError("this KEvent is already invalid")
        api = _running_api("KEvent.Invalidate")
        return base.new_call(api, "ZwClose", KEvent._invalidate, (self,), base.learner_frame())

    @staticmethod
    def _invalidate(api: KernelApi, self: "KEvent") -> int | Nested:
        handle, self.handle, self.event = self.handle, None, None
        if handle is None:
            return 0
        return KernelApi.ZwClose.impl(api, handle)


__all__ = ["KEvent", "KUstring", "NotificationEvent", "SynchronizationEvent"]
