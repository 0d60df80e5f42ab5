"""The object namespace: object headers, directories, symbolic links and names.

Follows ReactOS `ntoskrnl/ob/obname.c` and Wine's `dlls/ntdll/tests/om.c`: names are
looked up one component at a time from `\\` (or a root directory), following symbolic
links (at most MAX_REPARSE times); they compare case-sensitively unless
OBJ_CASE_INSENSITIVE is given; lookup errors are those of docs/semantics.md section 3.
UNICODE_STRING and OBJECT_ATTRIBUTES are how callers hand names in; `capture` reads
OBJECT_ATTRIBUTES in the kernel's order (ReactOS ob/oblife.c
ObpCaptureObjectCreateInformation, checked against Wine om.c test_name_limits).
`Namespace` is mixed into `evtsim.objects.ObjectManager`, which re-exports everything here.
"""
from __future__ import annotations

from typing import Any

from .calls import value_call
from .errors import BadArgumentError
from .security import (
    IoDeviceObjectType,
    ObDirectoryObjectType,
    ObjectType,
    ObSymbolicLinkObjectType,
)
from .status import (
    OBJ_VALID_ATTRIBUTES,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_NAME_INVALID,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
)

MAX_REPARSE = 32
MAX_NAME_CHARS = 32767          # a UNICODE_STRING holds at most 65534 bytes
OBJECT_ATTRIBUTES_SIZE = 48     # sizeof(OBJECT_ATTRIBUTES) on x64: its Length
MAX_NAME_BYTES = 0xFFFE         # a name of this many bytes is refused (MAXUSHORT - 1)


# --- headers, directories, links and names ------------------------------------------
class ObjectHeader:
    """OBJECT_HEADER: type, name, counts, security, and whether it has been freed."""

    __slots__ = ("type", "name", "directory", "handle_count", "pointer_count",
                 "permanent", "security", "deleted", "body")

    def __init__(self, body, type_: ObjectType, security=None):
        self.body = body
        self.type = type_
        self.name: str | None = None
        self.directory: Directory | None = None
        self.handle_count = 0
        self.pointer_count = 1          # the creator's reference
        self.permanent = False
        self.security = security
        self.deleted = False

    @property
    def path(self) -> str | None:
        """The full name, or None for an unnamed object (or one whose name has gone)."""
        if self.name is None:
            return None
        if self.directory is None:
            return "\\"
        parent = self.directory.header.path
        assert parent is not None, "a directory that holds a name has one itself"
        return (parent.rstrip("\\") + "\\" + self.name)


class Directory:
    """An object directory: names to objects."""

    kind = "Directory"
    # Set (True) on the few directories user mode may not create objects in; others
    # lack it, and readers use getattr(directory, "read_only", False).
    read_only: bool

    def __init__(self) -> None:
        self.header = ObjectHeader(self, ObDirectoryObjectType)
        self.entries: dict[str, Any] = {}       # every value has an ObjectHeader

    @property
    def name(self) -> str:
        return self.header.name or "\\"

    def find(self, name: str, case_insensitive: bool) -> Any:
        found = self.entries.get(name)
        if found is None and case_insensitive:
            folded = name.casefold()
            for key, value in self.entries.items():
                if key.casefold() == folded:
                    return value
        return found

    def __repr__(self) -> str:
        return f"<Directory {self.header.path}>"


class SymbolicLink:
    """A symbolic link: looking it up continues at `target`."""

    kind = "SymbolicLink"

    def __init__(self, target: str) -> None:
        self.header = ObjectHeader(self, ObSymbolicLinkObjectType)
        self.target = target

    @property
    def name(self) -> str | None:
        return self.header.name

    def __repr__(self) -> str:
        return f"<SymbolicLink {self.header.path} -> {self.target}>"


class UNICODE_STRING:
    """A counted UTF-16 string; Length and MaximumLength are in bytes."""

    __slots__ = ("Buffer", "Length", "MaximumLength")

    def __init__(self, text: str):
        self.Buffer = text
        self.Length = 2 * len(text)
        self.MaximumLength = self.Length + 2

    def __str__(self) -> str:
        return self.Buffer

    def __repr__(self) -> str:
        return f"UNICODE_STRING({self.Buffer!r})"

    def __evtsim_call__(self, api, frame):
        """Yielding a UNICODE_STRING is allowed: the step just hands it back."""
        return value_call("RtlInitUnicodeString", self, api, frame)


class OBJECT_ATTRIBUTES:
    """What InitializeObjectAttributes fills in (Length is the structure's size)."""

    __slots__ = ("Length", "ObjectName", "Attributes", "RootDirectory", "SecurityDescriptor")

    def __init__(self, ObjectName=None, Attributes=0, RootDirectory=None,
                 SecurityDescriptor=None, Length=OBJECT_ATTRIBUTES_SIZE):
        self.Length = Length
        self.ObjectName = ObjectName
        self.Attributes = Attributes
        self.RootDirectory = RootDirectory
        self.SecurityDescriptor = SecurityDescriptor

    def __repr__(self) -> str:
        name = (self.ObjectName.Buffer if isinstance(self.ObjectName, UNICODE_STRING)
                else self.ObjectName)
        flags = (f"0x{self.Attributes:X}" if isinstance(self.Attributes, int)
                 else repr(self.Attributes))
        return f"OBJECT_ATTRIBUTES({name!r}, {flags})"

    def __evtsim_call__(self, api, frame):
        """Yielding OBJECT_ATTRIBUTES is allowed: the step just hands them back."""
        return value_call("InitializeObjectAttributes", self, api, frame)


def name_text(name) -> str | None:
    """A name given as str or UNICODE_STRING, as str; None stays None."""
    if name is None:
        return None
    if isinstance(name, UNICODE_STRING):
        return name.Buffer
    if isinstance(name, str):
        return name
    raise BadArgumentError(f"an object name is a str or UNICODE_STRING, not {name!r}")


def captured_name(name) -> tuple[int, str | None]:
    """(status, text) of an object name as the kernel captures it: a UNICODE_STRING is
    its first Length bytes; an odd Length, or one of 65534 bytes, is
    STATUS_OBJECT_NAME_INVALID (ReactOS ObpCaptureObjectName; Wine om.c
    test_name_limits). None stays None; an empty name is ""."""
    if not isinstance(name, UNICODE_STRING):
        return STATUS_SUCCESS, name_text(name)
    length = name.Length
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise BadArgumentError(f"UNICODE_STRING.Length is a number of bytes, not {length!r}")
    if not isinstance(name.Buffer, str):
        raise BadArgumentError(f"UNICODE_STRING.Buffer is a str, not {name.Buffer!r}")
    if length % 2 or length == MAX_NAME_BYTES:
        return STATUS_OBJECT_NAME_INVALID, None
    if length > 2 * len(name.Buffer):
        raise BadArgumentError(f"UNICODE_STRING.Length is {length} bytes, but the Buffer "
                               f"holds only {2 * len(name.Buffer)}")
    return STATUS_SUCCESS, name.Buffer[:length // 2]


def capture(attributes: OBJECT_ATTRIBUTES) -> tuple[int, str | None, int, Any]:
    """Read OBJECT_ATTRIBUTES in the kernel's order: (status, name, flags, root).

    A wrong Length, or a flag outside OBJ_VALID_ATTRIBUTES, is STATUS_INVALID_PARAMETER
    before the name is looked at; then a bad name Length is STATUS_OBJECT_NAME_INVALID,
    even with a bad root handle; then no name (NULL) with a root handle is
    STATUS_OBJECT_NAME_INVALID. An empty name is "" (a create makes an unnamed object;
    an open names the root itself). The root handle is looked at later, in the lookup.
    (ReactOS ob/oblife.c; Wine om.c test_name_limits, test_directory)
    """
    flags = attributes.Attributes
    if attributes.Length != OBJECT_ATTRIBUTES_SIZE or flags & ~OBJ_VALID_ATTRIBUTES:
        return STATUS_INVALID_PARAMETER, None, 0, None
    status, text = captured_name(attributes.ObjectName)
    if status != STATUS_SUCCESS:
        return status, None, 0, None
    root = attributes.RootDirectory
    if text is None and root is not None:
        return STATUS_OBJECT_NAME_INVALID, None, 0, None
    return STATUS_SUCCESS, text, flags, root


# --- the namespace part of the object manager ---------------------------------------
class Namespace:
    """Mixed into ObjectManager (which owns `self.root`): building and looking up names."""

    root: Directory

    # --- building the system namespace ----------------------------------------------
    def make_directory(self, parent: Directory, name: str) -> Directory:
        existing = parent.entries.get(name)
        if isinstance(existing, Directory):
            return existing
        directory = Directory()
        self._link_name(directory, parent, name)
        directory.header.permanent = True
        return directory

    def make_link(self, parent: Directory, name: str, target: str) -> SymbolicLink:
        link = SymbolicLink(target)
        self._link_name(link, parent, name)
        link.header.permanent = True
        return link

    def _link_name(self, obj, parent: Directory, name: str) -> None:
        obj.header.name = name
        obj.header.directory = parent
        parent.entries[name] = obj

    def directory_at(self, path: str) -> Directory | None:
        found = self.lookup(path)
        return found if isinstance(found, Directory) else None

    # --- names ------------------------------------------------------------------------
    def parse(self, name: str, root: object = None,
              case_insensitive: bool = False) -> tuple[int, Directory | None, str | None, Any]:
        """Look a name up. Returns (status, parent_directory, leaf_name, object).

        On STATUS_OBJECT_NAME_NOT_FOUND the parent and leaf say where a new object
        would go; the object is None unless the status is STATUS_SUCCESS.
        """
        if len(name) >= MAX_NAME_CHARS:
            return STATUS_OBJECT_NAME_INVALID, None, None, None
        if root is None:
            if not name.startswith("\\"):
                return STATUS_OBJECT_PATH_SYNTAX_BAD, None, None, None
            current, rest = self.root, name[1:]
            if rest == "":
                return STATUS_SUCCESS, None, "", self.root
        else:
            if name.startswith("\\"):             # checked before the root's type
                return STATUS_OBJECT_PATH_SYNTAX_BAD, None, None, None
            if not isinstance(root, Directory):     # Windows 7 and later (Wine om.c)
                return STATUS_OBJECT_TYPE_MISMATCH, None, None, None
            current, rest = root, name
        parts = rest.split("\\")
        reparses = 0
        i = 0
        while i < len(parts):
            part = parts[i]
            if part == "":
                return STATUS_OBJECT_NAME_INVALID, None, None, None
            last = i == len(parts) - 1
            child = current.find(part, case_insensitive)
            if child is None:
                status = STATUS_OBJECT_NAME_NOT_FOUND if last else STATUS_OBJECT_PATH_NOT_FOUND
                return status, current, part, None
            if isinstance(child, SymbolicLink):
                reparses += 1
                if reparses > MAX_REPARSE:
                    return STATUS_OBJECT_NAME_NOT_FOUND, None, None, None
                target = child.target
                parts = target[1:].split("\\") + parts[i + 1:]
                current, i = self.root, 0
                continue
            if last:
                return STATUS_SUCCESS, current, part, child
            if not isinstance(child, Directory):
                # An object with no parse routine in the middle of a path (ReactOS
                # ObpLookupObjectName); evtsim's devices have no file system behind them.
                device = child.header.type is IoDeviceObjectType
                return (STATUS_OBJECT_PATH_NOT_FOUND if device
                        else STATUS_OBJECT_TYPE_MISMATCH), None, None, None
            current = child
            i += 1
        return STATUS_OBJECT_NAME_INVALID, None, None, None

    def lookup(self, path: str, case_insensitive: bool = False) -> Any:
        """The object a full path names, or None (no side effects)."""
        status, _, _, obj = self.parse(path, None, case_insensitive)
        return obj if status == STATUS_SUCCESS else None


__all__ = [
    "ObjectHeader", "Directory", "SymbolicLink", "UNICODE_STRING", "OBJECT_ATTRIBUTES",
    "Namespace", "MAX_REPARSE", "MAX_NAME_CHARS", "MAX_NAME_BYTES", "OBJECT_ATTRIBUTES_SIZE",
    "name_text", "captured_name", "capture",
]
