"""magray's agent using a configured MCP server's tools: a real stdio server written with
the SDK (fixture_server.py), the LLM scripted by the local OpenAI-compatible test server."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator

import pytest

from magray_tui.agent import model as m
from magray_tui.agent.agent import Agent
from magray_tui.config import McpServerEntry
from tests.conftest import use_test_server
from tests.mcp.conftest import FIXTURE_SERVER


@pytest.fixture
def services(settings, embedder, monkeypatch) -> Iterator:
    import magray_tui.ai
    from magray_tui.services import Services

    monkeypatch.setattr(magray_tui.ai, "load_embedder", lambda settings, *a, **k: embedder)
    svc = Services(settings)
    yield svc
    svc.close()


def fixture_entry(**kw) -> McpServerEntry:
    return McpServerEntry(command=sys.executable, args=[str(FIXTURE_SERVER)], **kw)


@pytest.fixture
def make_agent(settings, services, llm_server, tmp_path, monkeypatch):
    use_test_server(settings, llm_server, tmp_path / "workspace", monkeypatch)
    agents: list[Agent] = []

    def make(servers: dict[str, McpServerEntry], policy: dict[str, str] | None = None) -> Agent:
        settings.mcp.servers = servers
        settings.tools.policy = policy or {}
        agent = services.new_agent()
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.tools().close()


def turn(agent: Agent, text: str, confirm=None) -> list:
    s = agent.sessions.create("mcp")
    kwargs = {"confirm": confirm} if confirm else {}
    return list(agent.run_turn(s.id, text, **kwargs))


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def mcp_health(agent: Agent, services):
    from magray_tui.monitor.health import run_checks

    report = run_checks(agent.settings, services)
    return report.get("mcp_servers")


def sent_tools(llm_server) -> list[str]:
    return [t["function"]["name"] for t in llm_server.chat_requests[0].body.get("tools", [])]


def test_allowed_tool_runs_and_its_output_goes_back_as_untrusted_data(make_agent, llm_server):
    agent = make_agent({"fx": fixture_entry()}, {"fx__echo": "allow"})
    llm_server.tool_call("fx__echo", {"text": "hello from the model"})
    llm_server.text("The server echoed it.")
    events = turn(agent, "echo something")

    assert {"fx__echo", "fx__slow", "fx__crash", "fx__big_output"} <= set(sent_tools(llm_server))
    finished = of(events, m.ToolFinished)[0]
    assert finished.ok and finished.name == "fx__echo"
    assert finished.output == (
        "[untrusted output of MCP server 'fx', tool 'echo']\necho: hello from the model"
    )
    tool_msg = llm_server.chat_requests[1].body["messages"][-1]
    assert tool_msg["role"] == "tool"
    assert tool_msg["content"] == (
        '<tool_output tool="fx__echo">\n'
        "[untrusted output of MCP server 'fx', tool 'echo']\necho: hello from the model\n"
        "</tool_output>"
    )
    assert events[-1].status == "complete"


def test_default_policy_asks_showing_server_tool_and_arguments(make_agent, llm_server):
    agent = make_agent({"fx": fixture_entry()})
    asked = []

    def approve(confirmation) -> bool:
        asked.append(confirmation)
        return True

    llm_server.tool_call("fx__echo", {"text": "please"})
    llm_server.text("done")
    events = turn(agent, "echo please", confirm=approve)

    assert len(asked) == 1
    assert asked[0].tool == "fx__echo"
    assert asked[0].detail == 'server: fx\ntool: echo\narguments: {"text": "please"}'
    assert of(events, m.ToolFinished)[0].ok


def test_declined_and_denied_calls_never_reach_the_server(make_agent, llm_server):
    agent = make_agent({"fx": fixture_entry()}, {"fx__env_probe": "deny"})
    assert "fx__env_probe" not in [s.name for s in agent.tools().specs()]
    llm_server.tool_calls(("fx__echo", {"text": "no"}), ("fx__env_probe", {"name": "HOME"}))
    llm_server.text("ok")
    events = turn(agent, "try both", confirm=lambda c: False)

    declined, denied = of(events, m.ToolFinished)
    assert not declined.ok and declined.output.startswith("the user declined: MCP server 'fx'")
    assert not denied.ok and "policy denies fx__env_probe" in denied.output
    assert "env_probe" not in sent_tools(llm_server)


def test_only_named_environment_variables_reach_the_server(make_agent, llm_server, monkeypatch):
    monkeypatch.setenv("MAGRAY_TEST_PASSED", "yes")
    monkeypatch.setenv("MAGRAY_TEST_SECRET", "hunter2")
    agent = make_agent(
        {"fx": fixture_entry(env=["MAGRAY_TEST_PASSED"])}, {"fx__env_probe": "allow"}
    )
    llm_server.tool_calls(
        ("fx__env_probe", {"name": "MAGRAY_TEST_PASSED"}),
        ("fx__env_probe", {"name": "MAGRAY_TEST_SECRET"}),
    )
    llm_server.text("ok")
    passed, withheld = of(turn(agent, "probe"), m.ToolFinished)
    assert passed.output.endswith("MAGRAY_TEST_PASSED=yes")
    assert withheld.output.endswith("MAGRAY_TEST_SECRET=<unset>")


def test_a_server_crashing_mid_call_is_reported_once_and_the_turn_completes(
    make_agent, llm_server, services
):
    agent = make_agent({"fx": fixture_entry()}, {"fx__crash": "allow", "fx__echo": "allow"})
    health = mcp_health(agent, services)
    assert health.status.value == "ok" and health.message == "fx: start with the first chat turn"
    agent.tools()
    health = mcp_health(agent, services)
    assert health.status.value == "ok" and health.message == "1 ready, 5 tools"
    llm_server.tool_call("fx__crash", {})
    llm_server.text("The tool failed.")
    events = turn(agent, "crash it")

    finished = of(events, m.ToolFinished)[0]
    assert not finished.ok
    assert finished.output.startswith("MCP server 'fx' crashed during crash")
    assert events[-1].status == "complete"
    assert not [n for n in of(events, m.Notice) if "fx" in n.text]

    # The Health pane's check shows it too.
    health = mcp_health(agent, services)
    assert health.status.value == "degraded"
    assert health.message.startswith("fx: crashed during crash")

    # The next turn: no second report; the server's next call starts it again.
    llm_server.tool_calls(("fx__echo", {"text": "again"}), ("fx__crash", {}))
    llm_server.tool_call("fx__echo", {"text": "third"})
    llm_server.text("done")
    later = turn(agent, "try again")
    assert not [n for n in of(later, m.Notice) if "fx" in n.text]
    again, crashed, third = of(later, m.ToolFinished)
    assert again.ok and again.output.endswith("echo: again")
    assert not crashed.ok and crashed.output.startswith("MCP server 'fx' crashed during crash")
    # A second crash within a minute is not restarted: a one-line refusal, no loop.
    assert not third.ok and third.output.startswith("MCP server 'fx' is not running (crashed")
    assert later[-1].status == "complete"


def test_a_hanging_call_times_out_and_the_server_stays_usable(make_agent, llm_server):
    agent = make_agent({"fx": fixture_entry(timeout_s=1.0)}, {"*": "allow"})
    llm_server.tool_calls(("fx__slow", {"seconds": 30}), ("fx__echo", {"text": "after"}))
    llm_server.text("ok")
    started = time.monotonic()
    events = turn(agent, "be slow")
    elapsed = time.monotonic() - started

    slow, echo = of(events, m.ToolFinished)
    assert not slow.ok and slow.output == "MCP server 'fx': slow timed out after 1 s"
    assert echo.ok and echo.output.endswith("echo: after")
    assert events[-1].status == "complete"
    assert elapsed < 25  # the 30 s sleep was not waited for


def test_a_server_that_fails_to_start_is_reported_once_and_turns_go_on(make_agent, llm_server):
    bad = McpServerEntry(command=sys.executable, args=[str(FIXTURE_SERVER), "--fail-at-start"])
    missing = McpServerEntry(command="/nonexistent/mcp-server")
    agent = make_agent({"bad": bad, "gone": missing, "fx": fixture_entry()})
    llm_server.text("hello")
    first = turn(agent, "hi")
    notices = sorted(n.text for n in of(first, m.Notice) if n.level == "warning")
    assert len(notices) == 2
    assert notices[0].startswith("MCP server 'bad' is unavailable:")
    assert notices[1].startswith("MCP server 'gone' is unavailable: command not found")
    assert first[-1].status == "complete"
    names = sent_tools(llm_server)
    assert "fx__echo" in names and not [n for n in names if n.startswith(("bad__", "gone__"))]

    llm_server.text("hello again")
    second = turn(agent, "hi again")
    assert not [n for n in of(second, m.Notice) if n.level == "warning"]


def test_huge_hostile_output_is_capped_and_labelled(make_agent, llm_server, settings):
    agent = make_agent({"fx": fixture_entry()}, {"fx__big_output": "allow"})
    llm_server.tool_call("fx__big_output", {"kb": 500})
    llm_server.text("ok")
    finished = of(turn(agent, "big"), m.ToolFinished)[0]
    cap = settings.tools.output_cap_bytes
    assert finished.ok
    assert finished.output.startswith("[untrusted output of MCP server 'fx', tool 'big.output']")
    assert finished.output.endswith("[output truncated]")
    assert len(finished.output.encode()) < cap + 1024
    assert json.dumps(finished.output)  # stays a plain string for the prompt


def test_a_server_that_hangs_at_start_is_given_up_and_its_process_killed(tmp_path):
    import os

    from magray_tui.mcp.client import McpClients

    pid_file = tmp_path / "pid"
    hang = McpServerEntry(
        command=sys.executable,
        args=[str(FIXTURE_SERVER), "--hang-at-start", str(pid_file)],
        startup_timeout_s=3,
    )
    clients = McpClients({"stuck": hang, "fx": fixture_entry()}, tmp_path / "logs")
    started = time.monotonic()
    clients.start()
    try:
        assert time.monotonic() - started < 10
        assert clients.states["stuck"].status == "failed"
        assert clients.states["fx"].status == "ready"
        assert clients.notices() == ["MCP server 'stuck' is unavailable: did not start within 3 s"]
        pid = int(pid_file.read_text())

        def alive() -> bool:  # running, not a zombie waiting to be reaped
            try:
                os.kill(pid, 0)
                with open(f"/proc/{pid}/stat") as f:
                    return f.read().split()[2] != "Z"
            except (ProcessLookupError, FileNotFoundError):
                return False

        from tests.conftest import wait_until

        wait_until(lambda: not alive(), timeout=15)
    finally:
        clients.close()
