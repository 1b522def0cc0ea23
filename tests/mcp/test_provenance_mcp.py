"""Provenance across processes: an MCP client's writes name it as their author, its
`memory_search` filters by author, and a person sees and filters the same through the CLI."""

from __future__ import annotations

import json

from tests.mcp.conftest import connect, data_of, magray_cli


async def test_an_mcp_clients_writes_carry_its_name_as_author(mcp_home):
    mine = magray_cli(mcp_home, "memory", "add", "--layer", "insights", "Deploys are on Tuesday.")
    assert mine.returncode == 0, mine.stderr
    async with connect(mcp_home, client="cursor") as client:
        added = data_of(
            await client.call_tool("memory_add", {"text": "Deploys moved to Thursday."})
        )
        assert added["author"] == "mcp:cursor"
        hits = data_of(await client.call_tool("memory_search", {"query": "when are deploys"}))
        by = {h["text"]: (h["author"], h["confirmed"]) for h in hits["hits"]}
        assert by == {
            "Deploys are on Tuesday.": ("user", False),
            "Deploys moved to Thursday.": ("mcp:cursor", False),
        }
        only = data_of(
            await client.call_tool(
                "memory_search", {"query": "when are deploys", "authors": ["user"]}
            )
        )
        assert [h["text"] for h in only["hits"]] == ["Deploys are on Tuesday."]

    listed = magray_cli(mcp_home, "memory", "list", "--author", "mcp:cursor", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["text"] for r in json.loads(listed.stdout)] == ["Deploys moved to Thursday."]
    table = magray_cli(mcp_home, "memory", "search", "deploys", "--author", "user")
    assert "Tuesday" in table.stdout and "Thursday" not in table.stdout
    shown = magray_cli(mcp_home, "memory", "show", added["id"])
    assert "mcp:cursor" in shown.stdout and "author" in shown.stdout
