"""The task domain's schema migrations (version 4): tasks, dependencies, task undo.
Pure data; SQL about tasks lives in todo/store.py."""

from __future__ import annotations

from magray_tui.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
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
