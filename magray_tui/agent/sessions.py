"""Chat sessions: create, find, rename, delete, messages, export to Markdown."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.agent.model import ChatError, ChatMessage, ChatSession
from magray_tui.agent.session_store import SessionStore
from magray_tui.memory.records import utcnow

if TYPE_CHECKING:
    from magray_tui.agent.chat_search import ChatHit, ChatSearch
    from magray_tui.config import MemorySettings
    from magray_tui.memory.protocols import Embedder
    from magray_tui.memory.store import Store

MAX_NAME = 80


class ChatSessions:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        *,
        embedder: Callable[[], Embedder] | None = None,
        cache_dir: Path | None = None,
        memory_settings: MemorySettings | None = None,
    ) -> None:
        self._db = SessionStore(store)
        self.clock = clock
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._memory_settings = memory_settings
        self._search: ChatSearch | None = None

    # ---- search across every session -----------------------------------------------------
    def search(self, query: str, k: int = 10) -> list[ChatHit]:
        """Messages of every session that match `query` (hybrid: vector + BM25, fused)."""
        if not query.strip():
            raise ChatError("give something to search for")
        return self._searcher().search(query, k)

    def prepare_search(self) -> int:
        """Embed the messages the search index lacks, ahead of a search (in the background:
        the first search of a long history would otherwise wait for it)."""
        return self._searcher().catch_up()

    def _searcher(self) -> ChatSearch:
        if self._search is None:
            if self._embedder is None:
                raise ChatError("chat search needs the memory store's embedding model")
            from magray_tui.agent.chat_search import ChatSearch

            ms = self._memory_settings
            self._search = ChatSearch(
                self._db,
                self._embedder,
                self._cache_dir / "chat_vectors.npz" if self._cache_dir else None,
                rrf_k=ms.rrf_k if ms else 10,
                keyword_weight=ms.keyword_weight if ms else 1.25,
            )
        return self._search

    # ---- sessions ------------------------------------------------------------------------
    def create(self, name: str | None = None) -> ChatSession:
        now = self.clock()
        name = _clean_name(name) if name else now.strftime("chat %Y-%m-%d %H:%M")
        return self._db.create_session("s" + secrets.token_hex(4), name, now)

    def list(self) -> list[ChatSession]:
        return self._db.sessions()

    def get(self, ref: str) -> ChatSession:
        found = self._db.find_sessions(ref.strip())
        if not found:
            raise ChatError(f"no chat session named or numbered {ref!r} (see the sessions list)")
        return found[0]

    def get_or_create(self, name: str) -> ChatSession:
        try:
            return self.get(name)
        except ChatError:
            return self.create(name)

    def latest(self) -> ChatSession | None:
        sessions = self.list()
        return sessions[0] if sessions else None

    def rename(self, ref: str, name: str) -> ChatSession:
        session = self.get(ref)
        self._db.update_session(session.id, {"name": _clean_name(name)}, self.clock())
        return self.get(session.id)

    def set_system_prompt(self, ref: str, prompt: str | None) -> ChatSession:
        session = self.get(ref)
        value = prompt.strip() if prompt and prompt.strip() else None
        self._db.update_session(session.id, {"system_prompt": value}, self.clock())
        return self.get(session.id)

    def set_model(self, ref: str, model: str | None) -> ChatSession:
        session = self.get(ref)
        self._db.update_session(session.id, {"model": model}, self.clock())
        return self.get(session.id)

    def delete(self, ref: str) -> ChatSession:
        session = self.get(ref)
        self._db.delete_session(session.id)
        return session

    # ---- messages ------------------------------------------------------------------------
    def add_message(self, session_id: str, role: str, content: str, **fields: Any) -> ChatMessage:
        return self._db.add_message(
            {"session_id": session_id, "role": role, "content": content, **fields}, self.clock()
        )

    def update_message(self, message_id: int, **fields: Any) -> None:
        self._db.update_message(message_id, fields)

    def delete_messages(self, ids: list[int]) -> None:
        self._db.delete_messages(ids)

    def messages(self, session_id: str) -> list[ChatMessage]:
        return self._db.messages(session_id)

    # ---- export --------------------------------------------------------------------------
    def to_markdown(self, ref: str) -> str:
        session = self.get(ref)
        lines = [f"# {session.name}", ""]
        lines.append(f"_Exported {self.clock():%Y-%m-%d %H:%M} UTC · session {session.id}_")
        if session.system_prompt:
            lines += ["", "**System prompt:**", "", _quote(session.system_prompt)]
        for msg in self.messages(session.id):
            when = f"{msg.created_at:%Y-%m-%d %H:%M}"
            if msg.role == "user":
                lines += ["", f"## You · {when}", "", msg.content]
            elif msg.role == "assistant":
                mark = {"cancelled": " (cancelled)", "error": " (error)"}.get(msg.status, "")
                who = f"Assistant ({msg.model})" if msg.model else "Assistant"
                lines += ["", f"## {who}{mark} · {when}", "", msg.content]
                if msg.memories:
                    lines += ["", "<details><summary>Memories used</summary>", ""]
                    lines += [
                        f"- `{m['id']}` ({m['layer']}): {m['text'][:200]}" for m in msg.memories
                    ]
                    lines += ["", "</details>"]
            elif msg.role == "tool":
                lines += ["", f"### Tool output · {when}", "", "```text", msg.content, "```"]
            else:
                lines += ["", _quote(msg.content)]
        return "\n".join(lines).rstrip() + "\n"

    def export_markdown(self, ref: str, path: Path) -> Path:
        text = self.to_markdown(ref)
        path = Path(path).expanduser()
        if path.is_dir():
            path = path / f"{_slug(self.get(ref).name)}.md"
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ChatError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ChatError("a session name cannot be empty")
    if len(name) > MAX_NAME:
        raise ChatError(f"a session name is at most {MAX_NAME} characters")
    return name


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines())


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return "-".join(p for p in keep.split("-") if p) or "chat"
