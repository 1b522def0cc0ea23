"""Add folder, cancel, watched folders and file locations in the memory browser, against
the real ingest pipeline (real files, real model, real DuckDB, real watchfiles)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Checkbox, Input

from magray_tui.tui.screens.ingest_folder import AddFolderScreen
from magray_tui.tui.screens.watched_folders import WatchedFolders

from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


def make_project(root: Path, files: int = 3) -> Path:
    root.mkdir(parents=True)
    for i in range(files):
        (root / f"module_{i}.py").write_text(
            f'"""Module {i}."""\n\n\ndef handler_{i}(x):\n    return x * {i}\n', encoding="utf-8"
        )
    (root / "notes.md").write_text("# Deploy\n\nThe staging deploy needs the VPN.\n")
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return root


async def open_dialog(pilot) -> AddFolderScreen:
    await pilot.press("A")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AddFolderScreen))
    return pilot.app.screen


async def submit_path(pilot, dialog: AddFolderScreen, path: str) -> None:
    dialog.query_one(Input).value = path
    dialog.query_one(Input).focus()
    await pilot.press("enter")


async def test_add_folder_validates_ingests_and_locates(make_app, seeded_settings, tmp_path):
    project = make_project(tmp_path / "project")
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, str(tmp_path / "nowhere"))
        assert "No such folder" in text_of(dialog, "#add-folder-error")
        await submit_path(pilot, dialog, str(project / "notes.md"))
        assert "is a file, not a folder" in text_of(dialog, "#add-folder-error")
        await submit_path(pilot, dialog, "  ")
        assert "Type the path" in text_of(dialog, "#add-folder-error")
        assert app.screen is dialog  # nothing started, nothing lost
        await submit_path(pilot, dialog, str(project))
        await wait_until(pilot, lambda: any("Ingested project" in n for n in app.notes), 60)
        note = next(n for n in app.notes if "Ingested project" in n)
        assert "4 new" in note and "skipped 1 (binary" in note
        memory = app.backend.memory
        files = {r.metadata["path"] for r in memory.list(["assets"], limit=100) if r.location}
        assert files == {
            str(project / f) for f in ("module_0.py", "module_1.py", "module_2.py", "notes.md")
        }
        # The listing shows the new chunks; the detail says where each came from.
        await wait_until(pilot, lambda: len(result_ids(app)) > 5)
        await pilot.press("slash", *"staging deploy VPN", "enter")
        notes_md = str(project / "notes.md")
        await wait_until(pilot, lambda: notes_md in text_of(app, "#detail-fields"))
        assert f"file       {notes_md}:1-3" in text_of(app, "#detail-fields")
        await pilot.press("o")
        assert app.clipboard == f"{notes_md}:1"
        # Not watched: nothing was written to watched.json.
        assert not (seeded_settings.paths.state / "watched.json").exists()


async def test_cancel_ingest_keeps_what_was_stored(make_app, seeded_settings, tmp_path):
    project = tmp_path / "big"
    project.mkdir()
    for i in range(40):
        body = "\n\n".join(f"def f_{i}_{j}(a, b):\n    return a + b * {j}\n" * 6 for j in range(8))
        (project / f"m{i}.py").write_text(body, encoding="utf-8")
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, str(project))
        await wait_until(pilot, lambda: browser.ingesting, what="the ingest started")
        await wait_until(pilot, lambda: app.jobs.running("ingesting big"))
        await pilot.press("x")
        await wait_until(pilot, lambda: any("cancelled" in n for n in app.notes), 60)
        assert not browser.ingesting and not app.jobs.running("ingesting big")
        stored = {
            r.metadata["path"]
            for r in app.backend.memory.list(["assets"], limit=1000)
            if r.location
        }
        assert len(stored) < 40  # stopped early
        # Adding it again resumes: every file ends up stored exactly once.
        dialog = await open_dialog(pilot)
        await submit_path(pilot, dialog, str(project))
        await wait_until(pilot, lambda: any("Ingested big" in n for n in app.notes), 120)
        records = [r for r in app.backend.memory.list(["assets"], limit=5000) if r.location]
        assert {r.metadata["path"] for r in records} == {str(p) for p in project.glob("*.py")}
        keys = [
            (r.metadata["path"], r.metadata["chunk_hash"], r.metadata["start_line"])
            for r in records
        ]
        assert len(keys) == len(set(keys))  # no duplicates


async def test_watched_folder_syncs_live_and_toggles(make_app, seeded_settings, tmp_path):
    project = make_project(tmp_path / "live", files=1)
    app = make_app(seeded_settings)
    watched_file = seeded_settings.paths.state / "watched.json"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        dialog = await open_dialog(pilot)
        dialog.query_one(Checkbox).value = True
        await submit_path(pilot, dialog, str(project))
        await wait_until(pilot, lambda: watched_file.exists())
        saved = json.loads(watched_file.read_text())["folders"]
        assert [(f["path"], f["enabled"]) for f in saved] == [(str(project), True)]
        memory = app.backend.memory
        # The watcher's first sync ingests the folder, then changes arrive live.
        await wait_until(pilot, lambda: any(r.location for r in memory.list(["assets"])), 60)
        (project / "todo.md").write_text("# Later\n\nRotate the grafana admin password.\n")
        await wait_until(
            pilot,
            lambda: any("todo.md" in (r.location or "") for r in memory.list(["assets"])),
            30,
        )
        await wait_until(pilot, lambda: any("live:" in n and "1 new" in n for n in app.notes))
        # The screen lists it as watched; space switches watching off (and persists it).
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, WatchedFolders))
        screen = app.screen
        await wait_until(pilot, lambda: screen.rows and screen.rows[0].status == "watching")
        assert screen.rows[0].files == 3  # module_0.py, notes.md, todo.md
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.rows and not screen.rows[0].enabled)
        assert json.loads(watched_file.read_text())["folders"][0]["enabled"] is False
        await wait_until(pilot, lambda: str(project) not in browser.watches, 15)
        await pilot.press("escape")
        (project / "later.md").write_text("Written while not watched.\n")
        await pilot.pause(2.0)
        assert not any("later.md" in (r.location or "") for r in memory.list(["assets"]))


async def test_watching_resumes_at_start(make_app, seeded_settings, tmp_path):
    from magray_tui.ingest import add_watched

    project = make_project(tmp_path / "again", files=1)
    add_watched(seeded_settings, [project])
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        await wait_until(pilot, lambda: str(project) in browser.watches, 20)
        memory = app.backend.memory
        await wait_until(pilot, lambda: any(r.location for r in memory.list(["assets"])), 60)
    # Leaving the app stopped the watcher before the store closed.
    assert not any(not w.done.is_set() for w in browser.watches.values())


async def test_read_only_store_offers_no_ingest(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        titles = [c.title for c in browser.palette_commands()]
        assert "Add folder" in titles and "Watched folders" in titles
        assert "Cancel ingest" not in titles
        app.backend.memory.store.read_only = True
        assert browser.check_action("add_folder", ()) is None  # greyed out
        await pilot.press("A")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, AddFolderScreen)
        assert "Add folder" not in [c.title for c in browser.palette_commands()]


async def test_an_unticked_box_draws_no_x():
    from textual.app import App

    from magray_tui.tui.screens.ingest_folder import Tick

    class Host(App):
        def compose(self):
            yield Tick("Keep watching it")

    async with Host().run_test() as pilot:
        tick = pilot.app.query_one(Tick)
        assert "X" not in tick.render().plain  # was a dim X: read as ticked on dark themes
        await pilot.click(Tick)
        assert tick.value and "X" in tick.render().plain
