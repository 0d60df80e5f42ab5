"""Object types and security: generic mappings, tokens, security descriptors and the
access check.

Models OBJECT_TYPE's generic mapping (RtlMapGenericMask), a process token with its
default DACL, and SeAccessCheck reduced to a DACL of allow entries, checked only for
user-mode callers (docs/semantics.md section 4). The event mapping is the one Wine's
advapi32 security tests measure on Windows (`dlls/advapi32/tests/security.c`); ReactOS
`ntoskrnl/ob/obref.c` and KB 228785 give the rest. `evtsim.objects` re-exports it all.
"""
from __future__ import annotations

from .status import (
    EVENT_ALL_ACCESS,
    EVENT_MODIFY_STATE,
    EVENT_QUERY_STATE,
    GENERIC_ALL,
    GENERIC_EXECUTE,
    GENERIC_READ,
    GENERIC_WRITE,
    MAXIMUM_ALLOWED,
    READ_CONTROL,
    STANDARD_RIGHTS_ALL,
    SYNCHRONIZE,
    access_names,
)


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


__all__ = [
    "ObjectType", "ExEventObjectType", "ObDirectoryObjectType", "ObSymbolicLinkObjectType",
    "IoDeviceObjectType", "IoFileObjectType", "OBJECT_TYPES", "SECURITY_DESCRIPTOR",
    "Token", "system_token", "user_token", "access_check",
]
