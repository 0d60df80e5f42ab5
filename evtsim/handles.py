"""Handle tables: per-process handle values, the kernel handle table, kernel handles.

Follows ReactOS `ntoskrnl/ob/obhandle.c` (docs/semantics.md section 3): each process
has a table whose values are 4, 8, ...; a freed value is reused first and the low two
bits are ignored. The System process's table is the kernel handle table: a kernel
handle is one of its values with the top bits set (KERNEL_HANDLE_BITS), usable from
any process context in kernel mode and never from user mode. `evtsim.objects`
re-exports everything here.
"""
from __future__ import annotations

from .status import access_names

KERNEL_HANDLE_BITS = 0xFFFFFFFF80000000      # how a kernel handle looks on x64
HANDLE_VALUE_MASK = 0x00FFFFFC               # the table index part of a handle


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
        self._note(value, write=True)
        return value

    def _note(self, value: int, write: bool) -> None:
        """Tell the machine which handle slot a routine read or wrote (a step's reads and
        writes; the schedule explorer orders steps that share a slot)."""
        machine = self.process.machine
        if machine._acting:
            slot = f"handle:{self.process.pid}:{value & ~3 & 0x7FFFFFFF}"
            (machine.note_write if write else machine.note_read)(slot)

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
        self._note(key, write=False)
        return self.entries.get(key)

    def remove(self, value: int) -> HandleEntry:
        key = value & ~3
        self._note(key, write=True)
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


__all__ = ["HandleEntry", "HandleTable", "KERNEL_HANDLE_BITS", "HANDLE_VALUE_MASK",
           "describe_object", "is_kernel_handle"]
