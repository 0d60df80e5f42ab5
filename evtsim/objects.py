"""The object manager: the namespace, object headers, handle tables and security.

Follows ReactOS `ntoskrnl/ob/` (obname.c, obhandle.c, obref.c) and the behaviour Wine's
conformance tests pin down on real Windows (`dlls/ntdll/tests/om.c`,
`dlls/kernel32/tests/sync.c`):

* Names are looked up one component at a time from `\\` (or a root directory), following
  symbolic links; names compare case-sensitively unless OBJ_CASE_INSENSITIVE is given.
* Creating a name that holds another object type fails with STATUS_OBJECT_TYPE_MISMATCH,
  with or without OBJ_OPENIF (the type is checked first, as on Windows since Vista).
  For the same type, OBJ_OPENIF opens the existing object (STATUS_OBJECT_NAME_EXISTS);
  without it the create fails with STATUS_OBJECT_NAME_COLLISION.
* Every object keeps a handle count and a pointer count (each handle also holds a
  pointer reference). At the last handle a temporary object's name leaves the
  namespace; at the last pointer reference the object is freed.
* Each process has a handle table (values 4, 8, ...; a freed value is reused first; the
  low two bits are ignored). The System process's table is the kernel handle table:
  a kernel handle is one of its values with the top bits set, usable from any process
  context in kernel mode and never from user mode.
* Security is a DACL of allow entries checked against the caller's token after the
  type's generic mapping, and only for user-mode callers.

The engine below (dispatcher, scheduler) knows nothing of this module.
"""
from __future__ import annotations

from .dispatcher import KEVENT, NotificationEvent
from .errors import BadArgumentError
from .status import (EVENT_ALL_ACCESS, EVENT_MODIFY_STATE, EVENT_QUERY_STATE,
                     GENERIC_ALL, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE,
                     MAXIMUM_ALLOWED, OBJ_CASE_INSENSITIVE, OBJ_OPENIF, OBJ_PERMANENT,
                     READ_CONTROL, STANDARD_RIGHTS_ALL, STATUS_ACCESS_DENIED,
                     STATUS_INVALID_HANDLE, STATUS_OBJECT_NAME_COLLISION,
                     STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_INVALID,
                     STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND,
                     STATUS_OBJECT_PATH_SYNTAX_BAD, STATUS_OBJECT_TYPE_MISMATCH,
                     STATUS_SUCCESS, SYNCHRONIZE, access_names)

KERNEL_HANDLE_BITS = 0xFFFFFFFF80000000      # how a kernel handle looks on x64
HANDLE_VALUE_MASK = 0x00FFFFFC               # the table index part of a handle
MAX_REPARSE = 32
MAX_NAME_CHARS = 32767          # a UNICODE_STRING holds at most 65534 bytes
KernelMode, UserMode = 0, 1


# --- types --------------------------------------------------------------------------
class ObjectType:
    """An object type (OBJECT_TYPE): its name and how generic rights map onto it."""

    def __init__(self, name: str, read: int, write: int, execute: int, all_: int):
        self.name = name
        self.mapping = {GENERIC_READ: read, GENERIC_WRITE: write,
                        GENERIC_EXECUTE: execute, GENERIC_ALL: all_}
        self.all_access = all_

    def map(self, mask: int) -> int:
        """Replace generic rights by this type's specific rights (RtlMapGenericMask)."""
        for generic, specific in self.mapping.items():
            if mask & generic:
                mask = (mask & ~generic) | specific
        return mask

    def __repr__(self) -> str:
        return f"<ObjectType {self.name}>"


# Generic mapping for events as Windows does it (Wine's advapi32 security tests, run on
# Windows: read 0x20001, write 0x20002, execute 0x120000; docs/semantics.md section 4).
# ReactOS adds SYNCHRONIZE to read and write; Windows does not, so a handle opened for
# GENERIC_READ alone cannot be waited on. Lesson 08 shows this disagreement.
ExEventObjectType = ObjectType(
    "Event", READ_CONTROL | EVENT_QUERY_STATE, READ_CONTROL | EVENT_MODIFY_STATE,
    READ_CONTROL | SYNCHRONIZE, EVENT_ALL_ACCESS)
ObDirectoryObjectType = ObjectType("Directory", READ_CONTROL | 0x3, READ_CONTROL | 0xC,
                                   READ_CONTROL | 0x3, STANDARD_RIGHTS_ALL | 0xF)
ObSymbolicLinkObjectType = ObjectType("SymbolicLink", READ_CONTROL | 0x1, READ_CONTROL,
                                      READ_CONTROL | 0x1, STANDARD_RIGHTS_ALL | 0x1)
IoDeviceObjectType = ObjectType("Device", READ_CONTROL | 0x89, READ_CONTROL | 0x116,
                                READ_CONTROL | SYNCHRONIZE | 0xA0,
                                STANDARD_RIGHTS_ALL | 0x1FF)
IoFileObjectType = ObjectType("File", READ_CONTROL | SYNCHRONIZE | 0x89,
                              READ_CONTROL | SYNCHRONIZE | 0x116,
                              READ_CONTROL | SYNCHRONIZE | 0xA0,
                              STANDARD_RIGHTS_ALL | SYNCHRONIZE | 0x1FF)
OBJECT_TYPES = {t.name: t for t in (ExEventObjectType, ObDirectoryObjectType,
                                    ObSymbolicLinkObjectType, IoDeviceObjectType,
                                    IoFileObjectType)}


# --- security -----------------------------------------------------------------------
class SECURITY_DESCRIPTOR:
    """A security descriptor reduced to what the lessons need: a DACL of allow entries.

    `dacl` is a list of `(sid, access_mask)`; sids are names such as "SYSTEM",
    "Administrators", "Users", "Everyone" or a user name. `dacl=None` is a NULL DACL,
    which lets everybody do everything.
    """

    def __init__(self, dacl=None):
        if dacl is not None:
            dacl = [(str(sid), int(mask)) for sid, mask in dacl]
        self.dacl = dacl

    def __repr__(self) -> str:
        if self.dacl is None:
            return "SECURITY_DESCRIPTOR(NULL DACL)"
        return "SECURITY_DESCRIPTOR(" + ", ".join(
            f"{sid}: {access_names(mask)}" for sid, mask in self.dacl) + ")"


class Token:
    """Who a process acts as: a user, groups, and the DACL its new objects get."""

    def __init__(self, user: str, groups: list[str], default_dacl: list):
        self.user = user
        self.groups = groups
        self.default_dacl = default_dacl

    @property
    def sids(self) -> set[str]:
        return {self.user, *self.groups}

    def __repr__(self) -> str:
        return f"<Token {self.user} groups={self.groups}>"


def system_token() -> Token:
    """SYSTEM: full access for itself, read and synchronize for Administrators."""
    return Token("SYSTEM", ["Administrators", "Everyone", "Authenticated Users"],
                 [("SYSTEM", GENERIC_ALL), ("Administrators", GENERIC_READ | GENERIC_EXECUTE)])


def user_token(user: str, admin: bool) -> Token:
    """A logged-on user: full access for the user and SYSTEM on what it creates."""
    if user == "SYSTEM":
        return system_token()
    groups = ["Everyone", "Users", "Authenticated Users"] + (["Administrators"] if admin else [])
    dacl = [(user, GENERIC_ALL), ("SYSTEM", GENERIC_ALL)]
    if admin:
        dacl.append(("Administrators", GENERIC_ALL))
    return Token(user, groups, dacl)


def access_check(security: SECURITY_DESCRIPTOR | None, token: Token, desired: int,
                 type_: ObjectType) -> tuple[bool, int]:
    """(allowed, granted): may this token have `desired` (already mapped) access?"""
    if security is None or security.dacl is None:
        allowed = type_.all_access
    else:
        allowed = 0
        sids = token.sids
        for sid, mask in security.dacl:
            if sid in sids or sid == "Everyone":
                allowed |= type_.map(mask)
    if desired & MAXIMUM_ALLOWED:
        rest = desired & ~MAXIMUM_ALLOWED
        return (rest & ~allowed) == 0 and allowed != 0, allowed | rest
    if desired == 0:                    # SeAccessCheck refuses a request for nothing
        return False, 0
    return (desired & ~allowed) == 0, desired


# --- objects ------------------------------------------------------------------------
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
        return (parent.rstrip("\\") + "\\" + self.name)


class Directory:
    """An object directory: names to objects."""

    kind = "Directory"

    def __init__(self):
        self.header = ObjectHeader(self, ObDirectoryObjectType)
        self.entries: dict[str, object] = {}

    @property
    def name(self) -> str:
        return self.header.name or "\\"

    def find(self, name: str, case_insensitive: bool):
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

    def __init__(self, target: str):
        self.header = ObjectHeader(self, ObSymbolicLinkObjectType)
        self.target = target

    @property
    def name(self) -> str:
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
        from .api.base import value_call
        return value_call("RtlInitUnicodeString", self, api, frame)


class OBJECT_ATTRIBUTES:
    """What InitializeObjectAttributes fills in."""

    __slots__ = ("ObjectName", "Attributes", "RootDirectory", "SecurityDescriptor")

    def __init__(self, ObjectName=None, Attributes=0, RootDirectory=None,
                 SecurityDescriptor=None):
        self.ObjectName = ObjectName
        self.Attributes = Attributes
        self.RootDirectory = RootDirectory
        self.SecurityDescriptor = SecurityDescriptor

    def __repr__(self) -> str:
        name = self.ObjectName.Buffer if isinstance(self.ObjectName, UNICODE_STRING) else self.ObjectName
        flags = (f"0x{self.Attributes:X}" if isinstance(self.Attributes, int)
                 else repr(self.Attributes))
        return f"OBJECT_ATTRIBUTES({name!r}, {flags})"

    def __evtsim_call__(self, api, frame):
        """Yielding OBJECT_ATTRIBUTES is allowed: the step just hands them back."""
        from .api.base import value_call
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


# --- handle tables ------------------------------------------------------------------
class HandleEntry:
    """One slot of a handle table: the object and the access this handle grants."""

    __slots__ = ("object", "granted_access", "attributes")

    def __init__(self, obj, granted_access: int, attributes: int):
        self.object = obj
        self.granted_access = granted_access
        self.attributes = attributes

    def __repr__(self) -> str:
        return (f"<HandleEntry {describe_object(self.object)} "
                f"{access_names(self.granted_access)}>")


class HandleTable:
    """A process's handles: values 4, 8, ...; the last freed value is reused first."""

    def __init__(self, process, kernel: bool = False):
        self.process = process
        self.kernel = kernel
        self.entries: dict[int, HandleEntry] = {}
        self.free: list[int] = []
        self.next_value = 4

    def insert(self, obj, granted_access: int, attributes: int) -> int:
        value = self.free.pop() if self.free else self._grow()
        self.entries[value] = HandleEntry(obj, granted_access, attributes)
        return value

    def _grow(self) -> int:
        value = self.next_value
        self.next_value += 4
        return value

    def get(self, value) -> HandleEntry | None:
        """The entry for a handle value (low two bits ignored), or None."""
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        if self.kernel and value & KERNEL_HANDLE_BITS == KERNEL_HANDLE_BITS:
            value &= ~KERNEL_HANDLE_BITS
        key = value & ~3
        if key <= 0 or key > HANDLE_VALUE_MASK:
            return None
        return self.entries.get(key)

    def remove(self, value: int) -> HandleEntry:
        key = value & ~3
        entry = self.entries.pop(key)
        self.free.append(key)
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(sorted(self.entries.items()))

    def describe(self) -> str:
        if not self.entries:
            return f"{self.process.name}: no handles"
        lines = [f"{self.process.name} handle table:"]
        for value, entry in sorted(self.entries.items()):
            shown = (value | KERNEL_HANDLE_BITS) if self.kernel else value
            lines.append(f"  0x{shown:X}  {entry.object.header.type.name:<12} "
                         f"{describe_object(entry.object):<44} "
                         f"{access_names(entry.granted_access)}")
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        return f"<HandleTable {self.process.name}: {len(self)} handles>"


def describe_object(obj) -> str:
    header = obj.header
    path = header.path if header.name is not None else None
    return path or f"(unnamed {getattr(obj, 'name', '')})".replace(" )", ")")


def is_kernel_handle(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and value & KERNEL_HANDLE_BITS == KERNEL_HANDLE_BITS)


# --- the object manager -------------------------------------------------------------
class ObjectManager:
    """Owns the root directory and every operation on names, handles and counts."""

    def __init__(self, machine):
        self.machine = machine
        self.root = Directory()
        self.root.header.name = ""
        self.root.header.permanent = True
        for name in ("Device", "??", "Sessions", "KernelObjects"):
            self.make_directory(self.root, name)

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
    def parse(self, name: str, root=None, case_insensitive: bool = False):
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
            if not isinstance(root, Directory):
                return STATUS_OBJECT_TYPE_MISMATCH, None, None, None
            if name.startswith("\\"):
                return STATUS_OBJECT_PATH_SYNTAX_BAD, None, None, None
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
                return STATUS_OBJECT_PATH_NOT_FOUND, None, None, None
            current = child
            i += 1
        return STATUS_OBJECT_NAME_INVALID, None, None, None

    def lookup(self, path: str, case_insensitive: bool = False):
        """The object a full path names, or None (no side effects)."""
        status, _, _, obj = self.parse(path, None, case_insensitive)
        return obj if status == STATUS_SUCCESS else None

    # --- references and handles -------------------------------------------------------
    def table_for(self, process, kernel_handle: bool) -> HandleTable:
        return self.machine.system.handles if kernel_handle else process.handles

    def insert_handle(self, process, obj, granted: int, attributes: int,
                      kernel_handle: bool) -> int:
        """Give `process` (or the kernel) a handle; it holds a pointer reference too."""
        table = self.table_for(process, kernel_handle)
        value = table.insert(obj, granted, attributes)
        obj.header.handle_count += 1
        obj.header.pointer_count += 1
        return value | KERNEL_HANDLE_BITS if kernel_handle else value

    def reference(self, obj) -> None:
        obj.header.pointer_count += 1

    def dereference(self, obj) -> bool:
        """Drop a pointer reference; True if that freed the object."""
        header = obj.header
        header.pointer_count -= 1
        if header.pointer_count == 0:
            header.deleted = True
            return True
        return False

    def resolve(self, process, value, mode: int):
        """(status, entry) for a handle value seen from `process` in `mode`."""
        if isinstance(value, bool) or not isinstance(value, int):
            return STATUS_INVALID_HANDLE, None
        if is_kernel_handle(value):
            if mode == UserMode:
                return STATUS_INVALID_HANDLE, None
            entry = self.machine.system.handles.get(value & ~KERNEL_HANDLE_BITS)
        else:
            entry = process.handles.get(value)
        if entry is None:
            return STATUS_INVALID_HANDLE, None
        return STATUS_SUCCESS, entry

    def close(self, process, value, mode: int) -> int:
        """NtClose: drop the handle; a temporary object's name goes at the last one."""
        self.machine.touched.append(self.root)
        status, entry = self.resolve(process, value, mode)
        if status != STATUS_SUCCESS:
            return status
        table = (self.machine.system.handles if is_kernel_handle(value) else process.handles)
        table.remove(value & ~KERNEL_HANDLE_BITS if is_kernel_handle(value) else value)
        obj = entry.object
        header = obj.header
        header.handle_count -= 1
        if header.handle_count == 0 and not header.permanent and header.directory is not None:
            directory = header.directory
            if directory.entries.get(header.name) is obj:
                del directory.entries[header.name]
            header.directory = None
            header.name = None
        self.dereference(obj)
        return STATUS_SUCCESS

    def reference_by_handle(self, process, value, desired: int, type_, mode: int):
        """ObReferenceObjectByHandle: (status, object), checks in the documented order."""
        status, entry = self.resolve(process, value, mode)
        if status != STATUS_SUCCESS:
            return status, None
        obj = entry.object
        if type_ is not None and obj.header.type is not type_:
            return STATUS_OBJECT_TYPE_MISMATCH, None
        if mode == UserMode:
            wanted = obj.header.type.map(desired)
            if wanted & ~entry.granted_access:
                return STATUS_ACCESS_DENIED, None
        self.reference(obj)
        return STATUS_SUCCESS, obj

    # --- creating and opening ---------------------------------------------------------
    def create_or_open(self, process, type_: ObjectType, make, name, attributes: int,
                       root, security, desired: int, mode: int, kernel_handle: bool):
        """Insert a new object (made by `make(security)`), or open the existing one.

        Returns (status, handle, object). Follows ObInsertObject: the name rules of
        docs/semantics.md section 3, the caller's default DACL when no descriptor is given,
        and access checks for user-mode callers opening an existing object.
        """
        self.machine.touched.append(self.root)      # the namespace, for the explorer
        token = process.token
        if security is None:
            security = SECURITY_DESCRIPTOR(token.default_dacl)
        text = name_text(name)
        status, root_dir = self._root(process, root, mode)
        if status != STATUS_SUCCESS:
            return status, None, None
        if not text and root_dir is None:
            obj = make(security)
            granted = type_.all_access if desired & MAXIMUM_ALLOWED else type_.map(desired)
            handle = self.insert_handle(process, obj, granted, attributes, kernel_handle)
            self.dereference(obj)
            return STATUS_SUCCESS, handle, obj
        status, parent, leaf, existing = self.parse(
            text or "", root_dir, bool(attributes & OBJ_CASE_INSENSITIVE))
        if status == STATUS_SUCCESS:
            if existing.header.type is not type_:       # Vista and later check this first
                return STATUS_OBJECT_TYPE_MISMATCH, None, None
            if not attributes & OBJ_OPENIF:
                return STATUS_OBJECT_NAME_COLLISION, None, None
            status, handle = self._open(process, existing, desired, attributes, mode,
                                        kernel_handle)
            if status != STATUS_SUCCESS:
                return status, None, None
            return STATUS_OBJECT_NAME_EXISTS, handle, existing
        if status != STATUS_OBJECT_NAME_NOT_FOUND:
            return status, None, None
        if mode == UserMode and getattr(parent, "read_only", False):
            return STATUS_ACCESS_DENIED, None, None
        obj = make(security)
        self._link_name(obj, parent, leaf)
        if attributes & OBJ_PERMANENT:
            obj.header.permanent = True
        granted = type_.all_access if desired & MAXIMUM_ALLOWED else type_.map(desired)
        handle = self.insert_handle(process, obj, granted, attributes, kernel_handle)
        self.dereference(obj)
        return STATUS_SUCCESS, handle, obj

    def _root(self, process, root, mode: int):
        """RootDirectory: a directory handle (or, inside evtsim, a Directory itself)."""
        if root is None or isinstance(root, Directory):
            return STATUS_SUCCESS, root
        status, entry = self.resolve(process, root, mode)
        if status != STATUS_SUCCESS:
            return status, None
        return STATUS_SUCCESS, entry.object

    def open(self, process, type_: ObjectType, name, attributes: int, root, desired: int,
             mode: int, kernel_handle: bool):
        """Open an existing named object: (status, handle, object)."""
        self.machine.touched.append(self.root)
        text = name_text(name)
        status, root_dir = self._root(process, root, mode)
        if status != STATUS_SUCCESS:
            return status, None, None
        if not text and root_dir is None:
            return STATUS_OBJECT_PATH_SYNTAX_BAD, None, None
        if not text:                    # an empty name relative to a root is the root
            status, existing = STATUS_SUCCESS, root_dir
        else:
            status, _, _, existing = self.parse(text, root_dir,
                                                bool(attributes & OBJ_CASE_INSENSITIVE))
        if status != STATUS_SUCCESS:
            return status, None, None
        if type_ is not None and existing.header.type is not type_:
            return STATUS_OBJECT_TYPE_MISMATCH, None, None
        status, handle = self._open(process, existing, desired, attributes, mode,
                                    kernel_handle)
        return status, handle, existing if status == STATUS_SUCCESS else None

    def _open(self, process, obj, desired: int, attributes: int, mode: int,
              kernel_handle: bool):
        type_ = obj.header.type
        wanted = type_.map(desired)
        if mode == UserMode:
            allowed, granted = access_check(obj.header.security, process.token, wanted, type_)
            if not allowed:
                return STATUS_ACCESS_DENIED, None
        else:
            granted = type_.all_access if wanted & MAXIMUM_ALLOWED else wanted
        return STATUS_SUCCESS, self.insert_handle(process, obj, granted, attributes,
                                                  kernel_handle)

    def new_event(self, type_: int, state: int, name=None):
        """A factory for `create_or_open`: a KEVENT with an object header, labelled
        with the last part of its name when it has one."""
        machine = self.machine
        text = name_text(name)
        leaf = text.rstrip("\\").rsplit("\\", 1)[-1] if text else None

        def make(security):
            label = machine.unique_label(leaf) if leaf else machine.object_name("Event")
            event = KEVENT(machine, label, type_, state)
            event.header = ObjectHeader(event, ExEventObjectType, security)
            return event
        return make

    # --- views ------------------------------------------------------------------------
    def describe(self, directory: Directory | None = None) -> str:
        """The namespace as an indented tree with types, states and counts."""
        lines = ["\\"]
        self._describe(directory or self.root, "", lines)
        return "\n".join(lines)

    def _describe(self, directory: Directory, indent: str, lines: list) -> None:
        items = sorted(directory.entries.items(), key=lambda kv: kv[0].casefold())
        for i, (name, obj) in enumerate(items):
            last = i == len(items) - 1
            branch = "└── " if last else "├── "
            header = obj.header
            if isinstance(obj, SymbolicLink):
                detail = f"SymbolicLink -> {obj.target}"
            elif isinstance(obj, Directory):
                detail = "Directory"
            elif isinstance(obj, KEVENT):
                kind = "Notification" if obj.Type == NotificationEvent else "Synchronization"
                detail = (f"Event ({kind}, state {obj.SignalState}, "
                          f"handles {header.handle_count}, pointers {header.pointer_count})")
            else:
                detail = (f"{header.type.name} (handles {header.handle_count}, "
                          f"pointers {header.pointer_count})")
            lines.append(f"{indent}{branch}{name}  {detail}")
            if isinstance(obj, Directory):
                self._describe(obj, indent + ("    " if last else "│   "), lines)

    __str__ = describe

    def __repr__(self) -> str:
        return f"<ObjectManager root with {len(self.root.entries)} entries>"


__all__ = [
    "ObjectType", "ExEventObjectType", "ObDirectoryObjectType", "ObSymbolicLinkObjectType",
    "IoDeviceObjectType", "IoFileObjectType", "SECURITY_DESCRIPTOR", "Token",
    "ObjectHeader", "Directory", "SymbolicLink", "UNICODE_STRING", "OBJECT_ATTRIBUTES",
    "HandleTable", "HandleEntry", "ObjectManager", "KERNEL_HANDLE_BITS",
    "access_check", "is_kernel_handle", "name_text", "system_token", "user_token",
]
