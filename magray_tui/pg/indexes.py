"""Search in the server: pgvector's HNSW index for the vector part, Postgres full-text
search (`tsv` with ts_rank) for keywords. Both are written in the commit's own transaction
(see `writes.PgWrites`), so "the indexes follow" has nothing left to do: they are at the
store's revision by construction, and `status()` says so by reading the server.

A BM25 extension (pg_search, pg_textsearch) is detected and named in `status()`, never
required; ranking uses ts_rank."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.memory.indexes import CatchUpReport, Progress
from magray_tui.memory.keyword_index import MIN_PREFIX_CHARS
from magray_tui.memory.records import Filters, Record
from magray_tui.memory.vector_index import IndexParams
from magray_tui.pg.repository import pg_filters_sql
from magray_tui.pg.vectors import Vec
from magray_tui.pg.writes import TEXT_SEARCH_CONFIG

if TYPE_CHECKING:
    from magray_tui.pg.store import PgStore

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_QUERY_TERMS = 64
_BM25_EXTENSIONS = ("pg_search", "pg_textsearch")


def or_query(query: str, *, prefix: bool = False) -> str:
    """`query`'s words as a tsquery matching any of them (operators never interpreted).
    With `prefix` the last word also matches as a prefix of the stemmed words: `stag`
    finds "staging" (stem "stage"); a prefix longer than the stem ("stagi") is matched
    against the unstemmed words by `PgKeywords.search`."""
    terms = _WORD.findall(query.lower())[:_MAX_QUERY_TERMS]
    words = [f"'{t}'" for t in terms]
    if prefix and terms and len(terms[-1]) >= MIN_PREFIX_CHARS:
        words.append(f"'{terms[-1]}':*")
    return " | ".join(words)


class PgVectors:
    """The vector half: nearest live records by cosine, filtered in the same query."""

    def __init__(self, store: PgStore, params: IndexParams) -> None:
        self.store = store
        self.params = params

    @property
    def watermark(self) -> int:
        return self.store.repo.change_rev()

    def __len__(self) -> int:
        rows = self.store.cursor().execute(
            "SELECT count(*) FROM memories WHERE state = 'live' AND embedding IS NOT NULL"
        )
        return int(rows.fetchall()[0][0])

    def search_where(
        self, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        where, args = pg_filters_sql(filters) if filters is not None else ("true", [])
        q = Vec(vector)
        rows = (
            self.store.cursor()
            .execute(
                "SELECT seq, 1 - (embedding <=> ?) AS sim FROM memories "
                f"WHERE state = 'live' AND {where} ORDER BY embedding <=> ? LIMIT ?",
                [q, *args, q, int(k)],
            )
            .fetchall()
        )
        # relaxed_order iterative scans may return neighbours slightly out of order
        return sorted(((int(s), float(sim)) for s, sim in rows), key=lambda x: -x[1])

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: Callable[[int], bool] | None = None,
        allowed_count: int | None = None,
    ) -> list[tuple[int, float]]:
        found = self.search_where(vector, k if allowed is None else max(k * 4, 100))
        if allowed is not None:
            found = [(s, sim) for s, sim in found if allowed(s)][:k]
        return found

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.full((len(vectors), k), -1, dtype=np.int64)
        sims = np.full((len(vectors), k), -1.0, dtype=np.float32)
        for i, vec in enumerate(vectors):
            for j, (seq, sim) in enumerate(self.search_where(vec, k)):
                labels[i, j], sims[i, j] = seq, sim
        return labels, sims


class PgKeywords:
    """The keyword half: Postgres full-text search over `tsv`."""

    read_only = False

    def __init__(self, store: PgStore) -> None:
        self.store = store

    @property
    def watermark(self) -> int:
        return self.store.repo.change_rev()

    def __len__(self) -> int:
        rows = self.store.cursor().execute(
            "SELECT count(*) FROM memories WHERE state = 'live' AND tsv IS NOT NULL"
        )
        return int(rows.fetchall()[0][0])

    def search(
        self, query: str, k: int, filters: Filters | None = None, *, prefix: bool = False
    ) -> list[tuple[int, float]]:
        text = or_query(query, prefix=prefix)
        if not text or k <= 0:
            return []
        where, args = pg_filters_sql(filters) if filters is not None else ("true", [])
        # A typed prefix longer than the stem ("stagi" of "staging", stem "stage") matches the
        # unstemmed words instead: computed per row, so only for interactive prefix queries.
        last = _WORD.findall(query.lower())[-1:] if prefix else []
        raw = f"'{last[0]}':*" if last and len(last[0]) >= MIN_PREFIX_CHARS else ""
        match, extra = "tsv @@ q", []
        if raw:
            match = "(tsv @@ q OR to_tsvector('simple', text) @@ to_tsquery('simple', ?))"
            extra = [raw]
        rows = (
            self.store.cursor()
            .execute(
                f"SELECT seq, ts_rank(tsv, q) AS r FROM memories, "
                f"to_tsquery('{TEXT_SEARCH_CONFIG}', ?) q WHERE {match} "
                f"AND state = 'live' AND {where} ORDER BY r DESC, seq LIMIT ?",
                [text, *extra, *args, int(k)],
            )
            .fetchall()
        )
        return [(int(s), float(r)) for s, r in rows]


class PgIndexes:
    """`memory.indexes.Indexes` for the server: nothing to open, replay or save."""

    server_side = True
    read_only = False

    def __init__(self, store: PgStore, params: IndexParams) -> None:
        self.store = store
        self.repo = store.repo
        self.vectors = PgVectors(store, params)
        self.keywords = PgKeywords(store)
        self.report = CatchUpReport()
        self._lock = threading.RLock()

    def open(self, progress: Progress | None = None) -> CatchUpReport:
        self.report = CatchUpReport(vector_loaded=True, keyword_loaded=True)
        return self.report

    def follow(
        self,
        records: Sequence[Record],
        vectors: dict[int, np.ndarray],
        purged: Sequence[int],
        rev: int,
    ) -> None:
        return None  # written in the commit's transaction (PgWrites)

    def bm25_extension(self) -> str | None:
        rows = self.store.cursor().execute(
            "SELECT extname FROM pg_extension WHERE extname = ANY(?::TEXT[])",
            [list(_BM25_EXTENSIONS)],
        )
        found = rows.fetchall()
        return str(found[0][0]) if found else None

    def status(self) -> dict[str, Any]:
        rev = self.repo.max_rev()
        return {
            "vector_entries": len(self.vectors),
            "keyword_entries": len(self.keywords),
            "vector_watermark": rev,
            "keyword_watermark": rev,
            "read_only": False,
            "server": self.store.server,
        }

    def save(self) -> None:
        return None

    def rebuild(self, progress: Progress | None = None) -> CatchUpReport:
        """REINDEX both server indexes (they cannot drift from the rows; this is upkeep)."""
        t0 = time.perf_counter()
        cur = self.store.cursor()
        for name in ("memories_embedding", "memories_tsv"):
            cur.execute(f"REINDEX INDEX {name}")
        self.report = CatchUpReport(
            vector_loaded=True,
            keyword_loaded=True,
            rebuilt=["vector", "keyword"],
            seconds=time.perf_counter() - t0,
        )
        return self.report

    def close(self) -> None:
        return None
