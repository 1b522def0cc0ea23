"""Tab completes folder paths in the Add folder dialog, as a shell does: a unique folder in
full (with its slash), several to their common start with the names listed; files and
hidden folders are not offered; Tab with nothing to complete moves on."""

from __future__ import annotations

from pathlib import Path

from magray_tui.tui.screens.ingest_folder import AddFolderScreen, PathInput, complete_folder

from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


def make_tree(root: Path) -> Path:
    for name in ("alpha_one", "alpha_two", "beta", ".hidden_alpha"):
        (root / name).mkdir(parents=True)
    (root / "alpha.txt").write_text("a file, not a folder\n", encoding="utf-8")
    (root / "betamax.md").write_text("also a file\n", encoding="utf-8")
    return root


def test_complete_folder(tmp_path: Path, monkeypatch) -> None:
    root = make_tree(tmp_path / "tree")
    assert complete_folder(f"{root}/be") == (f"{root}/beta/", [])
    assert complete_folder(f"{root}/al") == (f"{root}/alpha_", ["alpha_one", "alpha_two"])
    assert complete_folder(f"{root}/.hid") == (f"{root}/.hidden_alpha/", [])
    assert complete_folder(f"{root}/zzz") == (f"{root}/zzz", [])
    assert complete_folder(f"{root}/nope/x") == (f"{root}/nope/x", [])
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete_folder("~/tr") == ("~/tree/", [])  # ~ looked up, kept as typed


async def test_tab_completes_in_the_dialog(make_app, seeded_settings, tmp_path):
    root = make_tree(tmp_path / "tree")
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, AddFolderScreen))
        dialog = app.screen
        field = dialog.query_one(PathInput)
        field.value = f"{root}/al"
        field.cursor_position = len(field.value)
        await pilot.press("tab")
        await wait_until(pilot, lambda: field.value == f"{root}/alpha_", what="common start")
        assert text_of(dialog, "#add-folder-error") == "alpha_one  alpha_two"
        assert field.has_focus
        await pilot.press("t", "tab")
        await wait_until(pilot, lambda: field.value == f"{root}/alpha_two/", what="unique")
        assert field.cursor_position == len(field.value)
        await pilot.press("tab")  # nothing more to complete: focus moves on
        await wait_until(pilot, lambda: not field.has_focus, what="focus moved")
