"""The settings the TUI starts with, before the Settings are built.

Building `Settings` imports pydantic and pydantic-settings (~70 modules, a quarter of a
second) and validates every layer; the first frame needs none of it: only where the files
are (saved state, themes, key remaps, the log). `magray` starts the TUI with
`DeferredSettings`, and the services worker builds the real Settings after the first
frame; a config error then ends the app with the same one line `magray` printed before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.paths import Paths


class DeferredSettings:
    """Stands in for `Settings` until they are built: `paths` and `config_file` at once,
    anything else from the real Settings (built on first use, once; `load()` raises the
    ConfigError of a bad config)."""

    deferred = True

    def __init__(self, paths: Paths, build: Callable[[], Settings]) -> None:
        self.paths = paths
        self.config_file = paths.config_file
        self._build = build
        self._lock = threading.Lock()
        self._settings: Settings | None = None

    def load(self) -> Settings:
        with self._lock:
            if self._settings is None:
                self._settings = self._build()
            return self._settings

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


def is_deferred(settings: object) -> bool:
    return getattr(type(settings), "deferred", False) is True
