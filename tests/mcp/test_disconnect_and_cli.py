"""A client that vanishes mid-call, `magray mcp servers`, and the small rules underneath."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from magray_tui.config import ConfigError, load_settings
from magray_tui.mcp.access import ClientPolicy, client_name, client_source
from magray_tui.mcp.tool_adapter import tool_name
from tests.mcp.conftest import FIXTURE_SERVER, ROOT, magray_cli, write_config


def _send(proc: subprocess.Popen, message: dict) -> None:
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def test_a_client_disconnecting_mid_call_leaves_the_write_whole(tmp_path, embedder):
    home = tmp_path / "home"
    env = dict(os.environ, MAGRAY_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "magray_tui.cli", "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    hello = {"protocolVersion": "2025-06-18", "capabilities": {}}
    hello["clientInfo"] = {"name": "flaky", "version": "0"}
    _send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
    assert json.loads(proc.stdout.readline())["id"] == 1
    _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    text = "zebra crossing marker " + "lorem ipsum " * 60_000  # ~700 kB: a slow write
    call = {"name": "memory_add", "arguments": {"text": text}}
    _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
    proc.stdin.close()  # the client is gone before any answer
    assert proc.wait(timeout=120) == 0
    proc.stdout.close()
    proc.stderr.close()

    from magray_tui.memory import MemoryService

    with MemoryService.open(settings=load_settings(home), embedder=embedder) as svc:
        records = svc.list()
        assert [r.text for r in records] == [text]  # all of it, once
        assert records[0].source == "mcp:flaky"
        stats = svc.stats()["indexes"]
        assert stats["vector_entries"] == stats["keyword_entries"] == 1
        assert stats["watermark"] == stats["store_rev"]  # the indexes caught up
        assert [h.record.id for h in svc.search("zebra crossing", k=1)] == [records[0].id]


def test_mcp_servers_lists_state_and_tools(tmp_path):
    home = tmp_path / "home"
    write_config(
        home,
        f"""
[mcp.servers.fx]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(FIXTURE_SERVER))}]

[mcp.servers.broken]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(FIXTURE_SERVER))}, "--fail-at-start"]

[mcp.servers.parked]
command = "/nonexistent"
enabled = false
""",
    )
    out = magray_cli(home, "mcp", "servers", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)["servers"]}
    assert rows["fx"]["state"] == "ready"
    assert rows["fx"]["tools"] == [
        "fx__echo",
        "fx__env_probe",
        "fx__slow",
        "fx__crash",
        "fx__big_output",
    ]
    assert rows["fx"]["server"].startswith("fixture")
    assert rows["broken"]["state"] == "failed" and rows["broken"]["error"]
    assert rows["parked"]["state"] == "off" and rows["parked"]["tools"] == []
    # The server's stderr went to its log file, not to the terminal.
    assert "refusing to start" not in out.stderr
    log = (home / "state" / "logs" / "mcp-broken.log").read_text()
    assert "fixture: refusing to start" in log

    table = magray_cli(home, "mcp", "servers")
    assert table.returncode == 0 and "fx__echo" in table.stdout and "failed" in table.stdout


def test_server_names_and_env_names_are_checked_in_the_config(tmp_path):
    home = tmp_path / "home"
    write_config(home, '[mcp.servers."my.server"]\ncommand = "x"\n')
    with pytest.raises(ConfigError, match=r"server name 'my.server' must be"):
        load_settings(home)
    write_config(home, '[mcp.servers.ok]\ncommand = "x"\nenv = ["A-B"]\n')
    with pytest.raises(ConfigError, match=r"'A-B' is not an environment variable name"):
        load_settings(home)
    write_config(home, '[mcp.server.policy]\nmemory_add = "maybe"\n')
    with pytest.raises(ConfigError, match=r"mcp\.server\.policy\.memory_add"):
        load_settings(home)


def test_tool_names_fit_openai_function_name_rules():
    import re

    rule = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
    for server, tool in [("fx", "big.output"), ("gh", "create issue/now"), ("s", "x" * 100)]:
        assert rule.match(tool_name(server, tool))
    assert tool_name("fx", "big.output") == "fx__big_output"
    assert len(tool_name("s", "x" * 100)) == 64


def test_client_policy_resolution_order():
    from magray_tui.config import McpServerSettings

    policy = ClientPolicy(
        McpServerSettings(
            policy={"memory_add": "deny", "*": "ask"},
            clients={"Claude Code": {"memory_add": "allow"}, "aider": {"*": "deny"}},
        )
    )
    assert policy.decide("claude-code", "memory_add").action == "allow"  # own rule
    assert policy.decide("aider", "memory_search").action == "deny"  # own "*"
    assert policy.decide("cursor", "memory_add").action == "deny"  # every client's rule
    assert policy.decide("cursor", "memory_search").action == "ask"  # every client's "*"
    assert ClientPolicy().decide("x", "memory_search").action == "allow"  # built-in default
    assert ClientPolicy().decide("x", "memory_forget").action == "ask"
    assert client_name("  Claude Code\x1b[2J ") == "claude-code-2j"
    assert client_source("") == "mcp:unknown"
