"""Stored and model text that carries terminal escapes (`ESC ] 0 ; … BEL` sets the window
title, `ESC [ 2 J` clears the screen) is drawn with its control characters made visible in
every widget that shows it, and `[markup]` in it stays literal. What is checked is what the
compositor hands the terminal: the text of every segment on screen, toasts included."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from magray_tui.config import load_settings
from magray_tui.tui.widgets.chat_messages import AssistantEntry, ToolEntry, UserEntry
from tests.conftest import use_test_server

from .pilot_helpers import result_ids, screen_text, wait_for_results, wait_until
from .test_tasks_pane import open_tasks, shown_ids

EVIL = "evil \x1b]0;pwned\x07 title \x1b[2J cleared \x9b31m red\r over"
VISIBLE = "evil ␛]0;pwned␇ title ␛[2J cleared"


def raw_controls_on_screen(app) -> list[str]:
    """Every control character (C0 but none, DEL, C1) in the text the screen would write."""
    update = app.screen._compositor.render_full_update()
    text = "".join(seg.text for line in update.strips for strip in line for seg in strip)
    return sorted({c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F})


@pytest.fixture
def evil_home(seeded_home, embedder):
    from magray_tui.memory import MemoryService

    with MemoryService.open(settings=load_settings(seeded_home), embedder=embedder) as memory:
        memory.add(EVIL, tags=["[b]tag"])  # (the store refuses control characters in tags)
    return seeded_home


async def test_memory_pane_and_toasts_show_escapes_as_visible_text(make_app, evil_home):
    app = make_app(load_settings(evil_home))
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 6)
        browser = app.query_one("#pane-memory")
        await wait_until(pilot, lambda: "evil" in browser.table.selected.record.text)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert VISIBLE in shown  # the table row and the detail both
        assert shown.count("␛]0;pwned␇") >= 2
        assert raw_controls_on_screen(app) == []
        # The tag picker offers the stored tag as typed: literal brackets, not markup.
        tags = app.query_one("#memory-tag", Select)
        await wait_until(pilot, lambda: any("tag" in str(p) for p, _ in tags._options))
        prompts = [str(p) for p, _ in tags._options]
        assert "[b]tag" in prompts
        # Forgetting it toasts its snippet.
        await pilot.press("f")
        await wait_until(pilot, lambda: any("Forgot" in n for n in app.notes))
        await pilot.pause(0.3)
        assert "Forgot “evil ␛]0;pwned␇" in screen_text(app)
        assert raw_controls_on_screen(app) == []


async def test_tasks_pane_table_detail_and_graph(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for_results(pilot)
        todo = app.backend.services.todo
        first = todo.create(EVIL, description="notes \x1b[2J here")
        todo.create("after \x1b]0;x\x07 it", deps=[first.id])
        tasks = await open_tasks(pilot)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 2)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "␛]0;pwned␇" in shown and "notes ␛[2J here" in shown
        assert raw_controls_on_screen(app) == []
        await pilot.press("g")  # the graph
        await wait_until(pilot, lambda: tasks.graph.graph is not None, what="graph drawn")
        await pilot.pause(0.2)
        assert "␛]0;x␇" in screen_text(app)
        assert raw_controls_on_screen(app) == []


@pytest.fixture
def chat_settings(seeded_settings, llm_server, tmp_path, monkeypatch):
    return use_test_server(seeded_settings, llm_server, tmp_path / "ws", monkeypatch)


async def test_chat_messages_and_tool_titles(make_app, chat_settings, llm_server):
    llm_server.tool_call("[bold]read_file[/bold]", {"path": "[red]x\x1b[2J"})
    llm_server.text("reply ", "\x1b]0;pwned\x07 and ", "\x1b[2J done [bold]literal[/bold]")
    app = make_app(chat_settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("1")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.agent is not None and chat.session is not None, 60)
        chat.input.load_text("say \x1b[2J something")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not chat.turn_running, 30, "turn finished")
        await pilot.pause(0.2)
        assert chat.query(UserEntry) and chat.query(AssistantEntry) and chat.query(ToolEntry)
        shown = screen_text(app)
        assert "say ␛[2J something" in shown
        assert "␛]0;pwned␇ and ␛[2J done" in shown
        assert "[bold]read_file[/bold]" in shown  # a tool title is not markup
        assert raw_controls_on_screen(app) == []
