"""The parts of an opened memory (store, embedder, indexes) wired into one `MemoryCore`:
the commit path and the retriever on the service's clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from magray_tui.config import Settings
from magray_tui.memory.commit import Committer
from magray_tui.memory.core import MemoryCore
from magray_tui.memory.indexes import Indexes
from magray_tui.memory.protocols import Embedder
from magray_tui.memory.search import Retriever
from magray_tui.memory.store import Store


def build_core(
    settings: Settings,
    store: Store,
    embedder: Embedder,
    indexes: Indexes,
    now: Callable[[], datetime],
) -> MemoryCore:
    """The parts of an open memory, on the service's clock `now` (history rows too)."""
    store.clock = now
    repo = store.repo
    return MemoryCore(
        settings=settings,
        store=store,
        repo=repo,
        indexes=indexes,
        embedder=embedder,
        committer=Committer(store, repo, indexes, now),
        retriever=Retriever(repo, indexes, embedder, settings.memory),
        clock=now,
    )
