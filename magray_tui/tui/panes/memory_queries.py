"""The memory browser's reads: one request in, the rows to show out (runs in a worker)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from magray_tui.tui.widgets.record_table import ResultRow

if TYPE_CHECKING:
    from magray_tui.memory import MemoryService

ANY = "all"  # the filter value that filters nothing
LAYER_CHOICES = ("all", "interact", "insights", "assets")
MODE_CHOICES = ("hybrid", "vector", "keyword")
SORT_CHOICES = ("score", "date", "accesses")
RESULT_LIMIT = 100
# Hits per search: more than a screen holds; at 100k records k=50 costs 13 ms against
# 31 ms for k=100 (the hits are fetched from DuckDB), and search runs as you type.
SEARCH_LIMIT = 50
TOMBSTONE_LIMIT = 500


@dataclass(frozen=True)
class QueryRequest:
    generation: int
    query: str = ""
    layer: str = "all"
    kind: str = "all"
    tag: str = "all"
    author: str = "all"
    mode: str = "hybrid"
    sort: str = "score"
    tombstones: bool = False
    keep: str | None = None  # record id the cursor should stay on

    @property
    def searching(self) -> bool:
        return bool(self.query.strip()) and not self.tombstones

    @property
    def layers(self) -> list[str] | None:
        return None if self.layer == ANY else [self.layer]

    @property
    def kinds(self) -> list[str] | None:
        return None if self.kind == ANY else [self.kind]

    @property
    def tags(self) -> list[str] | None:
        return None if self.tag == ANY else [self.tag]

    @property
    def authors(self) -> list[str] | None:
        return None if self.author == ANY else [self.author]

    @property
    def filtered(self) -> bool:
        return any(v != ANY for v in (self.layer, self.kind, self.tag, self.author))

    def scope(self) -> str:
        """` in insights · kind fact · tag tea`: the filters in words ('' for none)."""
        out = "" if self.layer == ANY else f" in {self.layer}"
        if self.kind != ANY:
            out += f" · kind {self.kind}"
        if self.tag != ANY:
            out += f" · tag {self.tag}"
        if self.author != ANY:
            out += f" · by {self.author}"
        return out


def fetch_rows(memory: MemoryService, req: QueryRequest) -> list[ResultRow]:
    layers, kinds, tags, authors = req.layers, req.kinds, req.tags, req.authors
    if req.tombstones:
        # Tombstones are not in the search indexes: match them by the query's words (any
        # word, as a prefix), most words first, so a record found by a search is found
        # here too once forgotten (a whole-query substring rarely matched).
        records = memory.list(
            layers, kinds, tags, forgotten=True, limit=TOMBSTONE_LIMIT, authors=authors
        )
        words = set(_WORD.findall(req.query.casefold()))
        scored = [(word_hits(words, r.text), r) for r in records]
        scored = [(n, r) for n, r in scored if n or not words]
        scored.sort(key=lambda nr: (nr[0], nr[1].forgotten_at or datetime.min), reverse=True)
        return sort_rows([ResultRow(r) for _, r in scored[:RESULT_LIMIT]], req.sort)
    if req.searching:
        # Browsing is not the agent recalling: it must not inflate access counts, which
        # feed promotion.
        hits = memory.search(
            req.query,
            k=SEARCH_LIMIT,
            layers=layers,
            kinds=kinds,
            tags=tags,
            mode=req.mode,
            count_access=False,
            prefix=True,  # typed as you go: `stag` finds "staging"
            authors=authors,
        )
        return sort_rows([ResultRow(h.record, h.score, dict(h.parts)) for h in hits], req.sort)
    order = "access_count DESC" if req.sort == "accesses" else "created_at DESC"
    records = memory.list(layers, kinds, tags, order=order, limit=RESULT_LIMIT, authors=authors)
    return [ResultRow(r) for r in records]


_WORD = re.compile(r"\w+")


def word_hits(words: set[str], text: str) -> int:
    """How many of `words` start a word of `text` (case-insensitive)."""
    found = _WORD.findall(text.casefold())
    return sum(1 for w in words if any(t.startswith(w) for t in found))


def sort_rows(rows: list[ResultRow], sort: str) -> list[ResultRow]:
    """`score` keeps the ranking as given; the other orders are stable over it."""
    if sort == "date":
        return sorted(rows, key=lambda r: r.record.created_at, reverse=True)
    if sort == "accesses":
        return sorted(rows, key=lambda r: r.record.access_count, reverse=True)
    return rows


def summary(req: QueryRequest, count: int, seconds: float) -> str:
    where = req.scope()
    query = req.query.strip()
    if req.tombstones:
        what = f"{count} forgotten memor{'y' if count == 1 else 'ies'}{where}"
        if query:
            what += f" matching words of {query!r}"
        return what + " · r restores · t back to live memories"
    if req.searching:
        found = f"{count} result{'s' * (count != 1)}" if count else "No results"
        return f"{found}{where} · {req.mode} · {seconds * 1000:.0f} ms"
    if not count:
        if req.filtered:
            return f"No memories{where} · l, k, g and h change the filters"
        return "No memories yet · a adds one (or `magray memory add TEXT` from a shell)"
    noun = "memory" if count == 1 else "memories"
    by = "most read" if req.sort == "accesses" else "most recent"
    return f"{count} {by} {noun}{where} · / to search · a to add"
