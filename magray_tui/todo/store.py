"""All SQL about tasks: rows in `tasks`, edges in `task_deps`, the undo log in `task_undo`.

The service works on whole `Task` values: a change is "these ids now hold these tasks (or
nothing)", written as delete-then-insert of the rows and their outgoing edges. The
`tasks_rev` meta key moves on every change so readers can keep a cached graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.db.columns import object_array
from magray_tui.todo.model import Priority, Task, TaskState

if TYPE_CHECKING:
    import duckdb

    from magray_tui.db import Database

TASK_COLUMNS = (
    "id, num, title, description, state, priority, created_at, updated_at, started_at, "
    "completed_at, due_at, parent, tags, memory_links, artifacts, estimate_hours, notes"
)
UNDO_KEEP = 200  # changes kept for undo (a few more between prunes)
SMALL = 16  # up to this many rows: plain INSERTs; more: one scan of NumPy columns


class TaskStore:
    """Reads and writes task rows through the shared database's per-thread cursor."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def _cur(self) -> duckdb.DuckDBPyConnection:
        return self.store.cursor()

    # ---- reading ---------------------------------------------------------------------
    def load(self) -> tuple[int, dict[str, Task]]:
        """(rev, every task by id), read in one transaction so the two agree."""
        with self.store.transaction(write=False) as cur:
            rev = self._rev(cur)
            rows = cur.execute(f"SELECT {TASK_COLUMNS} FROM tasks").fetchall()
            edges = cur.execute(
                "SELECT d.task, list(d.depends_on ORDER BY t.num) FROM task_deps d "
                "JOIN tasks t ON t.id = d.depends_on GROUP BY d.task"
            ).fetchall()
        deps = {task: tuple(ons) for task, ons in edges}
        return rev, {row[0]: row_to_task(row, deps.get(row[0], ())) for row in rows}

    def rev(self) -> int:
        return self._rev(self._cur())

    @staticmethod
    def _rev(cur: duckdb.DuckDBPyConnection) -> int:
        row = cur.execute("SELECT value FROM meta WHERE key = 'tasks_rev'").fetchone()
        return int(row[0]) if row else 0

    def last_undo(self) -> tuple[int, str, str] | None:
        row = (
            self._cur()
            .execute("SELECT id, description, snapshot FROM task_undo ORDER BY id DESC LIMIT 1")
            .fetchone()
        )
        return (int(row[0]), row[1], row[2]) if row else None

    # ---- writing (call inside `transaction`) -------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction of the shared database (`Database.transaction`)."""
        with self.store.transaction() as cur:
            yield cur

    def next_nums(self, cur: duckdb.DuckDBPyConnection, n: int) -> list[int]:
        if n <= 0:
            return []
        rows = cur.execute("SELECT nextval('task_seq') FROM range(?)", [n]).fetchall()
        return sorted(int(r[0]) for r in rows)

    def write(
        self,
        cur: duckdb.DuckDBPyConnection,
        changes: Mapping[str, Task | None],
        existing: Iterable[str] | None = None,
    ) -> None:
        """Replace the rows (and outgoing edges) of `changes`' ids with its values.
        `existing`: the ids that have rows now (None: assume all), so a pure insert
        skips the deletes."""
        ids = list(changes) if existing is None else [i for i in existing if i in changes]
        if ids:
            cur.execute("DELETE FROM task_deps WHERE task IN (SELECT unnest(?::VARCHAR[]))", [ids])
            cur.execute("DELETE FROM tasks WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        tasks = [t for t in changes.values() if t is not None]
        if tasks:
            _insert_tasks(cur, tasks)
        edges = [(t.id, on) for t in tasks for on in t.deps]
        if len(edges) <= SMALL:
            for edge in edges:
                cur.execute("INSERT INTO task_deps VALUES (?, ?)", list(edge))
        else:
            cur.register(
                "_task_edges",
                {"task": _obj(e[0] for e in edges), "depends_on": _obj(e[1] for e in edges)},
            )
            try:
                cur.execute("INSERT INTO task_deps SELECT task, depends_on FROM _task_edges")
            finally:
                cur.unregister("_task_edges")

    def bump_rev(self, cur: duckdb.DuckDBPyConnection, rev: int | None = None) -> int:
        """Move `tasks_rev` on (to `rev` + 1 when the caller knows the current value)."""
        rev = (self._rev(cur) if rev is None else rev) + 1
        # UPDATE is several times cheaper than INSERT OR REPLACE (a delete plus an insert).
        done = cur.execute("UPDATE meta SET value = ? WHERE key = 'tasks_rev'", [str(rev)])
        if not done.fetchone()[0]:
            cur.execute("INSERT INTO meta VALUES ('tasks_rev', ?)", [str(rev)])
        return rev

    def push_undo(
        self, cur: duckdb.DuckDBPyConnection, ts: datetime, description: str, snapshot: str
    ) -> None:
        uid = cur.execute("SELECT nextval('task_undo_seq')").fetchone()[0]
        cur.execute("INSERT INTO task_undo VALUES (?, ?, ?, ?)", [uid, ts, description, snapshot])
        if uid % 20 == 0:  # prune now and then: each statement costs a few ms
            cur.execute("DELETE FROM task_undo WHERE id <= ?", [int(uid) - UNDO_KEEP])

    def drop_undo(self, cur: duckdb.DuckDBPyConnection, uid: int) -> None:
        cur.execute("DELETE FROM task_undo WHERE id = ?", [uid])


_STATES = {s.value: s for s in TaskState}
_PRIORITIES = {p.value: p for p in Priority}


def row_to_task(row: Sequence[Any], deps: tuple[str, ...]) -> Task:
    (
        id_,
        num,
        title,
        description,
        state,
        priority,
        created,
        updated,
        started,
        completed,
        due,
        parent,
        tags,
        links,
        artifacts,
        estimate,
        notes,
    ) = row
    return Task(
        id=id_,
        num=int(num),
        title=title,
        description=description,
        state=_STATES[state],
        priority=_PRIORITIES[priority],
        created_at=created,
        updated_at=updated,
        started_at=started,
        completed_at=completed,
        due_at=due,
        parent=parent,
        deps=deps,
        tags=tuple(tags or ()),
        memory_links=tuple(links or ()),
        artifacts=tuple(json.loads(artifacts)) if artifacts and artifacts != "[]" else (),
        estimate_hours=None if estimate is None else float(estimate),
        notes=notes,
    )


_obj = object_array


def _row(t: Task) -> list[Any]:
    return [
        t.id,
        t.num,
        t.title,
        t.description,
        t.state.value,
        t.priority.value,
        t.created_at,
        t.updated_at,
        t.started_at,
        t.completed_at,
        t.due_at,
        t.parent,
        list(t.tags),
        list(t.memory_links),
        json.dumps(list(t.artifacts), ensure_ascii=False),
        t.estimate_hours,
        t.notes,
    ]


def _insert_tasks(cur: duckdb.DuckDBPyConnection, tasks: Sequence[Task]) -> None:
    if len(tasks) <= SMALL:
        sql = f"INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({', '.join('?' * 17)})"
        for task in tasks:
            cur.execute(sql, _row(task))
        return
    # Bulk: DuckDB's scan of NumPy columns, one statement for any count.
    rows = [_row(t) for t in tasks]
    cols = {
        name.strip(): _obj(r[i] for r in rows) for i, name in enumerate(TASK_COLUMNS.split(","))
    }
    cols["num"] = np.asarray(cols["num"], dtype=np.int64)
    for name in ("tags", "memory_links"):
        cols[name] = _obj(json.dumps(v, ensure_ascii=False) for v in cols[name])
    cur.register("_task_rows", cols)
    try:
        cur.execute(
            "INSERT INTO tasks SELECT id, num, title, description, state, priority, "
            "created_at::TIMESTAMP, updated_at::TIMESTAMP, started_at::TIMESTAMP, "
            "completed_at::TIMESTAMP, due_at::TIMESTAMP, parent, "
            "from_json(tags, '[\"VARCHAR\"]'), from_json(memory_links, '[\"VARCHAR\"]'), "
            "artifacts, estimate_hours::DOUBLE, notes FROM _task_rows"
        )
    finally:
        cur.unregister("_task_rows")
