"""`magray tasks ...` through click on a temp MAGRAY_HOME (real DuckDB, real HTTP for plan)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from magray_tui.cli import main
from tests.todo.test_planner import PLAN


def magray(*args: str, input: str | None = None, ok: bool = True):
    result = CliRunner().invoke(main, list(args), input=input)
    assert "Traceback" not in result.output, result.output
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(*args: str) -> object:
    return json.loads(magray(*args, "--json").stdout)


def test_add_list_show_edit_with_json(home: Path) -> None:
    spec = as_json("tasks", "add", "Write", "the", "spec", "-p", "high", "-e", "2", "--tag", "doc")
    assert spec["id"] == "t1" and spec["title"] == "Write the spec" and spec["state"] == "ready"
    assert spec["priority"] == "high" and spec["estimate_hours"] == 2 and spec["tags"] == ["doc"]
    assert magray("tasks", "add", "Build", "--dep", "t1", "--due", "2026-03-01").stdout == (
        "t2  ⊘ blocked\n"
    )
    magray("tasks", "add", "Unrelated", "-p", "critical")
    listed = as_json("tasks", "list")
    assert [t["id"] for t in listed] == ["t3", "t1", "t2"]
    assert [t["id"] for t in as_json("tasks", "list", "--state", "blocked")] == ["t2"]
    assert [t["id"] for t in as_json("tasks", "list", "-q", "spec")] == ["t1"]
    table = magray("tasks", "list").stdout
    assert "⊘ blocked" in table and "2026-03-01" in table and "Write the spec" in table
    shown = magray("tasks", "show", "2").stdout
    assert "Build" in shown and "t1" in shown
    edited = as_json("tasks", "edit", "t2", "--title", "Build it", "--tags", "a,b", "--due", "")
    assert edited["title"] == "Build it" and edited["tags"] == ["a", "b"]
    assert edited["due_at"] is None


def test_dependencies_states_and_the_ready_queue(home: Path) -> None:
    for title in ("a", "b", "c"):
        magray("tasks", "add", title)
    magray("tasks", "dep", "t2", "t1")
    magray("tasks", "dep", "t3", "t2")
    refused = magray("tasks", "dep", "t1", "t3", ok=False)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        "Error: t1 cannot depend on t3: that closes the cycle t1 → t3 → t2 → t1"
    )
    start = magray("tasks", "start", "t2", ok=False)
    assert "cannot start t2: it waits on t1" in start.stderr
    assert [t["id"] for t in as_json("tasks", "ready")] == ["t1"]
    done = magray("tasks", "done", "t1")
    assert "now ready: t2" in done.stdout
    assert [t["id"] for t in as_json("tasks", "ready")] == ["t2"]
    magray("tasks", "undep", "t3", "t2")
    assert as_json("tasks", "show", "t3")["state"] == "ready"
    assert magray("tasks", "undo").stdout == "undone: t3 no longer depends on t2\n"
    assert as_json("tasks", "show", "t3")["deps"] == ["t2"]


def test_cancel_needs_a_choice_when_tasks_wait_on_it(home: Path) -> None:
    magray("tasks", "add", "a")
    magray("tasks", "add", "b", "--dep", "t1")
    asked = magray("tasks", "cancel", "t1", ok=False)
    assert "t2 depends on t1" in asked.stderr and "--dependents" in asked.stderr
    assert as_json("tasks", "show", "t1")["state"] == "ready"
    magray("tasks", "cancel", "t1", "--dependents", "cancel")
    assert [t["state"] for t in as_json("tasks", "list")] == ["cancelled", "cancelled"]


def test_graph_text_and_mermaid(home: Path) -> None:
    magray("tasks", "add", "a")
    magray("tasks", "add", "b", "--dep", "t1")
    assert magray("tasks", "graph").stdout == "◎ t1 a\n  ⊘ t2 b  ← t1\n"
    mermaid = magray("tasks", "graph", "--format", "mermaid").stdout.splitlines()
    assert mermaid[0] == "flowchart TD" and "    t1 --> t2" in mermaid


def test_rm_undo_export_import(home: Path, tmp_path: Path, monkeypatch) -> None:
    magray("tasks", "add", "a", "-e", "3")
    magray("tasks", "add", "b", "--dep", "t1", "-e", "4")
    assert magray("tasks", "rm", "t1").stdout.startswith("deleted t1")
    assert as_json("tasks", "show", "t2")["deps"] == []
    assert magray("tasks", "undo").stdout == "undone: delete t1 'a'\n"
    assert as_json("tasks", "path")["hours"] == 7
    out = tmp_path / "tasks.json"
    magray("tasks", "export", str(out))
    exported = json.loads(out.read_text())
    assert [t["title"] for t in exported["tasks"]] == ["a", "b"]

    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("MAGRAY_HOME", str(other))
    magray("tasks", "add", "first")
    imported = as_json("tasks", "import", str(out))
    assert [(t["id"], t["deps"]) for t in imported] == [("t2", []), ("t3", ["t2"])]
    broken = tmp_path / "broken.json"
    exported["tasks"][1]["deps"] = ["t77"]
    broken.write_text(json.dumps(exported))
    refused = magray("tasks", "import", str(broken), ok=False)
    assert "refers to t77" in refused.stderr
    (tmp_path / "bad.json").write_text("{nope")
    assert "is not JSON" in magray("tasks", "import", str(tmp_path / "bad.json"), ok=False).stderr
    assert len(as_json("tasks", "list")) == 3


@pytest.mark.parametrize(
    "args",
    [
        ("tasks", "show", "t9"),
        ("tasks", "show", "banana"),
        ("tasks", "add", "x", "--due", "soon"),
        ("tasks", "add", "x", "--dep", "t5"),
        ("tasks", "edit", "t1"),
        ("tasks", "dep", "t1", "t1"),
    ],
)
def test_bad_input_is_one_line(home: Path, args: tuple[str, ...]) -> None:
    magray("tasks", "add", "only")
    result = magray(*args, ok=False)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.stderr
    if args[1] == "edit":  # a usage error: click shows the usage first, then the one line
        assert lines[0].startswith("Usage: ") and len(lines) == 4
    else:
        assert len(lines) == 1
    assert len(as_json("tasks", "list")) == 1


@pytest.fixture
def llm_env(home: Path, llm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("MAGRAY_LLM__MODEL", "openai/test-model")
    monkeypatch.setenv("MAGRAY_LLM__API_BASE", llm_server.url)
    monkeypatch.setenv("MAGRAY_LLM__OFFLINE_MODEL", "false")
    monkeypatch.setenv("MAGRAY_LLM__MAX_RETRIES", "0")
    return llm_server


def test_plan_previews_and_applies_only_with_yes(llm_env) -> None:
    llm_env.text(json.dumps(PLAN))
    shown = magray("tasks", "plan", "Ship", "the", "DAG", "--no-memories")
    assert shown.stdout.startswith("Plan for: Ship the DAG  (4 tasks, 7 h)")
    assert "not applied" in shown.stderr
    assert as_json("tasks", "list") == []
    llm_env.text(json.dumps(PLAN))
    applied = magray("tasks", "plan", "Ship", "--yes", "--no-memories")
    assert "added 4 tasks: t1, t2, t3, t4" in applied.stdout
    assert [t["id"] for t in as_json("tasks", "ready")] == ["t1"]


def test_plan_with_an_invalid_reply_twice_applies_nothing(llm_env) -> None:
    llm_env.text("no json here")
    llm_env.text('{"tasks": [{"key": "a", "title": "A", "deps": ["ghost"]}]}')
    result = magray("tasks", "plan", "Ship", "--yes", "--no-memories", ok=False)
    assert "invalid plan twice" in result.stderr and "ghost" in result.stderr
    assert as_json("tasks", "list") == []
