"""`magray mcp --http`: streamable HTTP on 127.0.0.1 behind a bearer token, driven by the
SDK's Client through a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx2
import pytest

from tests.conftest import wait_until
from tests.llm_server import closed_port
from tests.mcp.conftest import ROOT, data_of


@pytest.fixture
def http_server(mcp_home):
    port = closed_port()
    env = dict(os.environ, MAGRAY_HOME=str(mcp_home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "magray_tui.cli", "mcp", "--http", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/mcp"

    def answering() -> bool:
        try:
            httpx2.get(url, timeout=1)
        except httpx2.TransportError:
            return False
        return True

    try:
        wait_until(answering, timeout=60)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()


async def test_http_needs_the_token_and_signs_writes_with_the_client(mcp_home, http_server):
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp_types import Implementation

    url, _proc = http_server
    token_file = mcp_home / "state" / "mcp-http-token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()

    refused = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=5)
    assert refused.status_code == 401
    wrong = httpx2.post(url, json={}, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        transport = streamable_http_client(url, http_client=http)
        me = Implementation(name="opencode", version="1")
        async with Client(transport, client_info=me) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"memory_add", "memory_search", "tasks_add"} <= names
            added = data_of(await client.call_tool("memory_add", {"text": "Served over HTTP."}))
            assert added["source"] == "mcp:opencode"
            hits = data_of(await client.call_tool("memory_search", {"query": "over HTTP"}))
            assert hits["hits"][0]["id"] == added["id"]
