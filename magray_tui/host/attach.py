"""Services for one CLI command, without paying for what a client never needs.

Beside an open TUI a command is a thin client: it finds the host from the home folder
alone (where `Paths.resolve` would put it: `MAGRAY_HOME`/`--home`, else the platform's
state folder), so it never loads pydantic and the settings, numpy, DuckDB or the model.
Only when it ends up hosting the home itself are the settings loaded, as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def quick_state_dir(home: Path | str | None) -> Path:
    """The state folder `magray_tui.config.Paths.resolve(home)` gives, computed cheaply."""
    home = home or os.environ.get("MAGRAY_HOME") or None
    if home:
        return Path(home).expanduser().resolve() / "state"
    import platformdirs

    return Path(platformdirs.user_state_dir("magray"))


class LazySettings:
    """Stands in for Settings until something needs them (then loads them, once)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.quick_state_dir = quick_state_dir(app.home)

    def load(self) -> Any:
        return self._app.settings()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.load(), name)


def real_settings(services: Any) -> Any:
    """Swap a LazySettings for the real ones (this process is about to open the store)."""
    settings = services.settings
    if isinstance(settings, LazySettings):
        services.settings = settings.load()
    return services.settings


def state_dir(settings: Any) -> Path:
    if isinstance(settings, LazySettings):
        return settings.quick_state_dir
    return settings.paths.state


@contextmanager
def command_services(app: Any) -> Iterator[Any]:
    """`Services` for a CLI command: a proxy to the host, or its own (hosting meanwhile)."""
    from magray_tui.services import Services

    services = Services(LazySettings(app))  # type: ignore[arg-type]
    try:
        yield services
    finally:
        warning = services.local_store_warning()
        services.close()
        if warning:  # this process opened the store itself and found a lost/damaged WAL
            import click

            from magray_tui.terminal_text import one_line

            click.echo(f"warning: {one_line(warning)}", err=True)
