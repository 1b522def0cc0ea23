"""Switching panes (keys, palette, mouse), F1 help, and user key remaps from config.toml."""

from __future__ import annotations

import re

from textual.widgets import Static

from magray_tui.tui.screens.help import HelpScreen

from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


async def test_number_keys_switch_panes(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        for key, pane_id in [("3", "tasks"), ("4", "gpu"), ("5", "health"), ("2", "memory")]:
            await pilot.press("alt+" + key)  # from anywhere, even a focused text field
            await wait_until(pilot, lambda pane_id=pane_id: app.active_pane_id == pane_id)
        await pilot.press("1")
        await wait_until(pilot, lambda: app.active_pane_id == "chat")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.input.has_focus)
        await pilot.press("3")  # typing a digit in the prompt types it
        assert chat.input.text == "3" and app.active_pane_id == "chat"
        await pilot.press("escape", "2")  # Esc leaves the prompt; then digits switch again
        await wait_until(pilot, lambda: app.active_pane_id == "memory")


async def test_palette_switches_pane(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"go to health")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.active_pane_id == "health")


async def test_tab_click_switches_pane(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await pilot.click("#panes Tab#--content-tab-tab-gpu")
        await wait_until(pilot, lambda: app.active_pane_id == "gpu")


async def test_f1_lists_the_focused_panes_keys(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = str(app.screen.query_one("#help-pane-keys", Static).content)
        for binding_id in ("memory.forget", "memory.undo", "memory.edit", "memory.add"):
            assert binding_id in keys
        assert "Forget" in keys and "Tombstones" in keys
        everywhere = str(app.screen.query_one("#help-global-keys", Static).content)
        assert "pane.chat" in everywhere and "app.help" in everywhere
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("1")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Chat" in str(app.screen.query(Static).first().content)
        chat_keys = str(app.screen.query_one("#help-pane-keys", Static).content)
        assert "memory.forget" not in chat_keys
        assert "chat.cancel" in chat_keys and "chat.copy_message" in chat_keys


async def test_remapped_key_from_config(make_app, seeded_settings):
    seeded_settings.config_file.parent.mkdir(parents=True, exist_ok=True)
    seeded_settings.config_file.write_text(
        '[keys]\n"memory.forget" = "x"\n"pane.health" = "q"\n"no.such.binding" = "z"\n'
    )
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        ids = await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        assert any("no.such.binding" in note for note in app.notes)
        await pilot.press("f")  # no longer bound
        await pilot.pause(0.3)
        assert result_ids(app) == ids
        await pilot.press("x")
        await wait_until(pilot, lambda: len(result_ids(app)) == 4)
        assert app.backend.memory.get(ids[0], count_access=False).state == "forgotten"
        await pilot.press("q")
        await wait_until(pilot, lambda: app.active_pane_id == "health")
        await pilot.press("2")
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.query("#help-pane-keys"))
        keys = str(app.screen.query_one("#help-pane-keys", Static).content)
        assert re.search(r"^x\s+Forget\s+memory.forget$", keys, re.M)


async def test_palette_shows_paths_and_hides_invalid_commands(make_app, seeded_settings):
    from magray_tui.tui.commands import MagrayCommands

    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        titles = lambda: [c.title for c in MagrayCommands(app.screen)._commands()]  # noqa: E731
        await pilot.pause()
        if app.backend is None:
            assert "Reindex memories" not in titles()
        await wait_for_results(pilot)
        assert "Reindex memories" in titles()
        assert "Go to Memory" not in titles()  # already there
        assert "Go to Chat" in titles()
        await pilot.press("ctrl+p")
        await pilot.press(*"show log file path")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("magray.log" in n for n in app.notes))
        assert text_of(app, "#memory-summary")


async def test_a_pane_activated_after_the_tabs_are_gone_is_ignored(make_app, seeded_settings):
    """Measured under load: a pane switch's TabActivated handled while the app was closing
    (its tabs already removed) raised NoMatches('#panes') from `pane_activated`."""
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)  # all opened
        await app.query_one("#panes").remove()
        app.pane_activated()  # the late message's handler
        await pilot.pause()
        assert app.is_running
        assert not app.query("#panes")
