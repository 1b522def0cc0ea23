"""The parts of an open memory, passed to the modules that act on them (mutations, moves,
lifecycle, transfer, sources) instead of the whole `MemoryService`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from magray_tui.memory.records import MemoryError_

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory.commit import Committer
    from magray_tui.memory.indexes import Indexes
    from magray_tui.memory.protocols import Embedder
    from magray_tui.memory.repository import MemoryRepository
    from magray_tui.memory.repository_writes import Writes
    from magray_tui.memory.search import Retriever
    from magray_tui.memory.store import Store

T = TypeVar("T")


@dataclass
class MemoryCore:
    settings: Settings
    store: Store  # the shared database
    repo: MemoryRepository
    indexes: Indexes
    embedder: Embedder
    committer: Committer
    retriever: Retriever
    clock: Callable[[], datetime]

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def require_writable(self) -> None:
        if self.read_only:
            raise MemoryError_(self.store.note or "the memory database is open read-only")

    def commit(self, write: Callable[[Writes], T], *, now: datetime | None = None) -> T:
        """The one write path (see commit.py)."""
        self.require_writable()
        return self.committer.commit(write, now=now)


class HasCore(Protocol):
    """An open memory as the helper modules see it (`MemoryService` is one)."""

    core: MemoryCore
