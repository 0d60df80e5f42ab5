"""The numbers Windows answers with: NTSTATUS codes, Win32 errors, wait results,
access masks, object-attribute flags and bug check codes, as plain ints.

Values follow Wine's `include/ntstatus.h` and `include/winerror.h`, ReactOS's
`bugcodes.h`, and Microsoft's "Bug Check Code Reference" and access-mask pages.
`nt_status_to_win32_error` follows the conversion table of `RtlNtStatusToDosError`
in Wine's `dlls/ntdll/error.c` (shared with ReactOS `sdk/lib/rtl/error.c`), checked
against Wine's conformance test `dlls/ntdll/tests/error.c`, which runs on real Windows.

`name_of(0xC0000034)` gives `"STATUS_OBJECT_NAME_NOT_FOUND"`; `access_names(0x100002)`
gives `"SYNCHRONIZE | EVENT_MODIFY_STATE"`; `name_result(result, kind_of_result(op))`
names the statuses inside a routine's result (and only those). Nothing here imports the
rest of evtsim.
"""

# --- NTSTATUS -------------------------------------------------------------------------
# Success (severity 0): wait results and informational successes.
# IRQLs (the interrupt request levels of wdm.h), defined once for the whole kit.
PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL = 0, 1, 2, 31

STATUS_SUCCESS = 0x00000000
STATUS_WAIT_0 = 0x00000000
# STATUS_WAIT_1 .. STATUS_WAIT_63 (wait-any result for object i) are made below.
STATUS_ABANDONED = 0x00000080
STATUS_ABANDONED_WAIT_0 = 0x00000080
STATUS_USER_APC = 0x000000C0
STATUS_KERNEL_APC = 0x00000100
STATUS_ALERTED = 0x00000101
STATUS_TIMEOUT = 0x00000102
STATUS_PENDING = 0x00000103
# Informational (severity 1).
STATUS_OBJECT_NAME_EXISTS = 0x40000000
# Errors (severity 3).
STATUS_UNSUCCESSFUL = 0xC0000001
STATUS_NOT_IMPLEMENTED = 0xC0000002
STATUS_INVALID_HANDLE = 0xC0000008
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_INVALID_DEVICE_REQUEST = 0xC0000010
STATUS_NO_MEMORY = 0xC0000017
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_BUFFER_TOO_SMALL = 0xC0000023
STATUS_OBJECT_TYPE_MISMATCH = 0xC0000024
STATUS_INVALID_PARAMETER_MIX = 0xC0000030
STATUS_OBJECT_NAME_INVALID = 0xC0000033
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_OBJECT_NAME_COLLISION = 0xC0000035
STATUS_OBJECT_PATH_INVALID = 0xC0000039
STATUS_OBJECT_PATH_NOT_FOUND = 0xC000003A
STATUS_OBJECT_PATH_SYNTAX_BAD = 0xC000003B
STATUS_INSUFFICIENT_RESOURCES = 0xC000009A
STATUS_NOT_SUPPORTED = 0xC00000BB
STATUS_NAME_TOO_LONG = 0xC0000106
STATUS_CANCELLED = 0xC0000120
STATUS_NOT_FOUND = 0xC0000225
STATUS_HANDLE_NOT_CLOSABLE = 0xC0000235

for _n in range(1, 64):
    globals()[f"STATUS_WAIT_{_n}"] = STATUS_WAIT_0 + _n
del _n

# --- Win32 errors (GetLastError) ------------------------------------------------------
ERROR_SUCCESS = 0
ERROR_INVALID_FUNCTION = 1
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_NOT_ENOUGH_MEMORY = 8
ERROR_GEN_FAILURE = 31
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_INVALID_NAME = 123
ERROR_BAD_PATHNAME = 161
ERROR_ALREADY_EXISTS = 183
ERROR_FILENAME_EXCED_RANGE = 206
ERROR_MR_MID_NOT_FOUND = 317      # what RtlNtStatusToDosError gives for an unmapped status
ERROR_OPERATION_ABORTED = 995
ERROR_IO_PENDING = 997
ERROR_NOT_FOUND = 1168
ERROR_NO_SYSTEM_RESOURCES = 1450
ERROR_TIMEOUT = 1460

# --- Wait results and limits (Win32) ---------------------------------------------------
WAIT_OBJECT_0 = 0x00000000
WAIT_ABANDONED = 0x00000080
WAIT_ABANDONED_0 = 0x00000080
WAIT_IO_COMPLETION = 0x000000C0
WAIT_TIMEOUT = 0x00000102
WAIT_FAILED = 0xFFFFFFFF
INFINITE = 0xFFFFFFFF
MAXIMUM_WAIT_OBJECTS = 64         # Win32 handles per wait; kernel objects with a wait-block array
THREAD_WAIT_OBJECTS = 3           # kernel objects per wait without a wait-block array

# --- Access masks ------------------------------------------------------------------------
EVENT_QUERY_STATE = 0x0001
EVENT_MODIFY_STATE = 0x0002
DELETE = 0x00010000
READ_CONTROL = 0x00020000
WRITE_DAC = 0x00040000
WRITE_OWNER = 0x00080000
SYNCHRONIZE = 0x00100000
STANDARD_RIGHTS_REQUIRED = 0x000F0000
STANDARD_RIGHTS_READ = READ_CONTROL
STANDARD_RIGHTS_WRITE = READ_CONTROL
STANDARD_RIGHTS_EXECUTE = READ_CONTROL
STANDARD_RIGHTS_ALL = 0x001F0000
ACCESS_SYSTEM_SECURITY = 0x01000000
MAXIMUM_ALLOWED = 0x02000000
GENERIC_ALL = 0x10000000
GENERIC_EXECUTE = 0x20000000
GENERIC_WRITE = 0x40000000
GENERIC_READ = 0x80000000
EVENT_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3      # 0x1F0003

# --- CreateEventEx flags and OBJECT_ATTRIBUTES flags ---------------------------------------
CREATE_EVENT_MANUAL_RESET = 0x1
CREATE_EVENT_INITIAL_SET = 0x2
OBJ_INHERIT = 0x00000002
OBJ_PERMANENT = 0x00000010
OBJ_EXCLUSIVE = 0x00000020
OBJ_CASE_INSENSITIVE = 0x00000040
OBJ_OPENIF = 0x00000080
OBJ_OPENLINK = 0x00000100
OBJ_KERNEL_HANDLE = 0x00000200
OBJ_FORCE_ACCESS_CHECK = 0x00000400
OBJ_IGNORE_IMPERSONATED_DEVICEMAP = 0x00000800
OBJ_DONT_REPARSE = 0x00001000
OBJ_VALID_ATTRIBUTES = 0x00001FF2        # any other bit is STATUS_INVALID_PARAMETER
# A handle's own attribute (never an OBJECT_ATTRIBUTES flag): the handle cannot be closed.
OBJ_PROTECT_CLOSE = 0x00000001
# SetHandleInformation / GetHandleInformation flags (Win32).
HANDLE_FLAG_INHERIT = 0x00000001
HANDLE_FLAG_PROTECT_FROM_CLOSE = 0x00000002

# --- Bug check codes ------------------------------------------------------------------------
IRQL_NOT_GREATER_OR_EQUAL = 0x00000009
IRQL_NOT_LESS_OR_EQUAL = 0x0000000A
MAXIMUM_WAIT_OBJECTS_EXCEEDED = 0x0000000C
REFERENCE_BY_POINTER = 0x00000018
MULTIPLE_IRP_COMPLETE_REQUESTS = 0x00000044
KMODE_EXCEPTION_NOT_HANDLED = 0x0000001E
SYSTEM_THREAD_EXCEPTION_NOT_HANDLED = 0x0000007E
INVALID_KERNEL_HANDLE = 0x00000093
ATTEMPTED_SWITCH_FROM_DPC = 0x000000B8
DRIVER_VERIFIER_DETECTED_VIOLATION = 0x000000C4
DRIVER_VERIFIER_IOMANAGER_VIOLATION = 0x000000C9
PAGE_FAULT_IN_FREED_SPECIAL_POOL = 0x000000CC
DPC_WATCHDOG_VIOLATION = 0x00000133


# --- Name tables (value -> preferred name), one per kind --------------------------------------
def _table(names, prefer=()):
    """Map each value to its name; names earlier in `prefer` win a shared value."""
    g = globals()
    table: dict[int, str] = {}
    for name in list(prefer) + list(names):
        table.setdefault(g[name], name)
    return table


_STATUS_NAMES = _table(
    [n for n in list(globals()) if n.startswith("STATUS_")],
    prefer=["STATUS_SUCCESS", "STATUS_ABANDONED"])
_ERROR_NAMES = _table([n for n in list(globals()) if n.startswith("ERROR_")])
_WAIT_NAMES = _table(["WAIT_OBJECT_0", "WAIT_ABANDONED_0", "WAIT_IO_COMPLETION",
                      "WAIT_TIMEOUT", "WAIT_FAILED"])
_BUGCHECK_NAMES = _table([
    "IRQL_NOT_GREATER_OR_EQUAL", "IRQL_NOT_LESS_OR_EQUAL", "MAXIMUM_WAIT_OBJECTS_EXCEEDED",
    "KMODE_EXCEPTION_NOT_HANDLED", "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
    "INVALID_KERNEL_HANDLE", "ATTEMPTED_SWITCH_FROM_DPC", "DRIVER_VERIFIER_DETECTED_VIOLATION",
    "REFERENCE_BY_POINTER", "PAGE_FAULT_IN_FREED_SPECIAL_POOL",
    "MULTIPLE_IRP_COMPLETE_REQUESTS", "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
    "DPC_WATCHDOG_VIOLATION"])
# Single access bits, highest first: access_names lists a mask in this order.
_ACCESS_BITS = [
    (GENERIC_READ, "GENERIC_READ"), (GENERIC_WRITE, "GENERIC_WRITE"),
    (GENERIC_EXECUTE, "GENERIC_EXECUTE"), (GENERIC_ALL, "GENERIC_ALL"),
    (MAXIMUM_ALLOWED, "MAXIMUM_ALLOWED"), (ACCESS_SYSTEM_SECURITY, "ACCESS_SYSTEM_SECURITY"),
    (SYNCHRONIZE, "SYNCHRONIZE"), (WRITE_OWNER, "WRITE_OWNER"), (WRITE_DAC, "WRITE_DAC"),
    (READ_CONTROL, "READ_CONTROL"), (DELETE, "DELETE"),
    (EVENT_MODIFY_STATE, "EVENT_MODIFY_STATE"), (EVENT_QUERY_STATE, "EVENT_QUERY_STATE"),
]
_KINDS = ("status", "error", "wait", "bugcheck", "access")


def _u32(value):
    if not isinstance(value, int):
        raise TypeError(f"expected an int status/error/mask value, got {type(value).__name__}")
    return value & 0xFFFFFFFF


def _hex(value):
    return f"0x{value:08X}"


def _status_name(v):
    if v in _STATUS_NAMES:
        return _STATUS_NAMES[v]
    if STATUS_ABANDONED_WAIT_0 < v < STATUS_ABANDONED_WAIT_0 + MAXIMUM_WAIT_OBJECTS:
        return f"STATUS_ABANDONED_WAIT_0 + {v - STATUS_ABANDONED_WAIT_0}"
    return None


def _wait_name(v):
    if v in _WAIT_NAMES:
        return _WAIT_NAMES[v]
    if WAIT_OBJECT_0 < v < WAIT_OBJECT_0 + MAXIMUM_WAIT_OBJECTS:
        return f"WAIT_OBJECT_0 + {v}"
    if WAIT_ABANDONED_0 < v < WAIT_ABANDONED_0 + MAXIMUM_WAIT_OBJECTS:
        return f"WAIT_ABANDONED_0 + {v - WAIT_ABANDONED_0}"
    return None


def _single_access_name(v):
    if v == EVENT_ALL_ACCESS:
        return "EVENT_ALL_ACCESS"
    return next((name for bit, name in _ACCESS_BITS if bit == v), None)


def name_of(value: int, kind: str | None = None) -> str:
    """The Windows name of `value`, as a string.

    `kind` is one of "status", "error", "wait", "bugcheck", "access" and settles values
    that several families share (0 is STATUS_SUCCESS, ERROR_SUCCESS and WAIT_OBJECT_0).
    Without `kind`, NTSTATUS names win, then Win32 errors, wait results, bug checks and
    single access rights; 183 is ERROR_ALREADY_EXISTS rather than an abandoned-wait
    index. Wait-any results 1..63 are "STATUS_WAIT_n" ("WAIT_OBJECT_0 + n" for
    kind="wait"). A value with no name comes back as hex, e.g. "0xC0001234".
    Negative numbers are read as the unsigned 32-bit value C would see.
    """
    v = _u32(value)
    if kind is None:
        # Exact names first, so 183 reads ERROR_ALREADY_EXISTS, not "abandoned wait + 55".
        lookups = (_STATUS_NAMES.get, _ERROR_NAMES.get, _WAIT_NAMES.get, _BUGCHECK_NAMES.get,
                   _single_access_name, _status_name)
        for lookup in lookups:
            name = lookup(v)
            if name is not None:
                return name
        return _hex(v)
    if kind == "status":
        return _status_name(v) or _hex(v)
    if kind == "error":
        return _ERROR_NAMES.get(v) or _hex(v)
    if kind == "wait":
        return _wait_name(v) or _hex(v)
    if kind == "bugcheck":
        return _BUGCHECK_NAMES.get(v) or _hex(v)
    if kind == "access":
        return access_names(v)
    raise ValueError(f"kind must be one of {', '.join(_KINDS)} or None, not {kind!r}")


def access_names(mask: int) -> str:
    """An access mask as names joined by " | ", highest bit first.

    `access_names(0x100002)` is "SYNCHRONIZE | EVENT_MODIFY_STATE"; EVENT_ALL_ACCESS is
    named whole when the mask is exactly that; bits with no name are shown in hex;
    0 gives "0".
    """
    m = _u32(mask)
    if m == 0:
        return "0"
    if m == EVENT_ALL_ACCESS:
        return "EVENT_ALL_ACCESS"
    parts = []
    for bit, name in _ACCESS_BITS:
        if m & bit:
            parts.append(name)
            m &= ~bit
    if m:
        parts.append(_hex(m))
    return " | ".join(parts)


# --- Severity tests (the top two bits of an NTSTATUS) -------------------------------------------
def NT_SUCCESS(status: int) -> bool:
    """True for success and informational codes (the NTSTATUS, as a signed LONG, is >= 0)."""
    return _u32(status) < 0x80000000


def NT_INFORMATION(status: int) -> bool:
    """True when the severity bits say informational (0x4xxxxxxx)."""
    return _u32(status) >> 30 == 1


def NT_WARNING(status: int) -> bool:
    """True when the severity bits say warning (0x8xxxxxxx)."""
    return _u32(status) >> 30 == 2


def NT_ERROR(status: int) -> bool:
    """True when the severity bits say error (0xCxxxxxxx)."""
    return _u32(status) >> 30 == 3


# --- RtlNtStatusToDosError -----------------------------------------------------------------------
# Sources: "table" = the conversion table in Wine dlls/ntdll/error.c (ReactOS
# sdk/lib/rtl/error.c has the same); "test" = a cmp() line in Wine dlls/ntdll/tests/error.c,
# which passes on Windows.
_NT_TO_WIN32 = {
    STATUS_TIMEOUT: ERROR_TIMEOUT,                              # table (0x102)
    STATUS_PENDING: ERROR_IO_PENDING,                           # test
    # Not in Wine's or ReactOS's table (they answer ERROR_MR_MID_NOT_FOUND); the Win32
    # create wrappers set ERROR_ALREADY_EXISTS for it by hand (ReactOS kernel32
    # CreateNtObjectFromWin32ApiEpilogue, Wine kernelbase CreateEventExW). Mapped here so
    # the simulated Win32 layer can set last error in one place.
    STATUS_OBJECT_NAME_EXISTS: ERROR_ALREADY_EXISTS,
    STATUS_UNSUCCESSFUL: ERROR_GEN_FAILURE,                     # test
    STATUS_NOT_IMPLEMENTED: ERROR_INVALID_FUNCTION,             # test
    STATUS_INVALID_HANDLE: ERROR_INVALID_HANDLE,                # test
    STATUS_INVALID_PARAMETER: ERROR_INVALID_PARAMETER,          # test
    STATUS_INVALID_DEVICE_REQUEST: ERROR_INVALID_FUNCTION,      # test
    STATUS_NO_MEMORY: ERROR_NOT_ENOUGH_MEMORY,                  # test
    STATUS_ACCESS_DENIED: ERROR_ACCESS_DENIED,                  # test
    STATUS_BUFFER_TOO_SMALL: ERROR_INSUFFICIENT_BUFFER,         # test
    STATUS_OBJECT_TYPE_MISMATCH: ERROR_INVALID_HANDLE,          # test
    STATUS_INVALID_PARAMETER_MIX: ERROR_INVALID_PARAMETER,      # test
    STATUS_OBJECT_NAME_INVALID: ERROR_INVALID_NAME,             # test
    STATUS_OBJECT_NAME_NOT_FOUND: ERROR_FILE_NOT_FOUND,         # test
    STATUS_OBJECT_NAME_COLLISION: ERROR_ALREADY_EXISTS,         # test
    STATUS_OBJECT_PATH_INVALID: ERROR_BAD_PATHNAME,             # test
    STATUS_OBJECT_PATH_NOT_FOUND: ERROR_PATH_NOT_FOUND,         # test
    STATUS_OBJECT_PATH_SYNTAX_BAD: ERROR_BAD_PATHNAME,          # test
    STATUS_INSUFFICIENT_RESOURCES: ERROR_NO_SYSTEM_RESOURCES,   # test
    STATUS_NOT_SUPPORTED: ERROR_NOT_SUPPORTED,                  # test
    STATUS_NAME_TOO_LONG: ERROR_FILENAME_EXCED_RANGE,           # test
    STATUS_CANCELLED: ERROR_OPERATION_ABORTED,                  # test
    STATUS_NOT_FOUND: ERROR_NOT_FOUND,                          # test (cmp2)
    STATUS_HANDLE_NOT_CLOSABLE: ERROR_INVALID_HANDLE,           # test
}


def nt_status_to_win32_error(status: int) -> int:
    """The Win32 error RtlNtStatusToDosError gives for `status`.

    STATUS_SUCCESS gives ERROR_SUCCESS; a customer code (bit 29 set) comes back as is;
    0xDxxxxxxx is read as 0xCxxxxxxx; a status with no mapping (including the other
    wait results such as STATUS_WAIT_1 or STATUS_USER_APC) gives ERROR_MR_MID_NOT_FOUND,
    as it does in ntdll.
    """
    v = _u32(status)
    if v == 0 or v & 0x20000000:
        return v
    if v & 0xF0000000 == 0xD0000000:
        v &= ~0x10000000
    return _NT_TO_WIN32.get(v, ERROR_MR_MID_NOT_FOUND)


# --- Names for results: which numbers a routine's result holds ---------------------------
# A routine's result is named by its kind, never by guessing: KeSetEvent returns the
# previous state (0 or 1), which is not STATUS_SUCCESS, and a thread's own return value
# is the learner's number. A kind is a str ("status", "wait", "error"...) that names
# every int in the value, or a tuple of kinds, one for each element of a tuple result
# (None for an element that is a plain value). ("status",) is the Zw/Nt/Ob/Io shape
# `(status, out_value)`: the status comes first, the rest is plain.
_STATUS_FIRST = ("status",)

_RESULT_KINDS: dict[str, str | tuple[str, ...]] = {
    # Kernel waits: an NTSTATUS (STATUS_SUCCESS, STATUS_WAIT_n, STATUS_TIMEOUT...).
    "KeWaitForSingleObject": "status", "KeWaitForMultipleObjects": "status",
    "KeDelayExecutionThread": "status", "ZwWaitForSingleObject": "status",
    "Timeout": "status",                # the clock ends a wait with the wait's status
    # Routines that return an NTSTATUS alone.
    "ZwClearEvent": "status", "ZwClose": "status",
    "IoCreateSymbolicLink": "status", "IoDeleteSymbolicLink": "status",
    # Routines that return (NTSTATUS, something): the handle, object or previous state.
    "ZwCreateEvent": _STATUS_FIRST, "ZwOpenEvent": _STATUS_FIRST,
    "ZwSetEvent": _STATUS_FIRST, "ZwResetEvent": _STATUS_FIRST,
    "ZwPulseEvent": _STATUS_FIRST, "ObReferenceObjectByHandle": _STATUS_FIRST,
    "IoCreateDevice": _STATUS_FIRST, "PsCreateSystemThread": _STATUS_FIRST,
    # Win32 waits: WAIT_OBJECT_0 + n, WAIT_TIMEOUT, WAIT_FAILED... (not SleepEx: its
    # 0 means "the time is up", not WAIT_OBJECT_0).
    "WaitForSingleObject": "wait", "WaitForSingleObjectEx": "wait",
    "WaitForMultipleObjects": "wait", "WaitForMultipleObjectsEx": "wait",
    "SignalObjectAndWait": "wait",
    # The thread's last Win32 error.
    "GetLastError": "error",
}


def kind_of_result(op: object) -> str | tuple[str, ...] | None:
    """What the numbers in `op`'s result are: a kind for `name_result`, or None.

    None means a plain value that must stay a number: KeSetEvent, KeResetEvent and
    KePulseEvent return the previous state (0 or 1), KeRaiseIrql the old IRQL, Win32
    calls a handle or a BOOL. Other Zw/Nt calls return their NTSTATUS first.
    """
    if not isinstance(op, str):
        return None
    kind = _RESULT_KINDS.get(op)
    if kind is None and op.startswith(("Zw", "Nt")):
        return _STATUS_FIRST
    return kind


class Named(int):
    """A number shown by its Windows name: equal to the number, it reads
    `STATUS_TIMEOUT` in a repr, a tuple or an f-string. Made only by `name_result`."""

    kind: str
    name: str

    def __new__(cls, value, kind):
        self = super().__new__(cls, value)
        self.kind = kind
        self.name = name_of(value, kind)
        return self

    def __repr__(self):
        return self.name

    __str__ = __repr__

    def __getnewargs__(self):
        return int(self), self.kind


def name_result(value: object, kind: str | tuple[str, ...] | None) -> object:
    """`value` with each number that `kind` says is a status (or wait result, or
    error) replaced by a `Named` one; lists and tuples keep their shape.

    `name_result((258, 0), "status")` reads `(STATUS_TIMEOUT, STATUS_SUCCESS)`;
    `name_result((0, 1), ("status",))` reads `(STATUS_SUCCESS, 1)`; with kind None,
    or for True/False, None and text, the value comes back as it was.
    """
    if kind is None:
        return value
    if isinstance(kind, tuple):
        if isinstance(value, (list, tuple)):
            named = [name_result(v, kind[i]) if i < len(kind) else v
                     for i, v in enumerate(value)]
            return tuple(named) if isinstance(value, tuple) else named
        return name_result(value, kind[0] if kind else None)
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, a tuple of them, "
                         f"or None, not {kind!r}")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if isinstance(value, Named) else Named(value, kind)
    if isinstance(value, (list, tuple)):
        named = [name_result(v, kind) for v in value]
        return tuple(named) if isinstance(value, tuple) else named
    return value


__all__ = sorted(
    [n for n in list(globals()) if n.isupper() and not n.startswith("_")]
    + ["name_of", "access_names", "nt_status_to_win32_error", "kind_of_result",
       "name_result", "Named"])
