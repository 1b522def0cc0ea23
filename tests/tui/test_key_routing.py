"""Keys as a terminal delivers them: in bursts (a fast typist, or a busy app reading several
keys at once), ESC+digit from tmux/xterm's Alt, and the number of the pane already shown."""

from __future__ import annotations

from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import Input

from .pilot_helpers import result_ids, wait_for_results, wait_until


def burst(app, keys: str) -> None:
    """Post every key to the app at once, as the driver does when it reads several keys in
    one go: none of them is handled before the last is queued."""
    names = {"/": "slash", " ": "space"}
    for char in keys:
        app.post_message(events.Key(names.get(char, char), char))


async def test_keys_typed_fast_after_slash_reach_the_search_box(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        browser = app.query_one("#pane-memory")
        table = browser.table
        await wait_until(pilot, lambda: table.has_focus)
        selected = table.selected.record.id
        # f forgets, i pins, e edits, n/d/g/s… are pane keys too: all must be typed.
        burst(app, "/fine dist")
        query = browser.query_one("#memory-query", Input)
        await wait_until(pilot, lambda: query.value == "fine dist", what="all keys typed")
        await wait_until(pilot, lambda: browser.shown_query == "fine dist")
        assert query.has_focus
        record = app.backend.memory.get(selected, count_access=False)
        assert record.state == "live" and not record.pinned
        assert app.notes == []  # no "Forgot …", no "Pinned …"
        assert app.screen is app.screen_stack[0]  # no editor opened by `e`


async def test_esc_then_a_pane_key_typed_fast_leaves_the_box_and_runs_the_key(
    make_app, seeded_settings
):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        browser = app.query_one("#pane-memory")
        query = browser.query_one("#memory-query", Input)
        burst(app, "/cat")
        await wait_until(pilot, lambda: browser.shown_query == "cat", what="results for cat")
        selected = browser.table.selected.record.id
        app.post_message(events.Key("escape", "\x1b"))
        app.post_message(events.Key("i", "i"))  # pin, typed right after Esc
        await wait_until(pilot, lambda: app.backend.memory.get(selected).pinned, what="pinned")
        assert query.value == "cat" and browser.table.has_focus


async def test_keys_typed_fast_after_a_pane_switch_reach_the_prompt(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        await wait_until(pilot, lambda: browser.table.has_focus)
        burst(app, "1hi")  # to the Chat pane, and start typing at once
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.input.text == "hi", what="typed into the prompt")
        assert app.active_pane_id == "chat"


async def test_pressing_the_shown_panes_number_keeps_the_focus(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        browser = app.query_one("#pane-memory")
        await wait_until(pilot, lambda: browser.table.has_focus)
        await pilot.press("2")
        await pilot.pause(0.1)
        assert browser.table.has_focus
        await pilot.press("slash", "c", "a", "t")  # the pane's keys still work
        query = browser.query_one("#memory-query", Input)
        await wait_until(pilot, lambda: query.value == "cat")
        await pilot.press("escape")
        assert browser.table.has_focus


def parse(data: str) -> list[str]:
    parser = XTermParser()
    return [e.key for e in parser.feed(data) if isinstance(e, events.Key)]


def test_esc_digit_from_tmux_or_xterm_is_alt_digit():
    import magray_tui.tui.app  # noqa: F401  (installs the ESC+digit keys)

    assert parse("\x1b1") == ["alt+1"]
    assert parse("\x1b5") == ["alt+5"]
    # A real Option character (macOS) still types itself.
    assert parse("¡") == ["inverted_exclamation_mark"]


async def test_alt_digit_switches_panes_from_the_prompt(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("1")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.input.has_focus)
        await pilot.press("h", "i", "alt+3")
        await wait_until(pilot, lambda: app.active_pane_id == "tasks")
        assert chat.input.text == "hi"
        await pilot.press("ctrl+2")  # kitty / WezTerm / foot report Ctrl+digit
        await wait_until(pilot, lambda: app.active_pane_id == "memory")
