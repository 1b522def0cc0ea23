"""The footer of key bindings, rebuilt only when the keys it shows change.

Textual's `Footer` recomposes on every bindings signal (each focus change, each
`refresh_bindings`): it unmounts and mounts a widget per key, which reflows the whole
screen. Measured during an ingest: the footer was rebuilt ~30 times in 17 s of typing,
cursor moves and pane switches, and every rebuild was a full layout of the screen (the
results table included), 40-50 ms each on a busy 2-core machine, mostly for the same keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class AppFooter(Footer):
    """A `Footer` that rebuilds at most once per refresh, and only when what it would
    show differs from what it shows (a pane switch blurs, then focuses: two signals)."""

    _drawn: tuple[Any, ...] | None = None
    _pending = False

    def shown_keys(self, screen: Screen) -> tuple[Any, ...]:
        """Everything of the active bindings that `Footer.compose` draws."""
        app = screen.app
        bindings = screen.active_bindings
        keys = tuple(
            (
                binding.key,
                binding.action,
                binding.description,
                binding.group,
                enabled,
                tooltip,
                app.get_key_display(binding),
            )
            for (_, binding, enabled, tooltip) in bindings.values()
            if binding.show
        )
        palette = bindings.get(app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            _, binding, enabled, tooltip = palette
            keys += (("palette", app.get_key_display(binding), enabled, tooltip),)
        return keys

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:  # as Footer: redrawn when the focus comes back
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shown = self.shown_keys(self.screen)
        if shown != self._drawn:
            self._drawn = shown
            await self.recompose()
