"""The footer rebuilds its keys only when the keys it shows change (each rebuild mounts a
widget per key and reflows the whole screen), and still follows every real change."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button
from textual.widgets._footer import FooterKey

from magray_tui.tui.widgets.footer import AppFooter
from tests.tui.pilot_helpers import wait_until


class Left(Button):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("a", "noop", "Alpha")]

    def action_noop(self) -> None:
        pass


class Right(Button):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "noop", "Beta"),
        Binding("c", "toggle", "Gamma"),
    ]
    armed = False

    def action_noop(self) -> None:
        pass

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.armed or None if action == "toggle" else True


class Host(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.built_keys = 0

    def compose(self) -> ComposeResult:
        yield Left("left", id="left")
        yield Right("right", id="right")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#left").focus()

    def footer_keys(self) -> list[tuple[str, bool]]:
        return [(k.description, k.has_class("-disabled")) for k in self.query(FooterKey)]


def count_built_keys(app: Host, monkeypatch) -> None:
    original = FooterKey.__init__

    def counted(self, *args, **kwargs) -> None:
        app.built_keys += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(FooterKey, "__init__", counted)


async def test_footer_follows_focus_and_enabled_state_but_skips_identical_rebuilds(
    monkeypatch,
) -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        await wait_until(pilot, lambda: ("Alpha", False) in app.footer_keys(), what="left keys")
        count_built_keys(app, monkeypatch)

        # The same keys again (a refresh_bindings, a blur and focus back): nothing rebuilt.
        for _ in range(3):
            app.screen.refresh_bindings()
            await pilot.pause()
        app.screen.set_focus(None)
        app.query_one("#left").focus()
        await pilot.pause(0.2)
        assert app.built_keys == 0
        assert ("Alpha", False) in app.footer_keys()

        # Other keys: rebuilt, once, with the focused widget's keys.
        app.query_one("#right").focus()
        await wait_until(pilot, lambda: ("Beta", False) in app.footer_keys(), what="right")
        assert ("Alpha", False) not in app.footer_keys()
        assert ("Gamma", True) in app.footer_keys()  # greyed out: not armed
        rebuilt = app.built_keys
        assert rebuilt == len(app.query(FooterKey))

        # A key's state changes: redrawn.
        app.query_one(Right).armed = True
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: ("Gamma", False) in app.footer_keys(), what="armed")
        assert app.built_keys == 2 * rebuilt
