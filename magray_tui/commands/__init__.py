"""Subcommands of `magray`, one module each, loaded lazily by `magray_tui.cli`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from magray_tui.config import Settings

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

    def settings(self) -> Settings:
        if self._settings is None:
            from magray_tui.config import ConfigError, load_settings
            from magray_tui.logs import setup_logging
            from magray_tui.private_files import restrict_umask, secure_home

            try:
                self._settings = load_settings(self.home, log_level=self.log_level)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            restrict_umask()  # before the first file of this home is created: the log
            setup_logging(self._settings)
            paths = self._settings.paths
            secure_home([paths.data, paths.config, paths.cache, paths.state])
        return self._settings


pass_app = click.make_pass_decorator(AppContext, ensure=True)
