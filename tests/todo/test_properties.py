"""Random operation sequences (hypothesis, stateful) on a real store: the DAG stays
acyclic, states agree with dependencies, the cache agrees with the database, and undo
puts back exactly the export from before each change."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from magray_tui.memory.store import Store
from magray_tui.todo.model import CycleError, TaskError, TaskState
from magray_tui.todo.service import TodoService
from tests.todo.conftest import TickingClock

REFS = st.integers(min_value=1, max_value=7)
USER_STATES = st.sampled_from(
    ["planned", "ready", "in_progress", "done", "failed", "cancelled", "blocked"]
)


class TaskDag(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="magray-todo-prop-"))
        self.store = Store.open(self.dir / "t.duckdb")
        self.todo = TodoService(self.store, clock=TickingClock())
        self.history: list[list[dict]] = []  # export before each recorded change

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def rows(self) -> list[dict]:
        return self.todo.export_json()["tasks"]

    def attempt(self, op) -> None:
        """Run one operation; a refusal must change nothing, a success is undoable."""
        before = self.rows()
        try:
            op()
        except CycleError as exc:
            assert exc.cycle[0] == exc.cycle[-1]
            assert self.rows() == before
            return
        except TaskError:
            assert self.rows() == before
            return
        if self.rows() != before:
            self.history.append(before)

    @initialize(chain=st.integers(min_value=1, max_value=4))
    def seed(self, chain: int) -> None:
        """A few linked tasks to start from, so most operations hit real tasks."""
        prev = None
        for i in range(chain):
            prev = self.todo.create(f"seed {i}", deps=[prev] if prev else []).id
        self.todo.start(1)

    @rule(
        title=st.text(min_size=0, max_size=8),
        deps=st.lists(REFS, max_size=3),
        planned=st.booleans(),
        prio=st.sampled_from(["low", "medium", "high", "critical"]),
    )
    def create(self, title: str, deps: list[int], planned: bool, prio: str) -> None:
        self.attempt(
            lambda: self.todo.create(
                title, deps=deps, priority=prio, state="planned" if planned else None
            )
        )

    @rule(task=REFS, on=REFS)
    def add_dep(self, task: int, on: int) -> None:
        self.attempt(lambda: self.todo.add_dep(task, on))

    @rule(task=REFS, on=REFS)
    def remove_dep(self, task: int, on: int) -> None:
        self.attempt(lambda: self.todo.remove_dep(task, on))

    @rule(task=REFS, state=USER_STATES)
    def set_state(self, task: int, state: str) -> None:
        if state == "cancelled":
            return
        self.attempt(lambda: self.todo.set_state(task, state))

    @rule(task=REFS, policy=st.sampled_from(["ask", "cancel", "unlink", "keep"]))
    def cancel(self, task: int, policy: str) -> None:
        self.attempt(lambda: self.todo.cancel(task, dependents=policy))  # type: ignore[arg-type]

    @rule(task=REFS, parent=st.one_of(st.none(), REFS))
    def reparent(self, task: int, parent: int | None) -> None:
        self.attempt(lambda: self.todo.reparent(task, parent))

    @rule(task=REFS)
    def delete(self, task: int) -> None:
        self.attempt(lambda: self.todo.delete(task))

    @rule(task=REFS, est=st.one_of(st.none(), st.floats(0, 100)))
    def edit(self, task: int, est: float | None) -> None:
        self.attempt(lambda: self.todo.edit(task, estimate_hours=est, tags=["p"]))

    @precondition(lambda self: self.history)
    @rule(times=st.integers(min_value=1, max_value=3))
    def undo(self, times: int) -> None:
        for _ in range(min(times, len(self.history))):
            expected = self.history.pop()
            assert self.todo.undo() is not None
            assert self.rows() == expected

    @invariant()
    def dag_is_acyclic_and_consistent(self) -> None:
        tasks = {t.id: t for t in self.todo.list()}
        order = [t.id for t in self.todo.topo_order()]
        pos = {tid: i for i, tid in enumerate(order)}
        assert len(order) == len(tasks)
        for task in tasks.values():
            assert task.id not in task.deps
            for on in task.deps:
                assert on in tasks, "dangling dependency"
                assert pos[on] < pos[task.id], "order breaks a dependency (cycle?)"
            all_done = all(tasks[d].state is TaskState.DONE for d in task.deps)
            if task.state in (TaskState.READY, TaskState.IN_PROGRESS):
                assert all_done, f"{task.id} is {task.state} with unfinished deps"
            if task.state is TaskState.BLOCKED:
                assert not all_done, f"{task.id} is blocked with every dep done"
            seen, cur = set(), task.parent
            while cur is not None:
                assert cur in tasks and cur not in seen, "parent loop or dangling parent"
                seen.add(cur)
                cur = tasks[cur].parent

    @invariant()
    def cache_agrees_with_the_database(self) -> None:
        fresh = TodoService(self.store, clock=TickingClock())
        assert fresh.export_json()["tasks"] == self.rows()


TaskDag.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestTaskDag = TaskDag.TestCase
