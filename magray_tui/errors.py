"""The root of every error meant for users: one readable line (and an optional hint).

Bad input, a locked or damaged store, an unusable model, an unreachable LLM... raise a
subclass of `MagrayError` with a message a user can act on. Anything else is a bug. The
TUI, the CLI and the agent map errors in one place (`magray_tui.user_errors`).
This module imports nothing, so any layer may use it.
"""

from __future__ import annotations


class MagrayError(Exception):
    """A user-facing error: `message` says what happened, `hint` what to do about it."""

    def __init__(self, message: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} — {self.hint}"
        return self.message


class DataError(MagrayError):
    """A store operation that cannot be done (memory, tasks, chat share one database).
    `magray_tui.memory.MemoryError_` is this class."""


class StoreLocked(DataError):
    """Another process holds the database for writing."""

    def __init__(self, message: str, holder: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.holder = holder


class StoreDamaged(DataError):
    """The database file or its write-ahead log is damaged; the message names the file and
    the way to recover. Nothing was deleted."""


class StoreUnreachable(DataError):
    """The memory server (PostgreSQL) cannot be reached or refused us; the message names
    the server with its password masked, and the server's own reason."""
