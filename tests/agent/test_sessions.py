"""Chat sessions persist in the memory database: create, rename, delete, messages, export."""

from __future__ import annotations

from datetime import datetime

import pytest

from magray_tui.agent.model import ChatError
from magray_tui.agent.sessions import ChatSessions
from magray_tui.memory.store import Store


@pytest.fixture
def sessions(settings) -> ChatSessions:
    store = Store.open(settings.paths.db_file)
    yield ChatSessions(store, clock=lambda: datetime(2026, 11, 24, 9, 30))
    store.close()


def test_sessions_survive_reopening(settings) -> None:
    store = Store.open(settings.paths.db_file)
    chats = ChatSessions(store)
    s = chats.create("design review")
    chats.add_message(s.id, "user", "what did we decide about DuckDB?")
    chats.add_message(
        s.id, "assistant", "DuckDB is the source of truth.", model="m", usage={"prompt_tokens": 5}
    )
    store.close()

    store = Store.open(settings.paths.db_file)
    chats = ChatSessions(store)
    again = chats.get("design review")
    assert again.id == s.id
    msgs = chats.messages(s.id)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].usage == {"prompt_tokens": 5} and msgs[1].model == "m"
    assert chats.list()[0].message_count == 2
    store.close()


def test_rename_delete_and_unknown(sessions: ChatSessions) -> None:
    a = sessions.create("alpha")
    b = sessions.create("beta")
    sessions.add_message(a.id, "user", "hello")
    assert sessions.rename(a.id, "  gamma   ray ").name == "gamma ray"
    with pytest.raises(ChatError, match="empty"):
        sessions.rename(a.id, "   ")
    sessions.delete("gamma ray")
    assert [s.id for s in sessions.list()] == [b.id]
    assert sessions.messages(a.id) == []
    with pytest.raises(ChatError, match="no chat session"):
        sessions.get("alpha")


def test_export_markdown_keeps_text_literal(sessions: ChatSessions, tmp_path) -> None:
    s = sessions.create("export me")
    sessions.set_system_prompt(s.id, "Be brief.")
    sessions.add_message(s.id, "user", "show [bold]markup[/] please")
    sessions.add_message(
        s.id,
        "assistant",
        "Here:\n```py\nprint(1)\n```",
        status="cancelled",
        memories=[{"id": "m1", "layer": "insights", "text": "a fact", "score": 0.5}],
    )
    path = sessions.export_markdown(s.id, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert path.name == "export-me.md"
    assert "# export me" in text and "> Be brief." in text
    assert "show [bold]markup[/] please" in text
    assert "(cancelled)" in text and "`m1` (insights): a fact" in text
    assert not list(tmp_path.glob("*.tmp"))


def test_export_to_unwritable_place_is_a_clear_error(sessions: ChatSessions, tmp_path) -> None:
    s = sessions.create("x")
    with pytest.raises(ChatError, match="cannot write"):
        sessions.export_markdown(s.id, tmp_path / "missing-dir" / "x.md")
