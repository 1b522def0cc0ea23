"""The Chat pane, driven by Pilot, talking to the local OpenAI-compatible test server over
real HTTP through litellm, on a real seeded memory store."""

from __future__ import annotations

import pytest
from textual.widgets import Markdown

from magray_tui.tui.screens.confirm_action import ConfirmAction
from magray_tui.tui.widgets.chat_messages import (
    AssistantEntry,
    MemoriesEntry,
    NoticeEntry,
    ToolEntry,
    UserEntry,
)
from tests.conftest import use_test_server

from .pilot_helpers import screen_text, wait_for_results, wait_until


@pytest.fixture
def chat_settings(seeded_settings, llm_server, tmp_path, monkeypatch):
    return use_test_server(seeded_settings, llm_server, tmp_path / "ws", monkeypatch)


async def open_chat(pilot):
    app = pilot.app
    await wait_for_results(pilot)
    await pilot.press("1")
    chat = app.pane("chat")
    await wait_until(pilot, lambda: chat.agent is not None and chat.session is not None, 60)
    await wait_until(pilot, lambda: chat.input.has_focus)
    return chat


async def send(pilot, chat, text: str) -> None:
    chat.input.load_text(text)
    await pilot.press("enter")


async def wait_reply_done(pilot, chat, timeout: float = 30) -> None:
    await wait_until(pilot, lambda: not chat.turn_running, timeout, "turn finished")
    await pilot.pause(0.05)


async def test_send_see_the_streamed_reply_and_the_memories(make_app, chat_settings, llm_server):
    llm_server.text("Your cat ", "is called ", "Miso.")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "What is my cat called?")
        await wait_reply_done(pilot, chat)
        assert [u.text for u in chat.query(UserEntry)] == ["What is my cat called?"]
        reply = chat.query(AssistantEntry).last()
        assert reply.text == "Your cat is called Miso."
        memories = chat.query(MemoriesEntry).last()
        assert any("Miso" in r["text"] for r in memories.refs)
        assert chat.input.text == ""
        assert "tokens" in str(reply.query_one(".entry-usage").content)
        # A new session is named after its first message (as `magray chat` names it).
        assert chat.session.name == "What is my cat called?"
        assert chat.agent.sessions.get(chat.session.id).name == "What is my cat called?"


async def test_markup_like_reply_renders_literally(make_app, chat_settings, llm_server):
    llm_server.text("Use [bold]this[/] and [red]that[/red] literally.")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "show [bold]me[/]")
        await wait_reply_done(pilot, chat)
        text = screen_text(app)
        assert "[bold]this[/]" in text and "[red]that[/red]" in text
        assert "show [bold]me[/]" in text


async def test_escape_cancels_and_keeps_the_partial_reply(make_app, chat_settings, llm_server):
    llm_server.text(*[f"w{i} " for i in range(60)], delay_s=0.15)
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "a long answer please")
        replies = lambda: chat.query(AssistantEntry)  # noqa: E731
        await wait_until(pilot, lambda: len(replies()) and "w2" in replies().last().text)
        await pilot.press("escape")
        await wait_reply_done(pilot, chat)
        reply = chat.query(AssistantEntry).last()
        assert reply.has_class("-cancelled") and "w59" not in reply.text
        stored = chat.agent.sessions.messages(chat.session.id)[-1]
        assert stored.status == "cancelled" and stored.content.startswith("w0 w1 w2")


@pytest.mark.parametrize("approve", [True, False])
async def test_a_write_asks_in_a_modal(make_app, chat_settings, llm_server, approve):
    root = chat_settings.tools.workspace_roots[0]
    llm_server.tool_call("write_file", {"path": "plan.md", "content": "step one\n"})
    llm_server.text("Written." if approve else "Not written.")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "write plan.md")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmAction), 30)
        assert "+step one" in app.screen.detail
        await pilot.press("y" if approve else "n")
        await wait_reply_done(pilot, chat)
        assert (root / "plan.md").exists() is approve
        tool = chat.query(ToolEntry).last()
        assert tool.has_class("-failed") is (not approve)


async def test_a_path_escape_is_refused_and_shown(make_app, chat_settings, llm_server):
    llm_server.tool_call("read_file", {"path": "../../etc/passwd"})
    llm_server.text("I may not read that file.")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "read /etc/passwd")
        await wait_reply_done(pilot, chat)
        tool = chat.query(ToolEntry).last()
        assert tool.has_class("-failed") and "outside" in tool.text.lower()
        assert "root:" not in tool.text


async def test_slash_command_history_and_sessions(make_app, chat_settings, llm_server):
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "/remember I like green tea")
        await wait_reply_done(pilot, chat)
        notice = chat.query(NoticeEntry).last()
        assert "remembered in Insights" in notice.text
        assert llm_server.chat_requests == []  # commands never reach the model
        await pilot.press("up")
        assert chat.input.text == "/remember I like green tea"
        chat.input.clear()
        first = chat.session.id
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: chat.session.id != first)
        assert not chat.query(NoticeEntry)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ChatSessionsScreen")
        await pilot.press("escape")


async def test_reply_markdown_is_rendered(make_app, chat_settings, llm_server):
    llm_server.text("# Title\n\n", "```python\nprint('hi')\n```\n")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "code please")
        await wait_reply_done(pilot, chat)
        reply = chat.query(AssistantEntry).last()
        assert reply.query_one(Markdown).source.startswith("# Title")
        reply.focus()
        await pilot.press("b")
        assert app.clipboard == "print('hi')"


async def test_a_task_added_in_the_chat_shows_in_the_tasks_pane(make_app, chat_settings):
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await pilot.press("alt+3")  # the Tasks pane loads (empty) ...
        tasks = app.pane("tasks")
        await wait_until(pilot, lambda: tasks._loaded_rev is not None)
        await pilot.press("alt+1")
        await wait_until(pilot, lambda: chat.input.has_focus)
        await send(pilot, chat, "/task Write the release notes")
        await wait_reply_done(pilot, chat)
        await pilot.press("alt+3")  # ... and shows the new task when shown again
        await wait_until(
            pilot,
            lambda: [t.title for t in tasks.table.tasks.values()] == ["Write the release notes"],
        )


async def test_regenerate_replaces_the_turns_memories_and_reply(
    make_app, chat_settings, llm_server
):
    llm_server.text(*[f"w{i} " for i in range(60)], delay_s=0.1)
    llm_server.text("A fresh answer about Miso.")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "What is my cat called?")
        replies = lambda: chat.query(AssistantEntry)  # noqa: E731
        await wait_until(pilot, lambda: len(replies()) and "w2" in replies().last().text, 60)
        await pilot.press("escape")  # cancel, then regenerate
        await wait_reply_done(pilot, chat)
        assert len(chat.query(MemoriesEntry)) == 1
        await pilot.press("ctrl+r")
        fresh = ["A fresh answer about Miso."]
        await wait_until(pilot, lambda: [e.text for e in chat.query(AssistantEntry)] == fresh)
        await wait_reply_done(pilot, chat)
        assert len(chat.query(MemoriesEntry)) == 1  # the new turn's, not two blocks
        assert len(chat.query(UserEntry)) == 1


async def test_a_new_session_clears_the_failed_status(make_app, chat_settings, llm_server):
    llm_server.error(500, "the server broke")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "hello")
        await wait_reply_done(pilot, chat)
        assert "failed" in str(chat.query_one("#chat-status").content)
        first = chat.session.id
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: chat.session.id != first)
        assert str(chat.query_one("#chat-status").content) == ""


async def test_a_refused_tool_names_itself_once_and_keeps_brackets(
    make_app, chat_settings, llm_server
):
    llm_server.tool_call("shell", {"command": "ls"})
    llm_server.text("The shell is off.")
    app = make_app(chat_settings)
    async with app.run_test(size=(160, 36)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "list the files with the shell")
        await wait_reply_done(pilot, chat)
        title = str(chat.query(ToolEntry).last().query_one("CollapsibleTitle").label)
        assert "under [tools] in the config" in title  # not eaten as markup
        assert "shell: shell:" not in title and title.startswith("✗ shell: ")


async def test_page_keys_scroll_the_conversation_from_the_prompt(
    make_app, chat_settings, llm_server
):
    llm_server.text("\n\n".join(f"paragraph {i}" for i in range(60)))
    app = make_app(chat_settings)
    async with app.run_test(size=(100, 24)) as pilot:
        chat = await open_chat(pilot)
        await send(pilot, chat, "a long answer")
        await wait_reply_done(pilot, chat)
        await wait_until(pilot, lambda: chat.log_view.max_scroll_y > 0)
        await pilot.pause(0.2)
        bottom = chat.log_view.scroll_y
        assert chat.input.has_focus
        await pilot.press("pageup")
        await wait_until(pilot, lambda: chat.log_view.scroll_y < bottom, what="scrolled up")
        assert chat.input.has_focus
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: chat.log_view.scroll_y == bottom, what="back down")


async def test_tab_completes_slash_commands(make_app, chat_settings, llm_server):
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await pilot.press(*"/rem", "tab")
        assert chat.input.text == "/remember " and chat.input.has_focus
        chat.input.clear()
        await pilot.press(*"/re", "tab")  # /read, /remember, /rename: their common start
        assert chat.input.text == "/re"
        assert any("/read PATH" in n and "/rename NAME" in n for n in app.notes)


async def test_ctrl_l_offers_the_models_found(make_app, chat_settings, llm_server):
    from textual.widgets import OptionList

    from magray_tui.tui.screens.task_picker import ChoicePicker

    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoicePicker), 30)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "openai/test-model" in ids  # the configured model, marked as the current one
        await pilot.press("end", "enter")  # "another model: type its name…"
        await wait_until(pilot, lambda: chat.input.text == "/model ")
        assert chat.input.has_focus
