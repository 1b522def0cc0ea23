"""SQL for chat sessions and messages (tables from schema migration 5).

Shares the one database (`magray_tui.db.Database`): reads on this thread's cursor, writes
in its `transaction()`. Nothing else in the agent package writes SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from magray_tui.agent.model import ChatError, ChatMessage, ChatSession

if TYPE_CHECKING:
    from datetime import datetime

    from magray_tui.db import Database

_SESSION_COLS = "id, name, system_prompt, model, created_at, updated_at"
_MESSAGE_COLS = (
    "id, session_id, role, content, created_at, status, model, usage, memories, "
    "tool_calls, tool_call_id, memory_id"
)


def _session(row: Sequence[Any], count: int = 0) -> ChatSession:
    return ChatSession(
        id=row[0],
        name=row[1],
        system_prompt=row[2],
        model=row[3],
        created_at=row[4],
        updated_at=row[5],
        message_count=count,
    )


def _message(row: Sequence[Any]) -> ChatMessage:
    return ChatMessage(
        id=row[0],
        session_id=row[1],
        role=row[2],
        content=row[3],
        created_at=row[4],
        status=row[5],
        model=row[6],
        usage=json.loads(row[7] or "{}"),
        memories=json.loads(row[8] or "[]"),
        tool_calls=json.loads(row[9] or "[]"),
        tool_call_id=row[10],
        memory_id=row[11],
    )


class SessionStore:
    def __init__(self, store: Database) -> None:
        self.store = store

    def _write(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            with self.store.transaction() as cur:
                return cur.execute(sql, list(params)).fetchall()
        except Exception as exc:  # duckdb.Error, kept lazy
            if type(exc).__module__.startswith("duckdb"):
                raise ChatError(f"could not save the chat: {exc}") from None
            raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.store.cursor().execute(sql, list(params)).fetchall()

    # ---- sessions ------------------------------------------------------------------------
    def create_session(self, sid: str, name: str, now: datetime) -> ChatSession:
        rows = self._write(
            f"INSERT INTO chat_sessions VALUES (?, ?, NULL, NULL, ?, ?) RETURNING {_SESSION_COLS}",
            [sid, name, now, now],
        )
        return _session(rows[0])

    def sessions(self) -> list[ChatSession]:
        rows = self._read(
            f"""SELECT {", ".join("s." + c.strip() for c in _SESSION_COLS.split(","))},
                   count(m.id)
                FROM chat_sessions s LEFT JOIN chat_messages m ON m.session_id = s.id
                GROUP BY ALL ORDER BY s.updated_at DESC, s.id"""
        )
        return [_session(r[:6], r[6]) for r in rows]

    def find_sessions(self, ref: str) -> list[ChatSession]:
        rows = self._read(
            f"SELECT {_SESSION_COLS} FROM chat_sessions WHERE id = ? OR lower(name) = lower(?) "
            "ORDER BY updated_at DESC",
            [ref, ref],
        )
        return [_session(r) for r in rows]

    def update_session(self, sid: str, fields: dict[str, Any], now: datetime) -> None:
        allowed = {"name", "system_prompt", "model"}
        sets = [f"{k} = ?" for k in fields if k in allowed]
        values = [v for k, v in fields.items() if k in allowed]
        self._write(
            f"UPDATE chat_sessions SET {', '.join([*sets, 'updated_at = ?'])} WHERE id = ?",
            [*values, now, sid],
        )

    def delete_session(self, sid: str) -> None:
        with self.store.transaction() as cur:
            cur.execute("DELETE FROM chat_messages WHERE session_id = ?", [sid])
            cur.execute("DELETE FROM chat_sessions WHERE id = ?", [sid])

    # ---- messages ------------------------------------------------------------------------
    def add_message(self, msg: dict[str, Any], now: datetime) -> ChatMessage:
        rows = self._write(
            f"""INSERT INTO chat_messages VALUES
                (nextval('chat_message_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                RETURNING {_MESSAGE_COLS}""",
            [
                msg["session_id"],
                msg["role"],
                msg["content"],
                now,
                msg.get("status", "complete"),
                msg.get("model"),
                json.dumps(msg.get("usage") or {}),
                json.dumps(msg.get("memories") or []),
                json.dumps(msg.get("tool_calls") or []),
                msg.get("tool_call_id"),
                msg.get("memory_id"),
            ],
        )
        self._write(
            "UPDATE chat_sessions SET updated_at = ? WHERE id = ?", [now, msg["session_id"]]
        )
        return _message(rows[0])

    def update_message(self, mid: int, fields: dict[str, Any]) -> None:
        json_cols = {"usage", "memories", "tool_calls"}
        allowed = {"content", "status", "model", "memory_id", *json_cols}
        keys = [k for k in fields if k in allowed]
        values = [json.dumps(fields[k]) if k in json_cols else fields[k] for k in keys]
        if keys:
            sets = ", ".join(f"{k} = ?" for k in keys)
            self._write(f"UPDATE chat_messages SET {sets} WHERE id = ?", [*values, mid])

    def delete_messages(self, ids: Sequence[int]) -> None:
        if ids:
            marks = ", ".join("?" for _ in ids)
            self._write(f"DELETE FROM chat_messages WHERE id IN ({marks})", list(ids))

    def messages(self, sid: str) -> list[ChatMessage]:
        rows = self._read(
            f"SELECT {_MESSAGE_COLS} FROM chat_messages WHERE session_id = ? ORDER BY id", [sid]
        )
        return [_message(r) for r in rows]

    # ---- search (agent/chat_search.py) ---------------------------------------------------
    def searchable_messages(self, roles: Sequence[str]) -> list[tuple[Any, ...]]:
        """(id, content) of every non-empty message of these roles, in all sessions."""
        marks = ", ".join("?" for _ in roles)
        return self._read(
            f"SELECT id, content FROM chat_messages WHERE role IN ({marks}) "
            "AND length(trim(content)) > 0 ORDER BY id",
            list(roles),
        )

    def messages_with_context(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The messages `ids` with their session's name and the message before each (the
        previous user or assistant message of the same session)."""
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = self._read(
            f"""SELECT m.id, m.session_id, s.name, m.role, m.created_at, m.content,
                   (SELECT p.content FROM chat_messages p
                     WHERE p.session_id = m.session_id AND p.id < m.id
                       AND p.role IN ('user', 'assistant', 'command')
                     ORDER BY p.id DESC LIMIT 1)
                FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
                WHERE m.id IN ({marks})""",
            list(ids),
        )
        keys = ("session_id", "session_name", "role", "created_at", "content", "before")
        return {int(r[0]): dict(zip(keys, r[1:], strict=True)) for r in rows}
