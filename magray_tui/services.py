"""Builds and owns the long-lived services: the one place that wires things together.

The TUI builds a `Services` in a worker (nothing heavy happens before the first frame);
the CLI builds only what a command needs. One process holds one database: the memory
service, the task DAG and the chat sessions share `Services.store`.

One process per home owns the store (see `magray_tui.host`): the first to open it hosts
it; in any other process `memory`, `todo` and `chat` are thin proxies to it, so no magray
process is refused or given a stale copy because another one is open.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from magray_tui.agent.agent import Agent
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
    note: str | None = None  # why the store is read-only, when it is
    _store: Store | None = field(default=None, repr=False)
    _memory: MemoryService | None = field(default=None, repr=False)
    _todo: TodoService | None = field(default=None, repr=False)
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _membership: Any = field(default=None, repr=False)
    _server_rev: int = field(default=0, repr=False)  # [store] url: the last revision heard
    _foreign_change: bool = field(default=False, repr=False)

    def membership(self) -> Any:
        """This process's place on the home (host or client), decided on first use."""
        with self._lock:
            if self._membership is None:
                from magray_tui.host import join

                self._membership = join(self)
            return self._membership

    def _remote(self) -> Any:
        """The client of the process hosting this home; None when this process hosts it."""
        membership = self.membership()
        return membership.client if membership.remote else None

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        write: bool = True,
        need: Literal["store", "memory"] = "store",
    ) -> Services:
        """Services with `need` open: this process's own, or proxies to the magray process
        hosting the home. A store held by a process outside magray raises `StoreLocked`
        naming it, for readers and writers alike (there is no stale read-only copy)."""
        del write  # every magray process may write: through the host when it is not one
        services = cls(settings)
        try:
            services.memory if need == "memory" else services.todo  # noqa: B018
        except BaseException:
            services.close()
            raise
        return services

    def local_store_warning(self) -> str | None:
        """The warning of the store this process opened itself (a lost or damaged WAL);
        None when it opened none or is a client of another magray."""
        with self._lock:
            return self._store.warning if self._store is not None else None

    @property
    def store(self) -> Store:
        """The database, opened on first use (cheap: no embedder, no indexes)."""
        with self._lock:
            if self._store is None:
                remote = self._remote()
                if remote is not None:
                    from magray_tui.host import HostError

                    pid = remote.info()["pid"]
                    raise HostError(f"the memory database is served by magray PID {pid}")
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
                remote = self._remote()
                if remote is not None:
                    return remote.memory
                from magray_tui.memory import MemoryService

                self._memory = MemoryService.open(
                    settings=self.settings, read_only=self.read_only, store=self.store
                )
                if self.settings.store.url:
                    self._listen_to_server(self._memory)
            return self._memory

    def _listen_to_server(self, memory: MemoryService) -> None:
        """Hear commits on the memory server (LISTEN/NOTIFY). The listener's thread only
        notes the revision: the host's watch loop announces it (to this home's TUI too when
        another magray made it), so no database call runs on the listener's thread."""

        def changed(own: bool, rev: int) -> None:
            with self._lock:
                self._server_rev = max(self._server_rev, rev)
                self._foreign_change = self._foreign_change or not own

        self._server_rev = memory.store.repo.max_rev()
        self._extra["memory-server-listener"] = memory.store.listen(changed)

    def memory_server_revision(self) -> int | None:
        """The memory server's latest revision as last heard; None without one open."""
        with self._lock:
            return self._server_rev if "memory-server-listener" in self._extra else None

    def take_foreign_change(self) -> bool:
        """Whether another magray committed on the memory server since the last call."""
        with self._lock:
            foreign, self._foreign_change = self._foreign_change, False
            return foreign

    @property
    def todo(self) -> TodoService:
        with self._lock:
            if self._todo is None:
                remote = self._remote()
                if remote is not None:
                    return remote.todo
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

            return ChatSessions(
                s.store,
                embedder=lambda: s.memory.embedder,
                cache_dir=s.settings.paths.cache,
                memory_settings=s.settings.memory,
            )

        return self._kept(CHAT_KEY, build)

    @property
    def gpu(self) -> GpuMonitor:
        """The process's GPU monitor, closed with the services."""

        def build(s: Services) -> GpuMonitor:
            from magray_tui.monitor.gpu import GpuMonitor

            return GpuMonitor.from_settings(s.settings)

        return self._kept(GPU_KEY, build)

    def new_agent(self) -> Agent:
        """A chat agent wired to these services: the chat sessions now; the memory, the
        tasks and the LLM client when it first needs them."""
        from magray_tui.agent.agent import Agent

        return Agent(
            self.settings,
            sessions=self.chat,
            memory=lambda: self.memory,
            todo=lambda: self.todo,
            llm=lambda: self.llm,
        )

    def _kept(self, name: str, factory: Callable[[Services], Any]) -> Any:
        with self._lock:
            if name not in self._extra:
                if self._remote() is not None:
                    if name == "chat":
                        return self._remote().chat  # not kept: a take-over builds the real one
                    from magray_tui.host.attach import real_settings

                    real_settings(self)  # a client built from the home alone (fast CLI)
                self._extra[name] = factory(self)
            return self._extra[name]

    def shared(self, name: str, factory: Callable[[Services], Any]) -> Any:
        """Older spelling of the typed properties (`llm`, `chat`, `gpu`): a service built
        once by `factory(self)` and kept."""
        return self._kept(name, factory)

    def close(self) -> None:
        membership = self._membership
        if membership is not None:
            # Outside the lock: requests in flight finish (they may need the lock) and no
            # new one starts. The store stays ours until `release` below.
            membership.stop()
        with self._lock:
            for obj in self._extra.values():
                close = getattr(obj, "close", None)
                if callable(close):
                    close()
            self._extra.clear()
            if self._memory is not None:
                server = self._memory.store is not self._store  # [store] url: memory apart
                self._memory.close()  # closes the store it was given
                if server and self._store is not None:
                    self._store.close()  # tasks and chat stay in the home's file
            elif self._store is not None:
                self._store.close()
            self._memory = None
            self._store = None
            self._todo = None
            if membership is not None:
                membership.release()  # only now may another process open the database
