"""`magray llm status`: the providers found (config, keys in the environment, local servers,
the offline model), which one chat uses, and how fast each answers its model list."""

from __future__ import annotations

import click

from magray_tui.commands import AppContext
from magray_tui.commands.output import dump_json, echo, print_table


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@click.group(name="llm", invoke_without_command=True)
@click.pass_context
def command(ctx: click.Context) -> None:
    """The LLM providers: `magray llm status`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(status)


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--no-check", is_flag=True, help="Do not probe the providers (no network).")
@click.pass_context
def status(ctx: click.Context, as_json: bool = False, no_check: bool = False) -> None:
    """List providers, the active model and a latency check of each."""
    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import LLMError

    settings = ctx.find_object(AppContext).settings()
    client = LLMClient(settings)
    try:
        try:
            active = client.resolve()
            problem = None
        except LLMError as exc:
            active, problem = None, str(exc)
        rows = client.status(check=not no_check)
    finally:
        client.close()
    if as_json:
        dump_json(
            {
                "active": None
                if active is None
                else {
                    "model": active.model,
                    "label": active.label,
                    "provider": active.provider,
                    "offline": active.offline,
                    "supports_tools": active.supports_tools,
                    "api_base": active.api_base,
                },
                "problem": problem,
                "providers": [r.to_dict() for r in rows],
            }
        )
        return
    echo(f"chat uses: {active.label}" if active else f"chat cannot run: {problem}")
    if active and active.offline:
        echo("  (set [llm] model in the config, or a provider key, to use a better model)")

    def answered(row) -> str:
        if row.reachable is None:
            return "-"
        if not row.reachable:
            return "no"
        return "yes" if row.latency_ms is None else f"{row.latency_ms:,.0f} ms"

    print_table(
        ["", "PROVIDER", "MODEL", "CONFIGURED", "ANSWERS", "NOTE"],
        [
            [
                "▶" if r.active else "",
                r.name,
                r.model or "-",
                _yes(r.configured),
                answered(r),
                r.message,
            ]
            for r in rows
        ],
    )
