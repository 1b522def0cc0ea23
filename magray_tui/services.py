"""Builds and owns the long-lived services: the one place that wires things together.

The TUI builds a `Services` in a worker (nothing heavy happens before the first frame);
the CLI builds only what a command needs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory import MemoryService


@dataclass
class Services:
    settings: Settings
    _memory: MemoryService | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def memory(self) -> MemoryService:
        """The memory service, opened on first use (loads the embedder and the indexes)."""
        with self._lock:
            if self._memory is None:
                from magray_tui.memory import MemoryService

                self._memory = MemoryService.open(settings=self.settings)
            return self._memory

    def close(self) -> None:
        with self._lock:
            if self._memory is not None:
                self._memory.close()
                self._memory = None
