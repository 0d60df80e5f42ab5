"""Which steps commute: each step's reads and writes, and when two steps are dependent.

DPOR needs a dependence relation between steps (Flanagan and Godefroid 2005 take it as
given); this module is evtsim's own. A step is an `Event`: its thread and the places it
read and wrote, as two bit masks over the places of the search (`Places`). Two steps
are dependent when one writes a place the other reads or writes; two reads commute.
docs/explore.md gives the rules in words and why they are sound.

The places, and who touches them:

* `O:<name>`, an object's signal state. Read by every wait, KeReadStateEvent and a set,
  reset or pulse that changed nothing; written by a step that changed the state (the
  record's `changes`).
* `L:<name>`, an object's wait list. Written by a wait that blocks (it joins the list)
  and by a step that released a waiter (who leaves every list it was on); read by a set
  that signaled and by every pulse (they look at the list).
* `T:<name>`, a thread. Every step reads and writes its own thread; a step that released
  or woke a thread to re-check writes it.
* the namespace root `\\`, handle slots `handle:<pid>:<value>` (as the record notes them),
  `handles:<pid>` (which slot the next handle takes: written by every slot write), and
  `@objects` (new objects get names and places in creation order).

Only the routines in `AUDITED` are trusted to note everything they read and write; any
other step (driver code, APCs, IRQL changes that stop or start other threads, a crash,
timers and DPCs that are pending) gets the footprint `ANY`: it is dependent with every
step, so nothing is reordered around it. Python objects that threads share directly (a
dict, a list) are invisible here: when threads talk through them, use `strategy="dfs"`.
"""
from __future__ import annotations

from ..records import TraceRecord
from ..scheduler import NO_VALUE, WAITING

ANY = -1                        # a mask with every bit set: dependent with every step

_F = {name: i for i, name in enumerate(TraceRecord._fields)}
_OP, _RELEASED, _CHANGES = _F["op"], _F["released"], _F["changes"]
_RECHECKED, _WAITS, _RESUMED = _F["rechecked"], _F["waits"], _F["resumed"]
_ENTERS, _READS, _WRITES = _F["enters"], _F["reads"], _F["writes"]

# Routines whose reads and writes the engine notes completely (docs/explore.md lists
# what each touches). The rest are dependent with everything.
SETS = frozenset({"KeSetEvent", "SetEvent", "ZwSetEvent", "SignalObjectAndWait"})
PULSES = frozenset({"KePulseEvent", "PulseEvent", "ZwPulseEvent"})
CLOSES = frozenset({"ZwClose", "CloseHandle"})
# Create-or-open calls: the engine notes a write of the namespace for each; one that
# made no new object only looked the name up (a read).
CREATES = frozenset({"IoCreateNotificationEvent", "IoCreateSynchronizationEvent",
                     "ZwCreateEvent", "CreateEvent", "CreateEventEx"})
AUDITED = SETS | PULSES | CLOSES | frozenset({
    "KeResetEvent", "KeClearEvent", "ResetEvent", "ZwResetEvent", "ZwClearEvent",
    "KeReadStateEvent", "KeInitializeEvent",
    "KeWaitForSingleObject", "KeWaitForMultipleObjects", "KeDelayExecutionThread",
    "ZwWaitForSingleObject", "WaitForSingleObject", "WaitForSingleObjectEx",
    "WaitForMultipleObjects", "WaitForMultipleObjectsEx", "Sleep", "SleepEx",
    "IoCreateNotificationEvent", "IoCreateSynchronizationEvent",
    "ZwCreateEvent", "ZwOpenEvent", "CreateEvent", "CreateEventEx", "OpenEvent",
    "GetLastError", "SetLastError", "GetCurrentProcessId",
    "KeGetCurrentIrql", "KeRaiseIrql", "KeLowerIrql",
    "PsGetCurrentThread", "PsGetCurrentProcess",
})


class Event:
    """One step as DPOR sees it: the thread, and what it read and wrote (bit masks)."""

    __slots__ = ("thread", "r", "w")

    def __init__(self, thread: str, r: int, w: int) -> None:
        self.thread = thread
        self.r = r
        self.w = w

    @property
    def any(self) -> bool:
        return self.w == ANY

    def __repr__(self) -> str:
        return f"<Event {self.thread} r={self.r:#x} w={self.w:#x}>"


def dependent(a: Event, b: Event) -> bool:
    """Steps that do not commute: one writes what the other reads or writes."""
    return bool(a.w & (b.r | b.w) or b.w & a.r)


class Places:
    """The places of one search, each a bit: masks make dependence one `&`."""

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}
        self.names: list[str] = []
        self._decoded: dict[int, frozenset] = {}

    def bit(self, name: str) -> int:
        bit = self.bits.get(name)
        if bit is None:
            bit = self.bits[name] = 1 << len(self.names)
            self.names.append(name)
        return bit

    def mask(self, names) -> int:
        out = 0
        for name in names:
            out |= self.bit(name)
        return out

    def decode(self, mask: int) -> frozenset:
        """The names in a mask (`ANY` decodes as {"*"}): for transport and for people."""
        found = self._decoded.get(mask)
        if found is None:
            if mask == ANY:
                found = frozenset({"*"})
            else:
                found = frozenset(n for i, n in enumerate(self.names) if mask >> i & 1)
            self._decoded[mask] = found
        return found

    def encode(self, names: frozenset) -> int:
        """The mask of a set of names (the inverse of `decode`)."""
        return ANY if "*" in names else self.mask(names)

    def rename(self, event: Event, old: str, new: str) -> Event:
        """The same step taken by thread `new` instead of `old` (symmetry)."""
        if event.w == ANY:
            return Event(new, ANY, ANY)
        a, b = self.bit("T:" + old), self.bit("T:" + new)
        r, w = event.r, event.w
        r = (r & ~a) | b if r & a else r
        w = (w & ~a) | b if w & a else w
        return Event(new, r, w)


class Footprints:
    """Takes a thread's step on a machine and returns its `Event`.

    The machine must trace (`m.tracing = True`): the step's record says what it read,
    wrote, changed, released and waits on. `strict` adds the timing rules of
    docs/explore.md section 3 (timeouts close together): a step that starts a timeout
    (a wait on objects with a timeout), a step that touches what a pending timeout
    touches, and the first step of a thread a timeout woke between two steps are
    dependent with every step.
    """

    def __init__(self, places: Places, strict: bool = False) -> None:
        self.places = places
        self.strict = strict
        self._objects: dict = {}        # dispatcher object name -> object, this run
        self._counted = -1
        self._threads: dict = {}        # thread name -> thread, this run
        self._bits: dict = {}           # other place -> its bit
        self._tbits: dict = {}          # thread name -> the bit of T:name
        self._objbits: dict = {}        # object name -> (bit of O:name, bit of L:name)
        self._timer_key: tuple = ()
        self._timer_pending = False

    def _bit(self, place: str) -> int:
        bit = self._bits[place] = self.places.bit(place)
        return bit

    def _thread_bit(self, name: str) -> int:
        bit = self._tbits[name] = self.places.bit("T:" + name)
        return bit

    def _object_bit(self, name: str) -> int:
        pair = self._objbits.get(name)
        if pair is None:
            pair = self._objbits[name] = (self.places.bit("O:" + name),
                                          self.places.bit("L:" + name))
        return pair[0]

    def _list_bit(self, name: str) -> int:
        self._object_bit(name)
        return self._objbits[name][1]

    def begin(self, m) -> None:
        """A new run on machine `m`: forget the last run's objects and threads."""
        self._objects = {}
        self._counted = -1
        self._threads = {}
        self._timer_key = ()
        self._timer_pending = False

    def step(self, m, thread, woken: frozenset = frozenset()) -> Event:
        """Step `thread` (ready at this choice point) and return its Event. `woken`:
        threads a timeout woke between two steps (strict timing: their next step is
        ANY)."""
        name = thread.name
        rows = m._rows
        start = len(rows)
        raised = m.raised
        created = len(m.dispatcher_objects)
        armed = m.timers.counter
        hazard = bool(m.dpc_queue or thread.kernel_apcs or thread.user_apcs) or (
            bool(m.timers.heap) and self._kernel_timer(m))
        call = thread.next_call
        resuming = thread.resume is not NO_VALUE
        waited = thread.wait.objects if (resuming and thread.wait is not None) else ()
        closing = None
        if call is not None and call.name in CLOSES and call.args and not resuming:
            closing = _handle_object(m, thread, call.args[0])
        timed = self._timed_places(m) if self.strict and m.timers.heap else 0
        m._step_thread(thread)
        new = rows[start:]
        if (hazard or m.raised is not raised or m.bugcheck is not None or len(new) != 1
                or (self.strict and name in woken)):
            return Event(name, ANY, ANY)
        row = new[0]
        if row[_OP] not in AUDITED or row[_ENTERS] is not None or (
                row[_RESUMED] is not None and row[_RESUMED] != "wait"):
            return Event(name, ANY, ANY)
        if self.strict and m.timers.counter != armed and not (
                thread.state == WAITING and thread.wait is not None
                and not thread.wait.objects):
            return Event(name, ANY, ANY)        # it started a timeout (not a delay)
        bits = self._bits
        own = self._tbits.get(name)
        if own is None:
            own = self._thread_bit(name)
        r = w = own
        op = row[_OP]
        made = len(m.dispatcher_objects) != created
        reads, writes = row[_READS], row[_WRITES]
        changes = row[_CHANGES]
        changed = {c[0] for c in changes} if changes else ()
        for place in changed:           # a change is a write, noted or not
            w |= self._object_bit(place)
        if reads or writes:
            objects = self._dispatcher_objects(m)
            listed = op in PULSES
            looked_up = op in CREATES and not made
            for noted, is_read in ((reads, True), (writes, False)):
                for place in noted:
                    if place in objects:
                        if place in changed:
                            w |= self._object_bit(place)
                            if op in SETS:
                                r |= self._list_bit(place)
                        else:
                            r |= self._object_bit(place)
                        if listed:
                            r |= self._list_bit(place)
                    else:
                        bit = bits.get(place)
                        if bit is None:
                            bit = self._bit(place)
                        if is_read or (looked_up and place == "\\"):
                            r |= bit
                        else:
                            w |= bit
                            if place.startswith("handle:"):
                                w |= self._bit("handles:" + place.split(":", 2)[1])
        released = row[_RELEASED]
        rechecked = row[_RECHECKED]
        if released or rechecked:
            for other in released + rechecked:
                w |= self._tbits.get(other) or self._thread_bit(other)
                target = self._thread(m, other)
                if target is not None and target.wait is not None:
                    for obj in target.wait.objects:
                        w |= self._list_bit(obj.name)
        if row[_WAITS] is not None and thread.state == WAITING:
            for obj_name in row[_WAITS][1]:
                w |= self._list_bit(obj_name)
        if made:
            w |= self._bit("@objects")
        if closing is not None:
            w |= self._object_bit(closing.name)
        for obj in waited:                  # a handle wait let go of its reference
            header = getattr(obj, "header", None)
            if header is not None and header.deleted:
                w |= self._object_bit(obj.name)
        if timed and (timed & (r | w)):
            return Event(name, ANY, ANY)
        return Event(name, r, w)

    def _kernel_timer(self, m) -> bool:
        """A live kernel timer is pending (its DPC could touch anything when it fires);
        cached while the timer queue is unchanged."""
        timers = m.timers
        key = (timers.counter, len(timers.heap))
        if key != self._timer_key:
            self._timer_key = key
            self._timer_pending = _kernel_timer_pending(m)
        return self._timer_pending

    def _thread(self, m, name: str):
        found = self._threads.get(name)
        if found is None:
            self._threads = {t.name: t for t in m.threads}
            found = self._threads.get(name)
        return found

    def _timed_places(self, m) -> int:
        """Strict timing: the places a pending timeout of a wait on objects will touch
        when it fires (its thread, the wait lists it is on), as a mask (0: none)."""
        names = []
        for _, _, action, (target, generation) in m.timers.heap:
            if action == "wait" and target.state == WAITING and \
                    target.wait_generation == generation and target.wait.objects:
                names.append("T:" + target.name)
                names.extend("L:" + o.name for o in target.wait.objects)
        return self.places.mask(names)

    def _dispatcher_objects(self, m) -> dict:
        if len(m.dispatcher_objects) != self._counted:
            self._objects = {o.name: o for o in m.dispatcher_objects}
            self._counted = len(m.dispatcher_objects)
        return self._objects


def _kernel_timer_pending(m) -> bool:
    """A live kernel timer: its DPC could touch anything when it fires."""
    for _, _, action, (target, generation) in m.timers.heap:
        if action != "wait" and target.generation == generation:
            return True
    return False


def _handle_object(m, thread, value):
    """The object a handle names before a close takes it away (or None)."""
    process = thread.process
    attached = getattr(thread, "attached", None)
    if attached is not None:
        process = attached
    try:
        status, entry = m.ob.resolve(process, value, thread.mode)
    except Exception:
        return None
    obj = getattr(entry, "object", None)
    return obj if obj is not None and hasattr(obj, "wait_list") else None
