"""SQL for the memory lifecycle (features, bulk moves, expiry, history): set-based, so a
cycle over 100k records stays within seconds. Part of the store; only `Store` is used."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from magray_tui.memory.store import Store

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
       coalesce(acc.sessions, 0) AS sessions, coalesce(acc.rel, 0) AS rel,
       coalesce(moves.n, 0) AS moves_today
FROM memories m
LEFT JOIN acc ON acc.seq = m.seq
LEFT JOIN moves ON moves.record_id = m.id
WHERE m.state = 'live' {extra}
ORDER BY m.seq
"""


def feature_rows(store: Store, now: datetime, seqs: Sequence[int] | None = None) -> dict[str, Any]:
    """Raw per-record inputs of the promotion features, as NumPy columns."""
    extra, args = "", [now - timedelta(days=1)]
    if seqs is not None:
        extra = "AND m.seq IN (SELECT unnest(?::BIGINT[]))"
        args.append(list(map(int, seqs)))
    return store._cursor().execute(FEATURE_SQL.format(extra=extra), args).fetchnumpy()


def move_many(store: Store, seqs: Sequence[int], layer: str, now: datetime) -> int:
    """Put records in `layer` (starting its clock now); returns the highest new rev."""
    return _bulk_update(store, seqs, "layer = ?, layer_since = ?", [layer, now])


def forget_many(store: Store, seqs: Sequence[int], now: datetime) -> int:
    return _bulk_update(store, seqs, "state = 'forgotten', forgotten_at = ?", [now])


def _bulk_update(store: Store, seqs: Sequence[int], sets: str, args: list[Any]) -> int:
    store._require_writable()
    with store.write_lock:
        conn = store._conn
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(
                f"UPDATE memories SET {sets}, rev = nextval('change_rev') "
                "WHERE seq IN (SELECT unnest(?::BIGINT[]))",
                [*args, list(map(int, seqs))],
            )
            rev = conn.execute("SELECT currval('change_rev')").fetchall()[0][0]
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    return int(rev)


def merge_many(
    store: Store,
    sources: Sequence[tuple[int, str]],
    survivors: Sequence[tuple[int, Sequence[str], int]],
    now: datetime,
) -> int:
    """Hide merged sources (pointing at their survivor) and give survivors (seq, united
    tags, reads to add) in one transaction; returns the highest new rev."""
    store._require_writable()

    def obj(values: Sequence[Any]) -> np.ndarray:
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
        return arr

    src = {
        "seq": np.asarray([s for s, _ in sources], dtype=np.int64),
        "into": obj([i for _, i in sources]),
    }
    surv = {
        "seq": np.asarray([s for s, _, _ in survivors], dtype=np.int64),
        "tags": obj([list(t) for _, t, _ in survivors]),
        "added": np.asarray([n for _, _, n in survivors], dtype=np.int64),
    }
    with store.write_lock:
        conn = store._conn
        conn.register("_merge_src", src)
        conn.register("_merge_surv", surv)
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(
                "UPDATE memories SET state = 'merged', merged_into = m.into, forgotten_at = ?, "
                "rev = nextval('change_rev') FROM _merge_src m WHERE memories.seq = m.seq",
                [now],
            )
            # Added, not set: reads counted while the cycle ran are kept.
            conn.execute(
                "UPDATE memories SET tags = m.tags::VARCHAR[], "
                "access_count = memories.access_count + m.added, "
                "rev = nextval('change_rev') FROM _merge_surv m WHERE memories.seq = m.seq"
            )
            rev = conn.execute("SELECT currval('change_rev')").fetchall()[0][0]
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.unregister("_merge_src")
            conn.unregister("_merge_surv")
    return int(rev)


def add_history_many(store: Store, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Insert history rows (record_id, action, from_layer, to_layer, actor, reason, details)."""
    if not rows:
        return
    store._require_writable()

    def col(key: str) -> np.ndarray:
        arr = np.empty(len(rows), dtype=object)
        arr[:] = [r.get(key) for r in rows]
        return arr

    details = np.empty(len(rows), dtype=object)
    details[:] = [json.dumps(r.get("details") or {}, default=str) for r in rows]
    frame = {
        "record_id": col("record_id"),
        "action": col("action"),
        "from_layer": col("from_layer"),
        "to_layer": col("to_layer"),
        "actor": col("actor"),
        "reason": col("reason"),
        "details": details,
    }
    with store.write_lock:
        conn = store._conn
        conn.register("_history_rows", frame)
        try:
            conn.execute(
                "INSERT INTO memory_history SELECT nextval('history_seq'), record_id, ?, action, "
                "from_layer, to_layer, actor, reason, details FROM _history_rows",
                [now],
            )
        finally:
            conn.unregister("_history_rows")


def user_decisions(store: Store) -> list[dict[str, Any]]:
    """The user's own promote / demote / pin / forget decisions with the features then."""
    rows = (
        store._cursor()
        .execute(
            "SELECT record_id, action, details FROM memory_history WHERE actor = 'user' "
            "AND action IN ('promote', 'merge', 'demote', 'pin', 'forget') ORDER BY hid"
        )
        .fetchall()
    )
    out = []
    for record_id, action, details in rows:
        data = json.loads(details or "{}")
        if "features" in data:
            # A promotion that turned into a merge was still the user saying "keep this".
            label = "promote" if action == "merge" else action
            out.append({"record_id": record_id, "action": label, "features": data["features"]})
    return out


def last_cycle(store: Store) -> datetime | None:
    value = store.get_meta("last_cycle_at")
    return datetime.fromisoformat(value) if value else None
