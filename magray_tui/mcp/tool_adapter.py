"""MCP servers' tools as tools of magray's registry: `NAME__tool`, behind the same policy.

OpenAI-style function names allow only letters, digits, `_` and `-` (at most 64), so a
server's tool is offered as `NAME__tool`, not `NAME.tool`; characters outside that set in
the tool's own name become `_`. The policy sees the name (default rule `*` = ask) and the
arguments as its subject, so `"files__read_file" = "allow"` or `"files__*:*secret*" =
"deny"` work as for built-in tools. The confirmation names server, tool and arguments.
What a server returns is untrusted data: it is labelled as such and capped.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from magray_tui.mcp.client import McpClients, McpError
from magray_tui.tools.base import (
    Confirmation,
    Prepared,
    Tool,
    ToolError,
    ToolResult,
    ToolSpec,
    clip,
    one_line,
)

if TYPE_CHECKING:
    from magray_tui.config import Settings

NAME_MAX = 64
_BAD = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    return f"{server}__{_BAD.sub('_', tool)}"[:NAME_MAX]


def _loosen(schema: Any) -> Any:
    """The server's schema, minus what the registry's small checker cannot read (a list of
    types); the server checks its own arguments anyway."""
    if isinstance(schema, dict):
        out = {k: _loosen(v) for k, v in schema.items()}
        if isinstance(out.get("type"), list):
            del out["type"]
        return out
    if isinstance(schema, list):
        return [_loosen(x) for x in schema]
    return schema


def _parameters(schema: dict[str, Any]) -> dict[str, Any]:
    params = _loosen(schema) if isinstance(schema, dict) else {}
    params["type"] = "object"
    params.setdefault("properties", {})
    return params


def _tool(clients: McpClients, server: str, remote: Any, cap: int) -> Tool:
    name = tool_name(server, remote.name)
    description = one_line(remote.description or remote.name, 900)
    spec = ToolSpec(
        name,
        f"[MCP server {server}] {description}",
        _parameters(remote.input_schema),
    )

    def prepare(args: dict[str, Any]) -> Prepared:
        shown = json.dumps(args, ensure_ascii=False, sort_keys=True)

        def execute() -> ToolResult:
            try:
                outcome = clients.call(server, remote.name, args)
            except McpError as exc:
                raise ToolError(str(exc)) from None
            text, cut = clip(outcome.text, cap)
            note = "\n[output truncated]" if cut else ""
            header = f"[untrusted output of MCP server {server!r}, tool {remote.name!r}]\n"
            summary = one_line(
                f"{server}.{remote.name}: {'ok' if outcome.ok else 'error'} "
                f"({len(outcome.text):,} chars)",
                160,
            )
            return ToolResult(outcome.ok, header + text + note, summary)

        return Prepared(
            subjects=(shown,),
            confirmation=Confirmation(
                name,
                f"MCP server {server!r} wants to run its tool {remote.name!r}",
                f"server: {server}\ntool: {remote.name}\narguments: {shown}",
            ),
            execute=execute,
        )

    return Tool(spec, prepare)


def build(clients: McpClients, cap: int) -> list[Tool]:
    """Tools of every ready server; a clash after renaming keeps the first."""
    tools: dict[str, Tool] = {}
    for server, state in clients.states.items():
        if state.status != "ready":
            continue
        for remote in state.tools:
            tool = _tool(clients, server, remote, cap)
            tools.setdefault(tool.name, tool)
    return list(tools.values())


def start_clients(settings: Settings) -> McpClients | None:
    """The configured servers, started; None when none is configured."""
    entries = settings.mcp.servers
    if not any(e.enabled for e in entries.values()):
        return None
    clients = McpClients(entries, settings.paths.log_dir)
    clients.start()
    return clients
