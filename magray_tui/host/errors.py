"""The one error class of the host/client machinery; its message is meant for users."""

from __future__ import annotations

from magray_tui.errors import MagrayError


class HostError(MagrayError):
    """Talking to the magray process that hosts this home failed in a way a user can act on
    (it stopped mid-change, it belongs to another user, it never answered)."""


class HostClosing(HostError):
    """The host is shutting down and did not start the call: safe to ask the next host."""
