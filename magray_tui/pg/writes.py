"""The commit's writes on PostgreSQL: `repository_writes.Writes` with the statements the
embedded store runs on registered NumPy frames done as `executemany` / array parameters.

`finish` runs inside the same transaction, last: it brings the keyword column (`tsv`) of
every touched record to its new text, tags and context (so search in the server never
lags a commit, and a failed commit changes neither), and queues a NOTIFY that every other
magray on the namespace receives when the transaction commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from magray_tui.memory.keyword_index import index_text
from magray_tui.memory.records import MemoryError_
from magray_tui.memory.repository_rows import (
    RECORD_COLUMNS,
    UPDATABLE,
    prepared_to_record,
    row_to_record,
    sql_value,
)
from magray_tui.memory.repository_writes import Writes
from magray_tui.pg.vectors import Vec

TEXT_SEARCH_CONFIG = "english"  # stems like the embedded keyword index's en_stem


def author_of(row: dict[str, Any], default: str) -> str:
    """Who wrote a record: its own author (assistant, tool, file, import, an MCP client),
    else the MCP client that sent it; what the local user typed is named user@host of this
    magray, so a team sees who it was."""
    author = str(row.get("author") or "")
    if author and author != "user":
        return author
    source = str(row.get("source") or "")
    return source if source.startswith("mcp:") else default


class PgWrites(Writes):
    def __init__(
        self, cur: Any, now: datetime, *, author: str, channel: str, instance: str
    ) -> None:
        super().__init__(cur, now)
        self.author = author
        self.channel = channel
        self.instance = instance
        self._keywords: set[int] = set()

    def _revs(self, n: int) -> list[int]:
        rows = self.cur.execute(
            "SELECT nextval('change_rev') FROM generate_series(1, ?)", [n]
        ).fetchall()
        revs = [int(r[0]) for r in rows]
        self.touched.rev = max(self.touched.rev, *revs)
        return revs

    def _rev_after_bulk(self) -> None:
        rev = int(self.cur.execute("SELECT currval('change_rev')").fetchall()[0][0])
        self.touched.rev = max(self.touched.rev, rev)

    # ---- records -------------------------------------------------------------------------
    def insert(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> list[int]:
        n = len(rows)
        if n == 0:
            return []
        cur = self.cur
        seqs = [
            int(r[0])
            for r in cur.execute(
                "SELECT nextval('memory_seq') FROM generate_series(1, ?)", [n]
            ).fetchall()
        ]
        revs = self._revs(n)
        vectors = np.asarray(vectors, dtype=np.float32)
        params = []
        for row, seq, rev, vec in zip(rows, seqs, revs, vectors, strict=True):
            record = prepared_to_record(row, seq)
            params.append(
                (
                    seq,
                    row["id"],
                    row["layer"].value,
                    row["text"],
                    row["kind"],
                    list(row["tags"]),
                    row["source"],
                    row.get("session"),
                    row["created_at"],
                    row.get("updated_at") or self.now,
                    row.get("layer_since") or row["created_at"],
                    float(row.get("importance", 0.5)),
                    bool(row.get("pinned", False)),
                    row["content_hash"],
                    json.dumps(row.get("metadata") or {}, default=str),
                    rev,
                    author_of(row, self.author),
                    Vec(vec),
                    index_text(record),
                )
            )
            self.touched.known[seq] = record
        cur.executemany(
            "INSERT INTO memories (seq, id, layer, text, kind, tags, source, session, "
            "created_at, updated_at, layer_since, access_count, importance, pinned, "
            "content_hash, metadata, state, rev, author, embedding, tsv) VALUES "
            "(?, ?, ?, ?, ?, ?::TEXT[], ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 'live', ?, ?, ?, "
            f"to_tsvector('{TEXT_SEARCH_CONFIG}', ?))",
            params,
        )
        self.touched.seqs.update(seqs)
        self.touched.vectors.update(zip(seqs, vectors, strict=True))
        return seqs

    def update(self, seq: int, fields: dict[str, Any], vector: np.ndarray | None = None) -> int:
        bad = set(fields) - UPDATABLE
        if bad:
            raise MemoryError_(f"cannot update {', '.join(sorted(bad))}")
        (rev,) = self._revs(1)
        self.touched.known.pop(int(seq), None)
        sets = ", ".join(f"{k} = ?" for k in fields) + ", rev = ?"
        args = [sql_value(k, v) for k, v in fields.items()] + [rev]
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32)
            sets += ", embedding = ?"
            args.append(Vec(vector))
            self.touched.vectors[int(seq)] = vector
        self.cur.execute(f"UPDATE memories SET {sets} WHERE seq = ?", [*args, int(seq)])
        self.touched.seqs.add(int(seq))
        self._keywords.add(int(seq))
        return rev

    def bulk_update(self, seqs: Sequence[int], sets: str, args: list[Any]) -> None:
        super().bulk_update(seqs, sets, args)
        self._keywords.update(map(int, seqs))

    def merge_many(
        self,
        sources: Sequence[tuple[int, str]],
        survivors: Sequence[tuple[int, Sequence[str], int]],
    ) -> None:
        if not sources:
            return
        self.cur.executemany(
            "UPDATE memories SET state = 'merged', merged_into = ?, forgotten_at = ?, "
            "rev = nextval('change_rev') WHERE seq = ?",
            [(into, self.now, int(seq)) for seq, into in sources],
        )
        # Added, not set: reads counted while the cycle ran are kept.
        self.cur.executemany(
            "UPDATE memories SET tags = ?::TEXT[], access_count = access_count + ?, "
            "rev = nextval('change_rev') WHERE seq = ?",
            [(list(tags), int(added), int(seq)) for seq, tags, added in survivors],
        )
        self._rev_after_bulk()
        for seq in [int(s) for s, _ in sources] + [int(s) for s, _, _ in survivors]:
            self.touched.seqs.add(seq)
            self.touched.known.pop(seq, None)
            self._keywords.add(seq)

    def set_metadata(self, changes: Sequence[tuple[int, dict[str, Any]]]) -> None:
        if not changes:
            return
        revs = self._revs(len(changes))
        self.cur.executemany(
            "UPDATE memories SET metadata = ?, updated_at = ?, rev = ? WHERE seq = ?",
            [
                (json.dumps(m, default=str), self.now, rev, int(s))
                for (s, m), rev in zip(changes, revs, strict=True)
            ],
        )
        self._keywords.update(int(s) for s, _ in changes)  # context words live in metadata

    def delete(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        (rev,) = self._revs(1)
        ids = list(map(int, seqs))
        for table in ("access_events", "memories"):
            self.cur.execute(f"DELETE FROM {table} WHERE seq = ANY(?::BIGINT[])", [ids])
        self.cur.execute("INSERT INTO purged SELECT unnest(?::BIGINT[]), ?", [ids, rev])
        self.touched.purged.update(ids)
        self._keywords.difference_update(ids)

    # ---- bookkeeping ---------------------------------------------------------------------
    def add_history(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        self.cur.executemany(
            "INSERT INTO memory_history VALUES (nextval('history_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r["record_id"],
                    r.get("ts") or self.now,
                    r["action"],
                    r.get("from_layer"),
                    r.get("to_layer"),
                    r.get("actor"),
                    r.get("reason"),
                    json.dumps(r.get("details") or {}, default=str),
                )
                for r in rows
            ],
        )

    def set_meta(self, key: str, value: str) -> None:
        self.cur.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def record_accesses(
        self, events: Sequence[tuple[int, datetime, str | None, float, int]]
    ) -> None:
        self.cur.executemany(
            "INSERT INTO access_events VALUES (?, ?, ?, ?, ?)",
            [(int(s), ts, sess, float(sc), int(rk)) for s, ts, sess, sc, rk in events],
        )
        per: dict[int, tuple[int, datetime]] = {}
        for seq, ts, *_ in events:
            n, last = per.get(int(seq), (0, ts))
            per[int(seq)] = (n + 1, max(last, ts))
        self.cur.executemany(
            "UPDATE memories SET access_count = access_count + ?, "
            "last_access = greatest(coalesce(last_access, ?), ?) WHERE seq = ?",
            [(n, last, last, seq) for seq, (n, last) in sorted(per.items())],
        )

    def ensure_vector_table(self, model_id: str, dim: int) -> None:  # pragma: no cover
        raise MemoryError_("the server store makes its vector column in PgStore")

    # ---- end of the transaction ----------------------------------------------------------
    def finish(self) -> None:
        """Keyword words of the touched records, and the notice for other magrays."""
        seqs = sorted(self._keywords - set(self.touched.known))
        if seqs:
            rows = self.cur.execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE seq = ANY(?::BIGINT[])", [seqs]
            ).fetchall()
            self.cur.executemany(
                f"UPDATE memories SET tsv = to_tsvector('{TEXT_SEARCH_CONFIG}', ?) WHERE seq = ?",
                [(index_text(row_to_record(r)), int(r[0])) for r in rows],
            )
        if self.touched.rev or self.touched.purged:
            payload = f"{self.instance}:{self.touched.rev}"  # who, and up to which revision
            self.cur.execute("SELECT pg_notify(?, ?)", [self.channel, payload])
