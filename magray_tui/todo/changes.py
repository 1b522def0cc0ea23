"""One change to the task DAG: a copy-on-write view of the graph that an operation edits,
then `settle` re-derives states and `diff` says which rows to write and what to keep for
undo (the exact previous value of every row it touches).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from magray_tui.todo.graph import dependents_map, deps_done
from magray_tui.todo.model import (
    AUTO_STATES,
    Priority,
    Task,
    TaskError,
    TaskState,
    parse_time,
)


class Change:
    def __init__(self, base: Mapping[str, Task], now: datetime, description: str = "") -> None:
        self.base = base
        self.now = now
        self.description = description
        self.new: dict[str, Task | None] = {}
        self._dependents: dict[str, list[str]] | None = None
        self.cur: Any = None  # the open transaction's cursor (for sequence numbers)

    # ---- the working view --------------------------------------------------------------
    def get(self, tid: str) -> Task | None:
        return self.new[tid] if tid in self.new else self.base.get(tid)

    def __contains__(self, tid: str) -> bool:
        return self.get(tid) is not None

    def put(self, task: Task, **fields: Any) -> Task:
        task = dataclasses.replace(task, updated_at=self.now, **fields)
        self.new[task.id] = task
        return task

    def remove(self, tid: str) -> None:
        self.new[tid] = None

    def dependents(self, tid: str) -> list[str]:
        """Ids that depend on `tid` in the working view."""
        if self._dependents is None:
            self._dependents = dependents_map(self.base)
        found = {d for d in self._dependents.get(tid, ()) if d not in self.new}
        found.update(t.id for t in self.new.values() if t is not None and tid in t.deps)
        return sorted((d for d in found if d in self), key=lambda d: self.get(d).num)  # type: ignore[union-attr]

    def view(self) -> dict[str, Task]:
        out = dict(self.base)
        for tid, task in self.new.items():
            if task is None:
                out.pop(tid, None)
            else:
                out[tid] = task
        return out

    # ---- closing -----------------------------------------------------------------------
    def settle(self) -> None:
        """Re-derive ready/blocked for every touched task and its direct dependents; an
        in-progress task that gained an unfinished dependency becomes blocked."""
        candidates = {tid for tid, t in self.new.items() if t is not None}
        if len(self.new) > 32:  # bulk (import, plan): one map beats a scan per task
            dmap = dependents_map(self.view())
            for tid in list(self.new):
                candidates.update(dmap.get(tid, ()))
        else:
            for tid in list(self.new):
                candidates.update(self.dependents(tid))
        view = LiveView(self)
        for tid in sorted(candidates):
            task = self.get(tid)
            if task is None:
                continue
            state = derived_state(task, view)
            if state is not task.state:
                self.put(task, state=state)

    def diff(self) -> dict[str, Task | None]:
        """The rows that really change (ids whose new value differs from the base)."""
        return {tid: t for tid, t in self.new.items() if t != self.base.get(tid)}

    def undo_snapshot(self, changed: Mapping[str, Task | None]) -> str:
        before = {tid: task_to_json(self.base.get(tid)) for tid in changed}
        return json.dumps(before, ensure_ascii=False)


class LiveView(Mapping[str, Task]):
    """The working view as a mapping, without copying the whole base."""

    def __init__(self, change: Change) -> None:
        self.change = change

    def __getitem__(self, tid: str) -> Task:
        task = self.change.get(tid)
        if task is None:
            raise KeyError(tid)
        return task

    def __contains__(self, tid: object) -> bool:
        return isinstance(tid, str) and self.change.get(tid) is not None

    def __iter__(self):
        return iter(self.change.view())

    def __len__(self) -> int:
        return len(self.change.view())


def derived_state(task: Task, tasks: Mapping[str, Task]) -> TaskState:
    if task.state in AUTO_STATES:
        return TaskState.READY if deps_done(task, tasks) else TaskState.BLOCKED
    if task.state is TaskState.IN_PROGRESS and not deps_done(task, tasks):
        return TaskState.BLOCKED
    return task.state


def task_to_json(task: Task | None) -> dict[str, Any] | None:
    return None if task is None else task.to_dict()


def task_from_json(data: dict[str, Any] | None) -> Task | None:
    """Inverse of `Task.to_dict` (exact: times keep their microseconds)."""
    if data is None:
        return None

    def when(key: str) -> datetime | None:
        return parse_time(data.get(key))

    try:
        return Task(
            id=data["id"],
            num=int(data["num"]),
            title=data["title"],
            description=data.get("description", ""),
            state=TaskState(data["state"]),
            priority=Priority(data["priority"]),
            created_at=when("created_at"),  # type: ignore[arg-type]
            updated_at=when("updated_at"),  # type: ignore[arg-type]
            started_at=when("started_at"),
            completed_at=when("completed_at"),
            due_at=when("due_at"),
            parent=data.get("parent"),
            deps=tuple(data.get("deps", ())),
            tags=tuple(data.get("tags", ())),
            memory_links=tuple(data.get("memory_links", ())),
            artifacts=tuple(data.get("artifacts", ())),
            estimate_hours=data.get("estimate_hours"),
            notes=data.get("notes", ""),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise TaskError(f"damaged task snapshot: {exc}") from None
