"""The re-embed's rows in DuckDB (migration 9): the new model's vectors staged in
`vectors_next` beside the old `vectors`, and its target in `meta`. Reads take a cursor;
writes take the `Writes` of one commit (see `commit.py`), so they join the one write path.

Progress is `count(vectors_next)` against `count(memories)`: no watermark that could drift.
Every record is re-embedded, tombstones too (a restore needs its vector); purged ones lose
their staged row with their record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from magray_tui.memory.repository_rows import obj
from magray_tui.memory.repository_writes import Writes

MODEL, DIM, STARTED = "reembed_model", "reembed_dim", "reembed_started"


def target(cur: Any) -> tuple[str | None, int | None, str | None]:
    """(model, dim, started) of the re-embed under way; Nones when none is."""
    rows = cur.execute(
        "SELECT key, value FROM meta WHERE key IN (?, ?, ?)", [MODEL, DIM, STARTED]
    ).fetchall()
    meta = dict(rows)
    dim = meta.get(DIM)
    return meta.get(MODEL), int(dim) if dim else None, meta.get(STARTED)


def counts(cur: Any) -> tuple[int, int]:
    """(records with a staged vector, records)."""
    row = cur.execute(
        "SELECT (SELECT count(*) FROM vectors_next n SEMI JOIN memories m ON m.seq = n.seq), "
        "(SELECT count(*) FROM memories)"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def pending(cur: Any, limit: int) -> list[tuple[int, int, str]]:
    """(seq, rev, text) of up to `limit` records still without a staged vector, by seq."""
    rows = cur.execute(
        "SELECT m.seq, m.rev, m.text FROM memories m ANTI JOIN vectors_next n ON n.seq = m.seq "
        "ORDER BY m.seq LIMIT ?",
        [int(limit)],
    ).fetchall()
    return [(int(s), int(r), str(t)) for s, r, t in rows]


def staged(cur: Any, batch: int = 5000) -> Iterator[tuple[list[int], np.ndarray]]:
    """Every staged vector, in batches (to rebuild the new index after a restart)."""
    offset = 0
    while True:
        rows = cur.execute(
            "SELECT seq, vec FROM vectors_next ORDER BY seq LIMIT ? OFFSET ?",
            [int(batch), offset],
        ).fetchnumpy()
        if len(rows["seq"]) == 0:
            return
        offset += len(rows["seq"])
        yield [int(s) for s in rows["seq"]], np.stack(list(rows["vec"])).astype(np.float32)


def live_seqs(cur: Any) -> set[int]:
    return {
        int(r[0]) for r in cur.execute("SELECT seq FROM memories WHERE state = 'live'").fetchall()
    }


# ---- writes (inside one commit) ------------------------------------------------------------
def begin(w: Writes, model: str, dim: int, started: str) -> None:
    """Record the target; a different earlier target's staged vectors are dropped."""
    have_model, have_dim, _ = target(w.cur)
    if have_model == model and have_dim == dim:
        return
    w.cur.execute("DELETE FROM vectors_next")
    w.set_meta(MODEL, model)
    w.set_meta(DIM, str(dim))
    w.set_meta(STARTED, started)


def cancel(w: Writes) -> None:
    """Drop a re-embed (the configured model is the store's again)."""
    w.cur.execute("DELETE FROM vectors_next")
    w.cur.execute("DELETE FROM meta WHERE key IN (?, ?, ?)", [MODEL, DIM, STARTED])


def stage(w: Writes, seqs: Sequence[int], revs: Sequence[int], vectors: np.ndarray) -> list[int]:
    """Stage new vectors for records still at the revision whose text was embedded (a record
    edited meanwhile is left for the next batch); returns the seqs staged."""
    if not len(seqs):
        return []
    frame = {
        "seq": np.asarray(seqs, dtype=np.int64),
        "rev": np.asarray(revs, dtype=np.int64),
        "vec": obj(list(np.asarray(vectors, dtype=np.float32))),
    }
    w.cur.register("_staged", frame)
    try:
        rows = w.cur.execute(
            "INSERT INTO vectors_next SELECT n.seq, n.vec::FLOAT[] FROM _staged n "
            "JOIN memories m ON m.seq = n.seq AND m.rev = n.rev "
            "ON CONFLICT DO NOTHING RETURNING seq"
        ).fetchall()
    finally:
        w.cur.unregister("_staged")
    return [int(r[0]) for r in rows]


def switch(w: Writes, model: str, dim: int) -> int:
    """The staged vectors become the store's, its model the target: all or nothing."""
    cur = w.cur
    cur.execute("DROP TABLE vectors")
    cur.execute(f"CREATE TABLE vectors (seq BIGINT PRIMARY KEY, vec FLOAT[{int(dim)}])")
    cur.execute(
        f"INSERT INTO vectors SELECT n.seq, n.vec::FLOAT[{int(dim)}] FROM vectors_next n "
        "SEMI JOIN memories m ON m.seq = n.seq"
    )
    moved = int(cur.execute("SELECT count(*) FROM vectors").fetchall()[0][0])
    cur.execute("DELETE FROM vectors_next")
    w.set_meta("embed_model", model)
    w.set_meta("embed_dim", str(int(dim)))
    cur.execute("DELETE FROM meta WHERE key IN (?, ?, ?)", [MODEL, DIM, STARTED])
    return moved
