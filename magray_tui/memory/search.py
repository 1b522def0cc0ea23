"""Hybrid search: vector (hnswlib, cosine) + keyword (BM25) fused by reciprocal rank fusion.

Every hit carries its score parts so the UI can explain why it matched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from magray_tui.memory.records import Hit, State
from magray_tui.memory.store import Filters

if TYPE_CHECKING:
    from magray_tui.memory.service import MemoryService

# Below this many allowed records an exact scan beats a filtered graph walk (and never
# misses a match the graph cannot reach).
EXACT_SCAN_LIMIT = 4096


def candidate_depth(k: int) -> int:
    return max(4 * k, 50)


def vector_candidates(
    svc: MemoryService, query: str, depth: int, filters: Filters
) -> list[tuple[int, float]]:
    qvec = svc.embedder.embed_query(query)
    index = svc.indexes.vectors
    if filters.empty:
        return index.search(qvec, depth)
    allowed = svc.store.allowed_seqs(filters)
    if len(allowed) == 0:
        return []
    if len(allowed) <= EXACT_SCAN_LIMIT:
        vecs = svc.store.vectors_for(allowed.tolist())
        sims = vecs @ np.asarray(qvec, dtype=np.float32)
        top = np.argsort(-sims)[:depth]
        return [(int(allowed[i]), float(sims[i])) for i in top]
    allowed_set = set(allowed.tolist())
    return index.search(
        qvec, depth, allowed=allowed_set.__contains__, allowed_count=len(allowed_set)
    )


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


def hybrid_search(svc: MemoryService, query: str, k: int, filters: Filters, mode: str) -> list[Hit]:
    depth = candidate_depth(k)
    settings = svc.settings.memory
    lists: list[tuple[str, list[tuple[int, float]], float]] = []
    if mode in ("hybrid", "vector"):
        lists.append(("vector", vector_candidates(svc, query, depth, filters), 1.0))
    if mode in ("hybrid", "keyword"):
        kw = svc.indexes.keywords.search(query, depth, None if filters.empty else filters)
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
    # Fetch a few extra in case an index entry is stale (the store is the truth).
    head = scored[: k + 8]
    records = svc.store.get_many([seq for seq, _, _ in head])
    hits: list[Hit] = []
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
