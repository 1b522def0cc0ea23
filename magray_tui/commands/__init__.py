"""Subcommands of `magray`, one module each, loaded lazily by `magray_tui.cli`."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.paths import Paths

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# command name -> (module under magray_tui.commands holding a click object named `command`,
#                  its one-line help, shown by `magray --help` without importing it)
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "chat": ("chat_cmd", "Chat with the agent: one memory-grounded reply, streamed."),
    "config": ("config_cmd", "Show, locate or create the configuration file."),
    "gpu": ("gpu_cmd", "Show the GPUs and where embeddings run; `gpu bench` measures."),
    "health": ("health_cmd", "Check every component; exit 1 when one is failing."),
    "ingest": ("ingest_cmd", "Ingest files and folders into the Assets layer."),
    "llm": ("llm_cmd", "Show the LLM providers found, the active model and their latency."),
    "mcp": ("mcp_cmd", "Serve memory and tasks to MCP clients; `mcp servers`, `mcp clients`."),
    "memory": ("memory_cmd", "Store, search and manage memories."),
    "models": ("models_cmd", "List, check and warm up embedding models."),
    "tasks": ("tasks_cmd", "Tasks with dependencies: add, list, ready queue, graph, plan."),
}


def load_command(name: str) -> click.Command:
    module = importlib.import_module(f"magray_tui.commands.{COMMAND_MODULES[name][0]}")
    return module.command


@dataclass
class AppContext:
    """What the top-level options decided; builds Settings once, on first use."""

    home: Path | None = None
    log_level: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _prepared: bool = field(default=False, repr=False)

    def paths(self) -> Paths:
        """Where the files are, without building the Settings (no pydantic import)."""
        from magray_tui.paths import Paths

        return Paths.resolve(self.home)

    def prepare_home(self) -> Paths:
        """Before the first file of this home is created: a private umask, the log file
        (at the --log-level or MAGRAY_LOG_LEVEL level until the Settings say), private
        folders. What the TUI does before its first frame, the Settings come later."""
        from magray_tui.logs import log_to
        from magray_tui.private_files import restrict_umask, secure_home

        paths = self.paths()
        if not self._prepared:
            restrict_umask()
            level = (self.log_level or os.environ.get("MAGRAY_LOG_LEVEL") or "INFO").upper()
            log_to(paths.log_file, level if level in LOG_LEVELS else "INFO")
            secure_home([paths.data, paths.config, paths.cache, paths.state])
            self._prepared = True
        return paths

    def settings(self) -> Settings:
        """The Settings; a bad config is a one-line click error."""
        from magray_tui.config import ConfigError

        try:
            return self.build_settings()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def build_settings(self) -> Settings:
        """The Settings, built once; raises ConfigError (the TUI builds them in a worker)."""
        if self._settings is None:
            from magray_tui.config import load_settings
            from magray_tui.logs import setup_logging

            settings = load_settings(self.home, log_level=self.log_level)
            self.prepare_home()
            setup_logging(settings)  # the level the settings give
            self._settings = settings
        return self._settings


pass_app = click.make_pass_decorator(AppContext, ensure=True)
