"""Numbered schema migrations for the DuckDB store.

Each migration runs once, in its own transaction, and is recorded in `schema_version`.
Opening an older file migrates it; opening a file newer than this code refuses clearly.
Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from magray_tui.memory.records import MemoryError_, utcnow


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...] = ()
    apply: Callable[[duckdb.DuckDBPyConnection], None] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "memories, meta and change tracking",
        (
            "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
            "CREATE SEQUENCE IF NOT EXISTS memory_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS change_rev START 1",
            """CREATE TABLE IF NOT EXISTS memories (
                seq BIGINT PRIMARY KEY,
                id VARCHAR NOT NULL UNIQUE,
                layer VARCHAR NOT NULL,
                text VARCHAR NOT NULL,
                kind VARCHAR NOT NULL DEFAULT 'note',
                tags VARCHAR[] NOT NULL DEFAULT [],
                source VARCHAR NOT NULL DEFAULT 'manual',
                session VARCHAR,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                layer_since TIMESTAMP NOT NULL,
                last_access TIMESTAMP,
                access_count INTEGER NOT NULL DEFAULT 0,
                importance DOUBLE NOT NULL DEFAULT 0.5,
                pinned BOOLEAN NOT NULL DEFAULT false,
                content_hash VARCHAR NOT NULL,
                metadata VARCHAR NOT NULL DEFAULT '{}',
                state VARCHAR NOT NULL DEFAULT 'live',
                forgotten_at TIMESTAMP,
                rev BIGINT NOT NULL
            )""",
            # Purged rows leave a trace so derived indexes can drop them when catching up.
            "CREATE TABLE IF NOT EXISTS purged (seq BIGINT NOT NULL, rev BIGINT NOT NULL)",
        ),
    ),
    Migration(
        2,
        "access events and history of moves",
        (
            # One row per retrieval: the promotion engine's raw material.
            """CREATE TABLE IF NOT EXISTS access_events (
                seq BIGINT NOT NULL,
                ts TIMESTAMP NOT NULL,
                session VARCHAR,
                score DOUBLE,
                rank INTEGER
            )""",
            "CREATE SEQUENCE IF NOT EXISTS history_seq START 1",
            """CREATE TABLE IF NOT EXISTS memory_history (
                hid BIGINT PRIMARY KEY,
                record_id VARCHAR NOT NULL,
                ts TIMESTAMP NOT NULL,
                action VARCHAR NOT NULL,
                from_layer VARCHAR,
                to_layer VARCHAR,
                actor VARCHAR NOT NULL,
                reason VARCHAR,
                details VARCHAR NOT NULL DEFAULT '{}'
            )""",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        3,
        "merges and policy bookkeeping",
        (
            # A merged record is hidden like a tombstone and points at the survivor.
            "ALTER TABLE memories ADD COLUMN IF NOT EXISTS merged_into VARCHAR",
        ),
    ),
)

# ---- v4: the task DAG (owned by magray_tui.todo; SQL lives in todo/store.py) -------------
MIGRATIONS += (
    Migration(
        4,
        "tasks, dependencies and task undo",
        (
            "CREATE SEQUENCE IF NOT EXISTS task_seq START 1",
            """CREATE TABLE IF NOT EXISTS tasks (
                id VARCHAR PRIMARY KEY,
                num BIGINT NOT NULL UNIQUE,
                title VARCHAR NOT NULL,
                description VARCHAR NOT NULL DEFAULT '',
                state VARCHAR NOT NULL,
                priority VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                started_at TIMESTAMP,
                completed_at TIMESTAMP,
                due_at TIMESTAMP,
                parent VARCHAR,
                tags VARCHAR[] NOT NULL DEFAULT [],
                memory_links VARCHAR[] NOT NULL DEFAULT [],
                artifacts VARCHAR NOT NULL DEFAULT '[]',
                estimate_hours DOUBLE,
                notes VARCHAR NOT NULL DEFAULT ''
            )""",
            """CREATE TABLE IF NOT EXISTS task_deps (
                task VARCHAR NOT NULL,
                depends_on VARCHAR NOT NULL,
                PRIMARY KEY (task, depends_on)
            )""",
            "CREATE SEQUENCE IF NOT EXISTS task_undo_seq START 1",
            # One row per change: enough to put the tasks it touched back exactly.
            """CREATE TABLE IF NOT EXISTS task_undo (
                id BIGINT PRIMARY KEY,
                ts TIMESTAMP NOT NULL,
                description VARCHAR NOT NULL,
                snapshot VARCHAR NOT NULL
            )""",
        ),
    ),
)

# ---- v5: chat sessions and messages (owned by magray_tui.agent) ----------------------------
MIGRATIONS += (
    Migration(
        5,
        "chat sessions and messages",
        (
            """CREATE TABLE IF NOT EXISTS chat_sessions (
                id VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL,
                system_prompt VARCHAR,
                model VARCHAR,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL
            )""",
            "CREATE SEQUENCE IF NOT EXISTS chat_message_seq START 1",
            """CREATE TABLE IF NOT EXISTS chat_messages (
                id BIGINT PRIMARY KEY,
                session_id VARCHAR NOT NULL,
                role VARCHAR NOT NULL,
                content VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                status VARCHAR NOT NULL DEFAULT 'complete',
                model VARCHAR,
                usage VARCHAR NOT NULL DEFAULT '{}',
                memories VARCHAR NOT NULL DEFAULT '[]',
                tool_calls VARCHAR NOT NULL DEFAULT '[]',
                tool_call_id VARCHAR,
                memory_id VARCHAR
            )""",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0]
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchall()[0]
    return int(row[0] or 0) if row else 0


def migrate(
    conn: duckdb.DuckDBPyConnection,
    target: int = LATEST,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[int]:
    """Bring the database to `target`; return the versions applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL, description VARCHAR)"
    )
    have = current_version(conn)
    newest_known = max(m.version for m in migrations)
    if have > newest_known:
        raise MemoryError_(
            f"this database has schema version {have}, newer than this magray knows "
            f"({newest_known}); upgrade magray or use another MAGRAY_HOME"
        )
    applied: list[int] = []
    for migration in migrations:
        if migration.version <= have or migration.version > target:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                conn.execute(statement)
            if migration.apply:
                migration.apply(conn)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [migration.version, utcnow(), migration.description],
            )
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
