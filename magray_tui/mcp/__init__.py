"""MCP both ways (docs/mcp.md).

- `server.py` + `server_tools.py` + `access.py`: `magray mcp`, a stdio MCP server that lends
  the memory and the task DAG to other agents (Claude Code, Cursor, ...), with a policy per
  client and every write signed `mcp:<client>`.
- `client.py` + `tool_adapter.py`: the MCP servers configured under `[mcp.servers.NAME]`,
  whose tools reach magray's own agent through the tool registry and its policy.

Core package: no Textual, no magray_tui.tui (import-linter contract).
"""
