"""The memory search box (`LeavingInput`) types without reflowing the screen: Input sets
its virtual size on every key, which made every key a layout of the whole screen (the
results table included); the box's size is fixed, and long text still scrolls."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input

from magray_tui.tui.key_routing import LeavingInput


class Host(App[None]):
    CSS = "Input { width: 20; }"

    def compose(self) -> ComposeResult:
        yield LeavingInput(leave=lambda: None, id="box")
        yield Input(id="plain")


async def count_layouts_while_typing(app: Host, pilot, box: Input, text: str) -> int:
    box.focus()
    await pilot.pause()
    screen = app.screen
    original = screen._refresh_layout
    layouts = 0

    def counted(*args, **kwargs):
        nonlocal layouts
        layouts += 1
        return original(*args, **kwargs)

    screen._refresh_layout = counted  # type: ignore[method-assign]
    try:
        await pilot.press(*text)
        await pilot.pause()
    finally:
        screen._refresh_layout = original  # type: ignore[method-assign]
    return layouts


async def test_typing_in_the_search_box_reflows_nothing_and_long_text_scrolls() -> None:
    app = Host()
    text = "staging deploy token rotation"  # longer than the box
    async with app.run_test(size=(60, 10)) as pilot:
        box = app.query_one("#box", LeavingInput)
        assert await count_layouts_while_typing(app, pilot, box, text) == 0
        assert box.value == text
        assert box.scroll_x > 0  # the end of the text (and the cursor) is in view
        assert box.cursor_position == len(text)
        # Textual's own Input, for comparison: a layout for the keys typed.
        plain = app.query_one("#plain", Input)
        assert await count_layouts_while_typing(app, pilot, plain, text) > 0
        assert plain.value == text
