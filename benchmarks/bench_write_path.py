"""The cost of one write on the one write path, against another checkout in the same run.

Each round runs one child process per tree (this checkout, and the tree given with
`--against`, e.g. a `git worktree` of an older commit), alternating, so both meet the same
load. A child opens a fresh home with the packaged model on the CPU, adds 1,000 records
(given vectors: no embedding), then times, one call after another:
- `bare_tx`: a write transaction with one row (Database.transaction: BEGIN, one INSERT,
  the commit counter, COMMIT, the WAL sidecar);
- `pin`: MemoryService.pin on one record (the commit path: row, history, revision, then
  both indexes brought to it);
- `add_one`: MemoryService.add_many of one record with its vector;
- `sidecar`: the WAL sidecar's write alone (wal_guard.write: stat the WAL, one pwrite).
Per tree and operation: the median over rounds of each child's p50, mean and CPU time per
call (process CPU, all threads: less sensitive to other load than wall time). `--busy`
adds one competing busy process for the whole run (killed at the end).

    .venv/bin/python benchmarks/bench_write_path.py --against /path/to/old/checkout [--busy]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, percentiles, print_table, write_result

NAME = "write_path"
OPS = ("bare_tx", "pin", "add_one", "sidecar")
PRELOAD = 1000


def child(reps: int) -> dict[str, Any]:
    """Runs in a child whose sys.path starts with the tree under test."""
    import numpy as np
    from common import bench_settings, load_cpu_embedder, temp_home

    from magray_tui.db import wal_guard
    from magray_tui.memory import MemoryService

    out: dict[str, Any] = {}
    with temp_home("magray-bench-writes-") as home:
        embedder = load_cpu_embedder(home)
        rng = np.random.default_rng(5)
        settings = bench_settings(home)
        with MemoryService.open(settings=settings, embedder=embedder) as svc:
            vecs = rng.standard_normal((PRELOAD + reps, embedder.dim)).astype(np.float32)
            items = [{"text": f"preloaded note {i} about topic {i % 37}"} for i in range(PRELOAD)]
            ids = svc.add_many(items, vectors=vecs[:PRELOAD])
            store = svc.store
            timings: dict[str, list[float]] = {op: [] for op in OPS}
            cpu: dict[str, float] = {}
            c0 = time.process_time()
            for i in range(reps):
                t0 = time.perf_counter()
                with store.transaction() as cur:
                    cur.execute("INSERT OR REPLACE INTO meta VALUES ('bench', ?)", [str(i)])
                timings["bare_tx"].append((time.perf_counter() - t0) * 1000)
            cpu["bare_tx"], c0 = time.process_time() - c0, time.process_time()
            for i in range(reps):
                t0 = time.perf_counter()
                svc.pin(ids[i % len(ids)], i % 2 == 0)
                timings["pin"].append((time.perf_counter() - t0) * 1000)
            cpu["pin"], c0 = time.process_time() - c0, time.process_time()
            for i in range(reps):
                item = [{"text": f"one more note {i}"}]
                t0 = time.perf_counter()
                svc.add_many(item, vectors=vecs[PRELOAD + i : PRELOAD + i + 1])
                timings["add_one"].append((time.perf_counter() - t0) * 1000)
            cpu["add_one"], c0 = time.process_time() - c0, time.process_time()
            for i in range(reps):
                t0 = time.perf_counter()
                wal_guard.write(store.path, i)  # the count is set right again at close
                timings["sidecar"].append((time.perf_counter() - t0) * 1000)
            cpu["sidecar"] = time.process_time() - c0
        for op, lat in timings.items():
            out[op] = {"p50": statistics.median(lat), "mean": statistics.fmean(lat)}
            out[op]["p95"] = percentiles(lat)["p95"]
            out[op]["cpu_ms"] = 1000 * cpu[op] / reps  # all threads: less load-sensitive
    return out


def run_child(tree: Path, reps: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(tree), "--reps", str(reps)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child for {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other checkout (the 'before')")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--busy", action="store_true", help="one competing busy process")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(args.child))  # ahead of the checkout common.py put first
        for name in [m for m in sys.modules if m.startswith("magray_tui")]:
            del sys.modules[name]
        print(json.dumps(child(args.reps)))
        return
    if args.against is None:
        parser.error("--against is required")
    trees = {"before": args.against.resolve(), "after": REPO}
    busy = None
    if args.busy:
        busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
    loads = [os.getloadavg()]
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    try:
        for r in range(args.rounds):
            for label in ("before", "after") if r % 2 == 0 else ("after", "before"):
                runs[label].append(run_child(trees[label], args.reps))
                print(f"round {r + 1} {label}: {runs[label][-1]}", file=sys.stderr)
            loads.append(os.getloadavg())
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    summary: dict[str, Any] = {}
    for op in OPS:
        row = {}
        for label in runs:
            row[label] = {
                stat: round(statistics.median(run[op][stat] for run in runs[label]), 3)
                for stat in ("p50", "mean", "p95", "cpu_ms")
            }
        row["after_over_before_p50"] = round(row["after"]["p50"] / row["before"]["p50"], 3)
        row["after_over_before_cpu"] = round(row["after"]["cpu_ms"] / row["before"]["cpu_ms"], 3)
        summary[op] = row
    git = subprocess.run(
        ["git", "-C", str(args.against), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    result = {
        "before_tree": str(args.against),
        "before_commit": git,
        "rounds": args.rounds,
        "reps_per_op": args.reps,
        "preloaded_records": PRELOAD,
        "competing_busy_process": args.busy,
        "load_average": [[round(x, 2) for x in la] for la in loads],
        "ms": summary,
        "runs": runs,
    }
    name = NAME + ("_busy" if args.busy else "")
    write_result(name, result)
    print_table(
        f"one write, ms (median of {args.rounds} rounds x {args.reps} calls)",
        ["op", "before p50", "after p50", "after/before", "before cpu", "after cpu", "cpu a/b"],
        [
            [
                op,
                s["before"]["p50"],
                s["after"]["p50"],
                s["after_over_before_p50"],
                s["before"]["cpu_ms"],
                s["after"]["cpu_ms"],
                s["after_over_before_cpu"],
            ]
            for op, s in summary.items()
        ],
    )


if __name__ == "__main__":
    main()
