"""Search across every chat session's messages: vector (cosine) + keyword (BM25), fused by
the memory engine's reciprocal rank fusion (`magray_tui.memory.search.rrf`).

Chat turns reach Interact too, but Interact expires after a day and keeps only turns; this
searches the messages themselves, in every session, for as long as the sessions exist.

DuckDB (`chat_messages`) is the truth; the index here is a derived cache. On each search
it catches up with the messages (new, edited and deleted ones, compared by a content
hash), embeds only those it has not seen, and keeps the vectors in the cache folder
(`chat_vectors.npz`, written atomically) so a new process does not embed them again. The
keyword side is an in-memory tantivy index rebuilt when the messages changed (thousands
of messages take milliseconds).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.memory.search import keyword_query, rrf

if TYPE_CHECKING:
    import tantivy

    from magray_tui.agent.session_store import SessionStore
    from magray_tui.memory.protocols import Embedder

log = logging.getLogger(__name__)

SEARCHED_ROLES = ("user", "assistant", "notice")
EMBED_CHARS = 2000  # what one message's vector is made of (the model truncates anyway)
SNIPPET_CHARS = 160
CONTEXT_CHARS = 100
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ChatHit:
    """One message that matched, with where it was said and what came before it."""

    message_id: int
    session_id: str
    session_name: str
    role: str
    created_at: datetime
    snippet: str  # the message around the first matched word, on one line
    before: str | None  # the message before it in its session, on one line (context)
    score: float  # fused, relative to the best possible (1.0)
    parts: dict[str, Any] = field(default_factory=dict)  # vector / keyword scores and ranks

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "session_id": self.session_id,
            "session": self.session_name,
            "role": self.role,
            "created_at": self.created_at,
            "snippet": self.snippet,
            "before": self.before,
            "score": round(self.score, 4),
            "parts": self.parts,
        }


def _digest(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """`text` on one line, cut to `width` around the first word of `query` it contains."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    starts = [lower.find(w) for w in _WORD.findall(keyword_query(query).lower())]
    found = [s for s in starts if s >= 0]
    at = min(found) if found else 0
    start = max(0, min(at - width // 3, len(flat) - width))
    cut = flat[start : start + width]
    return ("…" if start else "") + cut + ("…" if start + width < len(flat) else "")


class ChatSearch:
    """Hybrid search over all chat messages; thread-safe."""

    def __init__(
        self,
        db: SessionStore,
        embedder: Callable[[], Embedder],
        cache_file: Path | None = None,
        *,
        rrf_k: int = 10,
        keyword_weight: float = 1.25,
    ) -> None:
        self._db = db
        self._embedder_factory = embedder
        self.cache_file = cache_file
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self._lock = threading.Lock()
        self._ids = np.zeros(0, dtype=np.int64)
        self._hashes = np.zeros(0, dtype=np.int64)
        self._vectors: np.ndarray | None = None
        self._model_id: str | None = None
        self._keywords: tantivy.Index | None = None
        self._loaded = False

    # ---- the derived index ---------------------------------------------------------------
    def _load_cache(self, model_id: str) -> None:
        self._loaded = True
        if self.cache_file is None or not self.cache_file.exists():
            return
        try:
            with np.load(self.cache_file, allow_pickle=False) as data:
                if str(data["model"]) != model_id:
                    return
                self._ids, self._hashes = data["ids"], data["hashes"]
                self._vectors = data["vectors"].astype(np.float32)
        except Exception as exc:  # a damaged cache is rebuilt, never fatal
            log.warning("chat search cache unreadable (%s); re-embedding", exc)

    def _save_cache(self) -> None:
        if self.cache_file is None or self._vectors is None:
            return
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_name(self.cache_file.name + ".tmp.npz")
            np.savez(
                tmp,
                model=np.array(self._model_id or ""),
                ids=self._ids,
                hashes=self._hashes,
                vectors=self._vectors,
            )
            os.replace(tmp, self.cache_file)
        except OSError as exc:
            log.warning("chat search cache not saved: %s", exc)

    def _catch_up(self) -> dict[int, str]:
        """Bring the vectors and the keyword index to the stored messages; their texts."""
        embedder = self._embedder_factory()
        if self._model_id != embedder.model_id:
            self._model_id = embedder.model_id
            self._ids = np.zeros(0, dtype=np.int64)
            self._hashes = np.zeros(0, dtype=np.int64)
            self._vectors = None
            self._loaded = False
        if not self._loaded:
            self._load_cache(embedder.model_id)
        rows = self._db.searchable_messages(SEARCHED_ROLES)
        texts = {int(r[0]): r[1] for r in rows}
        ids = np.fromiter(texts, dtype=np.int64, count=len(texts))
        hashes = np.fromiter((_digest(t) for t in texts.values()), dtype=np.int64, count=len(ids))
        known = dict(zip(self._ids.tolist(), self._hashes.tolist(), strict=True))
        changed = bool(len(known) != len(ids))
        vectors = np.zeros((len(ids), embedder.dim), dtype=np.float32)
        row_of = {int(i): n for n, i in enumerate(self._ids.tolist())}
        todo: list[int] = []
        for n, (mid, digest) in enumerate(zip(ids.tolist(), hashes.tolist(), strict=True)):
            if known.get(mid) == digest and self._vectors is not None:
                vectors[n] = self._vectors[row_of[mid]]
            else:
                todo.append(n)
        if todo:
            changed = True
            batch = [texts[int(ids[n])][:EMBED_CHARS] for n in todo]
            vectors[todo] = np.asarray(embedder.embed_documents(batch), dtype=np.float32)
        if changed or self._keywords is None:
            self._ids, self._hashes, self._vectors = ids, hashes, vectors
            self._keywords = _keyword_index(texts)
            if todo or changed:
                self._save_cache()
        return texts

    def catch_up(self) -> int:
        """Bring the index to the stored messages now (the Chat pane does it in the
        background at start, so the first Ctrl+F does not embed them); how many it holds."""
        with self._lock:
            return len(self._catch_up())

    # ---- search --------------------------------------------------------------------------
    def search(self, query: str, k: int = 10) -> list[ChatHit]:
        query = query.strip()
        if not query or k <= 0:
            return []
        with self._lock:
            texts = self._catch_up()
            if not texts:
                return []
            depth = max(3 * k, 30)
            embedder = self._embedder_factory()
            qvec = np.asarray(embedder.embed_query(query), dtype=np.float32)
            assert self._vectors is not None
            sims = self._vectors @ qvec
            top = np.argsort(-sims)[:depth]
            vector = [(int(self._ids[i]), float(sims[i])) for i in top]
            keyword = _keyword_search(self._keywords, keyword_query(query), depth)
        lists = [("vector", vector, 1.0), ("keyword", keyword, self.keyword_weight)]
        fused = rrf(lists, self.rrf_k)
        best = sum(w for _, ranked, w in lists if ranked) / (self.rrf_k + 1)
        order = sorted(fused, key=lambda mid: -float(fused[mid]["fused"] or 0.0))[:k]
        found = self._db.messages_with_context([int(m) for m in order])
        hits = []
        for mid in order:
            row = found.get(mid)
            if row is None:  # deleted since the index caught up
                continue
            parts = {key: fused[mid].get(key) for key in ("vector", "keyword")}
            parts |= {f"{key}_rank": fused[mid].get(f"{key}_rank") for key in parts}
            before = row["before"]
            hits.append(
                ChatHit(
                    message_id=mid,
                    session_id=row["session_id"],
                    session_name=row["session_name"],
                    role=row["role"],
                    created_at=row["created_at"],
                    snippet=snippet(row["content"], query),
                    before=snippet(before, query, CONTEXT_CHARS) if before else None,
                    score=float(fused[mid]["fused"] or 0.0) / best,
                    parts=parts,
                )
            )
        return hits


def _keyword_index(texts: dict[int, str]) -> tantivy.Index:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True)
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem", index_option="freq")
    index = tantivy.Index(builder.build())  # in memory: derived from DuckDB on demand
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for mid, text in texts.items():
        doc = tantivy.Document()
        doc.add_integer("id", mid)
        doc.add_text("text", text)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def _keyword_search(index: tantivy.Index | None, query: str, k: int) -> list[tuple[int, float]]:
    terms = _WORD.findall(query.lower())[:64]
    if index is None or not terms:
        return []
    parsed, _errors = index.parse_query_lenient(" ".join(terms), ["text"])
    searcher = index.searcher()
    result = searcher.search(parsed, limit=k, count=False)
    return [(int(searcher.doc(a)["id"][0]), float(s)) for s, a in result.hits]
