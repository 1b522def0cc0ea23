"""Workspace ingestion on a real source tree: this checkout plus installed packages' sources.

    .venv/bin/python benchmarks/bench_ingest.py [--quick]

The tree is copied into a temp folder first (so the watch test can edit a file without
touching the checkout), then, on a fresh MAGRAY_HOME, CPU, default settings:

1. first ingest: files/s, chunks/s, the share of the time spent embedding;
2. re-ingest of the unchanged tree, same process (target: <= 5% of the first ingest), and
   again after closing and reopening the store (opening reported on its own);
3. watch mode: a one-line edit to one file, timed until a search finds it (target: <= 2 s).

The full run stops adding packages once the tree holds >= 20,000 chunks (the checkout, then
the packages in PACKAGES order); --quick uses the checkout alone. Writes
benchmarks/results/ingest.json and prints a table.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    bench_settings,
    print_table,
    site_packages,
    temp_home,
    write_result,
)

TARGET_CHUNKS = 20_000
REINGEST_RATIO = 0.05
WATCH_SECONDS = 2.0
WATCH_TRIALS = 5
PACKAGES = (
    "textual",
    "rich",
    "click",
    "pydantic",
    "pydantic_settings",
    "duckdb",
    "watchfiles",
    "platformdirs",
    "psutil",
    "tokenizers",
    "_pytest",
    "hypothesis",
    "jinja2",
    "markdown_it",
    "httpx",
    "httpcore",
    "yaml",
)


def _checkout_files() -> list[str]:
    """Files of the checkout as git sees them: tracked plus untracked-but-not-ignored."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    return [p for p in out.decode().split("\0") if p and (REPO / p).is_file()]


def _count_chunks(root: Path) -> tuple[int, int]:
    """(files, chunks) an ingest of `root` would store, without embedding anything."""
    from magray_tui.ingest import IngestOptions
    from magray_tui.ingest.chunker import chunk_text
    from magray_tui.ingest.ignore import IgnoreMatcher
    from magray_tui.ingest.languages import detect_language
    from magray_tui.ingest.textfile import read_text_file
    from magray_tui.ingest.walker import Walker

    o = IngestOptions()
    real = os.path.realpath(root)
    files = chunks = 0
    for entry in Walker(real, IgnoreMatcher(real), o.max_file_bytes, lambda r, p: None).walk():
        try:
            tf = read_text_file(entry.path, o.max_file_bytes)
        except Exception:  # binary, unreadable, too large: the ingest skips them too
            continue
        lang = detect_language(entry.path, tf.text[:200].split("\n", 1)[0])
        n = len(chunk_text(tf.text, lang, max_chars=o.chunk_chars, overlap_chars=o.overlap_chars))
        files += n > 0
        chunks += n
    return files, chunks


def build_tree(dest: Path, target: int) -> dict[str, Any]:
    """Copy the checkout (and packages, up to `target` chunks) into `dest`."""
    checkout = dest / "magray"
    for rel in _checkout_files():
        out = checkout / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, out)
    files, chunks = _count_chunks(checkout)
    parts = [{"name": "checkout", "files": files, "chunks": chunks}]
    total = chunks
    sp = site_packages()
    for name in PACKAGES:
        if total >= target or sp is None:
            break
        src = sp / name
        if not src.is_dir():
            continue
        shutil.copytree(
            src, dest / "site-packages" / name, ignore=shutil.ignore_patterns("__pycache__")
        )
        files, chunks = _count_chunks(dest / "site-packages" / name)
        parts.append({"name": name, "files": files, "chunks": chunks})
        total += chunks
    return {"parts": parts, "expected_chunks": total}


class _Ticker:
    """Progress on stdout every `every` seconds (a benchmark log, not a status line)."""

    def __init__(self, every: float = 30.0) -> None:
        self.every, self.last = every, time.monotonic()

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if now - self.last < self.every and p.phase not in ("done", "cancelled"):
            return
        self.last = now
        eta = f"{p.eta_s / 60:.1f} min" if p.eta_s is not None else "?"
        print(
            f"  {p.phase}: files {p.files_done:,}/{p.files_total:,}, chunks {p.chunks_done:,} "
            f"({p.chunks_per_s:.1f}/s), ETA {eta}",
            flush=True,
        )


def _watch_latency(svc: Any, tree: Path, trials: int) -> dict[str, Any]:
    """Append a line with a fresh word to a file; time until search returns it."""
    from magray_tui.ingest import IngestOptions, Watcher

    targets = sorted((tree / "magray" / "magray_tui").rglob("*.py"))[:trials]
    watcher = Watcher(svc, [tree], IngestOptions())  # the CLI's defaults: debounce 1 s
    t_start = time.perf_counter()
    watcher.start()
    if not watcher.ready.wait(300):
        raise RuntimeError("the watcher did not start")
    startup = time.perf_counter() - t_start
    latencies = []
    try:
        for i, path in enumerate(targets):
            word = f"zebracorn{i}quux"
            time.sleep(1.5)  # let the previous batch settle
            t0 = time.perf_counter()
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"\n# {word}: a marker line added by the ingest benchmark\n")
            while True:
                hits = svc.search(word, k=3, count_access=False)
                if any(word in h.record.text for h in hits):
                    break
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"{word} not searchable after 30 s")
                time.sleep(0.02)
            latencies.append(time.perf_counter() - t0)
    finally:
        watcher.stop()
    if watcher.error:
        raise RuntimeError(f"watcher failed: {watcher.error}")
    return {
        "startup_seconds": round(startup, 2),
        "latencies_s": [round(x, 3) for x in latencies],
        "median_s": round(statistics.median(latencies), 3),
        "max_s": round(max(latencies), 3),
    }


def run(quick: bool = False) -> dict[str, Any]:
    from magray_tui.ingest import IngestOptions, Ingestor
    from magray_tui.memory import MemoryService

    target = 0 if quick else TARGET_CHUNKS
    work = Path(tempfile.mkdtemp(prefix="magray-bench-ingest-"))
    try:
        tree = work / "tree"
        corpus = build_tree(tree, target)
        print(f"corpus: {corpus['expected_chunks']:,} chunks expected from", flush=True)
        for part in corpus["parts"]:
            print(f"  {part['name']}: {part['files']:,} files, {part['chunks']:,} chunks")
        with temp_home() as home:
            settings = bench_settings(home)
            with MemoryService.open(settings=settings) as svc:
                print("first ingest…", flush=True)
                first = Ingestor(svc, IngestOptions(), progress=_Ticker()).ingest([tree])
                t0 = time.perf_counter()
                again = Ingestor(svc, IngestOptions()).ingest([tree])
                reingest_warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            svc = MemoryService.open(settings=settings)
            reopen = time.perf_counter() - t0
            try:
                t0 = time.perf_counter()
                cold = Ingestor(svc, IngestOptions()).ingest([tree])
                reingest_cold = time.perf_counter() - t0
                print("watch mode…", flush=True)
                watch = _watch_latency(svc, tree, 2 if quick else WATCH_TRIALS)
                stats = svc.stats()
            finally:
                svc.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _result(
        quick, corpus, first, again, reingest_warm, cold, reingest_cold, reopen, watch, stats
    )


def _result(quick, corpus, first, again, warm_s, cold, cold_s, reopen, watch, stats):
    secs = first.seconds
    files = first.files_new
    ratio_warm = warm_s / secs if secs else 0.0
    ratio_cold = cold_s / secs if secs else 0.0
    result: dict[str, Any] = {
        "quick": quick,
        "corpus": corpus,
        "first_ingest": {
            **first.to_dict(),
            "files_per_s": round(files / secs, 2) if secs else None,
            "chunks_per_s": round(first.chunks_added / secs, 2) if secs else None,
            "embed_share": round(first.embed_seconds / secs, 4) if secs else None,
            "embed_chunks_per_s": round(first.chunks_added / first.embed_seconds, 2)
            if first.embed_seconds
            else None,
        },
        "reingest": {
            "warm_seconds": round(warm_s, 3),
            "warm_ratio": round(ratio_warm, 5),
            "warm_report": again.to_dict(),
            "reopen_seconds": round(reopen, 3),
            "cold_seconds": round(cold_s, 3),
            "cold_ratio": round(ratio_cold, 5),
            "cold_wrote": cold.wrote,
        },
        "watch": watch,
        "store": {"live": stats["total_live"], "db_bytes": stats["database"]["bytes"]},
        "checks": {
            "chunks": {
                "value": first.chunks_added,
                "target": ">= 20000" if not quick else "-",
                "pass": quick or first.chunks_added >= TARGET_CHUNKS,
            },
            "reingest_ratio": {
                "value": round(max(ratio_warm, ratio_cold), 5),
                "target": f"<= {REINGEST_RATIO}",
                "pass": max(ratio_warm, ratio_cold) <= REINGEST_RATIO and not again.wrote,
            },
            "watch_latency_s": {
                "value": watch["max_s"],
                "target": f"<= {WATCH_SECONDS}",
                "pass": watch["max_s"] <= WATCH_SECONDS,
            },
        },
        "info": {
            "files": files,
            "files_per_s": round(files / secs, 2) if secs else None,
            "chunks_per_s": round(first.chunks_added / secs, 2) if secs else None,
            "embed_share": round(first.embed_seconds / secs, 3) if secs else None,
            "first_ingest_s": round(secs, 1),
        },
    }
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    r = run(quick=args.quick)
    f, re_, w = r["first_ingest"], r["reingest"], r["watch"]
    print_table(
        "Ingest" + (" (quick)" if args.quick else ""),
        ["metric", "value"],
        [
            ["files ingested", f["files_new"]],
            ["chunks stored", f["chunks_added"]],
            ["first ingest (s)", f["seconds"]],
            ["files/s", f["files_per_s"]],
            ["chunks/s", f["chunks_per_s"]],
            ["time embedding", f"{100 * (f['embed_share'] or 0):.1f}%"],
            ["re-ingest unchanged, warm (s)", re_["warm_seconds"]],
            ["  share of first ingest", f"{100 * re_['warm_ratio']:.2f}%"],
            ["store reopen (s)", re_["reopen_seconds"]],
            ["re-ingest unchanged, after reopen (s)", re_["cold_seconds"]],
            ["  share of first ingest", f"{100 * re_['cold_ratio']:.2f}%"],
            ["watch: start (s)", w["startup_seconds"]],
            ["watch: edit → searchable, median (s)", w["median_s"]],
            ["watch: edit → searchable, max (s)", w["max_s"]],
        ],
    )
    skipped = {k: v["count"] for k, v in f["skipped"].items()}
    print(f"skipped: {skipped}")
    path = write_result("ingest", r)
    print(f"wrote {path}")
    return 0 if all(c["pass"] for c in r["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
