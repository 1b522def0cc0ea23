"""Records that came from files: the ingest's state, kept in the records themselves.

A file chunk is an ordinary record (`source="file"`) whose metadata holds `path`,
`start_line`, `end_line`, `language`, `chunk_hash`, `file_hash`, `file_size`,
`file_mtime_ns`, `chunk_count` and `chunker`. These functions are the queries and batch
writes the ingest needs on top of MemoryService; like store.py, they hold their own SQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.memory.records import Layer, MemoryError_, State, utcnow

if TYPE_CHECKING:
    from magray_tui.memory.service import MemoryService

_PATH = "json_extract_string(metadata, '$.path')"


@dataclass(frozen=True)
class SourceRef:
    """A file chunk record, without its text: enough to diff a file against the store."""

    id: str
    seq: int
    layer: Layer
    state: State
    metadata: dict[str, Any]

    @property
    def path(self) -> str:
        return str(self.metadata.get("path", ""))


def _under_clause(under: str) -> tuple[str, list[Any]]:
    prefix = under.rstrip(os.sep) + os.sep
    return f"({_PATH} = ? OR starts_with({_PATH}, ?))", [under, prefix]


def file_records(
    svc: MemoryService,
    *,
    paths: Sequence[str] | None = None,
    under: str | None = None,
) -> list[SourceRef]:
    """File chunk records (live and forgotten) whose metadata.path is one of `paths`,
    or is `under` a folder (or is that path itself)."""
    where = ["source = 'file'"]
    args: list[Any] = []
    if paths is not None:
        if not paths:
            return []
        where.append(f"{_PATH} IN (SELECT unnest(?::VARCHAR[]))")
        args.append(list(paths))
    if under is not None:
        clause, more = _under_clause(under)
        where.append(clause)
        args.extend(more)
    rows = (
        svc.store._cursor()
        .execute(
            f"SELECT id, seq, layer, state, metadata FROM memories WHERE {' AND '.join(where)} "
            "ORDER BY seq",
            args,
        )
        .fetchall()
    )
    out = []
    for id_, seq, layer, state, meta in rows:
        try:
            data = json.loads(meta) if meta else {}
        except json.JSONDecodeError:
            data = {}
        out.append(SourceRef(id_, int(seq), Layer(layer), State(state), data))
    return out


def file_summary(svc: MemoryService, *, under: str | None = None) -> dict[str, int]:
    """Live chunk count per ingested file path (optionally under a folder)."""
    where = ["source = 'file'", "state = 'live'"]
    args: list[Any] = []
    if under is not None:
        clause, more = _under_clause(under)
        where.append(clause)
        args.extend(more)
    rows = (
        svc.store._cursor()
        .execute(
            f"SELECT {_PATH} AS p, count(*) FROM memories WHERE {' AND '.join(where)} "
            "GROUP BY p ORDER BY p",
            args,
        )
        .fetchall()
    )
    return {str(p): int(n) for p, n in rows if p is not None}


def set_metadata(svc: MemoryService, changes: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """Replace the metadata of many records (by seq) in one transaction.

    Text, tags, layer and vectors are untouched, so the indexes need no new entries: only
    their watermark moves past the new revisions. No history rows (bookkeeping, such as
    line numbers that moved, not an edit by anyone)."""
    if not changes:
        return 0
    if svc.read_only:
        raise MemoryError_(svc.store.note or "the memory database is open read-only")
    store = svc.store
    n = len(changes)
    meta = np.empty(n, dtype=object)
    meta[:] = [json.dumps(m, default=str) for _, m in changes]
    with svc._write_lock, store.write_lock:
        conn = store._conn
        conn.execute("BEGIN TRANSACTION")
        try:
            revs = [
                r[0]
                for r in conn.execute("SELECT nextval('change_rev') FROM range(?)", [n]).fetchall()
            ]
            conn.register(
                "_meta_updates",
                {
                    "seq": np.asarray([int(s) for s, _ in changes], dtype=np.int64),
                    "metadata": meta,
                    "rev": np.asarray(revs, dtype=np.int64),
                },
            )
            conn.execute(
                "UPDATE memories SET metadata = u.metadata, updated_at = ?, rev = u.rev "
                "FROM _meta_updates u WHERE memories.seq = u.seq",
                [svc.clock()],
            )
            conn.unregister("_meta_updates")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        svc.indexes.apply([], None, max(revs))
    return n


def drop(
    svc: MemoryService, refs: Sequence[SourceRef], *, reason: str, actor: str = "ingest"
) -> int:
    """Delete file chunk records for good (no tombstone: they are derived from a file,
    not knowledge anyone wrote), with one `purge` history row each."""
    if not refs:
        return 0
    if svc.read_only:
        raise MemoryError_(svc.store.note or "the memory database is open read-only")
    store = svc.store
    seqs = [r.seq for r in refs]
    with svc._write_lock:
        rev = store.delete(seqs)
        svc.indexes.drop(seqs, rev)
        with store.write_lock:
            store._conn.execute(
                "INSERT INTO memory_history SELECT nextval('history_seq'), t.id, ?, 'purge', "
                "t.layer, NULL, ?, ?, '{}' FROM (SELECT unnest(?::VARCHAR[]) AS id, "
                "unnest(?::VARCHAR[]) AS layer) t",
                [utcnow(), actor, reason, [r.id for r in refs], [r.layer.value for r in refs]],
            )
    return len(refs)
