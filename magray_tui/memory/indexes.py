"""Keeps the vector and keyword indexes in step with the store.

The store commits first; the indexes follow. Each index remembers the change revision it
has reached (its watermark), so at open only later changes are replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from magray_tui.memory.keyword_index import KeywordIndex
from magray_tui.memory.records import Record, State
from magray_tui.memory.repository import MemoryRepository
from magray_tui.memory.vector_index import IndexParams, VectorIndex

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class CatchUpReport:
    vector_loaded: bool = False
    keyword_loaded: bool = False
    vector_replayed: int = 0
    keyword_replayed: int = 0
    rebuilt: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Indexes:
    server_side = False  # True for the PostgreSQL backend's (magray_tui/pg/indexes.py)

    def __init__(
        self,
        repo: MemoryRepository,
        index_dir,
        params: IndexParams,
        model_id: str,
        checkpoint_every: int = 10_000,
    ) -> None:
        self.repo = repo
        self.read_only = repo.db.read_only
        self.vectors = VectorIndex(index_dir, params, model_id)
        self.keywords = KeywordIndex(index_dir / "keyword", read_only=self.read_only)
        self.checkpoint_every = checkpoint_every
        self._unsaved = 0
        self._lock = threading.RLock()
        self.report = CatchUpReport()

    # ---- open / catch up -----------------------------------------------------------------
    def open(self, progress: Progress | None = None) -> CatchUpReport:
        t0 = time.perf_counter()
        report = CatchUpReport(
            vector_loaded=self.vectors.load(), keyword_loaded=self.keywords.open()
        )
        self._replay(report, progress)
        n_live = self.repo.live_count()
        # A cache that disagrees with the store is rebuilt, never trusted.
        if len(self.vectors) != n_live:
            log.warning(
                "vector index has %d entries, store %d: rebuilding", len(self.vectors), n_live
            )
            self.vectors.reset()
            report.rebuilt.append("vector")
        if len(self.keywords) != n_live:
            log.warning(
                "keyword index has %d entries, store %d: rebuilding", len(self.keywords), n_live
            )
            if not self.read_only:
                self.keywords.reset()
            report.rebuilt.append("keyword")
        if report.rebuilt:
            self._replay(report, progress)
        if (report.vector_replayed or report.keyword_replayed) and not self.read_only:
            self.save()
        report.seconds = time.perf_counter() - t0
        self.report = report
        return report

    def _replay(self, report: CatchUpReport, progress: Progress | None) -> None:
        v_mark, k_mark = self.vectors.watermark, self.keywords.watermark
        start = min(v_mark, k_mark)
        top = self.repo.max_rev()
        done = 0
        for revs, records, vecs in self.repo.iter_changes(start):
            v_sel = revs > v_mark
            k_sel = revs > k_mark
            self._apply_vectors([r for r, s in zip(records, v_sel, strict=True) if s], vecs[v_sel])
            report.vector_replayed += int(v_sel.sum())
            if not self.keywords.read_only:
                self._apply_keywords([r for r, s in zip(records, k_sel, strict=True) if s])
                report.keyword_replayed += int(k_sel.sum())
            done += len(records)
            if progress:
                progress(done, max(done, top - start))
        purged = self.repo.purged_since(start)
        if purged:
            self.vectors.remove(purged)
            if not self.keywords.read_only:
                self.keywords.remove(purged)
        self.vectors.watermark = max(self.vectors.watermark, top)
        if not self.keywords.read_only:
            self.keywords.commit(max(self.keywords.watermark, top))

    # ---- following writes ----------------------------------------------------------------
    def _apply_vectors(self, records: Sequence[Record], vecs: np.ndarray) -> None:
        live = [i for i, r in enumerate(records) if r.state is State.LIVE]
        gone = [r.seq for r in records if r.state is not State.LIVE]
        if live:
            self.vectors.add([records[i].seq for i in live], vecs[live])
        if gone:
            self.vectors.remove(gone)

    def _apply_keywords(self, records: Sequence[Record]) -> None:
        live = [r for r in records if r.state is State.LIVE]
        gone = [r.seq for r in records if r.state is not State.LIVE]
        if live:
            self.keywords.upsert(live)
        if gone:
            self.keywords.remove(gone)

    def follow(
        self,
        records: Sequence[Record],
        vectors: dict[int, np.ndarray],
        purged: Sequence[int],
        rev: int,
    ) -> None:
        """Follow a committed transaction: upsert live records, drop the others and the
        purged ones, and move both watermarks to `rev`.

        A live record without an entry in `vectors` kept its vector (a layer move, new
        tags): the vector index leaves it alone, since re-inserting holds the lock readers
        need."""
        with self._lock:
            live_new = [r for r in records if r.state is State.LIVE and r.seq in vectors]
            if live_new:
                mat = np.stack([np.asarray(vectors[r.seq], dtype=np.float32) for r in live_new])
                self.vectors.add([r.seq for r in live_new], mat)
            gone = [r.seq for r in records if r.state is not State.LIVE] + list(purged)
            if gone:
                self.vectors.remove(gone)
            if records:
                self._apply_keywords(records)
            if purged:
                self.keywords.remove(list(purged))
            self._advance(rev, len(records) + len(purged))

    def replace_vectors(self, index: VectorIndex) -> None:
        """Put another model's complete vector index in place of this one (the re-embed's
        switch) at the same watermark, and save it: its file replaces the old one."""
        with self._lock:
            index.watermark = self.vectors.watermark
            self.vectors = index
            if not self.read_only:
                self.save()

    def status(self) -> dict[str, int | bool]:
        """Entries and watermarks of both indexes, read together under their lock."""
        with self._lock:
            return {
                "vector_entries": len(self.vectors),
                "keyword_entries": len(self.keywords),
                "vector_watermark": self.vectors.watermark,
                "keyword_watermark": self.keywords.watermark,
                "read_only": self.read_only,
            }

    def _advance(self, rev: int, n: int) -> None:
        self.keywords.commit(rev)
        self.vectors.watermark = rev
        self._unsaved += n
        if self._unsaved >= self.checkpoint_every:
            self.save()

    def save(self) -> None:
        """Persist the vector index (the keyword index is durable at each commit)."""
        if self.read_only:
            return
        with self._lock:
            self.vectors.save(self.vectors.watermark)
            self._unsaved = 0

    def rebuild(self, progress: Progress | None = None) -> CatchUpReport:
        with self._lock:
            self.vectors.reset()
            if not self.read_only:
                self.keywords.reset()
            report = CatchUpReport(rebuilt=["vector", "keyword"])
            self._replay(report, progress)
            self.save()
            self.report = report
            return report

    def close(self) -> None:
        with self._lock:
            if not self.read_only and self._unsaved:
                self.save()
            self.keywords.close()
