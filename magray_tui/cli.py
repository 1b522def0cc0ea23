"""`magray`: no arguments opens the TUI; subcommands are for scripting.

Every subcommand is a thin face over the same services the TUI uses. Heavy modules are
imported inside the commands, so `magray --help` stays instant.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from magray_tui.commands import COMMAND_MODULES, AppContext, load_command
from magray_tui.terminal_text import for_terminal


@contextmanager
def _visible_controls() -> Iterator[None]:
    """An error line may echo input (a bad option, a file name, a stored text): its
    control characters are made visible before click prints it to the terminal."""
    try:
        yield
    except click.ClickException as exc:
        exc.message = for_terminal(exc.message)
        raise


class _LazyGroup(click.Group):
    """Loads a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's default imports every command for its help line; keep --help instant.
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, COMMAND_MODULES[name][1]) for name in self.list_commands(ctx)]
            )

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMAND_MODULES:
            return None
        return load_command(name)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _visible_controls():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _visible_controls():
            return super().invoke(ctx)


@click.group(cls=_LazyGroup, invoke_without_command=True)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MAGRAY_HOME",
    help="Keep data, config, cache and logs under this one folder.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default=None,
    help="Log level for the log file (the terminal never gets log lines).",
)
@click.version_option(package_name="magray-tui", prog_name="magray")
@click.pass_context
def main(ctx: click.Context, home: Path | None, log_level: str | None) -> None:
    """magray: a terminal workstation for an AI agent with a layered vector memory."""
    # Before any tool can run: commands magray starts cannot read its /proc environ.
    from magray_tui.private_files import restrict_umask
    from magray_tui.tools.procguard import protect_process

    protect_process()
    # Before anything of the home is created (a client of another magray creates its host
    # folder before it ever loads settings): everything magray writes is private.
    restrict_umask()
    ctx.obj = AppContext(home=home, log_level=log_level.upper() if log_level else None)
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # `magray > file` or `magray | less`: a full-screen app would draw into the
            # pipe and wait for keys that never come.
            raise click.ClickException(
                "the TUI needs a terminal (standard input and output are not one); "
                "run a subcommand instead, e.g. `magray memory list` (see `magray --help`)"
            )
        # The Settings are built after the first frame (pydantic is a quarter of a second);
        # a malformed config then ends the TUI with the same one-line message.
        try:
            from magray_tui.tui.app import run_app
        except ImportError:
            raise click.ClickException("the TUI is not built yet; see `magray --help`") from None
        run_app(ctx.obj)  # ends the process


if __name__ == "__main__":
    main()
