"""Slash-command output stays in the chat's transcript: a resumed session (a new app on the
same home) shows the commands, their notices and their tool output, as they were shown."""

from __future__ import annotations

import pytest

from magray_tui.tui.panes.chat_events import COMMAND_CLASS
from magray_tui.tui.widgets.chat_messages import AssistantEntry, NoticeEntry, ToolEntry, UserEntry
from tests.conftest import use_test_server

from .pilot_helpers import wait_for_results, wait_until


@pytest.fixture
def chat_settings(seeded_settings, llm_server, tmp_path, monkeypatch):
    settings = use_test_server(seeded_settings, llm_server, tmp_path / "ws", monkeypatch)
    (tmp_path / "ws" / "notes.txt").write_text("deploy on Tuesdays\n", encoding="utf-8")
    return settings


async def open_chat(pilot):
    await wait_for_results(pilot)
    await pilot.press("1")
    chat = pilot.app.pane("chat")
    await wait_until(pilot, lambda: chat.agent is not None and chat.session is not None, 60)
    await wait_until(pilot, lambda: chat.input.has_focus)
    return chat


async def run_command(pilot, chat, text: str) -> None:
    def shown() -> int:  # what commands showed: notices and tool entries
        return len(chat.query(f"NoticeEntry.{COMMAND_CLASS}, ToolEntry.{COMMAND_CLASS}"))

    before = shown()
    chat.input.load_text(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: shown() > before and not chat.turn_running, 30, text)


async def test_command_output_comes_back_on_resume(make_app, chat_settings, tmp_path):
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = await open_chat(pilot)
        await run_command(pilot, chat, "/search cat")
        await run_command(pilot, chat, f"/read {tmp_path / 'ws' / 'notes.txt'}")
        await run_command(pilot, chat, "/promote nosuchid")
        session_id = chat.session.id
        await wait_until(pilot, lambda: len(chat.query(ToolEntry)) == 1)

    app = make_app(chat_settings)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = await open_chat(pilot)
        assert chat.session.id == session_id
        commands = list(chat.query(UserEntry))
        assert [c.text for c in commands] == [
            "/search cat",
            f"/read {tmp_path / 'ws' / 'notes.txt'}",
            "/promote nosuchid",
        ]
        assert all(c.has_class(COMMAND_CLASS) for c in commands)
        notices = list(chat.query(NoticeEntry))
        assert "m-cat" in notices[0].text and notices[0].as_markdown
        assert notices[-1].has_class("-error") and "nosuchid" in notices[-1].text
        tool = chat.query_one(ToolEntry)
        assert tool.tool_name == "read_file" and "notes.txt" in tool.arguments
        assert "deploy on Tuesdays" in tool.text
        assert not tool.has_class("-failed")
        assert not chat.query(AssistantEntry)  # nothing was sent to the model
