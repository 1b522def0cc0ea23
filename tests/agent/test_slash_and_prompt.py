"""Slash commands act on the real services; prompts respect their token budgets."""

from __future__ import annotations

from datetime import datetime

from magray_tui.agent import model as m
from magray_tui.agent import prompt
from magray_tui.agent.agent import MAX_MESSAGE_CHARS, Agent
from magray_tui.agent.model import ChatMessage, MemoryRef


def run(agent: Agent, session_id: str, text: str) -> list:
    return list(agent.run_turn(session_id, text))


def notices(events: list) -> list[str]:
    return [e.text for e in events if isinstance(e, m.Notice)]


def test_remember_search_promote_forget(services) -> None:
    agent = services.new_agent()
    s = agent.sessions.create("slash")
    events = run(agent, s.id, "/remember The staging database password rotates every Monday")
    rid = notices(events)[0].rsplit(" ", 1)[-1]
    assert isinstance(events[-1], m.TurnDone) and events[-1].status == "command"
    rec = services.memory.get(rid, count_access=False)
    assert rec.layer == "insights" and rec.session == s.id

    found = notices(run(agent, s.id, "/search when does the staging password rotate"))[0]
    assert rid in found

    assert "assets" in notices(run(agent, s.id, f"/promote {rid}"))[0]
    assert services.memory.get(rid, count_access=False).layer == "assets"
    run(agent, s.id, f"/forget {rid}")
    assert services.memory.get(rid, count_access=False).state == "forgotten"
    # Commands and what they showed are kept in the transcript (a resumed session shows
    # them), as commands and notices: never user or assistant turns sent to the model.
    kept = [(x.role, x.content) for x in agent.sessions.messages(s.id)]
    assert [r for r, _ in kept] == ["command", "notice"] * 4
    assert kept[2] == ("command", "/search when does the staging password rotate")
    assert rid in kept[3][1]
    search_notice = agent.sessions.messages(s.id)[3]
    assert search_notice.usage == {"markdown": True} and search_notice.status == "info"


def test_bad_commands_get_clear_messages(services) -> None:
    agent = services.new_agent()
    s = agent.sessions.create("errors")
    assert "unknown command /remembr" in notices(run(agent, s.id, "/remembr x"))[0]
    assert "usage: /remember TEXT" in notices(run(agent, s.id, "/remember"))[0]
    assert "no memory" in notices(run(agent, s.id, "/forget nosuchid"))[0].lower()
    kept = agent.sessions.messages(s.id)
    # A failed command is kept with its error, as the user saw it.
    assert [x.role for x in kept] == ["command", "notice"] * 3
    assert [x.status for x in kept if x.role == "notice"] == ["error"] * 3
    assert kept[3].content == "usage: /remember TEXT"
    events = run(agent, s.id, "x" * (MAX_MESSAGE_CHARS + 1))
    assert "limit" in notices(events)[0] and events[-1].status == "error"
    assert agent.sessions.messages(s.id) == kept  # a refused paste stores nothing
    help_text = notices(run(agent, s.id, "/help"))[0]
    for name in ("remember", "search", "task", "plan", "read", "run", "model", "export"):
        assert f"/{name}" in help_text


def test_clear_starts_a_new_session_and_export_writes_markdown(services, tmp_path) -> None:
    agent = services.new_agent()
    s = agent.sessions.create("first")
    events = run(agent, s.id, "/clear")
    changed = [e for e in events if isinstance(e, m.SessionChanged)]
    assert changed and changed[0].session.id != s.id
    out = tmp_path / "chat.md"
    run(agent, s.id, f"/export {out}")
    assert out.read_text(encoding="utf-8").startswith("# first")


def test_memories_fit_the_budget_best_first() -> None:
    refs = [
        MemoryRef("a", "insights", "alpha " * 100, 0.9),
        MemoryRef("b", "assets", "short fact", 0.8),
        MemoryRef("c", "interact", "another short one", 0.7),
    ]
    chosen, used = prompt.select_memories(refs, 50, prompt.estimate_tokens)
    assert [r.id for r in chosen] == ["b", "c"]  # the long one does not fit; later ones do
    assert used <= 50
    system = prompt.system_message(None, chosen, with_tools=False)["content"]
    assert '<memory layer="assets">short fact</memory>' in system and "alpha" not in system


def test_a_superseded_memory_is_marked_outdated_in_the_prompt(services) -> None:
    memory = services.memory
    old = memory.add("The staging database listens on port 5433.", layer="insights")
    new = memory.add("The staging database listens on port 5434.", layer="insights")
    memory.supersede(old, new)
    refs = prompt.memory_refs(memory.search("staging database port", k=2))
    assert [r.id for r in refs] == [new, old]
    block = prompt.memory_block(refs)
    assert '<memory layer="insights">The staging database listens on port 5434.</memory>' in block
    assert (
        '<memory layer="insights" outdated="superseded by a newer memory">'
        "The staging database listens on port 5433.</memory>"
    ) in block


def test_history_keeps_the_newest_turns_within_budget() -> None:
    now = datetime(2026, 11, 24)
    history = [
        ChatMessage(i, "s", role, f"message {i} " + "word " * 20, now)
        for i, role in enumerate(["user", "assistant"] * 5)
    ]
    out = prompt.history_messages(history, 70, prompt.estimate_tokens)
    assert 1 <= len(out) < 10
    assert out[-1]["content"].startswith("message 9")
    assert [o["role"] for o in out] == [h.role for h in history[-len(out) :]]
