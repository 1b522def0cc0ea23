"""`magray mcp` as MCP clients see it: a subprocess driven over stdio by the SDK's Client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from magray_tui.config import load_settings
from magray_tui.mcp import activity
from tests.host.procs import HOST, cli_json, read_until, spawn, start_host, stop
from tests.mcp.conftest import MAGRAY, ROOT, connect, data_of, magray_cli, text_of, write_config

TOOLS = {
    "memory_search",
    "memory_add",
    "memory_get",
    "memory_update",
    "memory_forget",
    "memory_restore",
    "memory_promote",
    "memory_demote",
    "tasks_list",
    "tasks_ready",
    "tasks_add",
    "tasks_update_state",
}


async def test_the_readme_recipe_lists_tools_adds_searches_and_signs_writes(mcp_home):
    """`command: magray`, `args: ["mcp"]`, as in the README, with the real console script."""
    assert MAGRAY.exists(), f"{MAGRAY} is missing: run `make install`"
    async with connect(mcp_home, command=str(MAGRAY), args=["mcp"]) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert set(listed) == TOOLS
        add = listed["memory_add"]
        assert add.input_schema["required"] == ["text"]
        assert add.input_schema["properties"]["layer"]["enum"] == ["interact", "insights", "assets"]
        assert "recorded as written by this client" in add.description
        assert listed["memory_search"].annotations.read_only_hint is True

        added = data_of(
            await client.call_tool(
                "memory_add", {"text": "The staging database listens on port 5433.", "tags": ["db"]}
            )
        )
        assert added["source"] == "mcp:claude-code" and added["layer"] == "insights"
        hits = data_of(await client.call_tool("memory_search", {"query": "staging db port"}))
        assert hits["hits"][0]["id"] == added["id"]
        assert hits["hits"][0]["source"] == "mcp:claude-code"
        assert set(hits["hits"][0]["score_parts"]) >= {"vector", "keyword"}

    # Provenance is visible to a person through the CLI once the client is gone.
    out = magray_cli(mcp_home, "memory", "search", "staging database", "--json")
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    hit = next(h for h in found if h["id"] == added["id"])
    assert hit["source"] == "mcp:claude-code"


async def test_forget_asks_by_default_and_is_refused_without_a_tui(mcp_home):
    async with connect(mcp_home, client="Cursor IDE") as client:
        rid = data_of(await client.call_tool("memory_add", {"text": "Keep the lights on."}))["id"]
        refused = await client.call_tool("memory_forget", {"id": rid})
        assert refused.is_error
        message = text_of(refused)
        assert "\n" not in message
        assert "needs a person's approval for client 'cursor-ide'" in message
        assert "no magray TUI is open on this home to ask" in message
        assert "[mcp.server.clients.cursor-ide]" in message
        # Nothing changed.
        got = data_of(await client.call_tool("memory_get", {"id": rid}))
        assert got["state"] == "live"


async def test_policy_per_client_allows_and_denies(mcp_home):
    write_config(
        mcp_home,
        '[mcp.server.clients.curator]\nmemory_forget = "allow"\nmemory_restore = "allow"\n'
        '[mcp.server.clients.reader]\nmemory_add = "deny"\n',
    )
    async with connect(mcp_home, client="reader") as client:
        denied = await client.call_tool("memory_add", {"text": "should not be stored"})
        assert denied.is_error
        assert "denied for client 'reader' by [mcp.server.clients.reader] memory_add" in text_of(
            denied
        )
    async with connect(mcp_home, client="curator") as client:
        rid = data_of(await client.call_tool("memory_add", {"text": "A fact to retract."}))["id"]
        forgotten = data_of(await client.call_tool("memory_forget", {"id": rid}))
        assert forgotten["state"] == "forgotten"
        hits = data_of(await client.call_tool("memory_search", {"query": "fact to retract"}))
        assert rid not in [h["id"] for h in hits["hits"]]
        restored = data_of(await client.call_tool("memory_restore", {"id": rid}))
        assert restored["state"] == "live"
    out = magray_cli(mcp_home, "memory", "list", "--json")
    texts = [r["text"] for r in json.loads(out.stdout)]
    assert texts == ["A fact to retract."]  # the reader's add was never stored
    log = activity.read(activity.log_path(load_settings(mcp_home)))
    calls = [(e["client"], e["tool"], e["ok"]) for e in log]
    assert calls == [
        ("reader", "memory_add", False),
        ("curator", "memory_add", True),
        ("curator", "memory_forget", True),
        ("curator", "memory_search", True),
        ("curator", "memory_restore", True),
    ]
    assert log[0]["error"].startswith("denied for client 'reader'")
    assert log[2]["id"] == rid
    listed = json.loads(magray_cli(mcp_home, "mcp", "clients", "--json", "--calls", "1").stdout)
    summary = {c["client"]: (c["calls"], c["failed"]) for c in listed["clients"]}
    assert summary == {"reader": (1, 1), "curator": (4, 0)}
    assert [c["client"] for c in listed["clients"]] == ["curator", "reader"]  # latest first
    assert listed["clients"][0]["last_calls"][0]["tool"] == "memory_restore"
    history = magray_cli(mcp_home, "memory", "history", rid, "--json")
    actors = [h["actor"] for h in json.loads(history.stdout)]
    assert actors.count("mcp:curator") == 2  # the forget and the restore, signed


async def test_errors_are_one_line_tool_errors_and_the_server_keeps_serving(mcp_home):
    async with connect(mcp_home) as client:
        cases = [
            ("memory_get", {"id": "no-such-id"}, "memory_get: no memory with id 'no-such-id'"),
            ("memory_search", {"query": "x", "k": 0}, "memory_search: invalid arguments: k:"),
            ("memory_add", {"text": "x", "layer": "attic"}, "memory_add: invalid arguments:"),
            ("memory_add", {"text": "   "}, "empty text"),
            ("tasks_update_state", {"id": "t99", "state": "done"}, "t99"),
            ("memory_search", {"query": "x", "since": "yesterday"}, "not an ISO-8601 time"),
        ]
        for tool, args, expected in cases:
            result = await client.call_tool(tool, args)
            assert result.is_error, (tool, args)
            message = text_of(result)
            assert expected in message, message
            assert "\n" not in message and "Traceback" not in message
        # Still serving after all of that.
        rid = data_of(await client.call_tool("memory_add", {"text": "still here"}))["id"]
        assert data_of(await client.call_tool("memory_get", {"id": rid}))["text"] == "still here"


async def test_a_50_mb_memory_is_refused_with_the_limit_and_nothing_is_stored(mcp_home):
    async with connect(mcp_home) as client:
        result = await client.call_tool("memory_add", {"text": "a" * (50 * 1024 * 1024)})
        assert result.is_error
        assert "text is 52,428,800 bytes; the limit is 1,000,000 bytes" in text_of(result)
        stats = json.loads((await client.read_resource("magray://memory/stats")).contents[0].text)
        assert stats["total_live"] == 0


async def test_tasks_round_trip_signed_by_the_client_and_the_graph_resource(mcp_home):
    async with connect(mcp_home, client="goose") as client:
        first = data_of(await client.call_tool("tasks_add", {"title": "Design the schema"}))
        second = data_of(
            await client.call_tool(
                "tasks_add",
                {"title": "Write the migration", "depends_on": [first["id"]], "priority": "high"},
            )
        )
        assert second["state"] == "blocked" and "mcp:goose" in second["tags"]
        ready = data_of(await client.call_tool("tasks_ready", {}))
        assert [t["id"] for t in ready["tasks"]] == [first["id"]]
        done = data_of(
            await client.call_tool("tasks_update_state", {"id": first["id"], "state": "done"})
        )
        assert done["state"] == "done"
        ready = data_of(await client.call_tool("tasks_ready", {}))
        assert [t["id"] for t in ready["tasks"]] == [second["id"]]
        graph = (await client.read_resource("magray://tasks/graph")).contents[0].text
        assert graph.startswith("flowchart") and f"{first['id']} --> {second['id']}" in graph


async def test_a_locked_home_gives_a_one_line_tool_error_not_a_crash(mcp_home):
    """A process outside magray holds the database file: nothing serves the home."""
    (mcp_home / "data").mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from magray_tui.memory.store import Store; "
            "s = Store.open(__import__('pathlib').Path(sys.argv[1])); print('ok', flush=True); "
            "time.sleep(120)",
            str(mcp_home / "data" / "memory.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        async with connect(mcp_home) as client:
            result = await client.call_tool("memory_add", {"text": "blocked?"})
            assert result.is_error
            message = text_of(result)
            assert "in use by" in message and "\n" not in message
            assert (await client.list_tools()).tools  # still serving
    finally:
        holder.kill()
        holder.wait()


async def test_an_idle_server_stops_hosting_the_home_and_is_a_client_after(mcp_home):
    """An editor keeps `magray mcp` running. While it is the home's only process it hosts
    the home (the CLI beside it is its client); after `idle_release_s` without calls it
    lets go, so a TUI opened later hosts, and its next call goes to that host."""
    write_config(mcp_home, "[mcp.server]\nidle_release_s = 1\n")
    async with connect(mcp_home) as client:
        data_of(await client.call_tool("memory_add", {"text": "written over MCP"}))
        out = await asyncio.to_thread(
            magray_cli, mcp_home, "memory", "add", "written by the CLI", "--layer", "insights"
        )
        assert out.returncode == 0, out.stderr  # a client of the `magray mcp` host
        host = None
        deadline = time.monotonic() + 30
        while host is None:
            proc = await asyncio.to_thread(spawn, HOST, mcp_home)
            role = (await asyncio.to_thread(read_until, proc, "ready"))[-1]
            if role == "ready host":
                host = proc
                break
            await asyncio.to_thread(stop, proc)  # `magray mcp` still hosts: try again
            assert time.monotonic() < deadline, "magray mcp never let go of the home"
            await asyncio.sleep(0.5)
        try:
            hits = data_of(await client.call_tool("memory_search", {"query": "written by the CLI"}))
            assert hits["hits"][0]["text"] == "written by the CLI"
            assert hits["hits"][0]["source"] == "manual"
            host.stdin.write("count\n")
            host.stdin.flush()
            assert (await asyncio.to_thread(read_until, host, "count"))[-1] == "count 2"
        finally:
            await asyncio.to_thread(stop, host)


async def test_the_same_while_a_host_is_open_in_another_process(mcp_home):
    """A magray process (no TUI) hosts the home; `magray mcp` is its client: tools, add,
    search, forget asked (nobody to ask: refused) and denied, provenance in the CLI."""
    write_config(mcp_home, '[mcp.server.clients.aider]\nmemory_forget = "deny"\n')
    host = await asyncio.to_thread(start_host, mcp_home)
    try:
        async with connect(mcp_home, client="Claude Code") as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            added = data_of(
                await client.call_tool("memory_add", {"text": "The VPN gateway is vpn2.example."})
            )
            assert added["source"] == "mcp:claude-code"
            hits = data_of(await client.call_tool("memory_search", {"query": "vpn gateway"}))
            assert hits["hits"][0]["id"] == added["id"]
            asked = await client.call_tool("memory_forget", {"id": added["id"]})
            assert asked.is_error
            assert "no magray TUI is open on this home to ask" in text_of(asked)
        async with connect(mcp_home, client="aider") as client:
            denied = await client.call_tool("memory_forget", {"id": added["id"]})
            assert denied.is_error
            assert "denied for client 'aider' by [mcp.server.clients.aider]" in text_of(denied)
        # The write is in the host's store (the host counts it itself), still live.
        host.stdin.write("count\n")
        host.stdin.flush()
        assert (await asyncio.to_thread(read_until, host, "count"))[-1] == "count 1"
        found = await asyncio.to_thread(
            cli_json, mcp_home, "memory", "search", "vpn gateway"
        )  # the CLI beside the host, as a person would check
        assert [(h["id"], h["source"]) for h in found] == [(added["id"], "mcp:claude-code")]
    finally:
        await asyncio.to_thread(stop, host)


async def test_update_promote_demote_when_allowed_are_signed_in_the_history(mcp_home):
    write_config(
        mcp_home,
        '[mcp.server.clients.curator]\nmemory_update = "allow"\nmemory_promote = "allow"\n'
        'memory_demote = "allow"\n',
    )
    async with connect(mcp_home, client="curator") as client:
        rid = data_of(
            await client.call_tool(
                "memory_add", {"text": "The standup is at 9:30.", "layer": "interact"}
            )
        )["id"]
        updated = data_of(
            await client.call_tool(
                "memory_update", {"id": rid, "text": "The standup is at 9:45.", "tags": ["team"]}
            )
        )
        assert updated["text"] == "The standup is at 9:45." and updated["tags"] == ["team"]
        assert updated["source"] == "mcp:curator"
        up = data_of(await client.call_tool("memory_promote", {"id": rid}))
        assert up["layer"] == "insights"
        down = data_of(await client.call_tool("memory_demote", {"id": rid, "to": "interact"}))
        assert down["layer"] == "interact"
        nowhere = await client.call_tool("memory_demote", {"id": rid})
        assert nowhere.is_error
        assert "already in interact; nowhere to demote" in text_of(nowhere)
    history = json.loads(magray_cli(mcp_home, "memory", "history", rid, "--json").stdout)
    assert [(h["action"], h["actor"]) for h in history] == [
        ("edit", "mcp:curator"),
        ("promote", "mcp:curator"),
        ("demote", "mcp:curator"),
    ]
    assert history[0]["details"]["previous_text"] == "The standup is at 9:30."
