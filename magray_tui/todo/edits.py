"""Turning user input into task values: resolving references and validating fields.

Every check raises a `TaskError` with one line that names the field, so the CLI and the
pane can show it as is and nothing is written.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from magray_tui.todo.model import (
    Priority,
    Task,
    TaskError,
    TaskNotFound,
    TaskState,
    clean_tags,
    parse_due,
    parse_ref,
    task_id,
)

EDITABLE = (
    "title",
    "description",
    "priority",
    "due_at",
    "tags",
    "estimate_hours",
    "notes",
    "parent",
)


def resolve(tasks: Mapping[str, Task], ref: str | int | None) -> str:
    """The id of the task `ref` names ("t12", "T12", "#12", 12)."""
    num = parse_ref(ref) if ref is not None and not isinstance(ref, bool) else None
    if num is None:
        raise TaskNotFound(f"{ref!r} is not a task id (use t12 or 12)")
    tid = task_id(num)
    if tid not in tasks:
        raise TaskNotFound(f"no task {tid}")
    return tid


def clean_title(title: Any) -> str:
    text = " ".join(str(title or "").split())
    if not text:
        raise TaskError("a task needs a title")
    if len(text) > 500:
        raise TaskError("the title is longer than 500 characters; put the rest in the description")
    return text


def clean_estimate(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise TaskError(f"the estimate must be a number of hours, not {value!r}") from None
    if not math.isfinite(hours) or hours < 0:
        raise TaskError(f"the estimate must be zero or more hours, not {value!r}")
    return hours


def clean_text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TaskError(f"{name} must be text")
    return value


def new_task(
    tasks: Mapping[str, Task],
    tid: str,
    num: int,
    now: datetime,
    *,
    title: str,
    description: str,
    priority: Priority | str,
    due_at: datetime | str | None,
    parent: str | int | None,
    deps: Iterable[str | int],
    tags: Iterable[str],
    estimate_hours: float | None,
    notes: str,
    state: TaskState | str | None,
) -> Task:
    chosen = TaskState.parse(state) if state not in (None, "") else TaskState.READY
    if chosen not in (TaskState.READY, TaskState.PLANNED):
        raise TaskError("a new task starts ready (or blocked by its dependencies) or planned")
    dep_ids = sorted({resolve(tasks, d) for d in deps}, key=lambda d: tasks[d].num)
    return Task(
        id=tid,
        num=num,
        title=clean_title(title),
        description=clean_text(description, "description"),
        state=chosen,
        priority=Priority.parse(priority),
        created_at=now,
        updated_at=now,
        due_at=parse_due(due_at),
        parent=resolve(tasks, parent) if parent not in (None, "") else None,
        deps=tuple(dep_ids),
        tags=clean_tags(list(tags) if not isinstance(tags, str) else tags),
        estimate_hours=clean_estimate(estimate_hours),
        notes=clean_text(notes, "notes"),
    )


def apply_fields(tasks: Mapping[str, Task], task: Task, fields: Mapping[str, Any]) -> Task:
    """`task` with the edited fields validated and applied (parent loops are the
    service's check: it needs the whole parent chain)."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise TaskError(
            f"cannot edit {', '.join(unknown)} (editable: {', '.join(EDITABLE)}; "
            "use set_state / add_dep for state and dependencies)"
        )
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            values[name] = clean_title(value)
        elif name in ("description", "notes"):
            values[name] = clean_text(value, name)
        elif name == "priority":
            values[name] = Priority.parse(value)
        elif name == "due_at":
            values[name] = parse_due(value)
        elif name == "tags":
            values[name] = clean_tags(value)
        elif name == "estimate_hours":
            values[name] = clean_estimate(value)
        elif name == "parent":
            pid = resolve(tasks, value) if value not in (None, "") else None
            if pid == task.id:
                raise TaskError(f"{task.id} cannot be its own parent")
            values[name] = pid
    return dataclasses.replace(task, **values)
