"""JSON export and a validated import of tasks (the whole file or nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from magray_tui.todo.graph import dep_path
from magray_tui.todo.model import (
    CycleError,
    Priority,
    Task,
    TaskError,
    TaskState,
    clean_tags,
    parse_time,
)

FORMAT = "magray-tasks"
VERSION = 1


def export_dict(tasks: Iterable[Task], now: datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat() + "Z",
        "tasks": [t.to_dict() for t in sorted(tasks, key=lambda t: t.num)],
    }


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    title: str
    description: str = ""
    state: TaskState = TaskState.READY
    priority: Priority = Priority.MEDIUM
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    due_at: datetime | None = None
    parent: str | None = None
    deps: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    memory_links: list[str] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    estimate_hours: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    notes: str = ""

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a task needs a title")
        return value


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: str = FORMAT
    version: int = VERSION
    tasks: list[TaskIn]


def validation_message(exc: ValidationError, what: str) -> str:
    """Pydantic's report as one line: the first problem and its place, plus a count."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or what
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"invalid {what}: {where}: {first['msg']}{more}"


def read_export(data: Any) -> list[TaskIn]:
    """Validate an export: known format and version, unique ids, deps and parents inside
    the file, no dependency or parent cycles. Raises TaskError with one line."""
    if not isinstance(data, dict):
        raise TaskError("invalid task file: expected a JSON object with a 'tasks' list")
    try:
        parsed = ExportIn.model_validate(data)
    except ValidationError as exc:
        raise TaskError(validation_message(exc, "task file")) from None
    if parsed.format != FORMAT:
        raise TaskError(f"invalid task file: format is {parsed.format!r}, expected {FORMAT!r}")
    if parsed.version > VERSION:
        raise TaskError(
            f"task file version {parsed.version} is newer than this magray reads ({VERSION})"
        )
    ids: set[str] = set()
    for item in parsed.tasks:
        if item.id in ids:
            raise TaskError(f"invalid task file: id {item.id} appears twice")
        ids.add(item.id)
    for item in parsed.tasks:
        for ref in [*item.deps, *([item.parent] if item.parent else [])]:
            if ref not in ids:
                raise TaskError(f"invalid task file: {item.id} refers to {ref}, not in the file")
        if item.id in item.deps or item.parent == item.id:
            raise TaskError(f"invalid task file: {item.id} refers to itself")
    check_acyclic({i.id: (tuple(i.deps), i.parent) for i in parsed.tasks}, "task file")
    return parsed.tasks


def check_acyclic(links: dict[str, tuple[tuple[str, ...], str | None]], what: str) -> None:
    """Refuse dependency or parent loops among new tasks: `links` is id -> (deps, parent).
    One topological pass (linear); only when it leaves tasks over is a cycle searched for,
    to name it."""
    stubs = {
        tid: Task(id=tid, num=n, title=tid, deps=deps, parent=parent)
        for n, (tid, (deps, parent)) in enumerate(links.items())
    }
    placed = _acyclic_part(stubs)
    for tid, stub in stubs.items():
        if tid in placed:
            continue
        for on in stub.deps:
            path = dep_path(stubs, on, tid)
            if path:
                cycle = [tid, *path]
                raise CycleError(
                    f"invalid {what}: dependency cycle {CycleError.show(cycle)}", cycle
                )
    parent_of = {tid: stub.parent for tid, stub in stubs.items()}
    state: dict[str, int] = {}  # 1: on the current walk, 2: known to reach the top
    for start in stubs:
        walk: list[str] = []
        cur: str | None = start
        while cur is not None and state.get(cur) != 2:
            if state.get(cur) == 1:
                raise TaskError(f"invalid {what}: {cur} is inside its own parent chain")
            state[cur] = 1
            walk.append(cur)
            cur = parent_of.get(cur)
        for tid in walk:
            state[tid] = 2


def _acyclic_part(stubs: dict[str, Task]) -> set[str]:
    """Ids Kahn's algorithm can place (everything not on or behind a cycle)."""
    indegree = {tid: len(t.deps) for tid, t in stubs.items()}
    dependents: dict[str, list[str]] = {tid: [] for tid in stubs}
    for t in stubs.values():
        for on in t.deps:
            dependents[on].append(t.id)
    ready = [tid for tid, n in indegree.items() if n == 0]
    placed: set[str] = set()
    while ready:
        tid = ready.pop()
        placed.add(tid)
        for dep in dependents[tid]:
            indegree[dep] -= 1
            if indegree[dep] == 0:
                ready.append(dep)
    return placed


def to_task(item: TaskIn, tid: str, num: int, now: datetime, remap: dict[str, str]) -> Task:
    return Task(
        id=tid,
        num=num,
        title=item.title,
        description=item.description,
        state=item.state,
        priority=item.priority,
        created_at=parse_time(item.created_at) or now,
        updated_at=now,
        started_at=parse_time(item.started_at),
        completed_at=parse_time(item.completed_at),
        due_at=parse_time(item.due_at),
        parent=remap[item.parent] if item.parent else None,
        deps=tuple(sorted({remap[d] for d in item.deps}, key=lambda r: int(r[1:]))),
        tags=clean_tags(item.tags),
        memory_links=tuple(dict.fromkeys(item.memory_links)),
        artifacts=tuple(item.artifacts),
        estimate_hours=item.estimate_hours,
        notes=item.notes,
    )
