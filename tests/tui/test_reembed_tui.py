"""A changed embedding model in the TUI: the store opens on its own model, the re-embed runs
in the background with its progress in the status bar, search answers meanwhile, and the
header names the new model once it switched. Real models (one built by the test), real
DuckDB, real Textual app (no shared-model shortcut: the two models must differ)."""

from __future__ import annotations

from pathlib import Path

from magray_tui.ai import DEFAULT_MODEL_ID
from magray_tui.config import load_settings
from magray_tui.memory import MemoryService
from magray_tui.tui.app import MagrayApp
from magray_tui.tui.reembed import JOB
from magray_tui.tui.widgets.header import AppHeader
from tests.small_models import write_small_model

from .pilot_helpers import screen_text, wait_until

NEEDLE = "The staging database listens on port 5433."


async def test_status_bar_shows_the_reembed_then_the_header_names_the_new_model(
    home: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    write_small_model(models, "tiny-64")
    old = load_settings(home, embedding={"model": "tiny-64"}, models_dir=str(models))
    with MemoryService.open(settings=old) as svc:
        svc.add_many([{"text": f"note {i} on topic {i % 11}"} for i in range(1500)])
        needle = svc.add(NEEDLE, layer="insights")
    new = load_settings(home, embedding={"model": DEFAULT_MODEL_ID}, models_dir=str(models))
    app = MagrayApp(new, watch_themes=False)
    seen: dict[str, str] = {}
    try:
        async with app.run_test(size=(140, 40)) as pilot:

            def progress_drawn() -> bool:
                text = screen_text(app)
                if JOB in text and "/1,501" in text:
                    seen["bar"] = text
                    # Mid-run: the store's own model answers the search.
                    backend = app.backend
                    assert backend is not None and backend.memory.embedder.model_id == "tiny-64"
                    seen["hit"] = backend.memory.search("staging port", k=1)[0].record.id
                    return True
                return False

            await wait_until(pilot, progress_drawn, 120, "re-embed progress in the status bar")
            header = app.query_one(AppHeader)
            await wait_until(
                pilot, lambda: DEFAULT_MODEL_ID in str(header.model), 300, "the header's new model"
            )
            await wait_until(pilot, lambda: JOB not in screen_text(app), 20, "the bar cleared")
            assert seen["hit"] == needle
            memory = app.backend.memory
            assert memory.embedder.model_id == DEFAULT_MODEL_ID
            assert memory.search("staging port", k=1)[0].record.id == needle
            assert not memory.reembed_status().pending
    finally:
        app.close_backend()
