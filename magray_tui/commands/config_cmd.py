"""`magray config`: see, locate and create the configuration.

`path` and `init` never load the settings, so they still work when config.toml is broken:
they are how a user finds and fixes it.
"""

from __future__ import annotations

import json

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import echo
from magray_tui.config import Paths, init_config_file, settings_as_toml


@click.group("config")
def command() -> None:
    """Show, locate or create the configuration file."""


@command.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
@pass_app
def show(app: AppContext, as_json: bool) -> None:
    """Print the effective settings (defaults < config.toml < MAGRAY_* < flags)."""
    settings = app.settings()  # a malformed file or variable stops here with one line
    config_file = settings.config_file
    exists = config_file.is_file()
    from magray_tui.pg.url import mask_text

    def masked(text: str) -> str:  # the memory server's password never reaches a screen
        return mask_text(text, settings.store.url) if settings.store.url else text

    if as_json:
        out = {
            "config_file": str(config_file),
            "config_file_exists": exists,
            "settings": settings.model_dump(mode="json"),
        }
        echo(masked(json.dumps(out, indent=2)))
        return
    state = "exists" if exists else "does not exist; `magray config init` writes one"
    # A TOML comment, so the whole output still parses as TOML.
    echo(f"# config file: {config_file} ({state})")
    echo(masked(settings_as_toml(settings)), nl=False)


@command.command("path")
@click.option("--all", "show_all", is_flag=True, help="Print every folder magray uses.")
@pass_app
def path(app: AppContext, show_all: bool) -> None:
    """Print where the config file is."""
    paths = Paths.resolve(app.home)
    if not show_all:
        echo(str(paths.config_file))
        return
    folders = {
        "data": paths.data,
        "config": paths.config,
        "cache": paths.cache,
        "state": paths.state,
        "log": paths.log_dir,
        "db": paths.db_file,
        "index": paths.index_dir,
        "models": paths.models_dir,
    }
    for name, folder in folders.items():
        echo(f"{name:<7}{folder}")


@command.command("init")
@pass_app
def init(app: AppContext) -> None:
    """Write a commented default config file, unless one exists."""
    config_file = Paths.resolve(app.home).config_file
    if config_file.exists() and not config_file.is_file():
        raise click.ClickException(f"{config_file} exists but is not a file")
    try:
        written = init_config_file(config_file)
    except OSError as exc:
        raise click.ClickException(f"cannot write {config_file}: {exc.strerror}") from None
    if written:
        echo(f"wrote {config_file}")
    else:
        echo(f"{config_file} already exists; left it untouched")
