"""`magray memory reembed`: move the store to another embedding model (see
docs/model-migration.md), with progress on stderr and a JSON summary with --json."""

from __future__ import annotations

from typing import Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import dump_json, echo, progress_printer


def register(group: click.Group) -> None:
    from magray_tui.commands.errors import friendly_errors
    from magray_tui.commands.memory_cmd import open_memory

    @group.command("reembed")
    @click.option("--model", help="Model to move the store to (default: embedding.model).")
    @click.option("--status", "status_only", is_flag=True, help="Only say where it stands.")
    @click.option("--json", "as_json", is_flag=True, help="A JSON summary on stdout.")
    @pass_app
    @friendly_errors
    def reembed_cmd(app: AppContext, model: str | None, status_only: bool, as_json: bool) -> None:
        """Re-embed every memory with another embedding model, then switch to it.

        Search keeps answering from the old vectors until the new index is complete; a killed
        run resumes where it stopped. Beside an open magray, that magray does the work."""
        with open_memory(app, write=not status_only, batch=True) as svc:
            if status_only:
                st = svc.reembed_status()
                if as_json:
                    dump_json(st.to_dict())
                else:
                    echo(reembed_line(st))
                return
            before = svc.reembed_status()
            report = svc.reembed(progress=progress_printer("re-embedding"), model=model)
            after = svc.reembed_status()
        if as_json:
            dump_json(
                {"switched": False, **after.to_dict()} if report is None else report.to_dict()
            )
            return
        if report is None:
            echo(f"nothing to do: the store is embedded with {after.store_model}")
            return
        resumed = f" (resumed at {report.resumed_from:,})" if report.resumed_from else ""
        echo(
            f"re-embedded {report.embedded:,} of {report.total:,} memories{resumed} with "
            f"{report.model} ({report.dim}-d) in {report.seconds:.1f} s "
            f"({report.records_per_s:,.0f}/s); was {before.store_model}; search now uses "
            f"{after.store_model}"
        )


def reembed_line(st: Any) -> str:
    if not st.pending:
        return f"embedded with {st.store_model} ({st.store_dim}-d); no re-embed pending"
    dim = f"{st.target_dim}-d" if st.target_dim else "width unknown"
    state = "running" if st.running else "paused"
    started = "" if st.started else " (not started)"
    return (
        f"embedded with {st.store_model} ({st.store_dim}-d); re-embedding with "
        f"{st.target_model} ({dim}): {st.done:,}/{st.total:,}, {state}{started}"
    )
