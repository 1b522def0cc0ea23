"""The memory repository on PostgreSQL: the embedded repository's reads, whose SQL is
portable, with the dialect-specific ones replaced (filters, counts, vectors, JSON paths)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from magray_tui.memory.records import Filters, Layer, State
from magray_tui.memory.repository import MemoryRepository
from magray_tui.memory.repository_rows import RECORD_COLUMNS


def pg_filters_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A WHERE clause (and its arguments) for the records `filters` allows."""
    where: list[str] = []
    args: list[Any] = []
    if filters.state is not None:
        where.append("state = ?")
        args.append(filters.state.value)
    if filters.layers:
        where.append("layer = ANY(?::TEXT[])")
        args.append([layer.value for layer in filters.layers])
    if filters.kinds:
        where.append("kind = ANY(?::TEXT[])")
        args.append(list(filters.kinds))
    if filters.tags:
        where.append("tags @> ?::TEXT[]")
        args.append(list(filters.tags))
    if filters.authors:
        where.append("author = ANY(?::TEXT[])")
        args.append(list(filters.authors))
    if filters.session:
        where.append("session = ?")
        args.append(filters.session)
    if filters.since:
        where.append("created_at >= ?")
        args.append(filters.since)
    if filters.until:
        where.append("created_at < ?")
        args.append(filters.until)
    return (" AND ".join(where) or "true"), args


class PgRepository(MemoryRepository):
    filters_sql = staticmethod(pg_filters_sql)
    file_path = "(metadata::jsonb ->> 'path')"
    changes_sql = (
        f"SELECT {RECORD_COLUMNS}, rev, embedding FROM memories WHERE rev > ? ORDER BY rev"
    )
    unconfirmed = "(m.metadata::jsonb -> 'confirmed') IS NULL"

    def counts(self) -> dict[str, int]:
        rows = self._cur().execute(
            "SELECT layer, state, count(*) FROM memories GROUP BY layer, state"
        )
        out = {layer.value: 0 for layer in Layer}
        out["forgotten"] = 0
        out["merged"] = 0
        for layer, state, n in rows.fetchall():
            key = layer if state == State.LIVE.value else state
            out[key] = out.get(key, 0) + int(n)
        return out

    def vectors_for(self, seqs: Sequence[int]) -> np.ndarray:
        if not len(seqs):
            return np.zeros((0, 0), dtype=np.float32)
        rows = (
            self._cur()
            .execute(
                "SELECT seq, embedding FROM memories WHERE seq = ANY(?::BIGINT[])",
                [list(map(int, seqs))],
            )
            .fetchall()
        )
        found = {int(s): v for s, v in rows}
        return np.stack([found[int(s)] for s in seqs]).astype(np.float32)

    def change_rev(self) -> int:
        """The newest revision taken on the server (cheap: the sequence's last value)."""
        rows = self._cur().execute("SELECT last_value, is_called FROM change_rev").fetchall()
        value, called = rows[0]
        return int(value) if called else 0
