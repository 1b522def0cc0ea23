"""`magray memory copy --to URL | --from URL`: move a memory to a server and back."""

from __future__ import annotations

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import dump_json, echo


def register(group: click.Group) -> None:
    from magray_tui.commands.errors import friendly_errors
    from magray_tui.commands.memory_cmd import open_memory
    from magray_tui.commands.output import progress_printer

    @group.command("copy")
    @click.option("--to", "to_url", metavar="URL", help="Copy this home's memory to URL.")
    @click.option("--from", "from_url", metavar="URL", help="Copy the memory at URL here.")
    @click.option("--namespace", default="magray", show_default=True, help="The namespace at URL.")
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def copy_cmd(
        app: AppContext,
        to_url: str | None,
        from_url: str | None,
        namespace: str,
        as_json: bool,
    ) -> None:
        """Copy records (every state), their history and their vectors between this home's
        memory and a PostgreSQL memory server (`postgresql://...`), without re-embedding:
        both sides use one embedding model. Records already there (by id) are skipped, so
        an interrupted copy run again carries on."""
        from magray_tui.config import StoreSettings
        from magray_tui.pg.url import mask_url

        if (to_url is None) == (from_url is None):
            raise click.UsageError("give exactly one of --to URL or --from URL")
        url = to_url or from_url or ""
        from pydantic import ValidationError

        try:
            StoreSettings(url=url, namespace=namespace)
        except ValidationError as exc:
            err = exc.errors()[0]
            what = "--namespace" if err["loc"] == ("namespace",) else "the URL"
            raise click.UsageError(f"{what} {err['msg'].removeprefix('Value error, ')}") from None
        with open_memory(app, write=True, batch=True) as svc:
            progress = progress_printer("copying")
            report = svc.copy(url, namespace, to=bool(to_url), progress=progress)
        if as_json:
            dump_json({**report.to_dict(), "url": mask_url(url), "namespace": namespace})
            return
        where = f"{'to' if to_url else 'from'} {mask_url(url)} (namespace {namespace})"
        echo(
            f"copied {report.copied:,} memories and {report.history:,} history entries "
            f"{where}; already there {report.skipped_existing:,}"
        )
