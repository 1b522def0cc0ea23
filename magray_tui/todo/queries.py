"""The reading half of the task service: queries over a cached copy of the graph.

Reads never touch more than one small query while nothing changed: the whole graph is
kept in memory and reloaded only when the `tasks_rev` meta value moves (any change, from
any service object on this database). Topological order is cached with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from magray_tui.memory.records import utcnow
from magray_tui.todo import graph, render, transfer
from magray_tui.todo.edits import resolve
from magray_tui.todo.model import Task, TaskState
from magray_tui.todo.store import TaskStore

if TYPE_CHECKING:
    from magray_tui.memory.store import Store


class TaskQueries:
    """Read-only operations of `TodoService` (which adds the changes)."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._db = TaskStore(store)
        self._cache: tuple[int, dict[str, Task], list[Task] | None] | None = None
        self._cache_lock = threading.Lock()

    def revision(self) -> int:
        """A number that moves on every change to the tasks, from any service or process."""
        return self._db.rev()

    def _tasks(self) -> dict[str, Task]:
        """Every task by id; treat as read-only (shared with other callers)."""
        return self._snapshot()[1]

    def _snapshot(self) -> tuple[int, dict[str, Task]]:
        rev = self._db.rev()
        cached = self._cache
        if cached is not None and cached[0] == rev:
            return rev, cached[1]
        rev, tasks = self._db.load()
        with self._cache_lock:
            self._cache = (rev, tasks, None)
        return rev, tasks

    def _order(self) -> list[Task]:
        tasks = self._tasks()
        cached = self._cache
        if cached is not None and cached[1] is tasks and cached[2] is not None:
            return cached[2]
        order = graph.topo_order(tasks)
        with self._cache_lock:
            if self._cache is not None and self._cache[1] is tasks:
                self._cache = (self._cache[0], tasks, order)
        return order

    def get(self, ref: str | int) -> Task:
        """A task by id ("t12") or number (12, "#12"); TaskNotFound names the ref if unknown."""
        tasks = self._tasks()
        return tasks[resolve(tasks, ref)]

    def list(
        self,
        *,
        states: Iterable[TaskState | str] | None = None,
        tag: str | None = None,
        text: str | None = None,
    ) -> list[Task]:
        """Tasks in topological order (a task after everything it depends on; ties by
        priority, due date, age), filtered by state, tag and a case-insensitive text
        match (every word) on id, title, description, tags and notes."""
        order = self._order()
        wanted = {TaskState.parse(s) for s in states} if states else None
        words = text.lower().split() if text else []
        tag = tag.strip() if tag else None
        return [
            t
            for t in order
            if (wanted is None or t.state in wanted)
            and (not tag or tag in t.tags)
            and (not words or graph.matches_text(t, words))
        ]

    def topo_order(self) -> list[Task]:
        return list(self._order())

    def ready_queue(self) -> list[Task]:
        """Ready tasks (all deps done, not parked as planned): priority, due, age."""
        ready = [t for t in self._tasks().values() if t.state is TaskState.READY]
        return sorted(ready, key=graph.urgency)

    def critical_path(self) -> tuple[list[Task], float]:
        """The chain of open tasks with the largest total estimate (hours; a task without
        an estimate counts 0), first prerequisite first."""
        order = self._order()
        return graph.critical_path({t.id: t for t in order}, order)

    def search(self, text: str, limit: int = 20) -> list[Task]:
        """Fuzzy pick: id, then title (exact, prefix, word, substring, subsequence), tags
        and description, best first (the pane's "pick a dependency" dialog)."""
        return graph.fuzzy_search(self._tasks().values(), text, limit)

    def dependents(self, ref: str | int) -> list[Task]:
        """Tasks that depend directly on `ref`."""
        tasks = self._tasks()
        tid = resolve(tasks, ref)
        return sorted((t for t in tasks.values() if tid in t.deps), key=lambda t: t.num)

    def ancestors(self, ref: str | int) -> set[str]:
        """Ids `ref` depends on, transitively (the graph view highlights them)."""
        tasks = self._tasks()
        return graph.ancestors(tasks, resolve(tasks, ref))

    def descendants(self, ref: str | int) -> set[str]:
        """Ids depending on `ref`, transitively."""
        tasks = self._tasks()
        return graph.descendants(tasks, resolve(tasks, ref))

    def children(self, ref: str | int | None) -> list[Task]:
        """Tasks whose parent is `ref` (None: the top-level tasks), in topological order."""
        tasks = self._tasks()
        pid = None if ref is None else resolve(tasks, ref)
        return [t for t in self._order() if t.parent == pid]

    def counts(self) -> dict[TaskState, int]:
        out = dict.fromkeys(TaskState, 0)
        for task in self._tasks().values():
            out[task.state] += 1
        return out

    def to_mermaid(self, tasks: Iterable[Task] | None = None) -> str:
        return render.to_mermaid(self._order() if tasks is None else list(tasks))

    def to_text(self, tasks: Iterable[Task] | None = None) -> str:
        """Indented topological list (the CLI's `graph --format text`)."""
        return render.to_text(self._order() if tasks is None else list(tasks), self._tasks())

    def export_json(self) -> dict[str, Any]:
        return transfer.export_dict(self._tasks().values(), self.clock())

    def undo_available(self) -> str | None:
        """Description of the change `undo` would reverse, or None."""
        last = self._db.last_undo()
        return last[1] if last else None
