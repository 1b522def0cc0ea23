"""The memory schema on the server: the same numbered versions as the embedded store's
(memory 1-3; 6 supersede, 7 author; tasks 4, chat 5 and 8, the DuckDB commit counter, stay
local), recorded in the namespace's own `schema_version`. An older magray refuses a newer
server schema clearly.

Vectors live in `memories.embedding vector(dim)`, added once the model is known (like the
embedded store's `vectors` table), with a partial HNSW index over live records; `tsv` holds
the keyword index's words (`keyword_index.index_text`) for Postgres full-text search.
"""

from __future__ import annotations

from magray_tui.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "memories, meta and change tracking",
        (
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
            "CREATE SEQUENCE IF NOT EXISTS memory_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS change_rev START 1",
            """CREATE TABLE IF NOT EXISTS memories (
                seq BIGINT PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                layer TEXT NOT NULL,
                text TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'note',
                tags TEXT[] NOT NULL DEFAULT '{}',
                source TEXT NOT NULL DEFAULT 'manual',
                session TEXT,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                layer_since TIMESTAMP NOT NULL,
                last_access TIMESTAMP,
                access_count INTEGER NOT NULL DEFAULT 0,
                importance DOUBLE PRECISION NOT NULL DEFAULT 0.5,
                pinned BOOLEAN NOT NULL DEFAULT false,
                content_hash TEXT NOT NULL,
                metadata TEXT NOT NULL DEFAULT '{}',
                state TEXT NOT NULL DEFAULT 'live',
                forgotten_at TIMESTAMP,
                rev BIGINT NOT NULL,
                tsv tsvector
            )""",
            "CREATE INDEX IF NOT EXISTS memories_rev ON memories (rev)",
            "CREATE INDEX IF NOT EXISTS memories_hash ON memories (content_hash)",
            "CREATE INDEX IF NOT EXISTS memories_tsv ON memories USING gin (tsv)",
            "CREATE TABLE IF NOT EXISTS purged (seq BIGINT NOT NULL, rev BIGINT NOT NULL)",
        ),
    ),
    Migration(
        2,
        "access events and history of moves",
        (
            """CREATE TABLE IF NOT EXISTS access_events (
                seq BIGINT NOT NULL,
                ts TIMESTAMP NOT NULL,
                session TEXT,
                score DOUBLE PRECISION,
                rank INTEGER
            )""",
            "CREATE INDEX IF NOT EXISTS access_events_seq ON access_events (seq)",
            "CREATE SEQUENCE IF NOT EXISTS history_seq START 1",
            """CREATE TABLE IF NOT EXISTS memory_history (
                hid BIGINT PRIMARY KEY,
                record_id TEXT NOT NULL,
                ts TIMESTAMP NOT NULL,
                action TEXT NOT NULL,
                from_layer TEXT,
                to_layer TEXT,
                actor TEXT NOT NULL,
                reason TEXT,
                details TEXT NOT NULL DEFAULT '{}'
            )""",
            "CREATE INDEX IF NOT EXISTS memory_history_record ON memory_history (record_id)",
        ),
    ),
    Migration(
        3,
        "merges and policy bookkeeping",
        ("ALTER TABLE memories ADD COLUMN IF NOT EXISTS merged_into TEXT",),
    ),
    Migration(
        6,
        "supersede: a newer fact ends an older one",
        (
            "ALTER TABLE memories ADD COLUMN IF NOT EXISTS valid_until TIMESTAMP",
            "ALTER TABLE memories ADD COLUMN IF NOT EXISTS superseded_by TEXT",
        ),
    ),
    Migration(
        7,
        "provenance: who wrote each record",
        ("ALTER TABLE memories ADD COLUMN IF NOT EXISTS author TEXT NOT NULL DEFAULT 'user'",),
    ),
)

LATEST = max(m.version for m in MIGRATIONS)


def vector_statements(dim: int, m: int, ef_construction: int) -> tuple[str, ...]:
    """The embedding column and its HNSW index (cosine), over live records only."""
    return (
        f"ALTER TABLE memories ADD COLUMN IF NOT EXISTS embedding vector({int(dim)})",
        "CREATE INDEX IF NOT EXISTS memories_embedding ON memories USING hnsw "
        f"(embedding vector_cosine_ops) WITH (m = {int(m)}, ef_construction = "
        f"{int(ef_construction)}) WHERE state = 'live'",
    )
