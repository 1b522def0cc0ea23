"""TodoService: the one way in to the task DAG for the CLI, the Tasks pane and the agent.

Every change is one transaction that also records an undo entry holding the exact
previous rows (and dependency lists) of every task it touched. States `ready` and
`blocked` are derived from dependencies after every change; see docs/tasks.md.
Reads come from an in-memory copy of the graph, reloaded when `tasks_rev` moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from magray_tui.memory.records import MemoryError_
from magray_tui.todo import graph, transfer
from magray_tui.todo.changes import Change, LiveView, task_from_json
from magray_tui.todo.edits import apply_fields, new_task, resolve
from magray_tui.todo.model import (
    CLOSED_STATES,
    CycleError,
    DependentsExist,
    Priority,
    Task,
    TaskError,
    TaskState,
    task_id,
)
from magray_tui.todo.queries import TaskQueries

if TYPE_CHECKING:
    from magray_tui.todo.planner import Plan

DependentsPolicy = Literal["ask", "cancel", "unlink", "keep"]


class TodoService(TaskQueries):
    """Tasks and dependencies in the memory database (`store`), with undo. The reading
    methods (get, list, ready_queue, search, ...) come from `TaskQueries`."""

    # ---- the change machinery ----------------------------------------------------------
    @contextmanager
    def _change(self, description: str = "") -> Iterator[Change]:
        """Hold the write lock and one transaction; hand out a working view, then settle
        states and write the rows that changed plus their undo entry."""
        try:
            self.store.require_writable()
        except MemoryError_ as exc:
            raise TaskError(str(exc)) from None
        with self.store.write_lock:
            rev, base = self._snapshot()
            with self._db.transaction() as cur:
                change = Change(base, self.clock(), description)
                change.cur = cur
                yield change
                change.settle()
                changed = change.diff()
                if not changed:
                    return
                self._db.write(cur, changed, existing=[i for i in changed if i in base])
                snapshot = change.undo_snapshot(changed)
                self._db.push_undo(cur, change.now, change.description, snapshot)
                rev = self._db.bump_rev(cur, rev)
            with self._cache_lock:
                self._cache = (rev, change.view(), None)

    def _ref(self, change: Change, ref: str | int) -> Task:
        return change.get(resolve(LiveView(change), ref))  # type: ignore[return-value]

    # ---- changing --------------------------------------------------------------------
    def create(
        self,
        title: str,
        *,
        description: str = "",
        priority: Priority | str = Priority.MEDIUM,
        due_at: datetime | str | None = None,
        parent: str | int | None = None,
        deps: Iterable[str | int] = (),
        tags: Iterable[str] = (),
        estimate_hours: float | None = None,
        notes: str = "",
        state: TaskState | str | None = None,
    ) -> Task:
        """A new task; its state is ready or blocked from its deps, or `planned`."""
        with self._change() as change:
            num = self._db.next_nums(change.cur, 1)[0]
            task = new_task(
                change.base,
                task_id(num),
                num,
                change.now,
                title=title,
                description=description,
                priority=priority,
                due_at=due_at,
                parent=parent,
                deps=deps,
                tags=tags,
                estimate_hours=estimate_hours,
                notes=notes,
                state=state,
            )
            change.new[task.id] = task
            change.description = f"add {task.id} {task.title!r}"
        return change.get(task.id)  # type: ignore[return-value]

    def edit(self, ref: str | int, **fields: Any) -> Task:
        """Change title, description, priority, due_at, tags, estimate_hours, notes or
        parent (validated; unknown fields refused)."""
        with self._change() as change:
            task = self._ref(change, ref)
            if "parent" in fields:
                self._check_parent(change, task.id, fields["parent"])
            updated = apply_fields(change.base, task, fields)
            if updated != task:
                change.put(updated)
            change.description = f"edit {task.id} ({', '.join(sorted(fields)) or 'nothing'})"
        return change.get(task.id)  # type: ignore[return-value]

    def set_state(self, ref: str | int, state: TaskState | str) -> Task:
        """Move a task. `ready` reopens it (it becomes blocked while deps are not done);
        `blocked` is never chosen; in_progress and done need all deps done; `cancelled`
        is `cancel(ref, dependents="ask")`."""
        state = TaskState.parse(state)
        if state is TaskState.CANCELLED:
            return self.cancel(ref)
        if state is TaskState.BLOCKED:
            raise TaskError("blocked is set automatically while a dependency is not done")
        with self._change() as change:
            task = self._ref(change, ref)
            if task.state is state:
                return task
            view = change.view()
            if state in (TaskState.IN_PROGRESS, TaskState.DONE):
                waiting = graph.unfinished_deps(task, view)
                if waiting:
                    verb = "start" if state is TaskState.IN_PROGRESS else "finish"
                    raise TaskError(
                        f"cannot {verb} {task.id}: it waits on {', '.join(waiting)} (not done)"
                    )
            fields: dict[str, Any] = {"state": state}
            if state is TaskState.IN_PROGRESS and task.started_at is None:
                fields["started_at"] = change.now
            if state in CLOSED_STATES:
                fields["completed_at"] = change.now
            elif task.completed_at is not None:
                fields["completed_at"] = None
            change.put(task, **fields)
            change.description = f"{state.value.replace('_', ' ')} {task.id}"
        return change.get(task.id)  # type: ignore[return-value]

    def start(self, ref: str | int) -> Task:
        return self.set_state(ref, TaskState.IN_PROGRESS)

    def done(self, ref: str | int) -> Task:
        return self.set_state(ref, TaskState.DONE)

    def fail(self, ref: str | int) -> Task:
        return self.set_state(ref, TaskState.FAILED)

    def cancel(self, ref: str | int, dependents: DependentsPolicy = "ask") -> Task:
        """Cancel; with open dependents, "ask" raises DependentsExist, "cancel" cancels
        them (transitively), "unlink" drops their dependency on it, "keep" leaves them
        blocked."""
        if dependents not in ("ask", "cancel", "unlink", "keep"):
            raise TaskError(f"unknown choice for dependents: {dependents!r}")
        with self._change() as change:
            task = self._ref(change, ref)
            if task.state is TaskState.CANCELLED:
                return task
            waiting = [d for d in change.dependents(task.id) if change.get(d).state.open]  # type: ignore[union-attr]
            if waiting and dependents == "ask":
                them = "it" if len(waiting) == 1 else "them"
                raise DependentsExist(
                    f"{', '.join(waiting)} depend{'s' if len(waiting) == 1 else ''} on "
                    f"{task.id}: cancel {them} too, unlink {them}, or keep {them} blocked",
                    waiting,
                )
            victims = [task.id]
            if dependents == "cancel":
                victims += sorted(graph.descendants(change.view(), task.id))
            for vid in victims:
                victim = change.get(vid)
                if victim is not None and (vid == task.id or victim.state.open):
                    change.put(victim, state=TaskState.CANCELLED, completed_at=change.now)
            if dependents == "unlink":
                for did in waiting:
                    dep = change.get(did)
                    change.put(dep, deps=tuple(d for d in dep.deps if d != task.id))  # type: ignore[arg-type, union-attr]
            extra = f" ({dependents} {len(waiting)} dependents)" if waiting else ""
            change.description = f"cancel {task.id}{extra}"
        return change.get(task.id)  # type: ignore[return-value]

    def add_dep(self, task: str | int, on: str | int) -> Task:
        """`task` depends on `on`. Refuses itself, unknown tasks and cycles (CycleError)."""
        with self._change() as change:
            me, other = self._ref(change, task), self._ref(change, on)
            if me.id == other.id:
                raise TaskError(f"{me.id} cannot depend on itself")
            if other.id in me.deps:
                return me
            path = graph.dep_path(change.view(), other.id, me.id)
            if path:
                cycle = [me.id, *path]
                raise CycleError(
                    f"{me.id} cannot depend on {other.id}: that closes the cycle "
                    f"{CycleError.show(cycle)}",
                    cycle,
                )
            deps = sorted({*me.deps, other.id}, key=lambda d: change.get(d).num)  # type: ignore[union-attr]
            change.put(me, deps=tuple(deps))
            change.description = f"{me.id} depends on {other.id}"
        return change.get(me.id)  # type: ignore[return-value]

    def remove_dep(self, task: str | int, on: str | int) -> Task:
        with self._change() as change:
            me, other = self._ref(change, task), self._ref(change, on)
            if other.id not in me.deps:
                raise TaskError(f"{me.id} does not depend on {other.id}")
            change.put(me, deps=tuple(d for d in me.deps if d != other.id))
            change.description = f"{me.id} no longer depends on {other.id}"
        return change.get(me.id)  # type: ignore[return-value]

    def _check_parent(self, change: Change, tid: str, parent: str | int | None) -> None:
        if parent is None or parent == "":
            return
        pid = self._ref(change, parent).id
        chain = graph.parent_chain(change.view(), pid)
        if tid in chain:
            cycle = [tid, *chain[: chain.index(tid) + 1]]
            raise CycleError(
                f"{tid} cannot be inside {pid}: parents would loop {CycleError.show(cycle)}",
                cycle,
            )

    def reparent(self, ref: str | int, parent: str | int | None) -> Task:
        return self.edit(ref, parent=parent)

    def link_memory(self, ref: str | int, memory_id: str) -> Task:
        memory_id = str(memory_id).strip()
        if not memory_id:
            raise TaskError("a memory id is needed")
        with self._change() as change:
            task = self._ref(change, ref)
            if memory_id not in task.memory_links:
                change.put(task, memory_links=(*task.memory_links, memory_id))
            change.description = f"link memory {memory_id} to {task.id}"
        return change.get(task.id)  # type: ignore[return-value]

    def unlink_memory(self, ref: str | int, memory_id: str) -> Task:
        with self._change() as change:
            task = self._ref(change, ref)
            if memory_id not in task.memory_links:
                raise TaskError(f"{task.id} is not linked to memory {memory_id}")
            change.put(task, memory_links=tuple(m for m in task.memory_links if m != memory_id))
            change.description = f"unlink memory {memory_id} from {task.id}"
        return change.get(task.id)  # type: ignore[return-value]

    def add_artifact(self, ref: str | int, text_or_path: str) -> Task:
        """Record something the task produced: a file path (kept as given) or a text."""
        text = str(text_or_path).strip()
        if not text:
            raise TaskError("an artifact needs a path or a text")
        with self._change() as change:
            task = self._ref(change, ref)
            change.put(task, artifacts=(*task.artifacts, text))
            change.description = f"add artifact to {task.id}"
        return change.get(task.id)  # type: ignore[return-value]

    def delete(self, ref: str | int) -> Task:
        """Remove a task (returns it as it was); dependents lose the dependency, children
        move up to its parent. Undoable."""
        with self._change() as change:
            task = self._ref(change, ref)
            for did in change.dependents(task.id):
                dep = change.get(did)
                change.put(dep, deps=tuple(d for d in dep.deps if d != task.id))  # type: ignore[arg-type, union-attr]
            for child in [t for t in change.view().values() if t.parent == task.id]:
                change.put(child, parent=task.parent)
            change.remove(task.id)
            change.description = f"delete {task.id} {task.title!r}"
        return task

    def undo(self) -> str | None:
        """Put back the rows of the last change exactly; returns its description, or None
        when there is nothing to undo."""
        try:
            self.store.require_writable()
        except MemoryError_ as exc:
            raise TaskError(str(exc)) from None
        with self.store.write_lock:
            last = self._db.last_undo()
            if last is None:
                return None
            uid, description, snapshot = last
            try:
                before = {tid: task_from_json(d) for tid, d in json.loads(snapshot).items()}
            except json.JSONDecodeError:
                raise TaskError("the last undo entry is damaged; nothing was changed") from None
            with self._db.transaction() as cur:
                self._db.write(cur, before)
                self._db.drop_undo(cur, uid)
                self._db.bump_rev(cur)
            self._cache = None
        return description

    def import_json(self, data: dict[str, Any]) -> list[Task]:
        """Add the tasks of an export (new ids; deps and parents remapped), all or nothing."""
        items = transfer.read_export(data)
        with self._change() as change:
            nums = self._db.next_nums(change.cur, len(items))
            remap = {item.id: task_id(n) for item, n in zip(items, nums, strict=True)}
            for item, num in zip(items, nums, strict=True):
                task = transfer.to_task(item, remap[item.id], num, change.now, remap)
                change.new[task.id] = task
            change.description = f"import {len(items)} tasks"
        return [change.get(remap[i.id]) for i in items]  # type: ignore[misc]

    def apply_plan(self, plan: Plan, *, parent: str | int | None = None) -> list[Task]:
        """Create a plan's tasks and deps in one change (all or nothing), optionally all
        under `parent`."""
        items = plan.tasks
        with self._change() as change:
            pid = self._ref(change, parent).id if parent not in (None, "") else None
            nums = self._db.next_nums(change.cur, len(items))
            remap = {item.key: task_id(n) for item, n in zip(items, nums, strict=True)}
            for item, num in zip(items, nums, strict=True):
                task = Task(
                    id=remap[item.key],
                    num=num,
                    title=item.title,
                    description=item.description,
                    state=TaskState.READY,
                    priority=item.priority,
                    created_at=change.now,
                    updated_at=change.now,
                    parent=pid,
                    deps=tuple(remap[d] for d in item.deps),
                    tags=tuple(item.tags),
                    estimate_hours=item.estimate_hours,
                )
                change.new[task.id] = task
            change.description = f"plan {plan.goal!r} ({len(items)} tasks)"
        return [change.get(remap[i.key]) for i in items]  # type: ignore[misc]
