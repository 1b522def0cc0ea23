"""MCP both ways (docs/mcp.md), with the official SDK 2.x.

- `server.py` (+ `server_tools.py`, `access.py`, `http.py`): `magray mcp`, a stdio (or,
  with `--http`, loopback HTTP) MCP server that lends the memory and the task DAG to other
  agents (Claude Code, Cursor, ...), with a policy per client and every write signed
  `mcp:<client>`; `activity.py` logs their calls for the Agents view and `magray mcp clients`.
- `client.py` + `tool_adapter.py` (+ `health.py`): the MCP servers configured under
  `[mcp.servers.NAME]`, whose tools reach magray's own agent through the tool registry and
  its policy, and whose state the Health checks show.

Core package: no Textual, no magray_tui.tui (import-linter contract).
"""
