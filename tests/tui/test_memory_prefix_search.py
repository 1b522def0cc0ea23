"""Search-as-you-type in the Memory pane matches the last word as a prefix (issue 15):
`keyb` finds "keyboard" while it is typed, in keyword mode where only BM25 answers."""

from __future__ import annotations

from textual.widgets import Select

from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


async def test_a_partly_typed_word_finds_the_words_it_starts(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        app.query_one("#memory-mode", Select).value = "keyword"
        browser = app.query_one("#pane-memory")
        await pilot.press("slash", *"keyb")
        await wait_until(pilot, lambda: browser.shown_query == "keyb", what="results for keyb")
        assert result_ids(app) == ["m-cat"]  # "...sleep on the warm keyboard."
        assert "keyword" in text_of(app, "#memory-summary")
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"green aftern")
        await wait_until(pilot, lambda: browser.shown_query == "green aftern")
        assert result_ids(app) == ["m-tea"]
