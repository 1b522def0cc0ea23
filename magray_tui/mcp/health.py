"""The Health pane's view of the configured MCP servers (`[mcp.servers.NAME]`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from magray_tui.mcp.client import running_for
from magray_tui.monitor.health import CheckResult, degraded, ok

if TYPE_CHECKING:
    from magray_tui.config import Settings


def check_mcp_servers(settings: Settings) -> CheckResult:
    entries = {n: e for n, e in settings.mcp.servers.items() if e.enabled}
    clients = running_for(settings.paths.log_dir)
    if clients is None:
        names = ", ".join(sorted(entries))
        return ok("mcp_servers", f"{names}: start with the first chat turn", servers=names)
    states = {n: clients.states[n] for n in entries if n in clients.states}
    details = {
        n: {"status": s.status, "error": s.error, "tools": len(s.tools)} for n, s in states.items()
    }
    broken = [f"{n}: {s.error or s.status}" for n, s in states.items() if s.status != "ready"]
    if broken:
        return degraded("mcp_servers", "; ".join(broken), servers=details)
    tools = sum(len(s.tools) for s in states.values())
    return ok("mcp_servers", f"{len(states)} ready, {tools} tools", servers=details)
