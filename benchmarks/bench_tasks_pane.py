"""The Tasks pane with 5,000 tasks: time to show it, filter it, scroll it and draw the
graph view, measured on the real app (App.run_test, headless) driven by Pilot.

The store is built through `TodoService.import_json` (one transaction): 5,000 tasks,
each depending on 0-2 of the 60 tasks before it (a DAG ~100 columns deep at most), 30 %
done, tags from a small set, a parent for one task in five. Each step is timed from the
key press (or filter change) until the pane shows the result (rows drawn, the graph laid
out), then one more refresh; the layout's own time is reported too.

    .venv/bin/python benchmarks/bench_tasks_pane.py [--tasks N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_settings, print_table, temp_home, write_result

NAME = "tasks_pane"
SEED = 20260115
TAGS = ("web", "infra", "docs", "release", "research", "ops")


def export(n: int, rng: random.Random) -> dict:
    tasks = []
    for i in range(n):
        deps = (
            {f"x{rng.randrange(max(0, i - 60), i)}" for _ in range(rng.choice((0, 1, 1, 2)))}
            if i
            else set()
        )
        tasks.append(
            {
                "id": f"x{i}",
                "title": f"task {i}: {rng.choice(('write', 'review', 'ship', 'fix', 'plan'))} "
                f"the {rng.choice(('parser', 'index', 'pane', 'docs', 'cache', 'release'))}",
                "state": "done" if rng.random() < 0.3 else "ready",
                "priority": rng.choice(("low", "medium", "high", "critical")),
                "deps": sorted(deps),
                "tags": [rng.choice(TAGS)],
                "parent": f"x{rng.randrange(i)}" if i and rng.random() < 0.2 else None,
            }
        )
    return {"format": "magray-tasks", "version": 1, "tasks": tasks}


async def wait_for(pilot, predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the pane did not get there in time")
        await pilot.pause(0.005)


async def drive(app, n: int) -> list[tuple[str, float, str]]:
    from magray_tui.tui.panes.tasks import TasksPane
    from magray_tui.tui.widgets.task_graph import TaskGraph
    from magray_tui.tui.widgets.task_table import TaskTable

    steps: list[tuple[str, float, str]] = []

    async def timed(name: str, action, done, note=lambda: "") -> None:
        t0 = time.perf_counter()
        await action()
        await wait_for(pilot, done)
        await pilot.pause()  # one more refresh: the frame with the result
        steps.append((name, time.perf_counter() - t0, note()))

    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None)
        todo = app.backend.services.todo
        ready = len(todo.list(states=["ready"]))
        review = len(todo.list(text="review"))
        table = lambda: app.query(TaskTable).first() if app.query(TaskTable) else None  # noqa: E731
        pane = lambda: app.query_one(TasksPane)  # noqa: E731
        rows = lambda: len(table().order) if table() else 0  # noqa: E731

        async def press(*keys):
            await pilot.press(*keys)

        def set_filter(text):
            async def go():
                pane().query_one("#tasks-filter").value = text

            return go

        await timed(
            "open the pane (3)",
            lambda: press("3"),
            lambda: rows() == n,
            lambda: f"{rows()} rows, load {pane().last_load_s * 1000:.0f} ms",
        )
        await timed(
            "filter state:ready",
            set_filter("state:ready"),
            lambda: rows() == ready,
            lambda: f"{rows()} rows (debounce 150 ms included)",
        )
        await timed(
            "filter text 'review'",
            set_filter("review"),
            lambda: rows() == review,
            lambda: f"{rows()} rows",
        )
        await timed(
            "clear the filter", set_filter(""), lambda: rows() == n, lambda: f"{rows()} rows"
        )
        table().focus()
        table().move_cursor(row=0, animate=False)
        await pilot.pause()
        await timed(
            "j x50 (one row each)",
            lambda: press(*["j"] * 50),
            lambda: table().cursor_row == 50,
            lambda: "cursor on row 50",
        )
        await timed(
            "pagedown x10",
            lambda: press(*["pagedown"] * 10),
            lambda: table().cursor_row > 50,
            lambda: f"cursor on row {table().cursor_row}",
        )
        await timed("tree view (t)", lambda: press("t"), lambda: table().tree_view and rows() == n)
        graph = app.query_one(TaskGraph)
        await timed(
            "graph view (g)",
            lambda: press("g"),
            lambda: graph.graph is not None,
            lambda: (
                f"{graph.graph.width}x{graph.graph.height} cells, layout "
                f"{pane().last_graph_s * 1000:.0f} ms, {graph.graph.crossings} crossings"
            ),
        )
        await timed("graph j x20", lambda: press(*["j"] * 20), lambda: True)
        await timed("graph pagedown x10", lambda: press(*["pagedown"] * 10), lambda: True)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(SEED)
    with temp_home() as home:
        settings = bench_settings(home)
        from magray_tui.services import Services

        services = Services(settings)
        t0 = time.perf_counter()
        services.todo.import_json(export(args.tasks, rng))
        build_s = time.perf_counter() - t0
        services.close()

        from magray_tui.tui.app import MagrayApp

        app = MagrayApp(settings, watch_themes=False)
        try:
            steps = asyncio.run(drive(app, args.tasks))
        finally:
            app.close_backend()
    rows = [(name, seconds * 1000, note) for name, seconds, note in steps]
    print_table(
        f"Tasks pane, {args.tasks} tasks (import {build_s:.1f} s)", ["step", "ms", "note"], rows
    )
    path = write_result(
        NAME,
        {
            "tasks": args.tasks,
            "import_s": round(build_s, 3),
            "steps": [{"step": n, "ms": round(ms, 1), "note": note} for n, ms, note in rows],
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
