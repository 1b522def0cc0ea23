"""The command palette's magray commands; each is offered only when it can run now."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from magray_tui.tui.panes.base import PaletteCommand

if TYPE_CHECKING:
    from magray_tui.tui.app import MagrayApp


class MagrayCommands(Provider):
    def _commands(self) -> Iterator[PaletteCommand]:
        app: MagrayApp = self.app  # type: ignore[assignment]
        active = app.active_pane_id
        for pane in app.panes:
            if active != pane.PANE_ID:
                yield PaletteCommand(
                    f"Go to {pane.TITLE}", pane.SUMMARY, partial(app.action_show_pane, pane.PANE_ID)
                )
        # Pane commands first in their own right, so "search" finds them quickly.
        for pane in app.panes:
            yield from pane.palette_commands()
        yield from app.promotion_commands()
        yield PaletteCommand("Change theme", "Pick one of the available themes", app.search_themes)
        yield PaletteCommand(
            "Agents (MCP clients)",
            "Clients of `magray mcp`: their calls, what they wrote; forget their last hour",
            partial(open_agents, app),
        )
        paths = app.settings.paths
        yield PaletteCommand(
            "Show config file path",
            f"{app.settings.config_file} (copied to the clipboard)",
            partial(show_path, app, "Config file", app.settings.config_file),
        )
        yield PaletteCommand(
            "Show log file path",
            f"{paths.log_file} (copied to the clipboard)",
            partial(show_path, app, "Log file", paths.log_file),
        )
        if editor_command() is not None:
            yield PaletteCommand(
                "Open config file in editor",
                f"Edit {app.settings.config_file} with $VISUAL/$EDITOR",
                partial(open_config_in_editor, app),
            )

    async def discover(self) -> Hits:
        for cmd in self._commands():
            yield DiscoveryHit(cmd.title, cmd.callback, help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in self._commands():
            score = matcher.match(cmd.title)
            if score > 0:
                yield Hit(score, matcher.highlight(cmd.title), cmd.callback, help=cmd.help)


def open_agents(app: MagrayApp) -> None:
    from magray_tui.tui.screens.agents import AgentsScreen

    memory = lambda: app.backend.memory if app.backend is not None else None  # noqa: E731
    app.push_screen(AgentsScreen(app.settings, memory, app.env.clock))


def show_path(app: MagrayApp, label: str, path: Path) -> None:
    app.copy_to_clipboard(str(path))
    app.notify(f"{path}\n(copied to the clipboard)", title=label, markup=False, timeout=8)


def editor_command() -> list[str] | None:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    return shlex.split(editor) if editor else None


def open_config_in_editor(app: MagrayApp) -> None:
    """Suspend the TUI, edit config.toml, then apply the key remaps it now holds."""
    command = editor_command()
    if command is None:
        return
    path = app.settings.config_file
    if not path.exists():
        from magray_tui.config import init_config_file

        init_config_file(path)
    with app.suspend():
        subprocess.run([*command, str(path)], check=False)
    for problem in app.load_user_keys():
        app.notify(problem, title="Configuration", severity="warning", markup=False)
    app.notify("Key remaps applied; other settings apply on the next start.", markup=False)
