"""Migrations apply by the versions a file has recorded (numbers reserved per piece of work
land out of order), and migration 8 turns the commit counter into a sequence without
losing the count the WAL sidecar compares against."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from magray_tui.db import Database, commit_counter, wal_guard
from magray_tui.db.catalog import ALL
from magray_tui.db.migrations import Migration, migrate

BEFORE_8 = tuple(m for m in ALL if m.version < 8)


def _table(n: int) -> Migration:
    return Migration(n, f"table {n}", (f"CREATE TABLE t{n} (x INTEGER)",))


def test_a_lower_number_landing_later_is_still_applied(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "m.duckdb"))
    assert migrate(conn, [_table(1), _table(3)]) == [1, 3]
    # 2 arrives after a file already has 3: applied, and nothing twice.
    assert migrate(conn, [_table(1), _table(2), _table(3)]) == [2]
    assert migrate(conn, [_table(1), _table(2), _table(3)]) == []
    tables = conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
    names = {r[0] for r in tables}
    assert {"t1", "t2", "t3"} <= names
    versions = conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert [r[0] for r in versions] == [1, 2, 3]


def _pre_8_file(path: Path, commits: int) -> None:
    """A file as magray wrote it before migration 8: the counter is a row in `meta`."""
    db = Database.open(path, migrations=BEFORE_8)
    assert not commit_counter.exists(db.cursor())
    with db.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('db_commits', ?)", [str(commits)])
    db.close()


def _sidecar(path: Path, wal_bytes: int, commits: int) -> None:
    data = json.dumps({"wal_bytes": wal_bytes, "commits": commits})
    wal_guard.sidecar_path(path).write_text(data)


def test_the_count_carries_over_into_the_sequence(tmp_path: Path) -> None:
    path = tmp_path / "memory.duckdb"
    _pre_8_file(path, 41)
    _sidecar(path, 0, 41)
    db = Database.open(path)
    try:
        assert db.warning is None
        assert commit_counter.current(db.cursor()) == 41
        assert db.get_meta("db_commits") is None  # the old row is gone
        with db.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('k', 'v')")
        assert commit_counter.current(db.cursor()) == 42
    finally:
        db.close()
    assert wal_guard.read(path).commits == 42  # recorded at close
    db = Database.open(path)  # the count survives a reopen (folded in at the checkpoint)
    try:
        assert commit_counter.current(db.cursor()) == 42 and db.warning is None
    finally:
        db.close()


def test_commits_lost_before_the_upgrade_are_still_counted(tmp_path: Path) -> None:
    path = tmp_path / "memory.duckdb"
    _pre_8_file(path, 41)
    # The sidecar saw 50 commits and a WAL that is gone now: 9 were only in that log.
    _sidecar(path, 4096, 50)
    db = Database.open(path)
    try:
        warning = db.warning or ""
        assert "is missing" in warning and "9 committed change(s) are lost" in warning
        assert commit_counter.current(db.cursor()) == 41
    finally:
        db.close()


def test_each_write_transaction_counts_once_and_a_read_not_at_all(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "memory.duckdb")
    try:
        start = commit_counter.current(db.cursor())
        for i in range(5):
            with db.transaction() as cur:
                cur.execute("INSERT OR REPLACE INTO meta VALUES ('k', ?)", [str(i)])
                with db.transaction() as inner:  # a nested one joins the outer
                    inner.execute("INSERT OR REPLACE INTO meta VALUES ('j', ?)", [str(i)])
        with db.transaction(write=False) as cur:
            cur.execute("SELECT count(*) FROM meta").fetchall()
        assert commit_counter.current(db.cursor()) == start + 5
        assert wal_guard.read(db.path).commits == start + 5
    finally:
        db.close()
