"""Memory footprint (issue 21, docs/memory-footprint.md): resident memory (RSS) of magray
processes, each measured in a fresh subprocess so one measurement cannot inflate another.

(a) `MemoryService.open` + `add_many` of N mixed-length texts (20-400 words of LoCoMo
    dialogue; default 1,500) + 200 searches: RSS after each step (target <= 500 MB), and the
    add_many rate in texts/s (wall and CPU time) on the same texts.
(b) a store of R records (default 100k; vectors synthesised around real embeddings as
    bench_memory does) opened in a fresh process and searched 1,000 times: RSS added by
    the open and by the searches.
(c) the TUI (a real `MagrayApp`, headless through `run_test`) after ingesting a folder
    (default: this project's `magray_tui/`) through the Memory pane's ingest worker, then
    idle for 5 s: RSS (target <= 500 MB).

Each runs twice in the same run: `before` = the defaults before this change, reproduced
with settings (no token budget, onnxruntime's memory pattern on, DuckDB's own defaults,
an embedding cache bounded by entries only) and `after` = today's defaults.

    .venv/bin/python benchmarks/bench_footprint.py [--quick] [--only add,store,tui]
        [--texts 1500] [--records 100000] [--folder magray_tui]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import REPO, RESULTS_DIR, print_table, temp_home, write_result

VARIANTS = ("before", "after")
TARGET_MB = 500.0
STORE_CACHE = Path("/tmp/magray-bench-footprint-store")


def log(msg: str) -> None:
    print(f"[bench_footprint] {msg}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- in the child process ----------------------------------------------------------------
def rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def peak_mb() -> float | None:
    """This process's RSS high-water mark (VmHWM). Not getrusage's ru_maxrss: on Linux that
    survives exec, so a child would report the parent's peak (the store builder's)."""
    from magray_tui.monitor.health_system import peak_rss

    peak = peak_rss()
    return round(peak / 2**20, 1) if peak else None


def apply_variant(variant: str) -> dict[str, Any]:
    """Settings flags for `variant`; for `before`, also today's onnxruntime options."""
    if variant == "after":
        return {"embedding": {"device": "cpu"}}
    from magray_tui.ai import runtime
    from magray_tui.config import ResourceSettings

    options = runtime._options

    def with_pattern(threads: int) -> Any:
        opts = options(threads)
        opts.enable_mem_pattern = True  # onnxruntime's default, used before
        return opts

    runtime._options = with_pattern
    ResourceSettings.duckdb_config = lambda self: {}  # DuckDB's defaults: 80% of RAM
    return {
        "embedding": {
            "device": "cpu",
            "batch_tokens": 1 << 20,  # no budget: 32 texts whatever their length
            "intra_op_threads": 1,  # the old default
            "cache_mb": 1 << 20,  # bounded by entries only
        }
    }


def mixed_texts(n: int, seed: int = 21) -> list[str]:
    """n texts of 20-400 words (uniform), cut from LoCoMo dialogue; deterministic."""
    from common import locomo_turn_texts

    words = " ".join(locomo_turn_texts()).split()
    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(20, 400)
        start = rng.randrange(0, len(words) - k)
        out.append(f"[{i}] " + " ".join(words[start : start + k]))
    return out


def child_add(variant: str, n: int) -> dict[str, Any]:
    flags = apply_variant(variant)
    from magray_tui.config import load_settings
    from magray_tui.memory import MemoryService

    texts = mixed_texts(n)
    steps = {"imports": rss_mb()}
    with temp_home("magray-bench-footprint-") as home:
        settings = load_settings(home, **flags)
        svc = MemoryService.open(settings=settings)
        steps["open"] = rss_mb()
        t0, c0 = time.perf_counter(), time.process_time()
        svc.add_many([{"text": t} for t in texts])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        steps["add_many"] = rss_mb()
        for t in texts[:200]:
            svc.search(" ".join(t.split()[1:9]), k=10, count_access=False)
        steps["search_200"] = rss_mb()
        emb = svc.embedder.stats()
        svc.close()
    return {
        "rss_mb": steps,
        "peak_mb": peak_mb(),
        "texts": n,
        "texts_per_s": round(n / wall, 2),
        "texts_per_cpu_s": round(n / cpu, 2),
        "batches_run": emb["batches_run"],
        "threads": emb.get("threads"),
    }


def child_store(variant: str, home: str, searches: int) -> dict[str, Any]:
    flags = apply_variant(variant)
    from common import locomo_questions

    from magray_tui.config import load_settings
    from magray_tui.memory import MemoryService

    queries = locomo_questions()
    steps = {"imports": rss_mb()}
    # A copy: opening catches the indexes up and writes, and both variants need the same store.
    work = Path(home).with_name(Path(home).name + f"-{variant}-{os.getpid()}")
    shutil.copytree(home, work)
    try:
        settings = load_settings(work, **flags)
        t0 = time.perf_counter()
        svc = MemoryService.open(settings=settings)
        open_s = time.perf_counter() - t0
        steps["open"] = rss_mb()
        t0 = time.perf_counter()
        for i in range(searches):
            svc.search(queries[i % len(queries)], k=10, count_access=False)
        search_s = time.perf_counter() - t0
        steps[f"search_{searches}"] = rss_mb()
        records = len(svc.indexes.vectors)
        svc.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "rss_mb": steps,
        "peak_mb": peak_mb(),
        "records": records,
        "added_by_open_mb": round(steps["open"] - steps["imports"], 1),
        "added_by_searches_mb": round(steps[f"search_{searches}"] - steps["open"], 1),
        "open_s": round(open_s, 2),
        "search_ms_mean": round(1000 * search_s / searches, 2),
    }


def child_tui(variant: str, folder: str) -> dict[str, Any]:
    import asyncio

    flags = apply_variant(variant)
    from magray_tui.config import load_settings
    from magray_tui.tui.app import MagrayApp

    async def wait_for(pilot: Any, predicate: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met")
            await pilot.pause(0.1)

    out: dict[str, Any] = {}

    async def run(settings: Any) -> None:
        app = MagrayApp(settings, watch_themes=False)
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_for(pilot, lambda: app.backend is not None, 120)
                browser = app.query_one("#pane-memory")
                await wait_for(pilot, lambda: browser.workspace_ready, 120)
                out["ready"] = rss_mb()
                t0 = time.perf_counter()
                browser.ingest_state.starting = True
                browser.run_ingest(folder)
                await wait_for(pilot, lambda: not browser.ingesting, 3600)
                out["ingest_s"] = round(time.perf_counter() - t0, 1)
                out["after_ingest"] = rss_mb()
                await pilot.pause(5.0)  # idle: the Health pane and timers keep running
                out["idle_5s"] = rss_mb()
                out["records"] = len(app.backend.memory.indexes.vectors)
        finally:
            app.close_backend()

    with temp_home("magray-bench-footprint-tui-") as home:
        asyncio.run(run(load_settings(home, **flags)))
    return {"rss_mb": out, "peak_mb": peak_mb()}


# ---- in the parent -----------------------------------------------------------------------
def spawn(*args: str, timeout: float = 7200) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "MAGRAY_HOME"}
    env["PYTHONPATH"] = str(REPO)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_store(records: int) -> Path:
    """A store of `records` records (bench_memory's synthetic records), cached in /tmp."""
    home = STORE_CACHE.with_name(f"{STORE_CACHE.name}-{records}")
    marker = home / "built.txt"
    if marker.exists() and marker.read_text().strip() == str(records):
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    from bench_memory import Synth, base_corpus
    from common import bench_settings

    from magray_tui.ai import load_embedder
    from magray_tui.memory import MemoryService

    base_texts, _, _ = base_corpus(True)
    log(f"building a {records:,}-record store in {home}")
    settings = bench_settings(home)
    embedder = load_embedder(settings)
    synth = Synth(embedder.embed_documents(base_texts), base_texts)
    with MemoryService.open(settings=settings, embedder=embedder) as memory:
        step = 5000
        for start in range(0, records, step):
            vecs, items = synth.chunk(start // step, min(step, records - start))
            memory.add_many(items, vectors=vecs)
            log(f"  {start + len(items):,} records")
    marker.write_text(str(records))
    return home


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="add,store,tui")
    ap.add_argument("--texts", type=int)
    ap.add_argument("--records", type=int)
    ap.add_argument("--searches", type=int, default=1000)
    ap.add_argument("--folder")
    args = ap.parse_args()
    if args.child:
        kind, variant, *rest = args.child
        fn = {"add": child_add, "store": child_store, "tui": child_tui}[kind]
        typed = [int(x) if x.isdigit() else x for x in rest]
        print(json.dumps(fn(variant, *typed)))
        return 0

    texts = args.texts or (300 if args.quick else 1500)
    records = args.records or (10_000 if args.quick else 100_000)
    folder = args.folder or str(REPO / "magray_tui" / ("memory" if args.quick else ""))
    only = set(args.only.split(","))
    name = "footprint_quick" if args.quick else "footprint"
    result: dict[str, Any] = {"quick": args.quick}
    previous = RESULTS_DIR / f"{name}.json"
    if previous.exists():  # `--only` reruns some parts: keep the others' numbers
        kept = json.loads(previous.read_text(encoding="utf-8"))
        result.update({k: v for k, v in kept.items() if k in ("add_many", "store", "tui")})
    result["load_average_at_start"] = load_average()
    rows = []
    if "add" in only:
        result["add_many"] = {"load_average": load_average()}
        for variant in VARIANTS:
            log(f"(a) {variant}: open + add_many of {texts:,} mixed texts + 200 searches")
            r = result["add_many"][variant] = spawn("add", variant, str(texts))
            rows.append(
                (
                    f"(a) add_many {texts:,}",
                    variant,
                    r["rss_mb"]["open"],
                    r["rss_mb"]["add_many"],
                    r["rss_mb"]["search_200"],
                    r["peak_mb"],
                    r["texts_per_s"],
                    r["texts_per_cpu_s"],
                )
            )
    if "store" in only:
        home = build_store(records)
        result["store"] = {"records": records, "searches": args.searches}
        result["store"]["load_average"] = load_average()
        for variant in VARIANTS:
            log(f"(b) {variant}: open a {records:,}-record store, {args.searches:,} searches")
            r = result["store"][variant] = spawn("store", variant, str(home), str(args.searches))
            last = r["rss_mb"][f"search_{args.searches}"]
            rows.append(
                (
                    f"(b) store {records:,}",
                    variant,
                    r["rss_mb"]["open"],
                    None,
                    last,
                    r["peak_mb"],
                    None,
                    None,
                )
            )
    if "tui" in only:
        result["tui"] = {"folder": os.path.relpath(folder, REPO), "load_average": load_average()}
        for variant in VARIANTS:
            log(f"(c) {variant}: the TUI ingests {folder}, then idles")
            r = result["tui"][variant] = spawn("tui", variant, folder)
            rows.append(
                (
                    f"(c) TUI ingest {r['rss_mb']['records']:,} chunks",
                    variant,
                    r["rss_mb"]["ready"],
                    r["rss_mb"]["after_ingest"],
                    r["rss_mb"]["idle_5s"],
                    r["peak_mb"],
                    None,
                    None,
                )
            )
    result["load_average_at_end"] = load_average()
    print_table(
        f"RSS in MiB, each in a fresh process (load {result['load_average_at_start']})",
        [
            "measurement",
            "variant",
            "opened",
            "after work",
            "at end",
            "peak",
            "texts/s",
            "texts/cpu-s",
        ],
        rows,
        left=2,
    )
    write_result(name, result)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
