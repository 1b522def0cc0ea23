"""The task DAG at 5,000 tasks (1,000 with --quick): writes, reads and undo on a real store.

Tasks are created one `TodoService.create` call at a time (each its own transaction with
an undo entry), each depending on 0-3 random earlier tasks (60 % have at least one), with
random priorities, 30 % with a due date and 80 % with an estimate. Then, on the built
graph: `list()` cold (a new service: loads every row) and warm (cached by `tasks_rev`),
`topo_order`, filters by text and state, fuzzy `search`, `ready_queue`, `critical_path`,
`add_dep` (cycle check included) and a refused cycle, `done` (unblocks dependents),
`undo`, JSON export, a bulk `import_json` of the whole export, and Mermaid. Times are
milliseconds per call (p50 / p95 over repeats).

    .venv/bin/python benchmarks/bench_tasks.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from common import Stopwatch, percentiles, print_table, temp_home, write_result

SEED = 7
WORDS = [
    "write",
    "deploy",
    "review",
    "design",
    "build",
    "test",
    "fix",
    "refactor",
    "document",
    "plan",
    "measure",
    "ship",
    "migrate",
    "profile",
    "index",
    "schema",
    "pane",
    "graph",
    "parser",
    "server",
    "client",
    "cache",
    "queue",
    "worker",
    "theme",
    "docs",
]


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def build(todo: Any, n: int, rng: random.Random) -> tuple[list[float], list[str]]:
    base = datetime(2026, 1, 1)
    ids: list[str] = []
    lat: list[float] = []
    for i in range(n):
        k = rng.choice((0, 0, 1, 1, 2, 3)) if ids else 0
        deps = rng.sample(ids[-400:], min(k, len(ids[-400:])))
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))) + f" {i}"
        t0 = time.perf_counter()
        task = todo.create(
            title,
            deps=deps,
            priority=rng.choice(("low", "medium", "medium", "high", "critical")),
            due_at=base + timedelta(days=rng.randint(1, 200)) if rng.random() < 0.3 else None,
            estimate_hours=round(rng.uniform(0.5, 16), 1) if rng.random() < 0.8 else None,
            tags=[rng.choice(WORDS)] if rng.random() < 0.5 else [],
        )
        lat.append((time.perf_counter() - t0) * 1000)
        ids.append(task.id)
    return lat, ids


def run(quick: bool = False) -> dict[str, Any]:
    from magray_tui.memory.store import Store
    from magray_tui.todo.model import CycleError
    from magray_tui.todo.service import TodoService

    n = 1000 if quick else 5000
    reps = 10 if quick else 20
    rng = random.Random(SEED)
    result: dict[str, Any] = {"quick": quick, "tasks": n}
    with temp_home("magray-bench-tasks-") as home:
        store = Store.open(home / "tasks.duckdb")
        todo = TodoService(store)
        with Stopwatch() as sw:
            create_lat, ids = build(todo, n, rng)
        result["create"] = {
            "seconds": round(sw.seconds, 2),
            "per_s": round(n / sw.seconds, 1),
            "ms": percentiles(create_lat),
        }
        r: dict[str, Any] = {}
        r["list cold (new service)"] = timed(lambda: TodoService(store).list(), reps)
        r["list warm"] = timed(todo.list, reps)
        r["topo_order"] = timed(todo.topo_order, reps)
        r["list text='deploy schema'"] = timed(lambda: todo.list(text="deploy schema"), reps)
        r["list states=[ready]"] = timed(lambda: todo.list(states=["ready"]), reps)
        r["search 'dply' (fuzzy)"] = timed(lambda: todo.search("dply", 20), reps)
        r["ready_queue"] = timed(todo.ready_queue, reps)
        r["critical_path"] = timed(todo.critical_path, reps)
        r["get"] = timed(lambda: todo.get(rng.choice(ids)), reps * 5)
        counts = {
            "ready": len(todo.ready_queue()),
            "blocked": len(todo.list(states=["blocked"])),
            "critical path": len(todo.critical_path()[0]),
        }

        pairs = [(ids[i], ids[i - 1]) for i in range(n - 1, n - 1 - reps, -1)]
        r["add_dep (cycle check)"] = timed(lambda: todo.add_dep(*pairs.pop()), reps)
        first = ids[0]
        todo.add_dep(ids[n // 2], first)  # gives the refusal below a long path to find

        def refused() -> None:
            with contextlib.suppress(CycleError):
                todo.add_dep(first, ids[n // 2])

        r["add_dep refused (cycle)"] = timed(refused, reps)
        ready = [t.id for t in todo.ready_queue()]
        r["done (unblocks)"] = timed(lambda: todo.done(ready.pop()), min(reps, len(ready)))
        r["undo"] = timed(todo.undo, reps)
        with Stopwatch() as sw:
            data = todo.export_json()
        r["export_json"] = {"p50": round(sw.seconds * 1000, 2), "n": 1}
        with Stopwatch() as sw:
            todo.import_json(data)
        r[f"import_json ({n} tasks)"] = {"p50": round(sw.seconds * 1000, 2), "n": 1}
        r["undo the import"] = timed(todo.undo, 1)
        r["to_mermaid"] = timed(todo.to_mermaid, 3)
        store.close()
    result["ops_ms"] = r
    result["counts"] = counts
    report(result)
    write_result("tasks_quick" if quick else "tasks", result)
    return result


def report(result: dict[str, Any]) -> None:
    c = result["create"]
    print_table(
        f"create {result['tasks']:,} tasks one call each",
        ["measure", "value"],
        [
            ["seconds", c["seconds"]],
            ["tasks per s", c["per_s"]],
            ["ms p50", c["ms"]["p50"]],
            ["ms p95", c["ms"]["p95"]],
        ],
    )
    rows = [[k, v.get("p50"), v.get("p95", "")] for k, v in result["ops_ms"].items()]
    print_table(f"operations on {result['tasks']:,} tasks (ms)", ["op", "p50", "p95"], rows)
    print_table("graph", ["measure", "value"], [[k, v] for k, v in result["counts"].items()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 tasks")
    args = parser.parse_args()
    run(quick=args.quick)


if __name__ == "__main__":
    main()
