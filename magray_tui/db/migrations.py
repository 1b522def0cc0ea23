"""Numbered schema migrations, one list per domain (memory, tasks, chat), one version line.

Each migration runs once, in its own transaction, and is recorded in `schema_version`.
Opening an older file migrates it; opening a file newer than this code refuses clearly.
Never edit a migration that has shipped: add a new one with the next free number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from magray_tui.db.tx import atomic
from magray_tui.errors import DataError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...] = ()
    apply: Callable[[Any], None] | None = None


def current_version(conn: Any) -> int:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0]
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchall()[0]
    return int(row[0] or 0) if row else 0


def migrate(conn: Any, migrations: Sequence[Migration], target: int | None = None) -> list[int]:
    """Bring the database to `target` (default: the newest of `migrations`); return the
    versions applied."""
    newest_known = max(m.version for m in migrations)
    target = newest_known if target is None else target
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL, description VARCHAR)"
    )
    have = current_version(conn)
    if have > newest_known:
        raise DataError(
            f"this database has schema version {have}, newer than this magray knows "
            f"({newest_known}); upgrade magray or use another MAGRAY_HOME"
        )
    # By membership, not by the highest number: a migration reserved earlier may land after
    # a higher one (a file at 7 still gets 6 when it arrives).
    done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_version").fetchall()}
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done or migration.version > target:
            continue
        with atomic(conn):
            for statement in migration.statements:
                conn.execute(statement)
            if migration.apply:
                migration.apply(conn)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [
                    migration.version,
                    datetime.now(UTC).replace(tzinfo=None),
                    migration.description,
                ],
            )
        applied.append(migration.version)
    return applied
