"""Builds and owns the long-lived services: the one place that wires things together.

The TUI builds a `Services` in a worker (nothing heavy happens before the first frame);
the CLI builds only what a command needs. One process holds one DuckDB connection: the
memory service, the task DAG and the chat sessions share `Services.store`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory import MemoryService
    from magray_tui.memory.store import Store
    from magray_tui.todo.service import TodoService


@dataclass
class Services:
    settings: Settings
    read_only: bool = False
    _store: Store | None = field(default=None, repr=False)
    _memory: MemoryService | None = field(default=None, repr=False)
    _todo: TodoService | None = field(default=None, repr=False)
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def store(self) -> Store:
        """The database, opened on first use (cheap: no embedder, no indexes)."""
        with self._lock:
            if self._store is None:
                from magray_tui.memory.store import Store

                self._store = Store.open(
                    self.settings.paths.db_file,
                    read_only=self.read_only,
                    config=self.settings.resources.duckdb_config(),
                )
            return self._store

    @property
    def memory(self) -> MemoryService:
        """The memory service, opened on first use (loads the embedder and the indexes)."""
        with self._lock:
            if self._memory is None:
                from magray_tui.memory import MemoryService

                self._memory = MemoryService.open(
                    settings=self.settings, read_only=self.read_only, store=self.store
                )
            return self._memory

    @property
    def todo(self) -> TodoService:
        with self._lock:
            if self._todo is None:
                from magray_tui.todo.service import TodoService

                self._todo = TodoService(self.store)
            return self._todo

    def shared(self, name: str, factory: Any) -> Any:
        """A service built once by `factory(self)` and kept (the LLM client, chat sessions)."""
        with self._lock:
            if name not in self._extra:
                self._extra[name] = factory(self)
            return self._extra[name]

    def close(self) -> None:
        with self._lock:
            for obj in self._extra.values():
                close = getattr(obj, "close", None)
                if callable(close):
                    close()
            self._extra.clear()
            if self._memory is not None:
                self._memory.close()  # closes the store it was given
            elif self._store is not None:
                self._store.close()
            self._memory = None
            self._store = None
            self._todo = None
