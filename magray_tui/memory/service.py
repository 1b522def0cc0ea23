"""MemoryService: the one API the TUI, the CLI and the agent use for memories.

A thin façade over the parts in `core.MemoryCore`: the repository (reads), the one commit
path (writes), the indexes, the retriever and the lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from magray_tui.config import Settings, load_settings
from magray_tui.memory import backends, lifecycle, opening, status
from magray_tui.memory import items as item_rules
from magray_tui.memory import mutations as ops
from magray_tui.memory.access import AccessLog
from magray_tui.memory.indexes import CatchUpReport, Indexes, Progress
from magray_tui.memory.protocols import Embedder
from magray_tui.memory.records import (
    Filters,
    Hit,
    Layer,
    MemoryError_,
    Record,
    State,
    add_item,
    utcnow,
)
from magray_tui.memory.reembed_runner import ReembedRunner, open_store_embedder
from magray_tui.memory.service_jobs import JobCalls
from magray_tui.memory.store import Store
from magray_tui.monitor.metrics import metrics

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_ADD_BATCH = 256


class MemoryService(JobCalls):
    """Open with `MemoryService.open(home)` and use as a context manager. The calls into
    the jobs (promotion, moves, supersede, export / import, copy) are in `service_jobs.py`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        indexes: Indexes,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.indexes = indexes
        self.clock = clock

        def now() -> datetime:  # follows a clock swapped after opening (tests, benchmarks)
            return self.clock()

        self.core = opening.build_core(settings, store, embedder, indexes, now)
        self.accesses = AccessLog(self.core)
        self._closed = False
        self.embedder = embedder  # the store's model; a re-embed (reembed_runner.py) switches it
        self._reembed = ReembedRunner(self.core, lambda e: setattr(self, "embedder", e))
        self.reembed, self.reembed_status = self._reembed.run, self._reembed.status

    # ---- lifecycle -----------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        home: Path | str | None = None,
        *,
        settings: Settings | None = None,
        read_only: bool = False,
        embedder: Embedder | None = None,
        clock: Clock = utcnow,
        checkpoint_every: int = 10_000,
        progress: Progress | None = None,
        store: Store | None = None,
    ) -> MemoryService:
        """Open the store (or use `store`, already open, which the service then owns), the
        embedder and the indexes."""
        settings = settings or load_settings(home)
        store = backends.open_store(settings, store, read_only)  # or a memory server's
        try:
            if embedder is None:
                embedder = open_store_embedder(settings, store)
            store.ensure_vector_table(embedder.model_id, embedder.dim) if not read_only else None
            indexes = backends.make_indexes(
                settings, store, embedder.model_id, embedder.dim, checkpoint_every
            )
            indexes.open(progress)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, embedder, indexes, clock)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._reembed.close()  # a background re-embed stops at its next batch
        self.accesses.wait()
        self.flush_accesses()
        with self.store.write_lock:
            self.indexes.close()
            self.store.close()

    def __enter__(self) -> MemoryService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def catch_up_report(self) -> CatchUpReport:
        return self.indexes.report

    # ---- writes --------------------------------------------------------------------------
    def add(
        self,
        text: str | bytes,
        layer: str | Layer = "interact",
        kind: str = "note",
        tags: Iterable[str] = (),
        session: str | None = None,
        source: str = "manual",
        created_at: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
        importance: float = 0.5,
        pinned: bool = False,
        author: str | None = None,  # default: what `source` implies (records.author_for)
    ) -> str:
        args = (text, layer, kind, tags, session, source, created_at, metadata, importance)
        return self.add_many([add_item(*args, pinned, author=author)])[0]

    def add_many(
        self,
        items: Iterable[dict[str, Any]],
        progress: Progress | None = None,
        *,
        batch_size: int = _ADD_BATCH,
        vectors: np.ndarray | None = None,
        vectors_model: str | None = None,
    ) -> list[str]:
        """Validate, embed and store memories; each batch commits on its own. `vectors`
        (n, dim), when given, replace embedding the texts: from the model `vectors_model`
        names (default: the store's), so a re-embed's switch meanwhile is noticed."""
        return ops.add_many(self.core, items, progress, batch_size, vectors, vectors_model)

    def update(
        self,
        ref: str,
        *,
        text: str | None = None,
        kind: str | None = None,
        tags: Iterable[str] | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        metadata: dict[str, Any] | None = None,
        actor: str = "user",
    ) -> Record:
        changes = {
            "text": text,
            "kind": kind,
            "tags": None if tags is None else list(tags),
            "importance": importance,
            "pinned": pinned,
            "metadata": metadata,
        }
        return ops.update(self.core, ref, changes, actor=actor)

    def forget(self, ref: str, *, reason: str = "", actor: str = "user") -> Record:
        """Move a record to the tombstones: hidden from search, restorable until purged."""
        record = self.get(ref, count_access=False)
        if record.state is State.FORGOTTEN:
            return record
        self.core.require_writable()
        features = None
        if actor == "user" and record.state is State.LIVE:
            features = lifecycle.features_of(self.core, record)  # the decision teaches
        return ops.forget(self.core, record, reason=reason, actor=actor, features=features)

    def restore(self, ref: str, *, actor: str = "user") -> Record:
        record = self.get(ref, count_access=False)
        if record.state is State.LIVE:
            return record
        return ops.restore(self.core, record, actor=actor)

    def purge(self, ref: str | None = None, *, all_forgotten: bool = False) -> list[str]:
        """Delete for good: one forgotten record, tombstones past their grace period, or
        (with `all_forgotten`) every tombstone. Live records must be forgotten first."""
        targets = ops.purge_targets(self.core, ref, all_forgotten)
        return ops.purge(self.core, targets)

    # ---- reads ---------------------------------------------------------------------------
    def get(self, ref: str, *, count_access: bool = True) -> Record:
        record = self.core.repo.get(ref)
        if count_access and record.state is State.LIVE:
            self._note_access([(record.seq, 1.0, 0)], session=None)
        return record

    def search(
        self,
        query: str,
        k: int = 10,
        layers: Sequence[str | Layer] | None = None,
        kinds: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        session: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        mode: str = "hybrid",
        *,
        count_access: bool = True,
        reader_session: str | None = None,
        prefix: bool = False,
        authors: Sequence[str] | None = None,
    ) -> list[Hit]:
        """Hybrid (or vector / keyword) search. `prefix`: the last word also matches as a
        prefix (search-as-you-type in the Memory pane; not for the agent or the CLI)."""
        query = item_rules.search_query(query, k, mode)
        if not query.strip():
            return []
        filters = self.filters(layers, kinds, tags, session, since, until, authors=authors)
        with metrics.timer("search"):
            hits = self.core.retriever.search(query, k, filters, mode, prefix=prefix)
        if count_access and hits:
            self._note_access(
                [(h.record.seq, h.score, i) for i, h in enumerate(hits)], session=reader_session
            )
        return hits

    def filters(
        self,
        layers=None,
        kinds=None,
        tags=None,
        session=None,
        since=None,
        until=None,
        state: State | None = State.LIVE,
        authors=None,
    ) -> Filters:
        return item_rules.filters_of(layers, kinds, tags, session, since, until, state, authors)

    def list(
        self,
        layers=None,
        kinds=None,
        tags=None,
        session=None,
        since=None,
        until=None,
        *,
        forgotten: bool = False,
        order: str = "created_at DESC",
        limit: int = 50,
        offset: int = 0,
        authors=None,
    ) -> list[Record]:
        state = State.FORGOTTEN if forgotten else State.LIVE
        f = self.filters(layers, kinds, tags, session, since, until, state=state, authors=authors)
        return self.core.repo.list(f, order=order, limit=limit, offset=offset)

    def facets(
        self, layers=None, *, forgotten: bool = False, top_tags: int = 30
    ) -> dict[str, list[tuple[str, int]]]:
        """`{"kinds": [(kind, n), ...], "tags": [...], "authors": [...]}`, most common first
        (the tags cut at `top_tags`), over live records (or tombstones) of `layers`."""
        state = State.FORGOTTEN if forgotten else State.LIVE
        return self.core.repo.facets(self.filters(layers, state=state), top_tags=top_tags)

    def history(self, ref: str) -> list[dict[str, Any]]:
        return self.core.repo.history(self.get(ref, count_access=False).id)

    def stats(self) -> dict[str, Any]:
        return {**status.stats(self.core), "reembed": self.reembed_status().to_dict()}

    def index_status(self, *, wait: float = 5.0) -> dict[str, Any]:
        """Both indexes against the store (see `status.index_status`)."""
        return status.index_status(self.core, wait=wait)

    def last_cycle(self) -> datetime | None:
        """When the last promotion cycle ran (None: never)."""
        return self.core.repo.last_cycle()

    def reindex(self, progress: Progress | None = None) -> CatchUpReport:
        if self.read_only:
            raise MemoryError_("cannot reindex a read-only store")
        with self.store.write_lock:
            return self.indexes.rebuild(progress)

    # ---- access counting -----------------------------------------------------------------
    def _note_access(self, hits: Sequence[tuple[int, float, int]], session: str | None) -> None:
        self.accesses.note(hits, session)

    def flush_accesses(self) -> None:
        self.accesses.flush()
