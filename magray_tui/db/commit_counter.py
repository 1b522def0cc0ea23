"""The database's commit counter: how many write transactions it has committed.

A DuckDB sequence (`db_commits`, migration 8): each write transaction takes one value just
before its COMMIT. A sequence moves without a row update (a counter row in `meta` cost a
table UPDATE per commit, ~1 ms), its value is logged with the commit in the WAL and
folded into the file at a checkpoint. A value taken by a transaction whose COMMIT then
fails is skipped (a sequence does not roll back), so the count of commits lost with a WAL
can over-state by that many; taken last, just before COMMIT, that is rare. `wal_guard`
compares the counter with its sidecar to count the commits a lost WAL took.
"""

from __future__ import annotations

from typing import Any

from magray_tui.db.migrations import Migration

NAME = "db_commits"
_OLD_META_KEY = "db_commits"  # the counter's row in `meta` before migration 8


def _to_sequence(conn: Any) -> None:
    """Carry the `meta` counter over (the sidecar compares against it), then drop it."""
    have_meta = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchall()[0][0]
    start = 1
    if have_meta:
        rows = conn.execute("SELECT value FROM meta WHERE key = ?", [_OLD_META_KEY]).fetchall()
        start = int(rows[0][0]) + 1 if rows else 1
        conn.execute("DELETE FROM meta WHERE key = ?", [_OLD_META_KEY])
    conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {NAME} START {start}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(8, "write path: the commit counter is a sequence", apply=_to_sequence),
)


def exists(cur: Any) -> bool:
    return bool(
        cur.execute(
            "SELECT count(*) FROM duckdb_sequences() WHERE sequence_name = ? "
            "AND database_name = current_database()",
            [NAME],
        ).fetchall()[0][0]
    )


def take(cur: Any) -> int:
    """Count the transaction open on `cur` (call just before its COMMIT); its number."""
    return int(cur.execute(f"SELECT nextval('{NAME}')").fetchall()[0][0])


def current(cur: Any) -> int:
    """Commits counted so far (a fresh sequence has no last value: one before its start)."""
    rows = cur.execute(
        "SELECT coalesce(last_value, start_value - 1) FROM duckdb_sequences() "
        "WHERE sequence_name = ? AND database_name = current_database()",
        [NAME],
    ).fetchall()
    return int(rows[0][0]) if rows else 0
