"""Snapshots of the Tasks pane: the list with its detail (120×36) and the graph view at
80×24 (readable at 80 columns). Frozen clock, fixed tasks, magray-dark. Update with
`pytest tests/tui/test_tasks_snapshots.py --snapshot-update` after looking at the SVGs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from magray_tui.tui.backend import Backend, open_backend

from .conftest import FIXED_NOW
from .pilot_helpers import wait_until

TASKS = [  # title, deps (by position), state, priority, due in days, tags
    ("Design the task schema", [], "done", "high", None, ["core"]),
    ("Write the migration", [0], "done", "critical", -1, ["core"]),
    ("Build the Tasks pane", [1], None, "high", -1, ["tui"]),
    ("Add the CLI commands", [1], "in_progress", "medium", None, ["cli"]),
    ("Write the docs", [2, 3], None, "low", 10, ["docs"]),
    ("Plan the [release] party", [], "planned", "low", None, []),
]


def seed_tasks(settings) -> list[str]:
    from magray_tui.services import Services
    from magray_tui.todo.service import TodoService

    services = Services(settings)
    try:
        todo = TodoService(services.store, clock=lambda: FIXED_NOW)
        ids: list[str] = []
        for title, deps, state, priority, due, tags in TASKS:
            task = todo.create(
                title,
                priority=priority,
                deps=[ids[d] for d in deps],
                due_at=FIXED_NOW + timedelta(days=due) if due is not None else None,
                tags=tags,
                description="Columns left to right, boxes with state glyphs." if not deps else "",
            )
            ids.append(task.id)
            if state is not None:
                todo.set_state(task.id, state)
        todo.link_memory(ids[0], "m-duckdb")
        return ids
    finally:
        services.close()


@pytest.fixture
def tasks_app(make_app, seeded_settings, monkeypatch):
    monkeypatch.setattr(Backend, "model_label", lambda self: self.memory.embedder.model_id)
    seed_tasks(seeded_settings)

    def open_frozen(settings):
        backend = open_backend(settings)
        backend.memory.clock = lambda: FIXED_NOW
        return backend

    return make_app(seeded_settings, backend_opener=open_frozen)


async def tasks_shown(pilot) -> None:
    from magray_tui.tui.widgets.task_table import TaskTable

    app = pilot.app
    await pilot.press("3")
    await wait_until(
        pilot, lambda: app.query(TaskTable) and len(app.query_one(TaskTable).order) == 6
    )
    await wait_until(pilot, lambda: app.query_one(TaskTable).has_focus)
    await pilot.press("j", "j")  # the pane on "Build the Tasks pane"
    await wait_until(pilot, lambda: "t3" in str(app.query_one("#task-title").content))
    await wait_until(pilot, lambda: not app.jobs.snapshot())
    await pilot.pause(0.1)


def test_tasks_pane(snap_compare, tasks_app):
    assert snap_compare(tasks_app, terminal_size=(120, 36), run_before=tasks_shown)


def test_tasks_graph_narrow(snap_compare, tasks_app):
    async def graph(pilot):
        from magray_tui.tui.widgets.task_graph import TaskGraph

        await tasks_shown(pilot)
        await pilot.press("g")
        await wait_until(pilot, lambda: pilot.app.query_one(TaskGraph).graph is not None)
        await wait_until(pilot, lambda: not pilot.app.jobs.snapshot())
        await pilot.pause(0.1)

    assert snap_compare(tasks_app, terminal_size=(80, 24), run_before=graph)
