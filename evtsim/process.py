"""A simulated process: a name, a session, a token, a handle table and its threads.

The object manager's per-process state (the token that security checks read, the handle
table that handle values index) lives here; the machine creates processes and runs
their threads (docs/semantics.md sections 3 and 4).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .objects import Directory, HandleTable, system_token, user_token
from .scheduler import Thread


class Process:
    """A process: a name, a session, a token's user, and its threads."""

    def __init__(self, machine: Any, name: str, pid: int, user: str, admin: bool,
                 session: int, kernel: bool = False) -> None:
        self.machine = machine
        self.name = name
        self.pid = pid
        self.user = user
        self.admin = admin
        self.session = session
        self.kernel = kernel
        self.threads: list[Thread] = []
        self.token = system_token() if kernel else user_token(user, admin)
        self.handles = HandleTable(self, kernel=kernel)
        self.exiting = False
        self.exit_code: int | None = None

    def exit(self, exit_code: int = 0) -> None:
        """End this process (as ExitProcess would): see Machine.terminate_process."""
        self.machine.terminate_process(self, exit_code)

    @property
    def named_objects(self) -> Directory | None:
        """The directory where this process's plain Win32 names go (None before Win32)."""
        return self.machine.session_directory(self.session)

    def start(self, fn: Callable[..., Any], *args: object, name: str | None = None) -> Thread:
        """Start a thread running generator function `fn(api, *args)`."""
        return self.machine.start_thread(self, fn, args, name)

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid} session={self.session}>"


__all__ = ["Process"]
