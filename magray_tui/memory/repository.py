"""The memory repository on DuckDB: every read of memory rows (writes are in
`repository_writes.py`, run inside the one commit; history, promotion inputs and file
chunks in the mixin in `repository_queries.py`). The PostgreSQL backend is a second
implementation of `protocols.Repository`, not a fork of this one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from magray_tui.db import Database
from magray_tui.memory.records import Filters, Layer, MemoryError_, Record, RecordNotFound, State
from magray_tui.memory.repository_queries import FILE_PATH, UNCONFIRMED, HistoryAndFileReads
from magray_tui.memory.repository_queries import under_clause as under_clause  # re-exported
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
MIN_ID_PREFIX = 4  # shorter id prefixes would match too many memories to mean one


class MemoryRepository(HistoryAndFileReads):
    """Reads of memories, vectors, history and the change log, on `db`'s cursors (history,
    lifecycle inputs and file chunks in the mixin, `repository_queries.py`)."""

    # The dialect-specific pieces a second backend replaces (see magray_tui/pg/repository.py).
    filters_sql = staticmethod(filters_sql)
    file_path = FILE_PATH
    # Records changed after a revision, with their vectors (the change feed indexes follow).
    changes_sql = (
        f"SELECT {RECORD_COLUMNS.replace('seq,', 'm.seq,', 1)}, m.rev, v.vec "
        "FROM memories m LEFT JOIN vectors v ON v.seq = m.seq WHERE m.rev > ? ORDER BY m.rev"
    )
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
            cur.execute(self.changes_sql, [int(after_rev)])
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
