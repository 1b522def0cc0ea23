"""Themes: shipped files load, a broken user theme is reported and skipped, the choice
persists in the state folder (not in config.toml)."""

from __future__ import annotations

import json
import os

import pytest
from textual.color import Color

from magray_tui.config import load_settings
from magray_tui.tui.themes import (
    ThemeFileError,
    load_theme_file,
    scan_theme_dirs,
    shipped_themes_dir,
)

from .pilot_helpers import wait_for_results, wait_until


def test_shipped_themes_load():
    scan = scan_theme_dirs(shipped_themes_dir())
    assert scan.problems == []
    names = {t.name: t for t in scan.themes}
    assert names["magray-dark"].dark is True
    assert names["magray-light"].dark is False
    for theme in names.values():
        for field in ("primary", "secondary", "accent", "background", "surface", "panel"):
            assert getattr(theme, field)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('primary = "not-a-colour"', "is not a colour"),
        ('secondary = "#123456"', "'primary' is required"),
        ('primary = "#123456"\nshiny = true', "unknown key(s): shiny"),
        ('primary = "#123456"\ndark = "yes"', "'dark' must be true or false"),
        ("primary = ", "not valid TOML"),
        # Wrong value types and values Textual cannot use (issue 12, item 11).
        ('primary = "#123456"\nluminosity_spread = "abc"', "luminosity_spread must be a number"),
        ('primary = "#123456"\nluminosity_spread = [1]', "luminosity_spread must be a number"),
        ('primary = "#123456"\ntext_alpha = true', "text_alpha must be a number"),
        ('primary = "#123456"\ntext_alpha = nan', "is not from 0 to 1"),
        ('primary = "#123456"\ntext_alpha = 1e308', "is not from 0 to 1"),
        ('primary = ["#123456"]', "primary must be a colour string"),
        ('primary = "#123456"\nname = 5', "'name' must be a non-empty string"),
        ('primary = "#123456"\nvariables = 3', "[variables] must map names to strings"),
        ('primary = "#123456"\n[variables]\n"block-cursor-background" = 7', "map names"),
        (
            'primary = "#123456"\n[variables]\n"block-cursor-background" = "nope nope"',
            "block-cursor-background = 'nope nope' is not a valid color",
        ),
        (
            'primary = "#123456"\n[variables]\n"footer-key-foreground" = "}{;"',
            "is not a valid color",
        ),
        (
            'primary = "#123456"\n[variables]\n"link-style" = "wobbly"',
            "is not a valid link-style",
        ),
        (
            'primary = "#123456"\n\n\nx = ' + "[" * 100_000 + "]" * 100_000,
            ", line 4: not valid TOML: arrays or tables nested too deeply",
        ),
    ],
)
def test_theme_file_problems_name_the_file(tmp_path, body, problem):
    path = tmp_path / "broken.toml"
    path.write_text(body)
    with pytest.raises(ThemeFileError) as err:
        load_theme_file(path)
    assert problem in str(err.value)
    assert str(path) in str(err.value)


async def test_invalid_user_theme_is_reported_and_skipped(make_app, seeded_home):
    themes = seeded_home / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('primary = "chartreuse-ish"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\ndark = true\n')
    app = make_app(load_settings(seeded_home))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        assert "mine" in app.available_themes
        assert "broken" not in app.available_themes
        assert any("broken.toml" in note and "skipped" in note for note in app.notes)
        assert app.theme == "magray-dark"


async def test_a_chosen_theme_that_went_bad_is_skipped_and_the_app_starts(make_app, seeded_home):
    """A theme with a wrong value type used to stop the TUI before its first frame."""
    themes = seeded_home / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('primary = "#123456"\nluminosity_spread = "wide"\n')
    (themes / "deep.toml").write_text('primary = "#1"\nx = ' + "[" * 50_000 + "]" * 50_000)
    (themes / "css.toml").write_text('primary = "#1"\n[variables]\n"text" = "}{"\n')
    os.mkfifo(themes / "fifo.toml")  # opening it plainly would wait for a writer forever
    state = seeded_home / "state"
    state.mkdir(exist_ok=True)
    (state / "tui.json").write_text('{"theme": "mine"}')
    app = make_app(load_settings(seeded_home))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        assert app.theme == "magray-dark"
        for name in ("mine", "deep", "css", "fifo"):
            assert name not in app.available_themes
            assert sum(f"{name}.toml" in note and "(skipped)" in note for note in app.notes) == 1
        assert any("'mine' is no longer available" in note for note in app.notes)


async def test_theme_choice_persists(make_app, seeded_home):
    settings = load_settings(seeded_home)
    app = make_app(settings)
    state = settings.paths.state / "tui.json"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        app.theme = "magray-light"
        await wait_until(pilot, lambda: state.exists() and "magray-light" in state.read_text())
    assert json.loads(state.read_text())["theme"] == "magray-light"
    again = make_app(settings)
    async with again.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert again.theme == "magray-light"
    assert not settings.config_file.exists()  # the choice is state, not configuration


def near(a: str, b: str) -> bool:
    """Colours equal up to Textual's rounding."""
    ca, cb = Color.parse(a), Color.parse(b)
    return all(abs(x - y) <= 2 for x, y in zip(ca.rgb, cb.rgb, strict=True))


async def test_theme_files_are_hot_reloaded(make_app, seeded_home):
    themes = seeded_home / "config" / "themes"
    themes.mkdir(parents=True)
    mine = themes / "mine.toml"
    mine.write_text('primary = "#ff8800"\n')
    app = make_app(load_settings(seeded_home), watch_themes=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        app.theme = "mine"
        await pilot.pause(0.5)  # let the watcher start
        assert near(app.theme_variables["primary"], "#ff8800")
        mine.write_text('primary = "#00aa55"\n')
        await wait_until(pilot, lambda: near(app.theme_variables["primary"], "#00aa55"))
        (themes / "new.toml").write_text('primary = "#123456"\n')
        await wait_until(pilot, lambda: "new" in app.available_themes)
        (themes / "bad.toml").write_text('primary = "nope"\n')
        await wait_until(pilot, lambda: any("bad.toml" in n for n in app.notes))
        # config.toml is watched too: a new key remap applies without a restart.
        app.settings.config_file.write_text('[keys]\n"pane.health" = "q"\n')
        await wait_until(pilot, lambda: app.user_keymap.get("pane.health") == "q")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.active_pane_id == "health")
