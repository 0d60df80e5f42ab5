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

The parts live in sibling modules, and their main names are re-exported from here:
`evtsim.security` (object types, generic mapping, tokens, access checks),
`evtsim.namespace` (headers, directories, symbolic links, names, lookup) and
`evtsim.handles` (handle tables and kernel handles). This module is the ObjectManager.

The engine below (dispatcher, scheduler) knows nothing of this module.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Some of these are only re-exported (they are in __all__ below): the kit imports them
# from here, as it did before the split.
from .dispatcher import KEVENT, NotificationEvent
from .handles import (
    KERNEL_HANDLE_BITS,
    HandleEntry,
    HandleTable,
    is_kernel_handle,
)
from .namespace import (
    OBJECT_ATTRIBUTES,
    UNICODE_STRING,
    Directory,
    Namespace,
    ObjectHeader,
    SymbolicLink,
    name_text,
)

# The generic mappings, and the comment on where ReactOS and Windows disagree about
# them (lesson 08), are in evtsim/security.py.
from .security import (
    SECURITY_DESCRIPTOR,
    ExEventObjectType,
    IoDeviceObjectType,
    IoFileObjectType,
    ObDirectoryObjectType,
    ObjectType,
    ObSymbolicLinkObjectType,
    Token,
    access_check,
    system_token,
    user_token,
)
from .status import (
    MAXIMUM_ALLOWED,
    OBJ_CASE_INSENSITIVE,
    OBJ_OPENIF,
    OBJ_PERMANENT,
    OBJ_PROTECT_CLOSE,
    STATUS_ACCESS_DENIED,
    STATUS_HANDLE_NOT_CLOSABLE,
    STATUS_INVALID_HANDLE,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_EXISTS,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
)

KernelMode, UserMode = 0, 1


# --- the object manager -------------------------------------------------------------
class ObjectManager(Namespace):
    """Owns the root directory and every operation on names, handles and counts."""

    def __init__(self, machine):
        self.machine = machine
        self.root = Directory()
        self.root.header.name = ""
        self.root.header.permanent = True
        for name in ("Device", "??", "Sessions", "KernelObjects"):
            self.make_directory(self.root, name)

    # The namespace (make_directory, make_link, parse, lookup...) is in `Namespace`.

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

    def resolve(self, process: Any, value: object, mode: int) -> tuple[int, Any]:
        """(status, entry) for a handle value seen from `process` in `mode` (the
        HandleEntry when the status is STATUS_SUCCESS, else None)."""
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
        """NtClose: drop the handle; a temporary object's name goes at the last one.

        A handle protected from close stays open: STATUS_HANDLE_NOT_CLOSABLE (kernel
        mode turns that into bug check 0x93), except while its process exits, which
        closes every handle (ReactOS ob/obhandle.c ObpCloseHandleTableEntry)."""
        self.machine.note_write(self.root.name)
        status, entry = self.resolve(process, value, mode)
        if status != STATUS_SUCCESS:
            return status
        if entry.attributes & OBJ_PROTECT_CLOSE and not process.exiting:
            return STATUS_HANDLE_NOT_CLOSABLE
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

    def reference_by_handle(self, process: Any, value: object, desired: int,
                            type_: ObjectType | None, mode: int) -> tuple[int, Any]:
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
                       root, security, desired: int, mode: int,
                       kernel_handle: bool) -> tuple[int, int | None, Any]:
        """Insert a new object (made by `make(security)`), or open the existing one.

        Returns (status, handle, object). Follows ObInsertObject: the name rules of
        docs/semantics.md section 3, the caller's default DACL when no descriptor is given,
        and access checks for user-mode callers opening an existing object.
        """
        self.machine.note_write(self.root.name)          # the namespace, for the explorer
        token = process.token
        if security is None:
            security = SECURITY_DESCRIPTOR(token.default_dacl)
        text = name_text(name)
        if not text:                    # unnamed: the root directory is not looked at
            obj = make(security)
            granted = type_.all_access if desired & MAXIMUM_ALLOWED else type_.map(desired)
            handle = self.insert_handle(process, obj, granted, attributes, kernel_handle)
            self.dereference(obj)
            return STATUS_SUCCESS, handle, obj
        status, root_dir = self._root(process, root, mode)
        if status != STATUS_SUCCESS:
            return status, None, None
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
        assert parent is not None and leaf is not None, "NOT_FOUND says where it goes"
        obj = make(security)
        self._link_name(obj, parent, leaf)
        if attributes & OBJ_PERMANENT:
            obj.header.permanent = True
        granted = type_.all_access if desired & MAXIMUM_ALLOWED else type_.map(desired)
        handle = self.insert_handle(process, obj, granted, attributes, kernel_handle)
        self.dereference(obj)
        return STATUS_SUCCESS, handle, obj

    def _root(self, process, root, mode: int):
        """RootDirectory: a handle (or, inside evtsim, a namespace object itself). Any
        object is taken here; the lookup refuses one that is not a directory."""
        if root is None or getattr(root, "header", None) is not None:
            return STATUS_SUCCESS, root
        status, entry = self.resolve(process, root, mode)
        if status != STATUS_SUCCESS:
            return status, None
        return STATUS_SUCCESS, entry.object

    def open(self, process, type_: ObjectType, name, attributes: int, root, desired: int,
             mode: int, kernel_handle: bool) -> tuple[int, int | None, Any]:
        """Open an existing named object: (status, handle, object)."""
        self.machine.note_read(self.root.name)
        text = name_text(name)
        status, root_dir = self._root(process, root, mode)
        if status != STATUS_SUCCESS:
            return status, None, None
        if not text and root_dir is None:
            return STATUS_OBJECT_PATH_SYNTAX_BAD, None, None
        if not text:                    # an empty name relative to a root is the root,
            if not isinstance(root_dir, Directory):     # which must be a directory
                return STATUS_OBJECT_TYPE_MISMATCH, None, None
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

    def new_event(self, type_: int, state: int,
                  name: str | None = None) -> Callable[[Any], KEVENT]:
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

    def _describe(self, directory: Directory, indent: str, lines: list[str]) -> None:
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
