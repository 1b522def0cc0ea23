"""Whole agent turns over real HTTP: litellm streams from the local OpenAI-compatible test
server; memories, tools, cancellation, errors and remembering all go through the real
services on a temp home."""

from __future__ import annotations

import json
import threading

import pytest

from magray_tui.agent import model as m
from magray_tui.agent.agent import Agent
from tests.conftest import FACTS, use_test_server
from tests.llm_server import closed_port


@pytest.fixture
def chat_settings(settings, llm_server, tmp_path, monkeypatch):
    return use_test_server(settings, llm_server, tmp_path / "workspace", monkeypatch)


@pytest.fixture
def agent(chat_settings, services):
    services.memory.add_many([{"text": t, "layer": "insights"} for t in FACTS])
    return services.new_agent()


def events_of(agent: Agent, sid: str, text: str, **kw) -> list:
    return list(agent.run_turn(sid, text, **kw))


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_a_turn_is_grounded_streamed_stored_and_remembered(agent, services, llm_server):
    s = agent.sessions.create("grounded")
    llm_server.text("You chose ", "DuckDB", " [bold]as[/] the source of truth.")
    events = events_of(agent, s.id, "Which database did our team decide on?")

    used = of(events, m.MemoriesUsed)[0]
    assert any("DuckDB" in r.text for r in used.memories)
    system = llm_server.chat_requests[-1].body["messages"][0]["content"]
    assert "DuckDB as the single source of truth" in system
    assert "".join(e.text for e in of(events, m.ReplyDelta)) == (
        "You chose DuckDB [bold]as[/] the source of truth."
    )
    done = events[-1]
    assert isinstance(done, m.TurnDone) and done.status == "complete"
    assert done.usage["completion_tokens"] > 0

    stored = agent.sessions.messages(s.id)
    assert [x.role for x in stored] == ["user", "assistant"]
    assert stored[1].memories and stored[1].model == "openai/test-model"
    # Both messages are in Interact, tagged with the session.
    chat = services.memory.list(layers=["interact"], session=s.id)
    assert sorted(r.metadata["role"] for r in chat) == ["assistant", "user"]
    assert all(x.memory_id for x in agent.sessions.messages(s.id))


def test_history_is_sent_on_the_next_turn(agent, llm_server):
    s = agent.sessions.create("history")
    llm_server.text("Nice to meet you, Ada.")
    events_of(agent, s.id, "My name is Ada.")
    llm_server.text("Your name is Ada.")
    events_of(agent, s.id, "What is my name?")
    sent = llm_server.chat_requests[-1].body["messages"]
    assert [x["role"] for x in sent[1:]] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "My name is Ada."


def test_a_tool_call_runs_in_the_workspace_and_the_result_goes_back(
    agent, chat_settings, llm_server
):
    root = chat_settings.tools.workspace_roots[0]
    (root / "notes.txt").write_text("the launch is on Friday\n", encoding="utf-8")
    s = agent.sessions.create("tools")
    llm_server.tool_call("read_file", {"path": "notes.txt"})
    llm_server.text("The notes say the launch is on Friday.")
    events = events_of(agent, s.id, "What do my notes say?")

    finished = of(events, m.ToolFinished)
    assert finished and finished[0].ok and "launch is on Friday" in finished[0].output
    second = llm_server.chat_requests[-1].body["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "read_file"
    assert second[-1]["role"] == "tool" and "launch is on Friday" in second[-1]["content"]
    assert "tools" in llm_server.chat_requests[0].body  # the specs were offered
    assert events[-1].status == "complete"


@pytest.mark.parametrize("approve", [True, False])
def test_a_write_asks_first(agent, chat_settings, llm_server, approve):
    root = chat_settings.tools.workspace_roots[0]
    asked = []

    def confirm(c) -> bool:
        asked.append(c)
        return approve

    s = agent.sessions.create("write")
    llm_server.tool_call("write_file", {"path": "todo.md", "content": "- ship it\n"})
    llm_server.text("Done." if approve else "Understood, I did not write it.")
    events = events_of(agent, s.id, "Write my todo list", confirm=confirm)
    assert len(asked) == 1 and "todo.md" in asked[0].title + asked[0].detail
    assert "+- ship it" in asked[0].detail  # the diff is shown
    assert (root / "todo.md").exists() is approve
    assert of(events, m.ToolFinished)[0].ok is approve


def test_a_path_escape_is_refused_and_reported(agent, llm_server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY", encoding="utf-8")
    s = agent.sessions.create("escape")
    llm_server.tool_call("read_file", {"path": "../secret.txt"})
    llm_server.text("I cannot read that.")
    events = events_of(agent, s.id, "read ../secret.txt")
    finished = of(events, m.ToolFinished)[0]
    assert not finished.ok and "outside" in finished.output.lower()
    assert "TOP-SECRET-CANARY" not in json.dumps(llm_server.chat_requests[-1].body)


def test_cancel_keeps_the_partial_reply(agent, llm_server):
    s = agent.sessions.create("cancel")
    llm_server.text(*[f"word{i} " for i in range(40)], delay_s=0.1)
    cancel = threading.Event()
    seen = []
    for event in agent.run_turn(s.id, "tell me a long story", cancel=cancel):
        seen.append(event)
        if isinstance(event, m.ReplyDelta) and len(of(seen, m.ReplyDelta)) == 2:
            cancel.set()
    assert seen[-1].status == "cancelled"
    reply = agent.sessions.messages(s.id)[-1]
    assert reply.status == "cancelled" and reply.content.startswith("word0 word1")
    assert "word39" not in reply.content


def test_an_unreachable_server_is_a_readable_error(chat_settings, services):
    chat_settings.llm.api_base = f"http://127.0.0.1:{closed_port()}/v1"
    agent = services.new_agent()
    s = agent.sessions.create("down")
    events = events_of(agent, s.id, "hello?")
    done = events[-1]
    assert done.status == "error" and "127.0.0.1" in done.error
    assert "Traceback" not in done.error
    msgs = agent.sessions.messages(s.id)
    assert msgs[0].content == "hello?" and msgs[-1].status == "error"


def test_regenerate_replaces_the_last_reply(agent, llm_server):
    s = agent.sessions.create("regen")
    llm_server.text("first answer")
    events_of(agent, s.id, "question")
    llm_server.text("second answer")
    events = list(agent.regenerate(s.id))
    assert events[-1].status == "complete"
    msgs = agent.sessions.messages(s.id)
    assert [x.content for x in msgs] == ["question", "second answer"]
    assert llm_server.chat_requests[-1].body["messages"][-1]["content"] == "question"


def test_stated_facts_are_distilled_into_insights(chat_settings, services, llm_server):
    chat_settings.agent.distil = True
    agent = services.new_agent()
    s = agent.sessions.create("distil")
    llm_server.text("Noted: you deploy on Thursdays.")
    llm_server.text(json.dumps({"facts": ["The user deploys to production on Thursdays."]}))
    events_of(agent, s.id, "We always deploy to production on Thursdays.")
    agent.wait_background()
    insights = services.memory.list(layers=["insights"], session=s.id)
    assert [r.text for r in insights] == ["The user deploys to production on Thursdays."]
    assert insights[0].source == "agent" and insights[0].metadata["distilled_from"] == "chat"


PLAN = {
    "tasks": [
        {
            "key": "a",
            "title": "Write the migration",
            "deps": [],
            "priority": "high",
            "estimate_hours": 2,
        },
        {"key": "b", "title": "Backfill old rows", "deps": ["a"], "estimate_hours": 1},
        {"key": "c", "title": "Switch reads over", "deps": ["b"], "estimate_hours": 0.5},
    ]
}


def test_plan_proposes_validated_tasks_and_applies_them_on_accept(agent, services, llm_server):
    s = agent.sessions.create("plan")
    llm_server.text(json.dumps(PLAN))
    events = events_of(agent, s.id, "/plan move the users table to the new schema")
    proposed = of(events, m.PlanProposed)[0]
    assert "Write the migration" in proposed.preview
    assert services.todo.list() == []  # nothing applied before the user accepts
    request = llm_server.chat_requests[-1].body["messages"]
    assert "move the users table" in request[-1]["content"]
    tasks = agent.apply_plan(proposed.plan)
    by_title = {t.title: t for t in services.todo.list()}
    assert len(tasks) == 3 and set(by_title) == {t["title"] for t in PLAN["tasks"]}
    assert by_title["Backfill old rows"].deps == (by_title["Write the migration"].id,)
    assert by_title["Switch reads over"].state == "blocked"


def test_an_invalid_plan_is_refused_cleanly(agent, services, llm_server):
    s = agent.sessions.create("bad plan")
    cyclic = {
        "tasks": [
            {"key": "a", "title": "A", "deps": ["b"]},
            {"key": "b", "title": "B", "deps": ["a"]},
        ]
    }
    llm_server.text(json.dumps(cyclic))
    llm_server.text("this is not json at all")  # the one retry fails too
    events = events_of(agent, s.id, "/plan something circular")
    assert not of(events, m.PlanProposed)
    error = next(n for n in of(events, m.Notice) if n.level == "error").text
    assert "plan" in error.lower() and "Traceback" not in error
    assert services.todo.list() == []


def test_regenerate_keeps_commands_typed_after_the_reply(agent, llm_server):
    s = agent.sessions.create("regen-commands")
    llm_server.text("first answer")
    events_of(agent, s.id, "question")
    events_of(agent, s.id, "/model")
    llm_server.text("second answer")
    list(agent.regenerate(s.id))
    msgs = agent.sessions.messages(s.id)
    assert [x.role for x in msgs] == ["user", "command", "notice", "assistant"]
    assert [msgs[0].content, msgs[-1].content] == ["question", "second answer"]
    # The command and its notice never reach the model.
    sent = llm_server.chat_requests[-1].body["messages"]
    assert [x["content"] for x in sent if x["role"] != "system"] == ["question"]


def test_an_agent_runs_on_explicit_collaborators_without_services(
    chat_settings, embedder, llm_server
):
    """The agent is given its parts (no `Services`): a memory and chat sessions on one
    store, an LLM client; a provider it does not need for a turn is never called."""
    from magray_tui.agent.sessions import ChatSessions
    from magray_tui.llm.client import LLMClient
    from magray_tui.memory import MemoryService

    asked: list[str] = []

    def no_tasks():
        asked.append("todo")
        raise AssertionError("a chat turn needs no task DAG")

    with MemoryService.open(settings=chat_settings, embedder=embedder) as memory:
        memory.add_many([{"text": t, "layer": "insights"} for t in FACTS])
        agent = Agent(
            chat_settings,
            sessions=ChatSessions(memory.store),
            memory=lambda: memory,
            todo=no_tasks,
            llm=lambda: LLMClient(chat_settings),
        )
        s = agent.sessions.create("parts")
        llm_server.text("DuckDB.")
        events = events_of(agent, s.id, "Which database did our team decide on?")
        assert isinstance(events[-1], m.TurnDone) and events[-1].status == "complete"
        assert any("DuckDB" in r.text for r in of(events, m.MemoriesUsed)[0].memories)
        assert len(memory.list(layers=["interact"], session=s.id)) == 2
        assert [x.role for x in agent.sessions.messages(s.id)] == ["user", "assistant"]
    assert asked == []
