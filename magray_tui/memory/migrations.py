"""The memory domain's schema migrations (versions 1-3, 6, 7, 9): records, vectors' bookkeeping,
access events, history. Pure data; `magray_tui.db.catalog` orders every domain's list."""

from __future__ import annotations

from magray_tui.db.migrations import Migration

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

MIGRATIONS += (
    Migration(
        6,
        "facts over time: a superseded record's end of validity and its successor",
        (
            # Bi-temporal in the small: the record stays live and searchable; valid_until is
            # when a newer record (superseded_by) took its place. The PostgreSQL backend
            # mirrors these two columns under the same names.
            "ALTER TABLE memories ADD COLUMN IF NOT EXISTS valid_until TIMESTAMP",
            "ALTER TABLE memories ADD COLUMN IF NOT EXISTS superseded_by VARCHAR",
        ),
    ),
)

# Provenance (issue 16): who wrote each record. Older records get the author their source
# implies (memory.records.author_for: file, import, mcp:X as is; chat by its role; the
# agent's distilled facts are the user's, its other writes a tool's; the rest the user's).
# Model-written records the user had promoted by hand count as confirmed.
_BACKFILL_AUTHOR = """
UPDATE memories SET author = CASE
    WHEN source IN ('file', 'import') OR source LIKE 'mcp:%' THEN source
    WHEN source = 'chat' AND json_valid(metadata)
         AND json_extract_string(metadata, '$.role') = 'assistant' THEN 'assistant'
    WHEN source = 'agent' AND json_valid(metadata)
         AND json_extract_string(metadata, '$.distilled_from') IS NOT NULL THEN 'user'
    WHEN source = 'agent' THEN 'tool'
    ELSE 'user' END
WHERE author IS NULL
"""
_BACKFILL_CONFIRMED = """
UPDATE memories SET metadata = json_merge_patch(
    metadata, '{"confirmed": {"by": "user", "how": "promote"}}')::VARCHAR
WHERE author IN ('assistant', 'tool') AND json_valid(metadata) AND id IN (
    SELECT record_id FROM memory_history
    WHERE actor = 'user' AND action IN ('promote', 'merge'))
"""

MIGRATIONS += (
    Migration(
        7,
        "provenance: the author of each memory",
        (
            "ALTER TABLE memories ADD COLUMN IF NOT EXISTS author VARCHAR",
            _BACKFILL_AUTHOR,
            _BACKFILL_CONFIRMED,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        9,
        "re-embed bookkeeping: the new model's vectors, staged beside the old ones",
        (
            # Any width: the target model's dimension is known only when a re-embed starts.
            # The switch copies these into `vectors` (FLOAT[dim]) in one transaction.
            "CREATE TABLE IF NOT EXISTS vectors_next "
            "(seq BIGINT PRIMARY KEY, vec FLOAT[] NOT NULL)",
        ),
    ),
)
