"""What the user chose, mixed into the app: key remaps from config.toml, theme files,
the persisted UI state, and a watcher that reloads config.toml and themes on change."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from magray_tui.tui.keymap import binding_ids, read_keys
from magray_tui.tui.panes.registry import PANES
from magray_tui.tui.screens.help import HelpScreen
from magray_tui.tui.screens.mcp_approval import McpApproval
from magray_tui.tui.themes import scan_theme_dirs, shipped_themes_dir

if TYPE_CHECKING:
    from magray_tui.tui.app import MagrayApp

    _Base = MagrayApp
else:
    _Base = object

log = logging.getLogger("magray_tui.tui")


class Preferences(_Base):
    def known_binding_ids(self) -> set[str]:
        screens = [HelpScreen, McpApproval, *(extra for cls in PANES for extra in cls.KEYMAP_EXTRA)]
        return set(
            binding_ids([*self.BINDINGS, *(b for c in [*PANES, *screens] for b in c.BINDINGS)])
        )

    def load_user_keys(self) -> list[str]:
        """(Re)read the [keys] table of config.toml; returns the problems found."""
        keys = read_keys(self.settings.config_file, self.known_binding_ids())
        self.user_keymap = keys.keymap
        if self.is_running:
            self.set_keymap(keys.keymap)
        return keys.problems

    def theme_dirs(self) -> list[Path]:
        return [shipped_themes_dir(), self.settings.paths.config / "themes"]

    def _register_themes(self) -> list[str]:
        scan = scan_theme_dirs(*self.theme_dirs())
        for theme in scan.themes:
            self.register_theme(theme)
        return [f"{p} (skipped)" for p in scan.problems]

    @work(exclusive=True, group="file-watch", exit_on_error=False)
    async def watch_config_files(self) -> None:
        """Reload theme files and the [keys] table of config.toml when they change."""
        from watchfiles import awatch

        # The config folder is watched whole (recursively): config.toml and themes/.
        wanted = [shipped_themes_dir(), self.settings.paths.config]
        folders = [folder for folder in wanted if folder.is_dir()]
        if not folders:
            return
        only_toml = lambda _change, path: path.endswith(".toml")  # noqa: E731
        async for changes in awatch(*folders, watch_filter=only_toml, debounce=200):
            paths = {Path(path) for _change, path in changes}
            if self.settings.config_file in paths:
                self._report(self.load_user_keys(), "Configuration")
            if any(path.parent.name == "themes" for path in paths):
                self._report(self._register_themes(), "Theme")
                self.refresh_css(animate=False)  # picks up a changed current theme

    def _report(self, problems: list[str], title: str) -> None:
        for problem in problems:
            log.warning("%s", problem)
            self.notify(problem, title=title, severity="warning", timeout=8, markup=False)

    def _remember_theme(self, theme: Any) -> None:
        self.ui_state.theme = theme.name
        self.save_ui_state("theme")

    @work(thread=True, group="ui-state", exit_on_error=False)
    def save_ui_state(self, *names: str) -> None:
        """Write the fields `names` of the UI state (the others as the file has them)."""
        self.ui_state.save(self.state_file, *names)
