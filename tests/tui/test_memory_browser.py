"""The memory browser against real services: hybrid search, curation keys, literal text."""

from __future__ import annotations

from textual.widgets import Input, Select, TextArea

from magray_tui.tui.screens.memory_editor import MemoryEditor
from magray_tui.tui.widgets.header import AppHeader

from .pilot_helpers import result_ids, screen_text, text_of, wait_for_results, wait_until


async def search(pilot, query: str) -> None:
    """Type `query` and wait for its own results (searches for the partial text typed on
    the way may show first: the debounce is shorter than Pilot's gap between keys)."""
    await pilot.press("slash")
    await pilot.press(*query)
    browser = pilot.app.query_one("#pane-memory")
    await wait_until(pilot, lambda: browser.shown_query == query, what=f"results for {query!r}")


async def test_typing_a_query_shows_hybrid_results(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await search(pilot, "which database is the source of truth")
        await wait_until(pilot, lambda: "hybrid" in text_of(app, "#memory-summary"))
        assert result_ids(app)[0] == "m-duckdb"
        why = text_of(app, "#detail-score")
        assert "vector   rank   1" in why
        assert "BM25     rank   1" in why
        assert "fused" in why
        # Enter moves to the results, where the curation keys work.
        await pilot.press("enter")
        assert app.focused is app.query_one("#memory-results")


async def test_filters_mode_and_layer(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("l")  # layer: interact
        await wait_until(pilot, lambda: len(result_ids(app)) == 2)
        assert set(result_ids(app)) == {"m-cat", "m-markup"}
        await pilot.press("l", "l")  # layer: assets
        await wait_until(pilot, lambda: result_ids(app) == ["m-hnsw"])
        app.query_one("#memory-layer", Select).value = "all"
        app.query_one("#memory-mode", Select).value = "keyword"
        await search(pilot, "green tea")
        await wait_until(pilot, lambda: "keyword" in text_of(app, "#memory-summary"))
        assert result_ids(app) == ["m-tea"]  # BM25 alone: only the record with the words
        assert "vector" not in text_of(app, "#detail-score")


async def test_forget_then_undo(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await search(pilot, "cat Miso keyboard")
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-cat"])
        await pilot.press("enter", "f")
        await wait_until(pilot, lambda: "m-cat" not in result_ids(app))
        memory = app.backend.memory
        assert memory.get("m-cat", count_access=False).state == "forgotten"
        await wait_until(pilot, lambda: app.query_one(AppHeader).counts["forgotten"] == 1)
        assert any("Press u to undo" in note for note in app.notes)
        await pilot.press("u")
        await wait_until(pilot, lambda: "m-cat" in result_ids(app))
        assert memory.get("m-cat", count_access=False).state == "live"
        await wait_until(pilot, lambda: app.query_one(AppHeader).counts["forgotten"] == 0)
        await wait_until(pilot, lambda: "restore" in text_of(app, "#detail-history"))


async def test_tombstones_and_restore(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        ids = await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("f")
        await wait_until(pilot, lambda: len(result_ids(app)) == 4)
        await pilot.press("t")
        await wait_until(pilot, lambda: result_ids(app) == [ids[0]])
        assert "forgotten memory" in text_of(app, "#memory-summary")
        assert "forgotten" in text_of(app, "#detail-title")
        await pilot.press("r")
        await wait_until(pilot, lambda: result_ids(app) == [])
        await pilot.press("t")
        await wait_until(pilot, lambda: len(result_ids(app)) == 5)


async def test_edit_text_and_tags_reembeds(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await search(pilot, "green tea")
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-tea"])
        await pilot.press("enter", "e")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryEditor))
        assert "green tea" in app.screen.query_one(TextArea).text
        app.screen.query_one(TextArea).text = "The user drinks espresso with oat milk."
        app.screen.query_one("#editor-tags", Input).value = "preferences, drinks"
        await pilot.press("ctrl+s")
        memory = app.backend.memory
        await wait_until(pilot, lambda: "espresso" in memory.get("m-tea", count_access=False).text)
        assert memory.get("m-tea", count_access=False).tags == ("preferences", "drinks")
        # The new text is embedded: a vector-only search finds it by meaning.
        hits = memory.search("coffee beverage", k=1, mode="vector", count_access=False)
        assert hits[0].record.id == "m-tea"
        await wait_until(pilot, lambda: any("Edited" in note for note in app.notes))


async def test_add_a_memory(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryEditor))
        await pilot.press(*"Backups run nightly at two")
        app.screen.query_one("#editor-layer", Select).value = "assets"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(result_ids(app)) == 6)
        await wait_until(pilot, lambda: app.query_one(AppHeader).counts["assets"] == 2)
        added = app.backend.memory.list(["assets"], limit=5)
        assert any(r.text == "Backups run nightly at two" for r in added)


async def test_empty_text_is_refused_in_the_editor(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryEditor))
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, MemoryEditor)
        assert "needs some text" in text_of(app.screen, "#editor-error")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, MemoryEditor))


async def test_markup_in_a_record_renders_literally(make_app, seeded_settings):
    app = make_app(seeded_settings)
    # Wide enough for the whole 43-character text in the table's memory column (the
    # results take 3/5 of the width, less the layer, by, match, age and reads columns).
    async with app.run_test(size=(160, 36)) as pilot:
        await wait_for_results(pilot)
        await search(pilot, "literal markup test")
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-markup"])
        await pilot.pause(0.1)
        drawn = screen_text(app)
        # Drawn twice as typed: the table's snippet and the detail panel's full text.
        assert drawn.count("Literal markup test: [bold]x[/] and [link]") == 2
        assert text_of(app, "#detail-text").startswith("Literal markup test: [bold]x[/]")


async def test_copy_puts_the_text_on_the_clipboard(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await search(pilot, "cat Miso")
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-cat"])
        await pilot.press("enter", "c")
        assert app.clipboard.startswith("The user's cat is called Miso")


async def test_stale_results_are_dropped(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        old_generation = browser._generation
        await search(pilot, "green tea")
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-tea"])
        assert browser._generation > old_generation
        # A late answer to an old query must not replace what is shown.
        from magray_tui.tui.panes.memory_queries import QueryRequest

        stale = QueryRequest(old_generation, "")
        browser.post_message(browser.ResultsLoaded(stale, [], 0.0))
        await pilot.pause(0.2)
        assert result_ids(app)[:1] == ["m-tea"]


async def test_kind_and_tag_filters_come_from_the_store(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        browser = app.query_one("#pane-memory")
        kinds = app.query_one("#memory-kind", Select)
        tags = app.query_one("#memory-tag", Select)
        await wait_until(pilot, lambda: len(browser.filter_choices["kind"]) > 1)
        # Every kind in the store, most common first ("note" twice), after "all".
        assert browser.filter_choices["kind"] == ("all", "note", "code", "decision", "fact")
        assert set(browser.filter_choices["tag"]) == {
            "all",
            "architecture",
            "personal",
            "snippet",
            "index",
            "preferences",
        }
        await pilot.press("k")  # kind: note
        await wait_until(pilot, lambda: set(result_ids(app)) == {"m-cat", "m-markup"})
        assert "kind note" in text_of(app, "#memory-summary")
        kinds.value = "all"
        tags.value = "preferences"
        await wait_until(pilot, lambda: result_ids(app) == ["m-tea"])
        # Searching keeps the filter: the cat memory matches the words but not the tag.
        await search(pilot, "cat Miso keyboard")
        await wait_until(pilot, lambda: "hybrid" in text_of(app, "#memory-summary"))
        assert result_ids(app) in ([], ["m-tea"])
        assert "tag preferences" in text_of(app, "#memory-summary")


async def test_a_new_kind_is_offered_after_a_change(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        browser = app.query_one("#pane-memory")
        await wait_until(pilot, lambda: "fact" in browser.filter_choices["kind"])
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryEditor))
        await pilot.press(*"Standup moved to ten")
        app.screen.query_one("#editor-kind", Input).value = "meeting"
        app.screen.query_one("#editor-tags", Input).value = "calendar"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "meeting" in browser.filter_choices["kind"])
        assert "calendar" in browser.filter_choices["tag"]


async def test_sort_orders(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        memory = app.backend.memory
        for _ in range(3):
            memory.get("m-hnsw")  # counted reads
        memory.flush_accesses()
        await pilot.press("s")  # by date: newest first
        await wait_until(pilot, lambda: app.query_one("#memory-sort", Select).value == "date")
        await wait_until(pilot, lambda: result_ids(app)[:2] == ["m-markup", "m-cat"])
        await pilot.press("s")  # by reads
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-hnsw"])
        assert "most read" in text_of(app, "#memory-summary")


async def test_ages_tick_without_a_new_query(make_app, seeded_settings, monkeypatch):
    from datetime import timedelta

    from .conftest import FIXED_NOW

    monkeypatch.setattr("magray_tui.tui.panes.memory_browser.AGE_TICK_S", 0.1)
    now = [FIXED_NOW]
    app = make_app(seeded_settings, clock=lambda: now[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        table = app.query_one("#memory-results")
        assert result_ids(app)[0] == "m-markup"  # 2 hours old
        assert str(table.get_cell("m-markup", "age")) == "2h"
        browser = app.query_one("#pane-memory")
        generation = browser._generation
        now[0] = FIXED_NOW + timedelta(days=3)
        await wait_until(pilot, lambda: str(table.get_cell("m-markup", "age")) == "3d")
        assert str(table.get_cell("m-hnsw", "age")) == "1w"  # 9 + 3 days
        assert browser._generation == generation  # redrawn, not queried again


async def test_tombstones_match_the_searchs_words(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await search(pilot, "what is the cat called")
        await wait_until(pilot, lambda: result_ids(app)[:1] == ["m-cat"])
        await pilot.press("enter", "f")
        await wait_until(pilot, lambda: "m-cat" not in result_ids(app))
        await pilot.press("t")  # the same query, over the forgotten memories
        await wait_until(pilot, lambda: result_ids(app) == ["m-cat"], what="found by its words")
        assert "1 forgotten memory matching words of" in text_of(app, "#memory-summary")
