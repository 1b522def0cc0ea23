"""`magray mcp`: serve the memory and tasks to MCP clients over stdio; `magray mcp servers`
lists the MCP servers whose tools magray's agent may use (docs/mcp.md)."""

from __future__ import annotations

import click

from magray_tui.commands import AppContext
from magray_tui.commands.output import dump_json, echo, print_table


@click.group(name="mcp", invoke_without_command=True)
@click.option(
    "--http",
    "http",
    is_flag=True,
    help="Serve streamable HTTP on 127.0.0.1 behind a bearer token instead of stdio.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.pass_context
def command(ctx: click.Context, http: bool = False, port: int = 8765) -> None:
    """Serve magray's memory and tasks over MCP (stdio), for Claude Code, Cursor and others.

    Configure a client with `command: magray`, `args: ["mcp"]`. What each client may do
    is set under [mcp.server] in config.toml; every write is signed `mcp:<client>`.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = ctx.find_object(AppContext).settings()
    import sys

    if http:
        from magray_tui.mcp.http import serve_http

        serve_http(settings, port)
        return
    from magray_tui.mcp.server import serve_stdio

    if sys.stdin.isatty():  # a person, not an MCP client: say what this is (on stderr)
        echo(
            "magray mcp speaks MCP (JSON-RPC) on stdin/stdout for an MCP client; configure "
            'the client with command "magray", args ["mcp"] (see README). Ctrl+D ends it.',
            err=True,
        )

    serve_stdio(settings)


@command.command("servers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--no-start", is_flag=True, help="Only list the configuration; start nothing.")
@click.pass_context
def servers(ctx: click.Context, as_json: bool = False, no_start: bool = False) -> None:
    """Start each configured [mcp.servers.NAME], then list its state and tools."""
    from magray_tui.mcp.client import McpClients
    from magray_tui.mcp.tool_adapter import tool_name

    settings = ctx.find_object(AppContext).settings()
    entries = settings.mcp.servers
    clients = McpClients(entries, settings.paths.log_dir)
    try:
        if not no_start:
            clients.start()
        rows = []
        for name, entry in entries.items():
            state = clients.states[name]
            status = state.status if not no_start or not entry.enabled else "not started"
            rows.append(
                {
                    "name": name,
                    "command": " ".join([entry.command, *entry.args]),
                    "enabled": entry.enabled,
                    "state": status,
                    "error": state.error,
                    "server": state.server_info,
                    "tools": [tool_name(name, t.name) for t in state.tools],
                }
            )
    finally:
        clients.close()
    if as_json:
        dump_json({"servers": rows})
        return
    if not rows:
        echo("No MCP servers configured. Add [mcp.servers.NAME] to config.toml.")
        return
    print_table(
        ["name", "state", "tools", "command"],
        [
            [
                r["name"],
                r["state"] + (f": {r['error']}" if r["error"] else ""),
                ", ".join(r["tools"]) or "-",
                r["command"],
            ]
            for r in rows
        ],
    )


@command.command("clients")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--calls", default=0, show_default=True, help="Also show each client's last N calls.")
@click.pass_context
def clients(ctx: click.Context, as_json: bool = False, calls: int = 0) -> None:
    """The MCP clients that used this home: calls, failures, last seen (the activity log)."""
    from magray_tui.mcp import activity
    from magray_tui.terminal_text import one_line

    settings = ctx.find_object(AppContext).settings()
    rows = activity.summarize(activity.read(activity.log_path(settings)))
    if as_json:
        dump_json(
            {
                "clients": [
                    {
                        "client": r.client,
                        "calls": r.calls,
                        "failed": r.failed,
                        "last_seen": r.last_seen,
                        "last_calls": r.last_calls[:calls],
                    }
                    for r in rows
                ]
            }
        )
        return
    if not rows:
        echo("No MCP client has used this home yet.")
        return
    print_table(
        ["client", "last seen", "calls", "failed"],
        [[r.client, r.last_seen, r.calls, r.failed] for r in rows],
    )
    for r in rows if calls else ():
        echo(f"\n{r.client}:")
        for call in r.last_calls[:calls]:
            what = "ok" if call.get("ok") else f"failed: {call.get('error', '')}"
            echo("  " + one_line(f"{call.get('ts', '')}  {call.get('tool', '?')}  {what}", 160))
