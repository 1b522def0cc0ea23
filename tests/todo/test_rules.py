"""Every rule of the task DAG, on a real DuckDB store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from magray_tui.memory.store import Store
from magray_tui.todo.model import (
    CycleError,
    DependentsExist,
    Priority,
    TaskError,
    TaskNotFound,
    TaskState,
)
from magray_tui.todo.service import TodoService

R, B = TaskState.READY, TaskState.BLOCKED


def states(todo: TodoService) -> dict[str, TaskState]:
    return {t.id: t.state for t in todo.list()}


def test_create_assigns_short_ids_and_derives_the_state(todo: TodoService) -> None:
    a = todo.create("Write the spec", priority="high", tags=["doc", " doc ", ""], estimate_hours=2)
    b = todo.create("Build it", deps=[a.id])
    c = todo.create("Think", state="planned")
    assert (a.id, b.id, c.id) == ("t1", "t2", "t3")
    assert (a.state, b.state, c.state) == (R, B, TaskState.PLANNED)
    assert a.priority is Priority.HIGH and a.tags == ("doc",) and a.estimate_hours == 2.0
    assert b.deps == ("t1",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "   "}, "needs a title"),
        ({"title": "x", "priority": "urgent"}, "unknown priority"),
        ({"title": "x", "estimate_hours": -1}, "zero or more"),
        ({"title": "x", "estimate_hours": "lots"}, "number of hours"),
        ({"title": "x", "due_at": "next tuesday"}, "cannot read the due date"),
        ({"title": "x", "deps": ["t42"]}, "no task t42"),
        ({"title": "x", "parent": "banana"}, "not a task id"),
        ({"title": "x", "state": "done"}, "starts ready"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(todo: TodoService, kwargs, message) -> None:
    todo.create("existing")
    before = todo.export_json()["tasks"]
    title = kwargs.pop("title")
    with pytest.raises(TaskError, match=message) as err:
        todo.create(title, **kwargs)
    assert "\n" not in str(err.value)
    assert todo.export_json()["tasks"] == before
    assert todo.undo_available() == "add t1 'existing'"


def test_get_accepts_every_spelling_of_an_id(todo: TodoService) -> None:
    for i in range(12):
        todo.create(f"task {i}")
    for ref in ("t12", "T12", "12", "#12", 12, " t12 "):
        assert todo.get(ref).title == "task 11"
    with pytest.raises(TaskNotFound, match="no task t99"):
        todo.get("t99")
    with pytest.raises(TaskNotFound, match="not a task id"):
        todo.get("twelve")


def test_cycles_are_refused_with_the_cycle_shown(todo: TodoService) -> None:
    a, b, c = (todo.create(n) for n in "abc")
    todo.add_dep(b.id, a.id)
    todo.add_dep(c.id, b.id)
    last = todo.undo_available()
    with pytest.raises(CycleError) as err:
        todo.add_dep(a.id, c.id)
    assert err.value.cycle == ["t1", "t3", "t2", "t1"]
    assert "t1 → t3 → t2 → t1" in str(err.value)
    with pytest.raises(TaskError, match="itself"):
        todo.add_dep(a.id, a.id)
    with pytest.raises(TaskNotFound):
        todo.add_dep(a.id, "t9")
    assert todo.get(a.id).deps == () and todo.undo_available() == last
    # adding an existing dependency again changes nothing
    todo.add_dep(c.id, b.id)
    assert todo.undo_available() == last


def test_done_unblocks_dependents_only_when_all_deps_are_done(todo: TodoService) -> None:
    a, b = todo.create("a"), todo.create("b")
    c = todo.create("c", deps=[a.id, b.id])
    assert c.state is B
    todo.done(a.id)
    assert todo.get(c.id).state is B
    todo.done(b.id)
    assert todo.get(c.id).state is R
    todo.set_state(b.id, "ready")  # reopening a dependency blocks again
    assert todo.get(c.id).state is B and todo.get(b.id).completed_at is None


def test_start_and_done_are_refused_while_deps_are_unfinished(todo: TodoService) -> None:
    a = todo.create("a")
    b = todo.create("b", deps=[a.id])
    with pytest.raises(TaskError, match="cannot start t2: it waits on t1"):
        todo.start(b.id)
    with pytest.raises(TaskError, match="cannot finish t2"):
        todo.done(b.id)
    with pytest.raises(TaskError, match="automatically"):
        todo.set_state(a.id, "blocked")
    started = todo.start(a.id)
    assert started.state is TaskState.IN_PROGRESS and started.started_at is not None
    done = todo.done(a.id)
    assert done.completed_at is not None and done.started_at == started.started_at


def test_in_progress_task_that_gains_an_unfinished_dep_becomes_blocked(todo: TodoService) -> None:
    a, b = todo.create("a"), todo.create("b")
    todo.start(b.id)
    assert todo.add_dep(b.id, a.id).state is B
    todo.done(a.id)
    assert todo.get(b.id).state is R


def test_planned_is_never_auto_promoted_and_stays_out_of_the_queue(todo: TodoService) -> None:
    a = todo.create("a")
    p = todo.create("parked", deps=[a.id], state="planned")
    assert p.state is TaskState.PLANNED
    todo.done(a.id)
    assert todo.get(p.id).state is TaskState.PLANNED
    assert [t.id for t in todo.ready_queue()] == []
    assert todo.set_state(p.id, "ready").state is R
    assert [t.id for t in todo.ready_queue()] == [p.id]


def test_ready_queue_orders_by_priority_then_due_then_age(todo: TodoService) -> None:
    old_low = todo.create("old low", priority="low")
    late = todo.create("high late", priority="high", due_at="2026-03-01")
    undated = todo.create("high undated", priority="high")
    soon = todo.create("high soon", priority="high", due_at="2026-02-01")
    crit = todo.create("critical", priority="critical")
    todo.create("blocked high", priority="critical", deps=[old_low.id])
    older_high = todo.create("high soon too", priority="high", due_at="2026-02-01")
    ids = [t.id for t in todo.ready_queue()]
    assert ids == [crit.id, soon.id, older_high.id, late.id, undated.id, old_low.id]


def test_list_is_topological_with_urgency_breaking_ties(todo: TodoService) -> None:
    a = todo.create("low first", priority="low")
    b = todo.create("critical after a", priority="critical", deps=[a.id])
    c = todo.create("high", priority="high", tags=["ui"])
    d = todo.create("medium, needs c", deps=[c.id], description="wire the pane")
    order = [t.id for t in todo.list()]
    assert order == [c.id, d.id, a.id, b.id]
    for task in todo.list():
        for dep in task.deps:
            assert order.index(dep) < order.index(task.id)
    assert [t.id for t in todo.list(states=["blocked"])] == [d.id, b.id]
    assert [t.id for t in todo.list(tag="ui")] == [c.id]
    assert [t.id for t in todo.list(text="PANE wire")] == [d.id]
    assert [t.id for t in todo.list(text="needs nothing")] == []
    with pytest.raises(TaskError, match="unknown state"):
        todo.list(states=["finished"])


def test_cancel_asks_then_cancels_unlinks_or_keeps(todo: TodoService) -> None:
    a = todo.create("a")
    b = todo.create("b", deps=[a.id])
    c = todo.create("c", deps=[b.id])
    d = todo.create("d", deps=[a.id])
    with pytest.raises(DependentsExist) as err:
        todo.cancel(a.id)
    assert err.value.dependents == [b.id, d.id]
    assert todo.get(a.id).state is R

    todo.cancel(a.id, dependents="cancel")
    assert {i: todo.get(i).state for i in (a.id, b.id, c.id, d.id)} == dict.fromkeys(
        (a.id, b.id, c.id, d.id), TaskState.CANCELLED
    )
    todo.undo()
    todo.cancel(a.id, dependents="unlink")
    assert todo.get(b.id).deps == () and todo.get(b.id).state is R
    assert todo.get(d.id).state is R and todo.get(c.id).state is B
    todo.undo()
    todo.cancel(a.id, dependents="keep")
    assert todo.get(b.id).state is B and todo.get(b.id).deps == (a.id,)
    before = todo.undo_available()
    assert todo.cancel(a.id).state is TaskState.CANCELLED  # again: nothing to do, no entry
    assert todo.undo_available() == before
    with pytest.raises(TaskError, match="unknown choice"):
        todo.cancel(a.id, dependents="shrug")  # type: ignore[arg-type]


def test_cancel_cascade_leaves_finished_dependents_alone(todo: TodoService) -> None:
    a = todo.create("a")
    b = todo.create("b")
    todo.done(b.id)
    todo.add_dep(b.id, a.id)  # a finished task may depend on an open one (history)
    c = todo.create("c", deps=[a.id])
    assert todo.cancel(a.id, dependents="cancel").state is TaskState.CANCELLED
    assert todo.get(b.id).state is TaskState.DONE
    assert todo.get(c.id).state is TaskState.CANCELLED


def test_delete_unlinks_dependents_and_lifts_children(todo: TodoService) -> None:
    root = todo.create("root")
    mid = todo.create("mid", parent=root.id)
    leaf = todo.create("leaf", parent=mid.id, deps=[mid.id])
    gone = todo.delete(mid.id)
    assert gone.id == mid.id
    assert todo.get(leaf.id).deps == () and todo.get(leaf.id).state is R
    assert todo.get(leaf.id).parent == root.id
    with pytest.raises(TaskNotFound):
        todo.get(mid.id)
    assert todo.undo() == "delete t2 'mid'"
    assert todo.get(leaf.id).deps == (mid.id,) and todo.get(leaf.id).parent == mid.id


def test_parents_cannot_loop(todo: TodoService) -> None:
    a, b, c = (todo.create(n) for n in "abc")
    todo.reparent(b.id, a.id)
    todo.reparent(c.id, b.id)
    with pytest.raises(CycleError) as err:
        todo.reparent(a.id, c.id)
    assert err.value.cycle == ["t1", "t3", "t2", "t1"]
    with pytest.raises(CycleError):
        todo.reparent(a.id, a.id)
    assert todo.get(a.id).parent is None
    assert [t.id for t in todo.children(None)] == [a.id]
    assert [t.id for t in todo.children(a.id)] == [b.id]
    assert todo.reparent(c.id, None).parent is None


def test_edit_validates_fields(todo: TodoService) -> None:
    a = todo.create("a")
    edited = todo.edit(
        a.id,
        title="  new   title ",
        priority="critical",
        due_at="2026-02-02T10:00:00Z",
        tags="x, y",
        estimate_hours="1.5",
        notes="n",
        description="d",
    )
    assert edited.title == "new title" and edited.priority is Priority.CRITICAL
    assert edited.due_at == datetime(2026, 2, 2, 10) and edited.tags == ("x", "y")
    assert edited.estimate_hours == 1.5 and edited.updated_at > a.updated_at
    with pytest.raises(TaskError, match="cannot edit state"):
        todo.edit(a.id, state="done")
    with pytest.raises(TaskError, match="title"):
        todo.edit(a.id, title="")
    assert todo.edit(a.id, due_at=None, estimate_hours=None).due_at is None


def test_memory_links_and_artifacts(todo: TodoService) -> None:
    a = todo.create("a")
    todo.link_memory(a.id, "m-1")
    todo.link_memory(a.id, "m-1")
    assert todo.link_memory(a.id, "m-2").memory_links == ("m-1", "m-2")
    assert todo.unlink_memory(a.id, "m-1").memory_links == ("m-2",)
    with pytest.raises(TaskError, match="not linked"):
        todo.unlink_memory(a.id, "m-9")
    assert todo.add_artifact(a.id, "out/report.md").artifacts == ("out/report.md",)
    with pytest.raises(TaskError):
        todo.add_artifact(a.id, "  ")


def test_critical_path_follows_the_heaviest_chain_of_open_work(todo: TodoService) -> None:
    a = todo.create("a", estimate_hours=1)
    b = todo.create("b", estimate_hours=8, deps=[a.id])
    c = todo.create("c", estimate_hours=2, deps=[a.id])
    d = todo.create("d", estimate_hours=1, deps=[b.id, c.id])
    todo.create("side", estimate_hours=5)
    path, hours = todo.critical_path()
    assert [t.id for t in path] == [a.id, b.id, d.id] and hours == 10
    todo.done(a.id)
    path, hours = todo.critical_path()
    assert [t.id for t in path] == [b.id, d.id] and hours == 9


def test_search_ranks_id_then_title_then_tags_then_subsequence(todo: TodoService) -> None:
    todo.create("Deploy the staging server", tags=["ops"])
    todo.create("Write deploy docs")
    todo.create("Build release", description="deploy happens later")
    todo.create("Design logo", tags=["deploy"])
    todo.create("Unrelated")
    assert [t.title for t in todo.search("deploy")] == [
        "Deploy the staging server",
        "Write deploy docs",
        "Design logo",
        "Build release",
    ]
    assert todo.search("t5")[0].title == "Unrelated"
    assert [t.title for t in todo.search("dsgnl")] == ["Design logo"]
    assert todo.search("zzz") == []
    assert len(todo.search("e", limit=2)) == 2


def test_counts_cover_every_state(todo: TodoService) -> None:
    a = todo.create("a")
    todo.create("b", deps=[a.id])
    todo.fail(todo.create("c").id)
    counts = todo.counts()
    assert set(counts) == set(TaskState)
    assert (counts[R], counts[B], counts[TaskState.FAILED], counts[TaskState.DONE]) == (1, 1, 1, 0)


def test_another_service_and_a_reopened_store_see_the_same_tasks(tmp_path: Path, clock) -> None:
    path = tmp_path / "t.duckdb"
    store = Store.open(path)
    one, two = TodoService(store, clock=clock), TodoService(store, clock=clock)
    a = one.create("a")
    two.list()  # warms two's cache
    one.create("b", deps=[a.id])
    one.done(a.id)
    assert two.export_json()["tasks"] == one.export_json()["tasks"]
    assert two.get("t2").state is R
    before = one.export_json()["tasks"]
    store.close()
    store = Store.open(path, read_only=True)
    ro = TodoService(store, clock=clock)
    assert ro.export_json()["tasks"] == before
    with pytest.raises(TaskError, match="read-only"):
        ro.create("c")
    with pytest.raises(TaskError, match="read-only"):
        ro.undo()
    store.close()
