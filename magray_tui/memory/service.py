"""MemoryService: the one API the TUI, the CLI and the agent use for memories."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from magray_tui.config import Settings, load_settings
from magray_tui.memory import items as item_rules
from magray_tui.memory.indexes import CatchUpReport, Indexes, Progress
from magray_tui.memory.records import (
    SEARCH_MODES,
    Hit,
    Layer,
    MemoryError_,
    Record,
    State,
    to_utc_naive,
    utcnow,
)
from magray_tui.memory.search import hybrid_search
from magray_tui.memory.store import Filters, Store
from magray_tui.memory.vector_index import IndexParams
from magray_tui.monitor.metrics import metrics

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_ADD_BATCH = 256


class MemoryService:
    """Open with `MemoryService.open(home)` and use as a context manager."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Any,
        indexes: Indexes,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.indexes = indexes
        self.clock = clock
        store.clock = lambda: self.clock()  # history rows carry the service's time
        self._write_lock = threading.RLock()
        self._access_lock = threading.Lock()
        self._pending_access: list[tuple[int, datetime, str | None, float, int]] = []
        self._flusher: threading.Thread | None = None
        self._closed = False

    # ---- lifecycle -----------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        home: Path | str | None = None,
        *,
        settings: Settings | None = None,
        read_only: bool = False,
        embedder: Any = None,
        clock: Clock = utcnow,
        checkpoint_every: int = 10_000,
        progress: Progress | None = None,
        store: Store | None = None,
    ) -> MemoryService:
        """Open the store (or use `store`, already open, which the service then owns), the
        embedder and the indexes."""
        settings = settings or load_settings(home)
        paths = settings.paths
        if embedder is None:
            from magray_tui.ai import load_embedder

            embedder = load_embedder(settings)
        if store is None:
            store = Store.open(
                paths.db_file, read_only=read_only, config=settings.resources.duckdb_config()
            )
        try:
            store.ensure_vector_table(embedder.model_id, embedder.dim) if not read_only else None
            mem = settings.memory
            params = IndexParams(
                embedder.dim, mem.hnsw_m, mem.hnsw_ef_construction, mem.hnsw_ef_search
            )
            indexes = Indexes(store, paths.index_dir, params, embedder.model_id, checkpoint_every)
            indexes.open(progress)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, embedder, indexes, clock)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout=30)
        self.flush_accesses()
        with self._write_lock:
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
    ) -> str:
        item = {
            "text": text,
            "layer": layer,
            "kind": kind,
            "tags": list(tags),
            "session": session,
            "source": source,
            "created_at": created_at,
            "metadata": metadata,
            "importance": importance,
            "pinned": pinned,
        }
        return self.add_many([item])[0]

    def add_many(
        self,
        items: Iterable[dict[str, Any]],
        progress: Progress | None = None,
        *,
        batch_size: int = _ADD_BATCH,
        vectors: np.ndarray | None = None,
    ) -> list[str]:
        """Validate, embed and store memories; each batch commits on its own.

        `vectors` (n, dim), when given, are used instead of embedding the texts: for
        callers that already hold embeddings from this same model.
        """
        if self.read_only:
            raise MemoryError_(self.store.note or "the memory database is open read-only")
        pending = items if isinstance(items, list) else list(items)
        total = len(pending)
        if vectors is not None:
            vectors = np.asarray(vectors, dtype=np.float32)
            if vectors.shape != (total, self.embedder.dim):
                raise MemoryError_(
                    f"vectors must have shape ({total}, {self.embedder.dim}), not {vectors.shape}"
                )
        ids: list[str] = []
        for start in range(0, total, batch_size):
            chunk = pending[start : start + batch_size]
            rows = []
            for n, item in enumerate(chunk, start + 1):
                try:
                    rows.append(self._prepare(item))
                except MemoryError_ as exc:
                    raise MemoryError_(f"memory #{n}: {exc}") from None
            given = None if vectors is None else vectors[start : start + batch_size]
            ids.extend(self._insert(rows, vectors=given))
            if progress:
                progress(len(ids), total)
        return ids

    def _prepare(self, item: dict[str, Any], default_source: str = "manual") -> dict[str, Any]:
        return item_rules.prepare(
            item,
            now=self.clock(),
            default_source=default_source,
            max_bytes=self.settings.memory.max_text_bytes,
        )

    def _insert(
        self,
        rows: list[dict[str, Any]],
        progress: Progress | None = None,
        vectors: np.ndarray | None = None,
    ) -> list[str]:
        """Embed, then store all `rows` in one transaction, then follow with the indexes."""
        if not rows:
            return []
        if vectors is None:
            parts = []
            for start in range(0, len(rows), _ADD_BATCH):
                chunk = rows[start : start + _ADD_BATCH]
                parts.append(self.embedder.embed_documents([r["text"] for r in chunk]))
                if progress:
                    progress(start + len(chunk), len(rows))
            vectors = np.concatenate(parts) if len(parts) > 1 else parts[0]
        vectors = _normalized(vectors)
        with self._write_lock, metrics.timer("db.write"):
            pairs = self.store.insert(rows, vectors)
            records = [_row_record(r, seq) for r, (seq, _rev) in zip(rows, pairs, strict=True)]
            self.indexes.apply(records, vectors, max(rev for _, rev in pairs))
        return [r["id"] for r in rows]

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
        record = self.get(ref, count_access=False)
        if record.state is not State.LIVE:
            raise MemoryError_(f"memory {record.id} is forgotten; restore it before editing")
        merged = {
            "text": record.text if text is None else text,
            "layer": record.layer,
            "kind": kind if kind is not None else record.kind,
            "tags": list(record.tags if tags is None else tags),
            "importance": record.importance if importance is None else importance,
            "pinned": record.pinned if pinned is None else pinned,
            "metadata": record.metadata if metadata is None else metadata,
            "session": record.session,
            "source": record.source,
            "created_at": record.created_at,
        }
        row = self._prepare(merged, default_source=record.source)
        fields = {
            k: row[k]
            for k in ("text", "kind", "tags", "importance", "pinned", "metadata", "content_hash")
        }
        fields["updated_at"] = self.clock()
        changed = [k for k in fields if k != "updated_at" and fields[k] != getattr(record, k)]
        if not changed:
            return record
        vector = None
        if "text" in changed:
            vector = self.embedder.embed_documents([row["text"]])[0]
        with self._write_lock, metrics.timer("db.write"):
            rev = self.store.update(record.seq, fields, vector)
            fresh = self.store.get(record.id)
            self.indexes.apply(
                [fresh],
                None if vector is None else vector[None, :],
                rev,
                vectors_changed=vector is not None,
            )
            self.store.add_history(
                record.id,
                "edit",
                actor=actor,
                reason="changed " + ", ".join(changed),
                details={"previous_text": record.text} if "text" in changed else None,
            )
        return fresh

    def forget(self, ref: str, *, reason: str = "", actor: str = "user") -> Record:
        """Move a record to the tombstones: hidden from search, restorable until purged."""
        record = self.get(ref, count_access=False)
        if record.state is State.FORGOTTEN:
            return record
        features = None
        if actor == "user" and record.state is State.LIVE:
            from magray_tui.memory.lifecycle import features_of

            features = features_of(self, record)  # the user's decision teaches the policy
        now = self.clock()
        with self._write_lock, metrics.timer("db.write"):
            rev = self.store.update(record.seq, {"state": State.FORGOTTEN, "forgotten_at": now})
            fresh = self.store.get(record.id)
            self.indexes.apply([fresh], np.zeros((1, self.embedder.dim), np.float32), rev)
            self.store.add_history(
                record.id,
                "forget",
                from_layer=record.layer.value,
                actor=actor,
                reason=reason or "forgotten",
                details={"features": features} if features else None,
            )
        return fresh

    def restore(self, ref: str, *, actor: str = "user") -> Record:
        record = self.get(ref, count_access=False)
        if record.state is State.LIVE:
            return record
        with self._write_lock, metrics.timer("db.write"):
            rev = self.store.update(record.seq, {"state": State.LIVE, "forgotten_at": None})
            fresh = self.store.get(record.id)
            self.indexes.apply([fresh], None, rev)
            self.store.add_history(
                record.id,
                "restore",
                to_layer=record.layer.value,
                actor=actor,
                reason="restored from tombstone",
            )
        return fresh

    def purge(self, ref: str | None = None, *, all_forgotten: bool = False) -> list[str]:
        """Delete for good: one forgotten record, tombstones past their grace period, or
        (with `all_forgotten`) every tombstone. Live records must be forgotten first."""
        if ref is not None:
            record = self.get(ref, count_access=False)
            if record.state is State.LIVE:
                raise MemoryError_(f"memory {record.id} is live; forget it before purging")
            targets = [record]
        else:
            grace = timedelta(days=self.settings.memory.tombstone_grace_days)
            cutoff = self.clock() if all_forgotten else self.clock() - grace
            seqs = self.store.forgotten_before(cutoff + timedelta(microseconds=1))
            targets = list(self.store.get_many(seqs).values())
        if not targets:
            return []
        with self._write_lock, metrics.timer("db.write"):
            rev = self.store.delete([r.seq for r in targets])
            self.indexes.drop([r.seq for r in targets], rev)
            for r in targets:
                self.store.add_history(
                    r.id, "purge", from_layer=r.layer.value, reason="deleted for good"
                )
        return [r.id for r in targets]

    # ---- reads ---------------------------------------------------------------------------
    def get(self, ref: str, *, count_access: bool = True) -> Record:
        record = self.store.get(ref)
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
    ) -> list[Hit]:
        if mode not in SEARCH_MODES:
            raise MemoryError_(f"unknown search mode {mode!r} (use {', '.join(SEARCH_MODES)})")
        if not isinstance(k, int) or not 1 <= k <= 1000:
            raise MemoryError_("k must be a whole number from 1 to 1000")
        query = item_rules.as_text(query)
        if not query.strip():
            return []
        filters = self.filters(layers, kinds, tags, session, since, until)
        with metrics.timer("search"):
            hits = hybrid_search(self, query, k, filters, mode)
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
    ) -> Filters:
        return Filters(
            layers=tuple(Layer.parse(x) for x in layers) if layers else None,
            kinds=tuple(str(x).lower() for x in kinds) if kinds else None,
            tags=item_rules.normalize_tags(list(tags)) or None if tags else None,
            session=session or None,
            since=to_utc_naive(since),
            until=to_utc_naive(until),
            state=state,
        )

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
    ) -> list[Record]:
        state = State.FORGOTTEN if forgotten else State.LIVE
        f = self.filters(layers, kinds, tags, session, since, until, state=state)
        return self.store.list(f, order=order, limit=limit, offset=offset)

    def facets(
        self, layers=None, *, forgotten: bool = False, top_tags: int = 30
    ) -> dict[str, list[tuple[str, int]]]:
        """`{"kinds": [(kind, n), ...], "tags": [(tag, n), ...]}`, most common first (the
        tags cut at `top_tags`), over live records (or tombstones) of `layers`."""
        state = State.FORGOTTEN if forgotten else State.LIVE
        return self.store.facets(self.filters(layers, state=state), top_tags=top_tags)

    def history(self, ref: str) -> list[dict[str, Any]]:
        return self.store.history(self.get(ref, count_access=False).id)

    def stats(self) -> dict[str, Any]:
        counts = self.store.counts()
        db = self.store.path
        size = sum(p.stat().st_size for p in (db, db.with_name(db.name + ".wal")) if p.exists())
        report = self.indexes.report
        return {
            "counts": counts,
            "total_live": sum(counts[layer.value] for layer in Layer),
            "database": {
                "path": str(db),
                "bytes": size,
                "schema_version": self.store.schema_version(),
                "read_only": self.read_only,
                "note": self.store.note,
            },
            "indexes": {
                "vector_entries": len(self.indexes.vectors),
                "keyword_entries": len(self.indexes.keywords),
                "watermark": self.indexes.vectors.watermark,
                "store_rev": self.store.max_rev(),
                "last_open": {
                    "vector_loaded": report.vector_loaded,
                    "keyword_loaded": report.keyword_loaded,
                    "vector_replayed": report.vector_replayed,
                    "keyword_replayed": report.keyword_replayed,
                    "rebuilt": report.rebuilt,
                    "seconds": round(report.seconds, 3),
                },
            },
            "embedder": {
                "model": self.embedder.model_id,
                "dim": self.embedder.dim,
                "provider": getattr(self.embedder, "provider", "?"),
                "cache": self.embedder.cache_stats()
                if hasattr(self.embedder, "cache_stats")
                else {},
            },
        }

    def reindex(self, progress: Progress | None = None) -> CatchUpReport:
        if self.read_only:
            raise MemoryError_("cannot reindex a read-only store")
        with self._write_lock:
            return self.indexes.rebuild(progress)

    # ---- lifecycle (promotion engine; see lifecycle.py and moves.py) -------------------
    def run_cycle(self, *, dry_run: bool = False):
        """Promote, merge and expire by the active policy; returns a CycleReport."""
        from magray_tui.memory.lifecycle import run_cycle

        if dry_run:  # a preview is not promotion activity
            return run_cycle(self, dry_run=True)
        with metrics.timer("promotion.cycle"):
            report = run_cycle(self)
        for action, n in report.counts().items():  # promote, merge, expire
            metrics.count(f"promotion.{action}", n)
        return report

    def promote(self, ref: str, to: str | Layer | None = None, *, actor: str = "user") -> Record:
        from magray_tui.memory.moves import move

        return move(self, ref, to, up=True, actor=actor)

    def demote(self, ref: str, to: str | Layer | None = None, *, actor: str = "user") -> Record:
        from magray_tui.memory.moves import move

        return move(self, ref, to, up=False, actor=actor)

    def pin(self, ref: str, pinned: bool = True) -> Record:
        from magray_tui.memory.moves import set_pinned

        return set_pinned(self, ref, pinned)

    def set_importance(self, ref: str, value: float) -> Record:
        from magray_tui.memory.moves import set_importance

        return set_importance(self, ref, value)

    def undo(self, ref: str) -> str:
        from magray_tui.memory.moves import undo

        return undo(self, ref)

    def policy_status(self):
        """The learned policy's state: active or not, and why."""
        from magray_tui.memory.lifecycle import current_policy

        return current_policy(self, self.clock())

    # ---- import / export -----------------------------------------------------------------
    def export(self, path: Path | str, *, include_forgotten: bool = False) -> int:
        from magray_tui.memory.transfer import export_jsonl

        return export_jsonl(self, Path(path), include_forgotten=include_forgotten)

    def import_(
        self,
        path: Path | str,
        *,
        skip_bad: bool = False,
        allow_duplicates: bool = False,
        progress: Progress | None = None,
    ):
        from magray_tui.memory.transfer import import_jsonl

        return import_jsonl(
            self,
            Path(path),
            skip_bad=skip_bad,
            allow_duplicates=allow_duplicates,
            progress=progress,
        )

    # ---- access counting -----------------------------------------------------------------
    def _note_access(self, hits: Sequence[tuple[int, float, int]], session: str | None) -> None:
        """Reads are counted in memory and written in batches, off the search path."""
        if self.read_only:
            return
        now = self.clock()
        with self._access_lock:
            self._pending_access.extend((seq, now, session, float(s), r) for seq, s, r in hits)
            due = len(self._pending_access) >= 256 and self._flusher is None
            if due:
                # Written by a short-lived thread: the search that crosses the mark returns
                # at once instead of waiting for the database write.
                self._flusher = threading.Thread(
                    target=self._flush_in_background, name="magray-access-flush", daemon=True
                )
                self._flusher.start()

    def _flush_in_background(self) -> None:
        try:
            self.flush_accesses()
        finally:
            with self._access_lock:
                self._flusher = None

    def flush_accesses(self) -> None:
        with self._access_lock:
            events, self._pending_access = self._pending_access, []
        if events:
            try:
                self.store.record_accesses(events)
            except Exception as exc:  # counting reads must never break a read
                log.warning("could not record %d accesses: %s", len(events), exc)


def _row_record(row: dict[str, Any], seq: int) -> Record:
    return Record(
        id=row["id"],
        layer=row["layer"],
        text=row["text"],
        kind=row["kind"],
        tags=row["tags"],
        source=row["source"],
        session=row["session"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        layer_since=row["layer_since"],
        importance=row["importance"],
        pinned=row["pinned"],
        content_hash=row["content_hash"],
        metadata=row["metadata"],
        seq=seq,
    )


def _normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
