"""What monitoring costs: recording a metric, reading the registry, and one health refresh.

(1) `metrics.observe` and `metrics.timer` per call (1e5 calls on one thread), and
    `metrics.snapshot()` with the six known latency names each holding a full window
    (2,048 samples): the part of a Health pane refresh that runs every 2 s.
(2) `run_checks` as the Health pane runs it (no LLM call, no embedding probe; GPU from
    NVML as installed) on stores of 1k and 10k records (20k and 100k without --quick),
    built with `add_many(vectors=...)` from random unit vectors (the checks count
    records; they never read vectors). Each check is timed 20 times; p50/p95 per check and
    for the whole report. Read-side only: nothing is written while timing.

    .venv/bin/python benchmarks/bench_health.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from common import bench_settings, percentiles, print_table, temp_home, write_result

REPEATS = 20


def bench_metrics() -> dict[str, Any]:
    from magray_tui.monitor.metrics import KNOWN_LATENCIES, Metrics

    reg = Metrics()
    n = 100_000
    t0 = time.perf_counter()
    for _ in range(n):
        reg.observe("search", 0.001)
    observe_us = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for _ in range(n):
        with reg.timer("db.write"):
            pass
    timer_us = (time.perf_counter() - t0) / n * 1e6
    full = Metrics()
    rng = np.random.default_rng(7)
    for name in KNOWN_LATENCIES:
        for value in rng.exponential(0.01, 2048):
            full.observe(name, float(value))
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        full.snapshot()
        times.append((time.perf_counter() - t0) * 1000)
    snap = percentiles(times)
    print_table(
        "metrics registry (one thread)",
        ("operation", "cost"),
        [
            ("observe", f"{observe_us:.2f} µs"),
            ("timer (enter + exit)", f"{timer_us:.2f} µs"),
            ("snapshot, 6 names x 2,048 samples", f"p50 {snap['p50']:.2f} ms"),
        ],
    )
    return {"observe_us": observe_us, "timer_us": timer_us, "snapshot_ms": snap}


def bench_checks(n: int) -> dict[str, Any]:
    from magray_tui.memory import MemoryService
    from magray_tui.monitor.health import run_checks
    from magray_tui.monitor.health_live import collect_live, counts_of
    from magray_tui.services import Services

    with temp_home() as home:
        settings = bench_settings(home)
        services = Services(settings)
        try:
            memory: MemoryService = services.memory
            rng = np.random.default_rng(n)
            step = 5_000
            for start in range(0, n, step):
                size = min(step, n - start)
                vecs = rng.normal(size=(size, memory.embedder.dim)).astype(np.float32)
                items = [{"text": f"record {start + i} about topic {i % 97}"} for i in range(size)]
                memory.add_many(items, vectors=vecs, batch_size=step)
            per_check: dict[str, list[float]] = {}
            totals, live_ms = [], []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                report = run_checks(settings, services)
                totals.append((time.perf_counter() - t0) * 1000)
                for check in report.checks:
                    per_check.setdefault(check.name, []).append(check.seconds * 1000)
                t0 = time.perf_counter()
                collect_live(memory, counts=counts_of(report))
                live_ms.append((time.perf_counter() - t0) * 1000)
        finally:
            services.close()
    stats = {name: percentiles(v) for name, v in per_check.items()}
    rows = [(name, s["p50"], s["p95"]) for name, s in stats.items()]
    rows.append(("run_checks (all)", percentiles(totals)["p50"], percentiles(totals)["p95"]))
    rows.append(
        ("collect_live (counts reused)", percentiles(live_ms)["p50"], percentiles(live_ms)["p95"])
    )
    print_table(f"health refresh at {n:,} records (ms)", ("check", "p50", "p95"), rows)
    return {
        "records": n,
        "statuses": {c.name: c.status.value for c in report.checks},
        "checks_ms": stats,
        "run_checks_ms": percentiles(totals),
        "collect_live_ms": percentiles(live_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k records")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (20_000, 100_000)
    result = {"quick": args.quick, "metrics": bench_metrics()}
    result["refresh"] = [bench_checks(n) for n in sizes]
    path = write_result("health", result)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
