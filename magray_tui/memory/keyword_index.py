"""The tantivy keyword index (BM25): a derived cache of the texts in DuckDB.

Documents are keyed by the record's `seq`; every write is an upsert (delete by term, then
add), so replaying changes after a crash is harmless. The watermark of the last commit is
kept in a JSON sidecar written after the commit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import tantivy

from magray_tui.memory.records import Filters, Record

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4  # bumped when index_text or the fields change: old indexes rebuild
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_QUERY_TERMS = 64
# Search-as-you-type matches the last word as a prefix from this many characters on (one
# letter would match most of the index).
MIN_PREFIX_CHARS = 2


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    # i64, not u64: deleting by a u64 term silently does nothing in tantivy-py 0.27.
    b.add_integer_field("seq", stored=True, indexed=True, fast=True)
    b.add_text_field("text", stored=False, tokenizer_name="en_stem", index_option="freq")
    # The words unstemmed (lowercased), for prefix matching: "stagi" is a prefix of the
    # word "staging" but not of its stem "stage".
    b.add_text_field("words", stored=False, tokenizer_name="default", index_option="basic")
    for name in ("layer", "kind", "tags", "session"):
        b.add_text_field(name, stored=False, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("created", stored=False, indexed=True, fast=True)
    return b.build()


class KeywordIndex:
    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.dir = Path(directory)
        self.read_only = read_only
        self.watermark = 0
        self._lock = threading.RLock()
        self._schema = _schema()
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._pending = 0

    @property
    def _meta_path(self) -> Path:
        return self.dir / "keyword.json"

    def open(self) -> bool:
        """Open the on-disk index; False means it was missing or unusable and starts empty."""
        loaded = False
        try:
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            if meta.get("schema") == SCHEMA_VERSION and tantivy.Index.exists(str(self.dir)):
                self._index = tantivy.Index(self._schema, path=str(self.dir), reuse=True)
                self.watermark = int(meta["watermark"])
                loaded = True
        except FileNotFoundError:
            pass
        except Exception as exc:
            log.warning("keyword index unreadable (%s); rebuilding", exc)
        if not loaded:
            if self.read_only:
                self._index = tantivy.Index(self._schema)  # in memory: nothing on disk to read
            else:
                self._wipe()
        if not self.read_only:
            assert self._index is not None
            self._writer = self._index.writer(heap_size=50_000_000, num_threads=1)
        return loaded

    def _wipe(self) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._index = tantivy.Index(self._schema, path=str(self.dir), reuse=False)
        self.watermark = 0

    def reset(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.rollback()
                self._writer = None
            self._wipe()
            self._writer = self._index.writer(heap_size=50_000_000, num_threads=1)

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None

    # ---- writes --------------------------------------------------------------------------
    def upsert(self, records: Sequence[Record]) -> None:
        with self._lock:
            writer = self._require_writer()
            for rec in records:
                writer.delete_documents_by_term("seq", rec.seq)
                doc = tantivy.Document()
                doc.add_integer("seq", rec.seq)
                doc.add_text("text", index_text(rec))
                doc.add_text("words", rec.text)
                doc.add_text("layer", rec.layer.value)
                doc.add_text("kind", rec.kind)
                for tag in rec.tags:
                    doc.add_text("tags", tag)
                if rec.session:
                    doc.add_text("session", rec.session)
                doc.add_integer("created", _epoch(rec.created_at))
                writer.add_document(doc)
            self._pending += len(records)

    def remove(self, seqs: Sequence[int]) -> None:
        with self._lock:
            writer = self._require_writer()
            for seq in seqs:
                writer.delete_documents_by_term("seq", int(seq))
            self._pending += len(seqs)

    def commit(self, watermark: int) -> None:
        """Make writes durable and visible, then record the watermark they reach."""
        with self._lock:
            writer = self._require_writer()
            writer.commit()
            assert self._index is not None
            self._index.reload()
            tmp = self._meta_path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "watermark": int(watermark)}))
            os.replace(tmp, self._meta_path)
            self.watermark = int(watermark)
            self._pending = 0

    def _require_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("keyword index is open read-only")
        return self._writer

    # ---- reads ---------------------------------------------------------------------------
    def search(
        self, query: str, k: int, filters: Filters | None = None, *, prefix: bool = False
    ) -> list[tuple[int, float]]:
        """Top-k (seq, BM25 score) for the words of `query`; operators are not interpreted.
        With `prefix` (search-as-you-type) the last word also matches the words it starts:
        `stag` finds "staging"."""
        terms = _WORD.findall(query.lower())[:_MAX_QUERY_TERMS]
        if not terms or k <= 0 or self._index is None:
            return []
        index = self._index
        parsed, _errors = index.parse_query_lenient(" ".join(terms), ["text"])
        if prefix and len(terms[-1]) >= MIN_PREFIX_CHARS:
            starts = tantivy.Query.regex_query(self._schema, "words", re.escape(terms[-1]) + ".*")
            should = tantivy.Occur.Should
            parsed = tantivy.Query.boolean_query([(should, parsed), (should, starts)])
        clauses = [(tantivy.Occur.Must, parsed)]
        if filters is not None:
            clauses.extend(_filter_clauses(self._schema, filters))
        q = tantivy.Query.boolean_query(clauses) if len(clauses) > 1 else parsed
        searcher = index.searcher()
        result = searcher.search(q, limit=k, count=False)
        out: list[tuple[int, float]] = []
        for score, address in result.hits:
            doc = searcher.doc(address)
            out.append((int(doc["seq"][0]), float(score)))
        return out

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.searcher().num_docs)


_CONTEXT_CHARS = 4000


def index_text(rec: Record) -> str:
    """What the keyword index sees (the stored text itself is unchanged).

    - the text and its tags;
    - `metadata["context"]`, when a string: words that give the record its meaning without
      being part of it, e.g. the message a chat turn answers ("Sure, tomorrow!" is found
      by the question it answered);
    - the record's date as words ("Monday 8 May 2023"), so "what did we say in May 2023"
      or "on 8 May" can match by keyword.
    """
    parts = [rec.text]
    if rec.tags:
        parts.append(" ".join(rec.tags))
    context = rec.metadata.get("context") if isinstance(rec.metadata, dict) else None
    if isinstance(context, str) and context.strip():
        parts.append(context[:_CONTEXT_CHARS])
    if rec.created_at is not None:
        d = rec.created_at
        parts.append(f"{d:%A} {d.day} {d:%B} {d.year}")
    return "\n".join(parts)


def _epoch(value: datetime) -> int:
    return int((value - datetime(1970, 1, 1)).total_seconds())


def _any_of(schema: tantivy.Schema, field: str, values: Sequence[str]) -> tantivy.Query:
    terms = [tantivy.Query.term_query(schema, field, v) for v in values]
    if len(terms) == 1:
        return terms[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, t) for t in terms])


def _filter_clauses(
    schema: tantivy.Schema, f: Filters
) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    must = tantivy.Occur.Must
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    if f.layers:
        clauses.append((must, _any_of(schema, "layer", [layer.value for layer in f.layers])))
    if f.kinds:
        clauses.append((must, _any_of(schema, "kind", list(f.kinds))))
    for tag in f.tags or ():
        clauses.append((must, tantivy.Query.term_query(schema, "tags", tag)))
    if f.session:
        clauses.append((must, tantivy.Query.term_query(schema, "session", f.session)))
    if f.since or f.until:
        lo = _epoch(f.since) if f.since else -(2**62)
        hi = _epoch(f.until) - 1 if f.until else 2**62
        clauses.append(
            (must, tantivy.Query.range_query(schema, "created", tantivy.FieldType.Integer, lo, hi))
        )
    return clauses
