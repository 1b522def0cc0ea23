"""Builds and owns the long-lived services: the one place that wires things together.

The TUI builds a `Services` in a worker (nothing heavy happens before the first frame);
the CLI builds only what a command needs. One process holds one database: the memory
service, the task DAG and the chat sessions share `Services.store`. `Services.open` is
the one place a reader that finds the store locked falls back to a read-only snapshot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from magray_tui.agent.sessions import ChatSessions
    from magray_tui.config import Settings
    from magray_tui.llm.client import LLMClient
    from magray_tui.memory import MemoryService
    from magray_tui.memory.store import Store
    from magray_tui.monitor.gpu import GpuMonitor
    from magray_tui.todo.service import TodoService

log = logging.getLogger(__name__)

# The keys under which the typed services are kept (older callers reach them through
# `shared(key, factory)` and get the same object).
LLM_KEY = "llm"
CHAT_KEY = "chat"
GPU_KEY = "gpu-monitor"


@dataclass
class Services:
    settings: Settings
    read_only: bool = False
    # Why the store is read-only when `open` fell back to a snapshot (None otherwise).
    note: str | None = None
    _store: Store | None = field(default=None, repr=False)
    _memory: MemoryService | None = field(default=None, repr=False)
    _todo: TodoService | None = field(default=None, repr=False)
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        write: bool,
        need: Literal["store", "memory"] = "store",
    ) -> Services:
        """Services with `need` open. When another process holds the store, a writer gets
        `StoreLocked`; a reader gets a read-only snapshot, with `note` saying so."""
        from magray_tui.errors import StoreLocked

        services = cls(settings)
        try:
            services.memory if need == "memory" else services.store  # noqa: B018
            return services
        except StoreLocked as exc:
            services.close()
            if write:
                raise
            log.warning("store locked, opening read-only: %s", exc)
        except BaseException:
            services.close()
            raise
        services = cls(settings, read_only=True)
        try:
            store = services.memory.store if need == "memory" else services.store
        except BaseException:
            services.close()
            raise
        services.note = store.note or "read-only: another process holds the database"
        return services

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

    @property
    def llm(self) -> LLMClient:
        """The process's LLM client (its circuit breakers and active model are shared)."""

        def build(s: Services) -> LLMClient:
            from magray_tui.llm.client import LLMClient

            return LLMClient(s.settings)

        return self._kept(LLM_KEY, build)

    @property
    def chat(self) -> ChatSessions:
        def build(s: Services) -> ChatSessions:
            from magray_tui.agent.sessions import ChatSessions

            return ChatSessions(s.store)

        return self._kept(CHAT_KEY, build)

    @property
    def gpu(self) -> GpuMonitor:
        """The process's GPU monitor, closed with the services."""

        def build(s: Services) -> GpuMonitor:
            from magray_tui.monitor.gpu import GpuMonitor

            return GpuMonitor.from_settings(s.settings)

        return self._kept(GPU_KEY, build)

    def _kept(self, name: str, factory: Callable[[Services], Any]) -> Any:
        with self._lock:
            if name not in self._extra:
                self._extra[name] = factory(self)
            return self._extra[name]

    def shared(self, name: str, factory: Callable[[Services], Any]) -> Any:
        """Older spelling of the typed properties (`llm`, `chat`, `gpu`): a service built
        once by `factory(self)` and kept."""
        return self._kept(name, factory)

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
