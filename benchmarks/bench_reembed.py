"""Re-embedding a store when the model changes: records/s, and search latency while it runs.

A store of N records (LoCoMo turns, then docstring sentences) on the packaged model
(all-minilm-l6-v2-int8) is moved to the default (all-minilm-l6-v2-qint8), the migration a
user who set `embedding.model` meets. To build the store fast its vectors are random unit
vectors stored as the packaged model's (the re-embed reads only texts; search latency over
an hnsw index does not depend on what the vectors mean). One copy of the store per run:
- `search idle`: search latency (hybrid, k=10, LoCoMo questions) before any re-embed;
- `cli`: the re-embed as `magray memory reembed` runs it (a batch job: all cores), with a
  thread searching in a loop beside it;
- `tui`: as the TUI runs it (interactive threads, nice +5 thread), with the searcher;
- `cli, busy` / `tui, busy`: the same with one competing busy process.

    .venv/bin/python benchmarks/bench_reembed.py [--records 20000] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    bench_settings,
    docstring_sentences,
    locomo_questions,
    locomo_turn_texts,
    percentiles,
    print_table,
    temp_home,
    write_result,
)

NAME = "bench_reembed"
OLD, NEW = "all-minilm-l6-v2-int8", "all-minilm-l6-v2-qint8"


def texts(n: int) -> list[str]:
    out = [t for t in locomo_turn_texts() if t.strip()]
    if len(out) < n:
        out += docstring_sentences(limit=n - len(out))
    # Every text unique: a repeated one would come from the embedder's cache, not the model.
    return [
        t if i < len(out) else f"{t} (#{i})"
        for i, t in enumerate(itertools.islice(itertools.cycle(out), n))
    ]


def build_store(home: Path, n: int) -> None:
    from magray_tui.memory import MemoryService

    settings = bench_settings(home)
    settings.embedding.model = OLD
    rng = np.random.default_rng(0)
    items = [{"text": t, "layer": "insights"} for t in texts(n)]
    vecs = rng.standard_normal((n, 384)).astype(np.float32)
    with MemoryService.open(settings=settings) as svc:
        svc.add_many(items, vectors=vecs / np.linalg.norm(vecs, axis=1, keepdims=True))


@contextlib.contextmanager
def busy_process() -> Iterator[None]:
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def searcher(svc: Any, questions: list[str], stop: threading.Event, out: list[float]) -> None:
    for q in itertools.cycle(questions):
        if stop.is_set():
            return
        t0 = time.perf_counter()
        svc.search(q, k=10, count_access=False)
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)  # a user typing, not a flood


def run_one(template: Path, mode: str, busy: bool) -> dict[str, Any]:
    from magray_tui.ai.runtime import mark_batch_job
    from magray_tui.memory import MemoryService
    from magray_tui.tui.background import run_low_priority

    with temp_home("magray-bench-reembed-run-") as home:
        shutil.rmtree(home)
        shutil.copytree(template, home)
        settings = bench_settings(home)
        settings.embedding.model = NEW  # set explicitly, as a user would
        if mode == "cli":
            mark_batch_job(settings)
        questions = locomo_questions()
        with MemoryService.open(settings=settings) as svc:
            idle: list[float] = []
            stop = threading.Event()
            for q in questions[:40]:
                t0 = time.perf_counter()
                svc.search(q, k=10, count_access=False)
                idle.append((time.perf_counter() - t0) * 1000)
            during: list[float] = []
            thread = threading.Thread(target=searcher, args=(svc, questions, stop, during))
            with busy_process() if busy else contextlib.nullcontext():
                load = os.getloadavg()
                thread.start()
                t0 = time.perf_counter()
                tui = mode == "tui"
                report = run_low_priority(svc.reembed) if tui else svc.reembed()
                wall = time.perf_counter() - t0
                stop.set()
                thread.join()
                load_end = os.getloadavg()
            assert report is not None and report.switched
            threads = svc.embedder.stats().get("threads")
        return {
            "mode": mode,
            "busy": busy,
            "records": report.total,
            "seconds": round(wall, 2),
            "records_per_s": round(report.total / wall, 1),
            "search_idle_ms": percentiles(idle),
            "search_during_ms": percentiles(during),
            "embed_threads": threads,
            "loadavg_start": load,
            "loadavg_end": load_end,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2,000 records, cli and tui only")
    args = parser.parse_args()
    n = 2000 if args.quick else args.records
    runs = [("cli", False), ("tui", False)]
    if not args.quick:
        runs += [("cli", True), ("tui", True)]
    with temp_home("magray-bench-reembed-") as template:
        t0 = time.perf_counter()
        build_store(template, n)
        print(f"store of {n:,} records built in {time.perf_counter() - t0:.1f} s", flush=True)
        results = []
        for mode, busy in runs:
            results.append(run_one(template, mode, busy))
            print(results[-1], flush=True)
    rows = [
        (
            f"{r['mode']}{', busy' if r['busy'] else ''}",
            f"{r['records']:,}",
            r["seconds"],
            r["records_per_s"],
            r["search_idle_ms"]["p50"],
            r["search_during_ms"].get("p50"),
            r["search_during_ms"].get("p95"),
            f"{r['loadavg_start'][0]:.1f}",
        )
        for r in results
    ]
    print_table(
        f"re-embed {OLD} -> {NEW}",
        ("run", "records", "s", "records/s", "idle p50 ms", "during p50", "during p95", "load"),
        rows,
    )
    write_result(NAME, {"records": n, "from": OLD, "to": NEW, "runs": results})


if __name__ == "__main__":
    main()
