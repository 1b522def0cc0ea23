"""search_memory, add_memory and add_task against the real memory service and task DAG."""

from __future__ import annotations

from pathlib import Path

import pytest

from magray_tui.config import Settings
from magray_tui.services import Services
from magray_tui.tools import ToolRegistry, allow_all, deny_all
from tests.conftest import FACTS
from tests.tools.conftest import Asker, Workspace, make_registry


def test_memory_tools_are_absent_without_a_memory(registry: ToolRegistry) -> None:
    names = [s.name for s in registry.specs()]
    assert "search_memory" not in names and "add_memory" not in names
    assert "add_task" not in names
    assert (
        "unknown tool 'search_memory'"
        in registry.run("search_memory", {"query": "x"}, allow_all).output
    )


def test_search_memory_finds_what_was_stored(ws: Workspace, memory) -> None:
    for fact in FACTS:
        memory.add(fact, layer="insights")
    reg = make_registry(ws.root, memory=lambda: memory)
    result = reg.run(
        "search_memory", {"query": "where does the deploy script live?", "limit": 3}, deny_all
    )
    assert result.ok
    first = result.output.splitlines()[0]
    assert (
        first
        == "1. [insights] The deploy script lives in tools/deploy.sh and needs the staging token."
    )
    assert result.summary == "3 memories for 'where does the deploy script live?'"
    only_assets = reg.run("search_memory", {"query": "deploy script", "layer": "assets"}, deny_all)
    assert only_assets.ok and only_assets.summary == "no memories found"


def test_add_memory_asks_then_stores_as_the_agent(ws: Workspace, memory) -> None:
    reg = make_registry(ws.root, memory=lambda: memory)
    args = {"text": "The user deploys on Fridays only.", "tags": ["deploy"], "kind": "fact"}
    no = Asker(answer=False)
    assert not reg.run("add_memory", args, no).ok
    assert memory.list() == []
    assert no.seen[0].title == "Remember in insights: The user deploys on Fridays only."
    assert "tags: deploy" in no.seen[0].detail
    result = reg.run("add_memory", args, allow_all)
    assert result.ok and result.summary.startswith("remembered in insights: ")
    (record,) = memory.list()
    assert record.text == "The user deploys on Fridays only."
    assert (record.layer.value, record.kind, record.tags, record.source) == (
        "insights",
        "fact",
        ("deploy",),
        "agent",
    )
    assert record.id in result.output


def test_the_memory_is_opened_only_when_a_memory_tool_runs(ws: Workspace) -> None:
    calls: list[int] = []

    def broken():
        calls.append(1)
        raise RuntimeError("database is locked by process 4242")

    reg = make_registry(ws.root, memory=broken)
    assert "search_memory" in [s.name for s in reg.specs()]
    assert reg.run("read_file", {"path": "README.md"}, deny_all).ok
    assert calls == []
    result = reg.run("search_memory", {"query": "x"}, deny_all)
    assert not result.ok
    assert result.output == "the memory is not available: database is locked by process 4242"
    assert calls == [1]


def test_memory_errors_are_one_line_messages(ws: Workspace, memory) -> None:
    reg = make_registry(ws.root, memory=lambda: memory)
    schema = reg.run("add_memory", {"text": "x", "layer": "attic"}, allow_all)
    assert not schema.ok
    assert schema.output == (
        "invalid arguments: layer must be one of: interact, insights, assets (got 'attic')"
    )
    # The service's own refusal comes through as its message, not as a crash.
    blank = reg.run("add_memory", {"text": "   "}, allow_all)
    assert not blank.ok and blank.output.endswith("empty text: nothing to remember")
    assert memory.list() == []


@pytest.fixture
def todo_services(home: Path, settings: Settings):
    services = Services(settings)
    yield services
    services.close()


def test_add_task_creates_a_real_task(ws: Workspace, todo_services: Services) -> None:
    reg = make_registry(ws.root, todo=lambda: todo_services.todo)
    asker = Asker()
    first = reg.run(
        "add_task", {"title": "Write the docs", "priority": "high", "tags": ["docs"]}, asker
    )
    assert first.ok, first.output
    assert asker.seen[0].detail == "title: Write the docs\npriority: high\ntags: docs"
    (task,) = todo_services.todo.list()
    assert (task.title, task.priority.value, task.tags) == ("Write the docs", "high", ("docs",))
    assert first.output == f"created task {task.id}: Write the docs (ready)"
    second = reg.run("add_task", {"title": "Publish", "deps": [task.id]}, allow_all)
    assert second.ok and second.output.endswith("(blocked)")
    missing = reg.run("add_task", {"title": "Orphan", "deps": ["t999"]}, allow_all)
    assert not missing.ok and missing.output == "no task t999"
    assert len(todo_services.todo.list()) == 2
