"""An id prefix under 4 characters asks for more instead of saying "no memory" (issue 15),
in the CLI and in the chat's slash commands (the TUI's Chat pane runs the same)."""

from __future__ import annotations

from pathlib import Path

from tests.test_memory_cli import magray


def test_cli_show_with_a_short_prefix_asks_for_four_characters(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rid = magray(home, "memory", "add", "The VPN config lives in ops/vpn.conf").output.strip()
    short = magray(home, "memory", "show", rid[:2])
    assert short.exit_code != 0
    assert short.output.strip().splitlines() == [
        f"Error: no memory with id {rid[:2]!r}; type at least 4 characters of an id"
    ]
    assert magray(home, "memory", "show", rid[:4]).exit_code == 0
    unknown = magray(home, "memory", "show", "zzzzzz")
    assert unknown.output.strip() == "Error: no memory with id 'zzzzzz'"


def test_chat_forget_with_a_short_prefix(services) -> None:
    rid = services.memory.add("The staging database listens on port 5433.")
    agent = services.new_agent()
    s = agent.sessions.create("short ids")
    events = list(agent.run_turn(s.id, f"/forget {rid[:3]}"))
    texts = [getattr(e, "text", "") for e in events]
    assert f"no memory with id {rid[:3]!r}; type at least 4 characters of an id" in texts
    assert services.memory.get(rid, count_access=False).state.value == "live"
