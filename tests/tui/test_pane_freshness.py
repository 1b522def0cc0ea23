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


async def test_a_burst_of_writes_elsewhere_reloads_the_results_once_per_interval(
    make_app, seeded_settings, monkeypatch
):
    """An ingest announces a change per batch (several a second on an idle machine); each
    reload redraws the table, the detail and its history on the UI thread. A burst
    reloads once at once, then once more when the interval is up (showing the store as
    it is then), not once per write."""
    import magray_tui.tui.panes.memory_browser as browser_module

    monkeypatch.setattr(browser_module, "RELOAD_EVERY_S", 1.0)
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        browser = app.query_one("#pane-memory")
        reloads = []
        original = browser.reload_keeping_selection

        def counted() -> None:
            reloads.append(browser._revision)
            original()

        monkeypatch.setattr(browser, "reload_keeping_selection", counted)
        browser.data_may_have_changed()  # the baseline revision
        await wait_until(pilot, lambda: browser._revision is not None, what="a revision")
        base = browser._revision
        for n in range(1, 6):  # five writes announced within a few ms
            browser.post_message(browser.RevisionChecked(base + n))
        await wait_until(pilot, lambda: reloads, what="the first reload")
        await pilot.pause(0.3)
        assert len(reloads) == 1  # the rest of the burst waits for the interval
        await wait_until(pilot, lambda: len(reloads) >= 2, what="the reload after the interval")
        await pilot.pause(1.3)
        assert len(reloads) == 2  # one for the whole rest of the burst
