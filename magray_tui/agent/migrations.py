"""The chat domain's schema migrations (version 5): chat sessions and messages.
Pure data; SQL about chats lives in agent/session_store.py."""

from __future__ import annotations

from magray_tui.db.migrations import Migration

MIGRATIONS: tuple[Migration, ...] = (
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
