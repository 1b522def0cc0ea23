"""The memory repository on DuckDB: every read of memory rows (writes are in
`repository_writes.py`, run inside the one commit). The PostgreSQL backend is a second
implementation of `protocols.Repository`, not a fork of this one."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from magray_tui.db import Database
from magray_tui.memory.records import Filters, Layer, MemoryError_, Record, RecordNotFound, State
from magray_tui.memory.repository_rows import (
    N_RECORD_COLUMNS,
    RECORD_COLUMNS,
    filters_sql,
    row_to_record,
)

ORDERS = frozenset(
    {
        "created_at DESC",
        "created_at ASC",
        "access_count DESC",
        "updated_at DESC",
        "last_access DESC",
        "importance DESC",
    }
)
FEATURE_SQL = """
WITH acc AS (
    SELECT seq, count(DISTINCT session) AS sessions, avg(least(greatest(score, 0), 1)) AS rel
    FROM access_events GROUP BY seq
), moves AS (
    SELECT record_id, count(*) AS n FROM memory_history
    WHERE actor <> 'user' AND action IN ('promote', 'merge') AND ts >= ?
    GROUP BY record_id
)
SELECT m.seq, m.id, m.layer, m.created_at, m.layer_since, m.last_access, m.access_count,
       m.importance, m.pinned, length(m.text) AS chars,
       CASE WHEN m.author IN ('assistant', 'tool') AND NOT m.pinned  -- JSON read only then
            THEN {unconfirmed} ELSE false END AS unconfirmed,
       coalesce(acc.sessions, 0) AS sessions, coalesce(acc.rel, 0) AS rel,
       coalesce(moves.n, 0) AS moves_today
FROM memories m
LEFT JOIN acc ON acc.seq = m.seq
LEFT JOIN moves ON moves.record_id = m.id
WHERE m.state = 'live' {extra}
ORDER BY m.seq
"""
FILE_PATH = "json_extract_string(metadata, '$.path')"
UNCONFIRMED = "NOT json_valid(m.metadata) OR json_extract(m.metadata, '$.confirmed') IS NULL"
MIN_ID_PREFIX = 4  # shorter id prefixes would match too many memories to mean one


class MemoryRepository:
    """Reads of memories, vectors, history and the change log, on `db`'s cursors."""

    # The dialect-specific pieces a second backend replaces (see magray_tui/pg/repository.py).
    filters_sql = staticmethod(filters_sql)
    file_path = FILE_PATH
    unconfirmed = UNCONFIRMED  # model-written text nobody confirmed (metadata.confirmed)

    def __init__(self, db: Database) -> None:
        self.db = db

    def _cur(self) -> Any:
        return self.db.cursor()

    # ---- records ---------------------------------------------------------------------------
    def get(self, ref: str, *, include_forgotten: bool = True) -> Record:
        """A record by id, or by an unambiguous id prefix of at least MIN_ID_PREFIX
        characters (a shorter one is refused with a message saying so)."""
        ref = (ref or "").strip()
        cur = self._cur()
        found = cur.execute(f"SELECT {RECORD_COLUMNS} FROM memories WHERE id = ?", [ref])
        rows = found.fetchall()  # read to the end: an unfinished result blocks the cursor
        row = rows[0] if rows else None
        if row is None and len(ref) >= MIN_ID_PREFIX:
            rows = cur.execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE starts_with(id, ?) LIMIT 2", [ref]
            ).fetchall()
            if len(rows) > 1:
                raise MemoryError_(f"id prefix {ref!r} matches several memories; type more of it")
            row = rows[0] if rows else None
        if row is None and 0 < len(ref) < MIN_ID_PREFIX:
            raise RecordNotFound(
                f"no memory with id {ref!r}; type at least {MIN_ID_PREFIX} characters of an id"
            )
        if row is None:
            raise RecordNotFound(f"no memory with id {ref!r}")
        record = row_to_record(row)
        if record.state is State.FORGOTTEN and not include_forgotten:
            raise RecordNotFound(f"memory {record.id} is forgotten (restore it first)")
        return record

    def get_many(self, seqs: Sequence[int]) -> dict[int, Record]:
        if not len(seqs):
            return {}
        rows = (
            self._cur()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE seq IN (SELECT unnest(?::BIGINT[]))",
                [list(map(int, seqs))],
            )
            .fetchall()
        )
        return {int(r[0]): row_to_record(r) for r in rows}

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        sql = "SELECT id FROM memories WHERE id IN (SELECT unnest(?::VARCHAR[]))"
        return {r[0] for r in self._cur().execute(sql, [list(ids)]).fetchall()}

    def existing_hashes(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (content_hash, layer) pairs a record not forgotten already holds: an
        import without ids uses it to skip what it has already stored."""
        if not pairs:
            return set()
        rows = (
            self._cur()
            .execute(
                "SELECT DISTINCT content_hash, layer FROM memories "
                "WHERE content_hash IN (SELECT unnest(?::VARCHAR[])) AND state <> 'forgotten'",
                [sorted({h for h, _ in pairs})],
            )
            .fetchall()
        )
        return {(h, layer) for h, layer in rows} & set(pairs)

    def find_by_hash(self, content_hash: str, layer: Layer) -> Record | None:
        row = (
            self._cur()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE content_hash = ? AND layer = ? "
                "AND state = 'live' LIMIT 1",
                [content_hash, layer.value],
            )
            .fetchall()
        )
        return row_to_record(row[0]) if row else None

    def list(
        self, filters: Filters, *, order: str = "created_at DESC", limit: int = 50, offset: int = 0
    ) -> list[Record]:
        if order not in ORDERS:
            raise MemoryError_(f"cannot sort by {order!r}")
        where, args = self.filters_sql(filters)
        rows = (
            self._cur()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE {where} "
                f"ORDER BY {order} NULLS LAST, seq DESC LIMIT ? OFFSET ?",
                [*args, int(limit), int(offset)],
            )
            .fetchall()
        )
        return [row_to_record(r) for r in rows]

    def iter_records(self, filters: Filters, batch: int = 2000) -> Iterable[Record]:
        where, args = self.filters_sql(filters)
        cur = self.db.stream_cursor()
        try:
            cur.execute(f"SELECT {RECORD_COLUMNS} FROM memories WHERE {where} ORDER BY seq", args)
            while rows := cur.fetchmany(batch):
                yield from (row_to_record(r) for r in rows)
        finally:
            cur.close()

    def allowed_seqs(self, filters: Filters) -> np.ndarray:
        where, args = self.filters_sql(filters)
        res = self._cur().execute(f"SELECT seq FROM memories WHERE {where}", args).fetchnumpy()
        return res["seq"].astype(np.int64)

    def vectors_for(self, seqs: Sequence[int]) -> np.ndarray:
        rows = (
            self._cur()
            .execute(
                "SELECT seq, vec FROM vectors WHERE seq IN (SELECT unnest(?::BIGINT[]))",
                [list(map(int, seqs))],
            )
            .fetchnumpy()
        )
        order = {int(s): i for i, s in enumerate(rows["seq"])}
        return np.stack([rows["vec"][order[int(s)]] for s in seqs]).astype(np.float32)

    # ---- counts --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        rows = self._cur().execute("SELECT layer, state, count(*) FROM memories GROUP BY ALL")
        out = {layer.value: 0 for layer in Layer}
        out["forgotten"] = 0
        out["merged"] = 0
        for layer, state, n in rows.fetchall():
            key = layer if state == State.LIVE.value else state
            out[key] = out.get(key, 0) + n
        return out

    def live_count(self) -> int:
        row = self._cur().execute("SELECT count(*) FROM memories WHERE state = 'live'").fetchall()
        return int(row[0][0]) if row else 0

    def facets(self, filters: Filters, top_tags: int = 30) -> dict[str, list[tuple[str, int]]]:
        """Kinds and authors (all, most common first) and the `top_tags` most common tags
        of the records `filters` allows: the choices the memory browser's filters offer."""
        where, args = self.filters_sql(filters)
        cur = self._cur()
        kinds = cur.execute(
            f"SELECT kind, count(*) AS n FROM memories WHERE {where} "
            "GROUP BY kind ORDER BY n DESC, kind",
            args,
        ).fetchall()
        tags = cur.execute(
            f"SELECT tag, count(*) AS n FROM (SELECT unnest(tags) AS tag FROM memories "
            f"WHERE {where}) GROUP BY tag ORDER BY n DESC, tag LIMIT ?",
            [*args, int(top_tags)],
        ).fetchall()
        authors = cur.execute(
            f"SELECT author, count(*) AS n FROM memories WHERE {where} "
            "GROUP BY author ORDER BY n DESC, author",
            args,
        ).fetchall()
        return {
            "kinds": [(str(k), int(n)) for k, n in kinds],
            "tags": [(str(t), int(n)) for t, n in tags],
            "authors": [(str(a or "user"), int(n)) for a, n in authors],
        }

    # ---- change log (for the indexes) ----------------------------------------------------
    def max_rev(self) -> int:
        row = (
            self._cur()
            .execute(
                "SELECT greatest((SELECT coalesce(max(rev), 0) FROM memories), "
                "(SELECT coalesce(max(rev), 0) FROM purged))"
            )
            .fetchall()
        )
        return int(row[0][0]) if row else 0

    def iter_changes(
        self, after_rev: int, batch: int = 5000
    ) -> Iterator[tuple[np.ndarray, list[Record], np.ndarray]]:
        """Records changed after `after_rev`, with their vectors, in batches (for catch-up)."""
        cur = self.db.stream_cursor()
        try:
            cur.execute(
                f"SELECT {RECORD_COLUMNS.replace('seq,', 'm.seq,', 1)}, m.rev, v.vec "
                "FROM memories m LEFT JOIN vectors v ON v.seq = m.seq WHERE m.rev > ? "
                "ORDER BY m.rev",
                [int(after_rev)],
            )
            while rows := cur.fetchmany(batch):
                n = N_RECORD_COLUMNS
                records = [row_to_record(r[:n]) for r in rows]
                revs = np.array([r[n] for r in rows], dtype=np.int64)
                vecs = [r[n + 1] for r in rows]
                dim = next((len(v) for v in vecs if v is not None), 0)
                mat = np.zeros((len(rows), dim), dtype=np.float32)
                for i, v in enumerate(vecs):
                    if v is not None:
                        mat[i] = v
                yield revs, records, mat
        finally:
            cur.close()

    def purged_since(self, after_rev: int) -> list[int]:
        rows = self._cur().execute("SELECT seq FROM purged WHERE rev > ?", [int(after_rev)])
        return [int(r[0]) for r in rows.fetchall()]

    # ---- history and lifecycle inputs ----------------------------------------------------
    def history(self, record_id: str) -> list[dict[str, Any]]:
        rows = (
            self._cur()
            .execute(
                "SELECT hid, ts, action, from_layer, to_layer, actor, reason, details "
                "FROM memory_history WHERE record_id = ? ORDER BY hid",
                [record_id],
            )
            .fetchall()
        )
        keys = ("hid", "ts", "action", "from_layer", "to_layer", "actor", "reason", "details")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def superseded_by_ids(self, ids: Sequence[str]) -> list[Record]:
        """The records that any of `ids` supersedes (their `superseded_by` is one of them),
        newest first."""
        if not ids:
            return []
        rows = (
            self._cur()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories "
                "WHERE superseded_by IN (SELECT unnest(?::VARCHAR[])) "
                "ORDER BY valid_until DESC, seq DESC",
                [list(ids)],
            )
            .fetchall()
        )
        return [row_to_record(r) for r in rows]

    def forgotten_before(self, cutoff: datetime) -> list[int]:
        rows = self._cur().execute(
            "SELECT seq FROM memories WHERE state = 'forgotten' AND forgotten_at < ?", [cutoff]
        )
        return [int(r[0]) for r in rows.fetchall()]

    def feature_rows(self, now: datetime, seqs: Sequence[int] | None = None) -> dict[str, Any]:
        """Raw per-record inputs of the promotion features, as NumPy columns."""
        extra, args = "", [now - timedelta(days=1)]
        if seqs is not None:
            extra = "AND m.seq IN (SELECT unnest(?::BIGINT[]))"
            args.append(list(map(int, seqs)))
        return (
            self._cur()
            .execute(FEATURE_SQL.format(extra=extra, unconfirmed=self.unconfirmed), args)
            .fetchnumpy()
        )

    def user_decisions(self) -> list[dict[str, Any]]:
        """The user's own promote / demote / pin / forget decisions with the features then."""
        rows = self._cur().execute(
            "SELECT record_id, action, details FROM memory_history WHERE actor = 'user' "
            "AND action IN ('promote', 'merge', 'demote', 'pin', 'confirm', 'forget') "
            "ORDER BY hid"
        )
        out = []
        for record_id, action, details in rows.fetchall():
            data = json.loads(details or "{}")
            if "features" in data:
                # A promotion that turned into a merge was still the user saying "keep this".
                label = "promote" if action == "merge" else action
                out.append({"record_id": record_id, "action": label, "features": data["features"]})
        return out

    def last_cycle(self) -> datetime | None:
        value = self.db.get_meta("last_cycle_at")
        return datetime.fromisoformat(value) if value else None

    # ---- records from files (the ingest's state) -----------------------------------------
    def file_rows(
        self, *, paths: Sequence[str] | None, under: str | None
    ) -> list[tuple[str, int, str, str, str]]:
        """(id, seq, layer, state, metadata) of file chunk records by path or folder."""
        where, args = ["source = 'file'"], []
        if paths is not None:
            where.append(f"{self.file_path} IN (SELECT unnest(?::VARCHAR[]))")
            args.append(list(paths))
        if under is not None:
            clause, more = under_clause(under, self.file_path)
            where.append(clause)
            args.extend(more)
        sql = f"SELECT id, seq, layer, state, metadata FROM memories WHERE {' AND '.join(where)}"
        return self._cur().execute(sql + " ORDER BY seq", args).fetchall()

    def file_summary(self, *, under: str | None = None) -> dict[str, int]:
        """Live chunk count per ingested file path (optionally under a folder)."""
        where, args = ["source = 'file'", "state = 'live'"], []
        if under is not None:
            clause, more = under_clause(under, self.file_path)
            where.append(clause)
            args.extend(more)
        rows = self._cur().execute(
            f"SELECT {self.file_path} AS p, count(*) FROM memories WHERE {' AND '.join(where)} "
            "GROUP BY p ORDER BY p",
            args,
        )
        return {str(p): int(n) for p, n in rows.fetchall() if p is not None}


def under_clause(under: str, path: str = FILE_PATH) -> tuple[str, list[Any]]:
    import os

    prefix = under.rstrip(os.sep) + os.sep
    return f"({path} = ? OR starts_with({path}, ?))", [under, prefix]
