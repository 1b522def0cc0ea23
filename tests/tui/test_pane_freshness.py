"""Panes show the store as it is when they are shown: what the chat (or a background job)
wrote while another pane was up appears without a restart."""

from __future__ import annotations

import pytest

from tests.conftest import use_test_server

from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


@pytest.fixture
def chat_settings(seeded_settings, llm_server, tmp_path, monkeypatch):
    return use_test_server(seeded_settings, llm_server, tmp_path / "ws", monkeypatch)


async def test_memories_stored_by_the_chat_show_in_the_memory_pane(
    make_app, chat_settings, llm_server
):
    llm_server.text("Noted: ", "the billing service belongs to Alice.")
    app = make_app(chat_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("1")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.agent is not None and chat.session is not None, 60)
        chat.input.load_text("Who owns billing? Alice owns the billing service.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not chat.turn_running, 30, "turn finished")
        stored = app.backend.memory.list(["interact"], limit=100)
        assert any("Alice owns the billing" in r.text for r in stored)
        await pilot.press("escape", "2")
        await wait_until(pilot, lambda: app.active_pane_id == "memory")
        await wait_until(pilot, lambda: len(result_ids(app)) > 5, what="the chat's memories")
        browser = app.query_one("#pane-memory")
        texts = [browser.table.rows_by_id[i].record.text for i in result_ids(app)]
        assert any("Alice owns the billing" in t for t in texts)
        assert "No memories yet" not in text_of(app, "#memory-summary")


async def test_a_write_from_elsewhere_shows_when_the_pane_is_shown_again(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("3")
        await wait_until(pilot, lambda: app.active_pane_id == "tasks")
        ref = app.backend.memory.add("written by a background job while Tasks was shown")
        await pilot.press("2")
        await wait_until(pilot, lambda: ref in result_ids(app), what="the new memory listed")
