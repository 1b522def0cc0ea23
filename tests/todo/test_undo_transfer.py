"""Undo puts rows back exactly; export, import and Mermaid."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from magray_tui.memory.store import Store
from magray_tui.todo.model import CycleError, TaskError, TaskState
from magray_tui.todo.service import TodoService


def rows(todo: TodoService) -> list[dict]:
    return todo.export_json()["tasks"]


def test_each_change_is_undone_exactly_back_to_the_start(todo: TodoService) -> None:
    snapshots = [rows(todo)]
    a = todo.create("a", estimate_hours=1.25, due_at="2026-05-01T08:30:00.123456")
    snapshots.append(rows(todo))
    b = todo.create("b", deps=[a.id], tags=["x"])
    snapshots.append(rows(todo))
    steps = [
        lambda: todo.start(a.id),
        lambda: todo.done(a.id),
        lambda: todo.edit(b.id, title="b2", priority="high"),
        lambda: todo.link_memory(b.id, "m1"),
        lambda: todo.add_artifact(b.id, "notes.txt"),
        lambda: todo.reparent(b.id, a.id),
        lambda: todo.cancel(a.id, dependents="unlink"),
        lambda: todo.delete(a.id),
    ]
    for step in steps:
        step()
        snapshots.append(rows(todo))
    descriptions = []
    while (what := todo.undo()) is not None:
        descriptions.append(what)
        snapshots.pop()
        assert rows(todo) == snapshots[-1]
    assert rows(todo) == [] and len(snapshots) == 1
    assert descriptions[0] == "delete t1 'a'" and descriptions[-1] == "add t1 'a'"
    # undo is not itself recorded: nothing further to undo
    assert todo.undo() is None


def test_refused_changes_leave_no_undo_entry(todo: TodoService) -> None:
    a = todo.create("a")
    b = todo.create("b", deps=[a.id])
    with pytest.raises(CycleError):
        todo.add_dep(a.id, b.id)
    with pytest.raises(TaskError):
        todo.start(b.id)
    assert todo.undo() == "add t2 'b'"


def _graph(todo: TodoService) -> None:
    a = todo.create('Say "hi" <b>', priority="high", estimate_hours=2, tags=["x"])
    b = todo.create("b", deps=[a.id], due_at="2026-04-01")
    c = todo.create("c", deps=[a.id, b.id], parent=a.id, notes="n")
    todo.link_memory(c.id, "m-1")
    todo.done(a.id)


def test_export_import_round_trip_keeps_structure_with_new_ids(tmp_path: Path, clock) -> None:
    src_store = Store.open(tmp_path / "a.duckdb")
    src = TodoService(src_store, clock=clock)
    _graph(src)
    data = src.export_json()
    assert data["format"] == "magray-tasks" and data["version"] == 1
    dst_store = Store.open(tmp_path / "b.duckdb")
    dst = TodoService(dst_store, clock=clock)
    dst.create("already here")
    imported = dst.import_json(data)
    assert [t.id for t in imported] == ["t2", "t3", "t4"]
    by_title = {t.title: t for t in imported}
    assert by_title["c"].deps == ("t2", "t3") and by_title["c"].parent == "t2"
    assert by_title["c"].memory_links == ("m-1",)
    assert by_title['Say "hi" <b>'].state is TaskState.DONE
    assert by_title["b"].state is TaskState.READY
    for old, new in zip(data["tasks"], (t.to_dict() for t in imported), strict=True):
        for key in ("title", "state", "priority", "created_at", "due_at", "tags", "notes"):
            assert old[key] == new[key]
    assert dst.undo() == "import 3 tasks"
    assert [t.title for t in dst.list()] == ["already here"]
    src_store.close()
    dst_store.close()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["tasks"][2]["deps"].append("t99"), "refers to t99"),
        (lambda d: d["tasks"][0]["deps"].append("t3"), "dependency cycle"),
        (lambda d: d["tasks"][1].update(id="t1"), "appears twice"),
        (lambda d: d["tasks"][0].update(priority="urgent"), "tasks.0.priority"),
        (lambda d: d["tasks"][0].update(estimate_hours=-3), "estimate_hours"),
        (lambda d: d["tasks"][0].update(parent="t3"), "parent chain"),
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.pop("tasks"), "tasks"),
    ],
)
def test_invalid_imports_are_refused_whole(todo: TodoService, mutate, message) -> None:
    _graph(todo)
    data = copy.deepcopy(todo.export_json())
    before = rows(todo)
    mutate(data)
    with pytest.raises(TaskError, match=message) as err:
        todo.import_json(data)
    assert "\n" not in str(err.value)
    assert rows(todo) == before
    with pytest.raises(TaskError):
        todo.import_json(["not", "an", "object"])  # type: ignore[arg-type]


def test_mermaid_draws_every_edge_and_escapes_labels(todo: TodoService) -> None:
    _graph(todo)
    text = todo.to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    t1["✓ t1: Say #quot;hi#quot; #lt;b#gt;"]' in lines
    assert {"    t1 --> t2", "    t1 --> t3", "    t2 --> t3"} <= set(lines)
    assert "    class t1 done" in lines
    only = todo.to_mermaid([todo.get("t2"), todo.get("t3")])
    assert "t1 -->" not in only and "    t2 --> t3" in only.splitlines()


def test_text_graph_indents_by_dependency_depth(todo: TodoService) -> None:
    _graph(todo)
    assert todo.to_text().splitlines() == [
        '✓ t1 Say "hi" <b>',
        "  ◎ t2 b  ← t1",
        "    ⊘ t3 c  ← t1, t2",
    ]
