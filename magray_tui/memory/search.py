"""Hybrid search: vector (hnswlib, cosine) + keyword (BM25) fused by reciprocal rank fusion.

Every hit carries its score parts so the UI can explain why it matched.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from magray_tui.config import MemorySettings
from magray_tui.memory.indexes import Indexes
from magray_tui.memory.protocols import Embedder
from magray_tui.memory.records import Filters, Hit, State
from magray_tui.memory.repository import MemoryRepository

# Filtered vector search picks one of three ways by how many records the filter allows
# (measured at 100k x 384, benchmarks/bench_memory.py):
# - up to EXACT_SCAN_LIMIT: exact scan of their vectors (fetching them from DuckDB costs
#   ~10 us a record, and a graph walk for a rare match visits most of the graph);
# - at least POST_FILTER_FRACTION of the index: an unfiltered walk asked for more, then
#   filtered (no Python call per visited node, and better recall than the filtered walk);
# - in between: hnswlib's filtered walk.
EXACT_SCAN_LIMIT = 1000
POST_FILTER_FRACTION = 0.2
# Allowed sets are cached per filter until the indexes follow a new change.
_ALLOWED_CACHE_SIZE = 8


_WORD = re.compile(r"\w+", re.UNICODE)

# Function words dropped from keyword queries (the index keeps them): Lucene's English stop
# set plus question words, auxiliaries and pronouns. BM25 already gives them little weight,
# but in short texts such as chat turns their many weak matches still push aside the turns
# that share the query's one rare word. Not here on purpose: "may" and "march" (months are
# indexed as words), "will" and "can" (names, nouns). A query made only of these words is
# kept whole.
_STOPWORD_TEXT = """
a an and are as at be but by for if in into is it no not of on or such that the
their then there these they this to was with what when where which who whom whose
why how did do does doing done i me my mine we us our you your he him his she her
hers its them were been being have has had having would should could am s t
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keyword_query(query: str) -> str:
    """The words of `query` worth matching in the keyword index."""
    words = _WORD.findall(query.lower())
    kept = [w for w in words if w not in STOPWORDS]
    return " ".join(kept or words)


def candidate_depth(k: int) -> int:
    """How many candidates each list brings to the fusion. On LoCoMo (k=10) depths of 20 to
    100 give the same recall@10 within 1 point; fewer candidates cost less to fetch."""
    return max(3 * k, 30)


def rrf(
    ranked_lists: list[tuple[str, list[tuple[int, float]], float]], k_rrf: int
) -> dict[int, dict[str, float | int | None]]:
    """Fuse ranked lists: score = sum(weight / (k_rrf + rank)); keep each list's evidence."""
    fused: dict[int, dict[str, float | int | None]] = {}
    for name, ranked, weight in ranked_lists:
        for rank, (seq, score) in enumerate(ranked, 1):
            parts = fused.setdefault(seq, {"fused": 0.0})
            parts[name] = round(score, 6)
            parts[f"{name}_rank"] = rank
            parts["fused"] = float(parts["fused"] or 0.0) + weight / (k_rrf + rank)
    return fused


class Retriever:
    """Hybrid search over the repository and the two indexes (the store is the truth: an
    index entry can be stale, so every hit is read back and kept only if live)."""

    def __init__(
        self,
        repo: MemoryRepository,
        indexes: Indexes,
        embedder: Embedder,
        settings: MemorySettings,
    ) -> None:
        self.repo = repo
        self.indexes = indexes
        self.embedder = embedder
        self.settings = settings
        # Allowed sets are cached per filter until the indexes follow a new change (any
        # write that can change a filter's answer advances the watermark).
        self._allowed_lock = threading.Lock()
        self._allowed: OrderedDict[tuple[Any, ...], tuple[np.ndarray, frozenset[int]]] = (
            OrderedDict()
        )
        # A re-embed's switch replaces the embedder, the vector index and the stored vectors
        # together: a search takes all three from one side of it (see `vector_candidates`).
        self._model_lock = threading.Lock()
        self.generation = 0

    @contextmanager
    def switching(self) -> Iterator[None]:
        """Held while the model changes; searches started meanwhile wait for the new one."""
        with self._model_lock:
            self.generation += 1
            try:
                yield
            finally:
                self.generation += 1
                self.clear_allowed_cache()

    def allowed_seqs(self, filters: Filters) -> tuple[np.ndarray, frozenset[int]]:
        """(seqs as an array, the same as a set) of the records `filters` allows."""
        key = (*filters.key(), self.indexes.vectors.watermark)
        with self._allowed_lock:
            hit = self._allowed.get(key)
            if hit is not None:
                self._allowed.move_to_end(key)
                return hit
        seqs = self.repo.allowed_seqs(filters)
        value = (seqs, frozenset(seqs.tolist()))
        with self._allowed_lock:
            self._allowed[key] = value
            while len(self._allowed) > _ALLOWED_CACHE_SIZE:
                self._allowed.popitem(last=False)
        return value

    def clear_allowed_cache(self) -> None:
        """Forget the cached allowed sets (benchmarks measure the uncached path)."""
        with self._allowed_lock:
            self._allowed.clear()

    def vector_candidates(
        self, query: str, depth: int, filters: Filters
    ) -> list[tuple[int, float]]:
        while True:
            with self._model_lock:  # never half-way through a switch
                generation, embedder, index = self.generation, self.embedder, self.indexes.vectors
            try:
                found = self._vector_candidates(embedder, index, query, depth, filters)
            except Exception:
                if self.generation == generation:
                    raise
                continue  # the model switched under this search (a width mismatch): again
            if self.generation == generation:
                return found

    def _vector_candidates(
        self, embedder: Embedder, index: Any, query: str, depth: int, filters: Filters
    ) -> list[tuple[int, float]]:
        qvec = embedder.embed_query(query)
        if self.indexes.server_side:  # the server filters and ranks in one query
            return index.search_where(qvec, depth, None if filters.empty else filters)
        if filters.empty:
            return index.search(qvec, depth)
        allowed, allowed_set = self.allowed_seqs(filters)
        if len(allowed) == 0:
            return []
        if len(allowed) <= EXACT_SCAN_LIMIT:
            vecs = self.repo.vectors_for(allowed.tolist())
            sims = vecs @ np.asarray(qvec, dtype=np.float32)
            top = np.argsort(-sims)[:depth]
            return [(int(allowed[i]), float(sims[i])) for i in top]
        live = len(index)
        fraction = len(allowed) / max(live, 1)
        if fraction >= POST_FILTER_FRACTION:
            want = min(live, int(1.5 * depth / fraction) + 10)
            found = index.search(qvec, want)
            kept = [(seq, sim) for seq, sim in found if seq in allowed_set][:depth]
            if len(kept) == min(depth, len(allowed)) or want >= live:
                return kept
        return index.search(
            qvec, depth, allowed=allowed_set.__contains__, allowed_count=len(allowed_set)
        )

    def search(
        self, query: str, k: int, filters: Filters, mode: str, *, prefix: bool = False
    ) -> list[Hit]:
        depth = candidate_depth(k)
        settings = self.settings
        lists: list[tuple[str, list[tuple[int, float]], float]] = []
        if mode in ("hybrid", "vector"):
            lists.append(("vector", self.vector_candidates(query, depth, filters), 1.0))
        if mode in ("hybrid", "keyword"):
            kw = self.indexes.keywords.search(
                keyword_query(query), depth, None if filters.empty else filters, prefix=prefix
            )
            if filters.authors:
                # The keyword index holds no author: keep the hits the store allows.
                allowed_set = self.allowed_seqs(filters)[1]
                kw = [(seq, score) for seq, score in kw if seq in allowed_set]
            lists.append(("keyword", kw, settings.keyword_weight))
        if mode == "hybrid":
            fused = rrf(lists, settings.rrf_k)
            best = sum(w for _, ranked, w in lists if ranked) / (settings.rrf_k + 1)
            order = sorted(fused, key=lambda s: -float(fused[s]["fused"] or 0.0))
            scored = [(seq, float(fused[seq]["fused"] or 0.0) / best, fused[seq]) for seq in order]
        else:
            name, ranked, _ = lists[0]
            scored = [
                (seq, score, {name: round(score, 6), f"{name}_rank": rank})
                for rank, (seq, score) in enumerate(ranked, 1)
            ]
        hits = self.fetch_hits(scored, k)
        outdated = sum(1 for h in hits if h.record.superseded_by)
        if outdated:  # the next candidates compete with the penalised ones for the k places
            hits = self.fetch_hits(scored, k + outdated)
        return below_successors(hits, settings.superseded_penalty)[:k]

    def fetch_hits(self, scored: list[tuple[int, float, dict[str, Any]]], k: int) -> list[Hit]:
        """The first k candidates that are live in the store. Fetches exactly k first (each
        row costs DuckDB time), then more only if some were missing."""
        hits: list[Hit] = []
        pos = 0
        while len(hits) < k and pos < len(scored):
            want = k - len(hits) + (8 if pos else 0)
            head = scored[pos : pos + want]
            pos += len(head)
            records = self.repo.get_many([seq for seq, _, _ in head])
            for seq, score, parts in head:
                rec = records.get(seq)
                if rec is None or rec.state is not State.LIVE:
                    continue
                for key in ("vector", "keyword"):
                    parts.setdefault(key, None)
                    parts.setdefault(f"{key}_rank", None)
                hits.append(Hit(rec, round(score, 6), dict(parts)))
                if len(hits) == k:
                    break
        return hits


def below_successors(hits: list[Hit], penalty: float) -> list[Hit]:
    """A superseded record stays in the results, ranked lower: its score is multiplied by
    `penalty` (the factor is kept in its score parts as `superseded`), and where its
    successor is among the hits it comes after it whatever the scores say. The caller
    fetched one more candidate per superseded hit, so a successor ranked just below k by
    the query still makes it (k = 1 answers with the current fact)."""
    if not any(h.record.superseded_by for h in hits):
        return hits
    for hit in hits:
        if hit.record.superseded_by:
            hit.parts["superseded"] = penalty
            hit.score = round(hit.score * penalty, 6)
    order = sorted(hits, key=lambda h: -h.score)  # stable: ties keep the fused order
    for _ in range(len(order)):
        position = {h.record.id: i for i, h in enumerate(order)}
        moved = False
        for i, hit in enumerate(order):
            after = position.get(hit.record.superseded_by or "")
            if after is not None and after > i:
                order.insert(after, order.pop(i))  # lands right after its successor
                moved = True
                break
        if not moved:
            break
    return order
