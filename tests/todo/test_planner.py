"""Planning over real HTTP: the real LLM client talks to the local OpenAI-compatible test
server, which returns a fixed plan (or broken ones); nothing is ever half-applied."""

from __future__ import annotations

import json

import pytest

from magray_tui.todo.model import Priority, TaskState
from magray_tui.todo.planner import PlanError, parse_plan, plan_goal
from magray_tui.todo.service import TodoService

PLAN = {
    "tasks": [
        {"key": "schema", "title": "Design the schema", "priority": "high", "estimate_hours": 2},
        {"key": "api", "title": "Write the API", "deps": ["schema"], "estimate_hours": 5},
        {"key": "docs", "title": "Document it", "deps": ["api"], "tags": ["doc"]},
        {"key": "ui", "title": "Build the pane", "deps": ["schema"], "priority": "Critical"},
    ]
}


@pytest.fixture
def complete(settings, llm_server, monkeypatch):
    from magray_tui.llm.client import LLMClient

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings.llm.model = "openai/test-model"
    settings.llm.api_base = llm_server.url
    settings.llm.offline_model = False
    settings.llm.max_retries = 0
    client = LLMClient(settings, local_servers=())

    def call(messages: list[dict], response_format: dict | None) -> str:
        return client.complete(messages, response_format=response_format)

    return call


def test_a_valid_plan_is_previewed_then_applied_whole(todo: TodoService, complete, llm_server):
    llm_server.text(json.dumps(PLAN)[:40], json.dumps(PLAN)[40:])
    plan = plan_goal("Ship the task DAG", complete, memories=["We use DuckDB for everything."])
    body = llm_server.chat_requests[-1].body
    assert body["response_format"]["type"] == "json_schema"
    assert "We use DuckDB for everything." in body["messages"][-1]["content"]
    assert "Ship the task DAG" in body["messages"][-1]["content"]
    assert [t.key for t in plan.tasks] == ["schema", "api", "docs", "ui"]
    assert plan.tasks[3].priority is Priority.CRITICAL and plan.total_hours == 7
    preview = plan.preview().splitlines()
    assert preview[0] == "Plan for: Ship the task DAG  (4 tasks, 7 h)"
    assert "    [api] Write the API (medium ~5h)  ← schema" in preview
    assert todo.list() == []  # previewing writes nothing

    tasks = todo.apply_plan(plan)
    assert [t.id for t in tasks] == ["t1", "t2", "t3", "t4"]
    assert [t.state for t in tasks] == [TaskState.READY] + [TaskState.BLOCKED] * 3
    assert tasks[1].deps == ("t1",) and tasks[2].deps == ("t2",) and tasks[2].tags == ("doc",)
    assert todo.undo() == "plan 'Ship the task DAG' (4 tasks)"
    assert todo.list() == []


def test_an_invalid_reply_is_retried_once_with_the_problem(complete, llm_server):
    bad = {"tasks": [{"key": "a", "title": "A", "deps": ["zzz"]}]}
    llm_server.text(json.dumps(bad))
    llm_server.text("```json\n" + json.dumps(PLAN) + "\n```")
    plan = plan_goal("goal", complete)
    assert len(plan.tasks) == 4
    retry = llm_server.chat_requests[-1].body["messages"]
    assert retry[-2]["role"] == "assistant" and retry[-2]["content"] == json.dumps(bad)
    assert "depends on unknown key zzz" in retry[-1]["content"]


def test_two_invalid_replies_are_refused_cleanly(todo: TodoService, complete, llm_server):
    cyclic = {
        "tasks": [
            {"key": "a", "title": "A", "deps": ["b"]},
            {"key": "b", "title": "B", "deps": ["a"]},
        ]
    }
    llm_server.text("Sure! Here is your plan: step 1 ...")
    llm_server.text(json.dumps(cyclic))
    with pytest.raises(PlanError) as err:
        plan_goal("goal", complete)
    message = str(err.value)
    assert "invalid plan twice" in message and "cycle a → b → a" in message
    assert "\n" not in message
    assert len(llm_server.chat_requests) == 2 and todo.list() == []


def test_an_unreachable_model_is_a_plan_error(settings, monkeypatch):
    from magray_tui.llm.client import LLMClient
    from tests.llm_server import closed_port

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings.llm.model = "openai/test-model"
    settings.llm.api_base = f"http://127.0.0.1:{closed_port()}/v1"
    settings.llm.offline_model = False
    settings.llm.max_retries = 0
    client = LLMClient(settings, local_servers=())
    with pytest.raises(PlanError, match="planning failed"):
        plan_goal("goal", lambda m, f: client.complete(m, response_format=f))


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "not valid JSON"),
        ('{"tasks": []}', "at least 1"),
        ('{"tasks": [{"key": "a"}]}', "tasks.0.title"),
        ('{"tasks": [{"key": "a", "title": "A", "priority": "asap"}]}', "priority"),
        ('{"tasks": [{"key": "a", "title": "A", "estimate_hours": -2}]}', "estimate_hours"),
        ('{"tasks": [{"key": "a", "title": "A"}, {"key": "a", "title": "B"}]}', "used twice"),
        ('{"tasks": [{"key": "a", "title": "A", "deps": ["a"]}]}', "depends on itself"),
    ],
)
def test_parse_plan_names_the_problem(reply: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_plan(reply, "goal")


def test_a_bare_list_and_a_goal_are_accepted_and_required() -> None:
    plan = parse_plan(json.dumps(PLAN["tasks"]), "g")
    assert len(plan.tasks) == 4 and plan.tasks[1].deps == ("schema",)
    with pytest.raises(PlanError, match="goal is needed"):
        plan_goal("  ", lambda m, f: "")
