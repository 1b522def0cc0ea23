"""Every write of memory rows, bound to one open transaction (see `commit.py`).

Each change to a record takes a new revision from `change_rev`; `Writes` remembers which
records changed, which lost or got vectors and the highest revision, so the commit can
bring both indexes to exactly that revision afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from magray_tui.memory.records import MemoryError_, Record
from magray_tui.memory.repository_rows import (
    UPDATABLE,
    history_columns,
    insert_columns,
    obj,
    prepared_to_record,
    sql_value,
)


@dataclass
class Touched:
    """What a transaction changed, for the indexes to follow."""

    seqs: set[int] = field(default_factory=set)  # rows whose layer, text, tags or state moved
    vectors: dict[int, np.ndarray] = field(default_factory=dict)  # new vectors, by seq
    reembed: set[int] = field(default_factory=set)  # vectors to re-read from the store
    purged: set[int] = field(default_factory=set)
    known: dict[int, Record] = field(default_factory=dict)  # inserted rows, as written
    rev: int = 0  # the highest revision taken; 0: no record changed


class Writes:
    """The write half of the repository; construct only through `Committer.commit`."""

    def __init__(self, cur: Any, now: datetime) -> None:
        self.cur = cur
        self.now = now
        self.touched = Touched()

    def _revs(self, n: int) -> list[int]:
        rows = self.cur.execute("SELECT nextval('change_rev') FROM range(?)", [n]).fetchall()
        revs = [int(r[0]) for r in rows]
        self.touched.rev = max(self.touched.rev, *revs)
        return revs

    def _rev_after_bulk(self) -> None:
        rev = int(self.cur.execute("SELECT currval('change_rev')").fetchall()[0][0])
        self.touched.rev = max(self.touched.rev, rev)

    # ---- records -------------------------------------------------------------------------
    def insert(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> list[int]:
        """Insert records with their vectors; returns their seqs."""
        n = len(rows)
        if n == 0:
            return []
        cur = self.cur
        sql = "SELECT nextval('memory_seq') FROM range(?)"
        seqs = [int(r[0]) for r in cur.execute(sql, [n]).fetchall()]
        revs = self._revs(n)
        cur.register("_new_rows", insert_columns(rows, seqs, revs, self.now))
        try:
            cur.execute(
                "INSERT INTO memories (seq, id, layer, text, kind, tags, source, author, "
                "session, created_at, updated_at, layer_since, access_count, importance, "
                "pinned, content_hash, metadata, state, rev) SELECT seq, id, layer, text, "
                "kind, tags::VARCHAR[], source, author, session, created_at, updated_at, "
                "layer_since, 0, importance, pinned, content_hash, metadata, 'live', rev "
                "FROM _new_rows"
            )
        finally:
            cur.unregister("_new_rows")
        vectors = np.asarray(vectors, dtype=np.float32)
        vec_obj = obj(list(vectors))
        cur.register("_new_vecs", {"seq": np.asarray(seqs, dtype=np.int64), "vec": vec_obj})
        try:
            dim = vectors.shape[1]
            cur.execute(f"INSERT INTO vectors SELECT seq, vec::FLOAT[{dim}] FROM _new_vecs")
        finally:
            cur.unregister("_new_vecs")
        self.touched.seqs.update(seqs)
        self.touched.vectors.update(zip(seqs, vectors, strict=True))
        for row, seq in zip(rows, seqs, strict=True):
            self.touched.known[seq] = prepared_to_record(row, seq)
        return seqs

    def update(self, seq: int, fields: dict[str, Any], vector: np.ndarray | None = None) -> int:
        """Change some columns of one record (and its vector); returns the new rev."""
        bad = set(fields) - UPDATABLE
        if bad:
            raise MemoryError_(f"cannot update {', '.join(sorted(bad))}")
        (rev,) = self._revs(1)
        self.touched.known.pop(int(seq), None)
        sets = ", ".join(f"{k} = ?" for k in fields) + ", rev = ?"
        args = [sql_value(k, v) for k, v in fields.items()] + [rev, int(seq)]
        self.cur.execute(f"UPDATE memories SET {sets} WHERE seq = ?", args)
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32)
            self.cur.execute(
                f"UPDATE vectors SET vec = ?::FLOAT[{len(vector)}] WHERE seq = ?",
                [vector.tolist(), int(seq)],
            )
            # A re-embed's staged vector of the old text is stale: it embeds the record again.
            self.cur.execute("DELETE FROM vectors_next WHERE seq = ?", [int(seq)])
            self.touched.vectors[int(seq)] = vector
        elif "state" in fields and str(sql_value("state", fields["state"])) == "live":
            self.touched.reembed.add(int(seq))  # back in the vector index: read its vector
        self.touched.seqs.add(int(seq))
        return rev

    def bulk_update(self, seqs: Sequence[int], sets: str, args: list[Any]) -> None:
        """One UPDATE of `sets` (fixed SQL from this package) for many records."""
        if not seqs:
            return
        self.cur.execute(
            f"UPDATE memories SET {sets}, rev = nextval('change_rev') "
            "WHERE seq IN (SELECT unnest(?::BIGINT[]))",
            [*args, list(map(int, seqs))],
        )
        self._rev_after_bulk()
        self.touched.seqs.update(map(int, seqs))
        for seq in seqs:
            self.touched.known.pop(int(seq), None)

    def move_many(self, seqs: Sequence[int], layer: str) -> None:
        """Put records in `layer`, starting its clock now."""
        self.bulk_update(seqs, "layer = ?, layer_since = ?", [layer, self.now])

    def forget_many(self, seqs: Sequence[int]) -> None:
        self.bulk_update(seqs, "state = 'forgotten', forgotten_at = ?", [self.now])

    def merge_many(
        self,
        sources: Sequence[tuple[int, str]],
        survivors: Sequence[tuple[int, Sequence[str], int]],
    ) -> None:
        """Hide merged sources (pointing at their survivor) and give survivors (seq, united
        tags, reads to add)."""
        if not sources:
            return
        cur = self.cur
        src = {
            "seq": np.asarray([s for s, _ in sources], dtype=np.int64),
            "into": obj(i for _, i in sources),
        }
        surv = {
            "seq": np.asarray([s for s, _, _ in survivors], dtype=np.int64),
            "tags": obj(list(t) for _, t, _ in survivors),
            "added": np.asarray([n for _, _, n in survivors], dtype=np.int64),
        }
        cur.register("_merge_src", src)
        cur.register("_merge_surv", surv)
        try:
            cur.execute(
                "UPDATE memories SET state = 'merged', merged_into = m.into, forgotten_at = ?, "
                "rev = nextval('change_rev') FROM _merge_src m WHERE memories.seq = m.seq",
                [self.now],
            )
            # Added, not set: reads counted while the cycle ran are kept.
            cur.execute(
                "UPDATE memories SET tags = m.tags::VARCHAR[], "
                "access_count = memories.access_count + m.added, "
                "rev = nextval('change_rev') FROM _merge_surv m WHERE memories.seq = m.seq"
            )
        finally:
            cur.unregister("_merge_src")
            cur.unregister("_merge_surv")
        self._rev_after_bulk()
        for seq in [int(s) for s, _ in sources] + [int(s) for s, _, _ in survivors]:
            self.touched.seqs.add(seq)
            self.touched.known.pop(seq, None)

    def set_metadata(self, changes: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Replace the metadata of many records (text, tags, layer, vectors untouched)."""
        if not changes:
            return
        revs = self._revs(len(changes))
        frame = {
            "seq": np.asarray([int(s) for s, _ in changes], dtype=np.int64),
            "metadata": obj(json.dumps(m, default=str) for _, m in changes),
            "rev": np.asarray(revs, dtype=np.int64),
        }
        self.cur.register("_meta_updates", frame)
        try:
            self.cur.execute(
                "UPDATE memories SET metadata = u.metadata, updated_at = ?, rev = u.rev "
                "FROM _meta_updates u WHERE memories.seq = u.seq",
                [self.now],
            )
        finally:
            self.cur.unregister("_meta_updates")

    def delete(self, seqs: Sequence[int]) -> None:
        """Remove rows for good (purge), leaving a trace the indexes catch up from."""
        if not seqs:
            return
        (rev,) = self._revs(1)
        ids = list(map(int, seqs))
        for table in ("vectors", "vectors_next", "access_events", "memories"):
            self.cur.execute(
                f"DELETE FROM {table} WHERE seq IN (SELECT unnest(?::BIGINT[]))", [ids]
            )
        self.cur.execute("INSERT INTO purged SELECT unnest(?::BIGINT[]), ?", [ids, rev])
        self.touched.purged.update(ids)

    def finish(self) -> None:
        """Last step inside the transaction (the server backend's keyword words and
        notice); nothing to do here: the indexes follow after the commit."""
        return None

    # ---- bookkeeping ---------------------------------------------------------------------
    def add_history(self, rows: Sequence[dict[str, Any]]) -> None:
        """History rows (record_id, action, from_layer, to_layer, actor, reason, details;
        `ts` when a copy keeps the original time)."""
        if not rows:
            return
        self.cur.register("_history_rows", history_columns(rows))
        try:
            self.cur.execute(
                "INSERT INTO memory_history SELECT nextval('history_seq'), record_id, "
                "coalesce(ts::TIMESTAMP, ?::TIMESTAMP), action, from_layer, to_layer, actor, "
                "reason, details FROM _history_rows",
                [self.now],
            )
        finally:
            self.cur.unregister("_history_rows")

    def history(self, record_id: str, action: str, **fields: Any) -> None:
        self.add_history([{"record_id": record_id, "action": action, **fields}])

    def set_meta(self, key: str, value: str) -> None:
        self.cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def record_accesses(
        self, events: Sequence[tuple[int, datetime, str | None, float, int]]
    ) -> None:
        """Count reads: bump access stats and keep one event row per read (no revision:
        nothing an index holds changes)."""
        seqs, ats, sessions, scores, ranks = zip(*events, strict=True)
        frame = {
            "seq": np.asarray(seqs, dtype=np.int64),
            "ts": obj(ats),
            "session": obj(sessions),
            "score": np.asarray(scores, dtype=np.float64),
            "rank": np.asarray(ranks, dtype=np.int32),
        }
        self.cur.register("_reads", frame)
        try:
            # Set-based: one INSERT and one UPDATE whatever the number of events.
            self.cur.execute(
                "INSERT INTO access_events SELECT seq, ts::TIMESTAMP, session, score, "
                "rank FROM _reads"
            )
            self.cur.execute(
                "UPDATE memories SET access_count = memories.access_count + r.n, "
                "last_access = greatest(coalesce(memories.last_access, r.last), r.last) "
                "FROM (SELECT seq, count(*) AS n, max(ts::TIMESTAMP) AS last "
                "FROM _reads GROUP BY seq) r WHERE memories.seq = r.seq"
            )
        finally:
            self.cur.unregister("_reads")

    def ensure_vector_table(self, model_id: str, dim: int) -> None:
        self.cur.execute(
            f"CREATE TABLE IF NOT EXISTS vectors (seq BIGINT PRIMARY KEY, vec FLOAT[{dim}])"
        )
        self.set_meta("embed_model", model_id)
        self.set_meta("embed_dim", str(dim))
