"""The TUI's promotion preview with nothing to do names the memories nearest to moving."""

from __future__ import annotations

from magray_tui.tui.screens.promotion_preview import PromotionPreview

from .pilot_helpers import result_ids, screen_text, text_of, wait_for_results, wait_until
from .test_promotion import app, clock, palette  # noqa: F401 (fixtures)


async def test_empty_preview_shows_the_nearest(app):  # noqa: F811
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("1")
        await wait_until(pilot, lambda: app.active_pane_id == "chat")
        await palette(pilot, "Preview promotion cycle")
        await wait_until(pilot, lambda: isinstance(app.screen, PromotionPreview))
        empty = text_of(app.screen, "#preview-empty")
        assert empty.startswith("Nothing to promote, merge, supersede or expire right now.")
        assert "Nearest to moving (score / threshold · what holds it back):" in empty
        shown = [
            ref for ref in ("m-cat", "m-markup", "m-duckdb", "m-tea", "m-hnsw") if ref in empty
        ]
        assert "m-hnsw" not in shown and len(shown) == 4  # Assets has nowhere to go
        assert "interact → insights" in empty and "insights → assets" in empty
        await pilot.pause(0.1)
        assert "Literal markup test: [bold]x[/]" in screen_text(app)  # text, not markup
