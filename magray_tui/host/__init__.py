"""One memory, many processes: the first magray process on a home hosts it for the others.

The host holds an exclusive lock in the home's state folder and serves its services over a
Unix socket next to it; every other magray process on the home (CLI commands, a second TUI,
`magray mcp`) is a thin client whose proxies forward the same public service calls. When
the host exits or dies, a client takes its place. See docs/many-processes.md.

This package imports nothing heavy: a client never loads numpy, DuckDB or onnxruntime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magray_tui.host.errors import HostError
from magray_tui.host.membership import Membership, join

__all__ = ["HostError", "Membership", "join", "watch_changes", "watch_questions"]


def watch_changes(services: Any, listener: Callable[[frozenset[str]], None]) -> None:
    """Call `listener(domains)` (from a background thread) whenever any process on this
    home changes `"memory"`, `"tasks"` or `"chat"`. For the open TUIs' live panes."""
    services.membership().add_listener(listener)


def watch_questions(services: Any, approver: Callable[[dict[str, Any]], None]) -> None:
    """Make this process's open TUI the person other processes ask (host/approvals.py):
    `approver(event)` gets every "ask" and "asked" event, from a background thread."""
    services.membership().add_approver(approver)
