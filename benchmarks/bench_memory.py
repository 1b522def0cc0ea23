"""The memory engine at scale: 100k records x 384-d on this machine (10k with --quick).

(a) vector index only: recall@10 against exact search and latency of VectorIndex.search
    for ef_search in {16, 32, 64, 128}; realistic vectors, plus uniform random (worst case);
(b) insert of precomputed vectors through MemoryService.add_many (store + both indexes);
(c) resident memory added by the records (after insert, after a reopen, in a fresh process);
(d) MemoryService.search end to end (query text in, hits out; hybrid, k=10): cold and
    cached query embeddings, with a layer filter, and the cost of counting accesses;
(e) open time of the store (indexes loaded from disk, no rebuild) and a full reindex.

Realistic vectors: a few thousand real texts (LoCoMo dialogue turns and prose sentences
from the docstrings of the installed packages) are embedded with the packaged model; each
synthetic record mixes 2-3 of those embeddings (weights: a dominant one 0.5-0.8, the rest
split at random), adds Gaussian noise (norm ~0.15) and is renormalised. Its text joins the
texts of its two largest components. Queries are real LoCoMo questions embedded by the
same model.

    .venv/bin/python benchmarks/bench_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    bench_settings,
    docstring_sentences,
    locomo_questions,
    locomo_turn_texts,
    percentiles,
    print_table,
    rss_mb,
    temp_home,
    write_result,
)

NAME = "bench_memory"
EF_VALUES = (16, 32, 64, 128)
PASSES = 3
K = 10
SEED = 1234
LAYERS = ("interact", "insights", "assets")
LAYER_P = (0.2, 0.3, 0.5)
KINDS = ("note", "fact", "turn", "snippet")
TAGS = ("work", "home", "python", "idea", "todo", "travel", "health", "reading")
SOURCES = ("chat", "manual", "file", "agent")
NOISE_NORM = 0.15
TARGETS = {
    "index_recall@10": (">=", 0.95),
    "index_p50_ms": ("<=", 0.5),
    "insert_per_s": (">=", 1000.0),
    "rss_added_after_insert_mb": ("<=", 200.0),
    "rss_added_after_reopen_mb": ("<=", 200.0),
    "search_cold_p50_ms": ("<=", 15.0),
    "search_cold_p95_ms": ("<=", 30.0),
    "search_cached_p50_ms": ("<=", 3.0),
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- synthetic records ----------------------------------------------------------------------
class Synth:
    """Deterministic realistic records around real embeddings, generated chunk by chunk
    (the full 100k x 384 matrix is never held while memory is being measured)."""

    def __init__(self, base_vecs: np.ndarray, base_texts: list[str], seed: int = SEED) -> None:
        self.base = np.asarray(base_vecs, dtype=np.float32)
        self.texts = base_texts
        self.seed = seed
        self.t0 = datetime(2023, 1, 1)

    def chunk(self, index: int, size: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
        rng = np.random.default_rng([self.seed, index])
        nb, dim = self.base.shape
        parts = rng.integers(2, 4, size)  # 2 or 3 components
        comps = rng.integers(0, nb, (size, 3))
        w = np.zeros((size, 3), dtype=np.float32)
        w[:, 0] = rng.uniform(0.5, 0.8, size)
        split = rng.uniform(0.0, 1.0, size)
        rest = 1.0 - w[:, 0]
        w[:, 1] = np.where(parts == 3, rest * split, rest)
        w[:, 2] = np.where(parts == 3, rest * (1 - split), 0.0)
        vecs = np.einsum("nk,nkd->nd", w, self.base[comps])
        noise = rng.standard_normal((size, dim)).astype(np.float32)
        noise *= NOISE_NORM / np.linalg.norm(noise, axis=1, keepdims=True)
        vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True) + noise
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        layers = rng.choice(len(LAYERS), size, p=LAYER_P)
        kinds = rng.integers(0, len(KINDS), size)
        n_tags = rng.integers(0, 3, size)
        tag_pick = rng.integers(0, len(TAGS), (size, 2))
        days = rng.uniform(0, 730, size)
        sessions = rng.integers(0, 500, size)
        sources = rng.integers(0, len(SOURCES), size)
        items = []
        for i in range(size):
            second = comps[i, 1] if w[i, 1] >= w[i, 2] else comps[i, 2]
            items.append(
                {
                    "text": f"{self.texts[comps[i, 0]]} {self.texts[second]}",
                    "layer": LAYERS[layers[i]],
                    "kind": KINDS[kinds[i]],
                    "tags": sorted({TAGS[t] for t in tag_pick[i, : n_tags[i]]}),
                    "session": f"s{sessions[i]}",
                    "source": SOURCES[sources[i]],
                    "created_at": self.t0 + timedelta(days=float(days[i])),
                    "metadata": {"n": int(index * size + i)},
                }
            )
        return vecs.astype(np.float32), items


def base_corpus(quick: bool) -> tuple[list[str], list[str], int]:
    """(base texts, query texts, how many of the base texts are LoCoMo turns): real LoCoMo
    turns and docstring prose; LoCoMo questions."""
    turns = list(dict.fromkeys(locomo_turn_texts()))
    docs = docstring_sentences(limit=200 if quick else 2000, max_files=400 if quick else 3000)
    if quick:
        turns = turns[::9]
    questions = list(dict.fromkeys(locomo_questions()))
    return turns + docs, questions, len(turns)


# ---- profiling helpers ----------------------------------------------------------------------
class StageTimer:
    """Wraps methods of live objects to add up the time spent in each (for profiles)."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[float]] = defaultdict(list)
        self._undo: list[Callable[[], None]] = []

    def wrap(self, obj: Any, method: str, label: str | None = None) -> None:
        label = label or method
        original = getattr(obj, method)
        own = vars(obj).get(method)  # a class's own function, or an instance override

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                self.total[label] += dt
                self.calls[label] += 1
                self.samples[label].append(dt * 1000)

        setattr(obj, method, timed)
        if own is None:
            self._undo.append(lambda: delattr(obj, method))
        else:
            self._undo.append(lambda: setattr(obj, method, own))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def report(self, per: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for label, total in self.total.items():
            row = {"total_s": round(total, 3), "calls": self.calls[label]}
            if per:
                row["ms_per_query"] = round(1000 * total / per, 4)
                row["p50_ms_per_call"] = percentiles(self.samples[label]).get("p50")
            out[label] = row
        return out


# ---- (a) index only -------------------------------------------------------------------------
def index_sweep(index: Any, queries: np.ndarray, label: str) -> dict[str, Any]:
    """recall@10 (k=10) and recall@50 (k=50, the depth hybrid search asks for) vs exact."""
    ids = np.asarray(index._index.get_ids_list(), dtype=np.int64)
    data = np.asarray(index._index.get_items(ids, return_type="numpy"), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    sims = queries @ data.T
    exact10 = ids[np.argsort(-sims, axis=1)[:, :K]]
    exact50 = ids[np.argsort(-sims, axis=1)[:, :50]]
    del data, sims
    rows: dict[str, Any] = {}
    saved = index.params.ef_search
    for ef in EF_VALUES:
        index.params.ef_search = ef
        for q in queries[:20]:  # warm
            index.search(q, K)
        lat, rec = [], []
        for q, truth in zip(queries, exact10, strict=True):
            t0 = time.perf_counter()
            hits = index.search(q, K)
            lat.append((time.perf_counter() - t0) * 1000)
            rec.append(len({s for s, _ in hits} & set(truth.tolist())) / K)
        lat50, rec50 = [], []
        for q, truth in zip(queries, exact50, strict=True):
            t0 = time.perf_counter()
            hits = index.search(q, 50)
            lat50.append((time.perf_counter() - t0) * 1000)
            rec50.append(len({s for s, _ in hits} & set(truth.tolist())) / 50)
        rows[str(ef)] = {
            "recall@10": round(float(np.mean(rec)), 4),
            "latency_ms": percentiles(lat),
            "k50_recall@50": round(float(np.mean(rec50)), 4),
            "k50_latency_ms": percentiles(lat50),
        }
        log(f"{label} ef={ef}: recall@10 {np.mean(rec):.4f} p50 {np.median(lat):.3f} ms")
    index.params.ef_search = saved
    return rows


def realism(queries: np.ndarray, base: np.ndarray, index: Any) -> dict[str, Any]:
    """How the synthetic cloud looks from real queries, next to the real texts it came from."""
    top_base = np.sort(queries @ base.T, axis=1)[:, ::-1]
    out = {
        "real_texts_top1_cos": round(float(top_base[:, 0].mean()), 4),
        "real_texts_top10_cos": round(float(top_base[:, 9].mean()), 4),
    }
    index.params.ef_search = 256
    hits = [index.search(q, K) for q in queries[:200]]
    out["synthetic_top1_cos"] = round(float(np.mean([h[0][1] for h in hits])), 4)
    out["synthetic_top10_cos"] = round(float(np.mean([h[-1][1] for h in hits])), 4)
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(base), (2000, 2))
    out["real_texts_random_pair_cos"] = round(
        float(np.mean(np.sum(base[pairs[:, 0]] * base[pairs[:, 1]], axis=1))), 4
    )
    return out


def rebuild_with(index: Any, params: Any, directory: Path, queries: np.ndarray) -> dict[str, Any]:
    """The same vectors in a new index built with `params` (one thread, as the service)."""
    from magray_tui.memory.vector_index import VectorIndex

    ids = np.sort(np.asarray(index._index.get_ids_list(), dtype=np.int64))
    other = VectorIndex(directory, params, "efc")
    t0 = time.perf_counter()
    for start in range(0, len(ids), 256):
        part = ids[start : start + 256]
        other.add(part, np.asarray(index._index.get_items(part, return_type="numpy")))
    build = time.perf_counter() - t0
    return {
        "ef_construction": params.ef_construction,
        "build_s_1_thread": round(build, 1),
        "build_per_s": round(len(ids) / build, 1),
        "by_ef": index_sweep(other, queries, f"efc={params.ef_construction}"),
    }


def random_worst_case(n: int, dim: int, queries_n: int, home: Path) -> dict[str, Any]:
    from magray_tui.memory.vector_index import IndexParams, VectorIndex

    cfg = bench_settings(home).memory
    params = IndexParams(dim, cfg.hnsw_m, cfg.hnsw_ef_construction, cfg.hnsw_ef_search)
    index = VectorIndex(home / "random-index", params, "random")
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    for start in range(0, n, 10_000):
        m = min(10_000, n - start)
        v = rng.standard_normal((m, dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        index.add(np.arange(start + 1, start + m + 1), v)
        if start == 0:
            index._index.set_num_threads(2)  # build only; searches are single queries
    build = time.perf_counter() - t0
    q = rng.standard_normal((queries_n, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    rows = index_sweep(index, q, "uniform random")
    return {"build_s_2_threads": round(build, 1), "by_ef": rows}


# ---- (d) search ---------------------------------------------------------------------------
def load_average() -> list[float] | None:
    """1/5/15-minute load: other work on the machine skews every latency here."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def settle_rss(max_s: float = 30.0) -> tuple[float, float]:
    """RSS once background work (tantivy merges, allocator decay) has let go: polled each
    second until it moves less than 2 MB in 3 s. Returns (MB, seconds waited)."""
    t0 = time.perf_counter()
    history = [rss_mb()]
    while time.perf_counter() - t0 < max_s:
        time.sleep(1.0)
        gc.collect()
        history.append(rss_mb())
        if len(history) >= 4 and max(history[-4:]) - min(history[-4:]) < 2.0:
            break
    return history[-1], round(time.perf_counter() - t0, 1)


def duckdb_memory(svc: Any) -> dict[str, float]:
    """DuckDB's own account of its memory (diagnostic only)."""
    try:
        rows = (
            svc.store._cursor()
            .execute("SELECT tag, memory_usage_bytes FROM duckdb_memory()")
            .fetchall()
        )
    except Exception:
        return {}
    return {tag: round(b / 2**20, 1) for tag, b in rows if b}


def measure_latency(
    svc: Any,
    queries: list[str],
    *,
    cold: bool,
    passes: int | None = None,
    before: Callable[[], None] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """Latency of `queries` over several passes: the first pass as it came, and per query
    the fastest pass (the one least disturbed by other work on the machine). `cold`
    empties the embedding cache before each pass; otherwise one unmeasured pass warms it."""
    passes = passes or PASSES
    if not cold:
        time_searches(svc, queries, before=before, **kw)
    runs = []
    for _ in range(passes):
        if cold:
            svc.embedder.cache.clear()
        runs.append(time_searches(svc, queries, before=before, **kw))
    return {
        "single_pass": percentiles(runs[0]),
        f"best_of_{passes}": percentiles(np.min(np.asarray(runs), axis=0).tolist()),
    }


def allowed_cache_clearer(svc: Any) -> Callable[[], None]:
    return svc.core.retriever.clear_allowed_cache


def time_searches(
    svc: Any, queries: list[str], before: Callable[[], None] | None = None, **kw: Any
) -> list[float]:
    lat = []
    for q in queries:
        if before:
            before()
        t0 = time.perf_counter()
        svc.search(q, K, **kw)
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


def profile_search(svc: Any, queries: list[str], cold: bool, **kw: Any) -> dict[str, Any]:
    st = StageTimer()
    st.wrap(svc.embedder, "embed_query", "embed_query")
    st.wrap(svc.indexes.vectors, "search", "hnsw_search")
    st.wrap(svc.indexes.keywords, "search", "tantivy_search")
    from magray_tui.memory.repository_writes import Writes

    st.wrap(svc.core.repo, "get_many", "duckdb_get_many")
    st.wrap(svc.core.repo, "allowed_seqs", "duckdb_allowed_seqs")
    st.wrap(svc.core.repo, "vectors_for", "duckdb_vectors_for")
    st.wrap(Writes, "record_accesses", "duckdb_record_accesses")
    if cold:
        svc.embedder.cache.clear()
    t0 = time.perf_counter()
    try:
        lat = time_searches(svc, queries, **kw)
    finally:
        st.restore()
    total = time.perf_counter() - t0
    stages = st.report(per=len(queries))
    stages["total"] = {
        "ms_per_query": round(1000 * total / len(queries), 4),
        "p50_ms": percentiles(lat)["p50"],
    }
    known = sum(v["ms_per_query"] for k, v in stages.items() if k != "total")
    stages["other_python"] = {"ms_per_query": round(stages["total"]["ms_per_query"] - known, 4)}
    return stages


FRESH_OPEN = r"""
import json, sys, time, gc
sys.path.insert(0, {repo!r}); sys.path.insert(0, {bench!r})
import psutil
from common import bench_settings
from magray_tui.ai import load_embedder
from magray_tui.memory.service import MemoryService
home = {home!r}
settings = bench_settings(home)
emb = load_embedder(settings)
emb.embed_query("warm up the model")
gc.collect()
p = psutil.Process()
r0 = p.memory_info().rss
t0 = time.perf_counter()
svc = MemoryService.open(home, settings=settings, embedder=emb)
t1 = time.perf_counter()
gc.collect()
r1 = p.memory_info().rss
svc.search("what did we decide about the trip?", 10, count_access=False)
t2 = time.perf_counter()
svc.search("what did we decide about the trip?", 10, count_access=False)
t3 = time.perf_counter()
r2 = p.memory_info().rss
rep = svc.catch_up_report
svc.close()
print(json.dumps({{"open_s": t1 - t0, "rss_before_open_mb": r0 / 2**20,
    "rss_added_by_open_mb": (r1 - r0) / 2**20, "rss_added_after_search_mb": (r2 - r0) / 2**20,
    "first_search_ms": (t2 - t1) * 1000, "second_search_ms": (t3 - t2) * 1000,
    "rebuilt": rep.rebuilt, "vector_loaded": rep.vector_loaded,
    "keyword_loaded": rep.keyword_loaded}}))
"""


def fresh_process_open(home: Path) -> dict[str, Any]:
    code = FRESH_OPEN.format(repo=str(REPO), bench=str(Path(__file__).parent), home=str(home))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}


# ---- the run --------------------------------------------------------------------------------
def run(quick: bool = False) -> dict[str, Any]:
    from magray_tui.ai import load_embedder
    from magray_tui.memory.service import MemoryService
    from magray_tui.memory.vector_index import VectorIndex

    n_records = 10_000 if quick else 100_000
    chunk = 10_000
    n_queries = 50 if quick else 300
    passes = 2 if quick else PASSES
    t_start = time.perf_counter()
    result: dict[str, Any] = {"quick": quick, "records": n_records, "k": K}
    result["load_average_at_start"] = load_average()

    with temp_home("magray-bench-memory-") as home:
        # -- corpus: real texts embedded with the real model (2 threads: setup only)
        base_texts, questions, n_turns = base_corpus(quick)
        log(f"embedding {len(base_texts)} base texts and {len(questions)} questions")
        setup_emb = load_embedder(bench_settings(home, threads=2))
        t0 = time.perf_counter()
        base_vecs = setup_emb.embed_documents(base_texts)
        n_index_queries = 100 if quick else 500
        q_vecs = np.stack([setup_emb.embed_query(q) for q in questions[:n_index_queries]])
        result["corpus"] = {
            "base_texts": len(base_texts),
            "locomo_turns": n_turns,
            "query_texts": len(questions),
            "index_queries": n_index_queries,
            "embed_s": round(time.perf_counter() - t0, 1),
            "construction": (
                "each record = normalise(w1*e1 + w2*e2 [+ w3*e3]) + Gaussian noise of norm "
                f"{NOISE_NORM}, renormalised; e_i = embeddings of random real texts (LoCoMo "
                "turns, docstring sentences of installed packages) by the packaged model; "
                "w1 ~ U(0.5, 0.8), the rest split at random over 1-2 more components; text = "
                "the texts of the two largest components; layers 20/30/50% "
                "interact/insights/assets, 0-2 of 8 tags, 500 sessions, dates over 2 years; "
                "queries = real LoCoMo questions embedded by the same model"
            ),
        }
        del setup_emb
        synth = Synth(base_vecs, base_texts)
        settings = bench_settings(home)  # the defaults a user gets (1 onnxruntime thread)
        embedder = load_embedder(settings)
        embedder.embed_query("warm up the model")
        result["settings"] = {
            k: getattr(settings.memory, k)
            for k in ("hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "rrf_k", "keyword_weight")
        } | {"intra_op_threads": settings.embedding.intra_op_threads}

        # -- (b) insert + (c) memory
        gc.collect()
        rss0 = rss_mb()
        svc = MemoryService.open(home, settings=settings, embedder=embedder)
        st = StageTimer()
        from magray_tui.memory.repository_writes import Writes

        st.wrap(Writes, "insert", "duckdb_insert")
        st.wrap(svc.indexes.vectors, "add", "hnsw_add")
        st.wrap(svc.indexes.keywords, "upsert", "tantivy_upsert")
        st.wrap(svc.indexes.keywords, "commit", "tantivy_commit")
        st.wrap(svc.indexes.vectors, "save", "hnsw_save_checkpoint")
        log(f"inserting {n_records} records")
        gen_s = 0.0
        t0 = time.perf_counter()
        for c in range(0, n_records // chunk):
            g0 = time.perf_counter()
            vecs, items = synth.chunk(c, chunk)
            gen_s += time.perf_counter() - g0
            svc.add_many(items, vectors=vecs)
            del vecs, items
            if (c + 1) % 2 == 0:
                done = (c + 1) * chunk
                log(f"  {done} records, {done / (time.perf_counter() - t0 - gen_s):.0f}/s")
        insert_s = time.perf_counter() - t0 - gen_s
        st.restore()
        gc.collect()
        rss1_now = rss_mb()
        rss1, settle_s = settle_rss()
        duck_mem = duckdb_memory(svc)
        stages = st.report()
        accounted = sum(v["total_s"] for v in stages.values())
        stages["validation_and_other"] = {"total_s": round(insert_s - accounted, 3)}
        result["insert"] = {
            "records": n_records,
            "seconds": round(insert_s, 2),
            "per_s": round(n_records / insert_s, 1),
            "add_many_batch": 256,
            "stages": stages,
        }
        log(f"insert: {n_records / insert_s:.0f} records/s")

        # Searches right after a bulk insert compete with the keyword index's background
        # segment merges (2 cores): one pass, reported apart from the steady state.
        warm = questions[-50:]
        qset = questions[:n_queries]
        search: dict[str, Any] = {
            "queries": len(qset),
            "distinct": len(set(qset)),
            "passes": passes,
        }
        svc.embedder.cache.clear()
        search["cold_right_after_insert"] = percentiles(
            time_searches(svc, qset, count_access=False)
        )
        search["cached_right_after_insert"] = percentiles(
            time_searches(svc, qset, count_access=False)
        )
        t0 = time.perf_counter()
        svc.close()  # waits for the merges
        close_s = time.perf_counter() - t0
        del svc
        gc.collect()

        # -- (e) open, (c) memory after reopen
        rss2 = rss_mb()
        t0 = time.perf_counter()
        svc = MemoryService.open(home, settings=settings, embedder=embedder)
        open_s = time.perf_counter() - t0
        rep = svc.catch_up_report
        gc.collect()
        rss3 = rss_mb()
        log(f"close {close_s:.2f} s, open {open_s:.2f} s")

        # -- (d) search end to end. The machine is shared: each case runs `passes` times and
        # keeps, per query, the least disturbed time ("best_of_N") next to the first pass.
        svc.embedder.cache.clear()
        time_searches(svc, warm, count_access=False)
        search["load_average"] = load_average()
        measure = functools.partial(measure_latency, passes=passes)
        search["cold"] = measure(svc, qset, cold=True, count_access=False)
        search["cached"] = measure(svc, qset, cold=False, count_access=False)
        search["cold_layer_filter"] = measure(
            svc, qset, cold=True, layers=["insights"], count_access=False
        )
        search["cached_layer_filter"] = measure(
            svc, qset, cold=False, layers=["insights"], count_access=False
        )
        # The seqs a filter allows are cached until the next write: also without that cache.
        search["cached_layer_filter_no_allowed_cache"] = measure(
            svc,
            qset,
            cold=False,
            layers=["insights"],
            count_access=False,
            before=allowed_cache_clearer(svc),
        )
        search["cached_tag_filter"] = measure(
            svc, qset, cold=False, tags=["travel"], count_access=False
        )
        search["cached_session_filter"] = measure(
            svc, qset, cold=False, session="s42", count_access=False
        )
        search["filter_sizes"] = {
            "layer insights": len(svc.list(layers=["insights"], limit=1_000_000)),
            "tag travel": len(svc.list(tags=["travel"], limit=1_000_000)),
            "session s42": len(svc.list(session="s42", limit=1_000_000)),
        }
        search["cached_count_access"] = measure(svc, qset, cold=False, count_access=True)
        search["modes_cached"] = {
            m: measure(svc, qset, cold=False, mode=m, count_access=False)
            for m in ("vector", "keyword")
        }
        search["profile"] = {
            "cold": profile_search(svc, qset, cold=True, count_access=False),
            "cached": profile_search(svc, qset, cold=False, count_access=False),
            "cached_layer_filter": profile_search(
                svc, qset, cold=False, layers=["insights"], count_access=False
            ),
            "cached_count_access": profile_search(svc, qset, cold=False, count_access=True),
        }
        result["search"] = search
        best = f"best_of_{passes}"
        log(
            f"search: cold p50 {search['cold'][best]['p50']:.2f} ms, "
            f"p95 {search['cold'][best]['p95']:.2f}; "
            f"cached p50 {search['cached'][best]['p50']:.2f} ms"
        )
        # -- (e) full reindex, then a fresh process
        t0 = time.perf_counter()
        svc.reindex()
        reindex_s = time.perf_counter() - t0
        svc.close()
        del svc
        gc.collect()
        log(f"reindex {reindex_s:.1f} s")
        fresh = fresh_process_open(home)
        result["open"] = {
            "close_after_insert_s": round(close_s, 3),
            "open_s": round(open_s, 3),
            "vector_loaded": rep.vector_loaded,
            "keyword_loaded": rep.keyword_loaded,
            "rebuilt": rep.rebuilt,
            "replayed": [rep.vector_replayed, rep.keyword_replayed],
            "reindex_s": round(reindex_s, 2),
            "reindex_per_s": round(n_records / reindex_s, 1),
            "fresh_process": fresh,
        }
        result["memory"] = {
            "rss_before_open_mb": round(rss0, 1),
            "rss_added_right_after_insert_mb": round(rss1_now - rss0, 1),
            "rss_added_after_insert_mb": round(rss1 - rss0, 1),
            "settle_s": settle_s,
            "duckdb_memory_after_insert_mb": duck_mem,
            "rss_after_close_mb": round(rss2, 1),
            "rss_added_by_reopen_mb": round(rss3 - rss2, 1),
            "rss_added_fresh_process_mb": fresh.get("rss_added_after_search_mb"),
            "disk_mb": round(
                sum(p.stat().st_size for p in home.rglob("*") if p.is_file()) / 2**20, 1
            ),
        }

        # -- (a) index only
        cfg = settings.memory
        from magray_tui.memory.vector_index import IndexParams

        params = IndexParams(embedder.dim, cfg.hnsw_m, cfg.hnsw_ef_construction, 64)
        index = VectorIndex(settings.paths.index_dir, params, embedder.model_id)
        assert index.load(), "the saved vector index did not load"
        iq = q_vecs
        result["index"] = {
            "queries": len(iq),
            "realistic": index_sweep(index, iq, "realistic"),
            "realism": realism(iq, base_vecs, index),
        }
        # What a cheaper build (ef_construction 100) would give: the insert-rate lever.
        log("same vectors, ef_construction=100")
        result["index"]["ef_construction_100"] = rebuild_with(
            index, IndexParams(embedder.dim, cfg.hnsw_m, 100, 64), home / "efc100", iq
        )
        del index
        gc.collect()
        log("uniform random worst case")
        result["index"]["uniform_random"] = random_worst_case(
            n_records, embedder.dim, len(iq), home
        )
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    result["load_average_at_end"] = load_average()
    result["checks"] = checks(result)
    result["info"] = info(result)
    print_report(result)
    write_result(f"{NAME}_quick" if quick else NAME, result)
    return result


def checks(r: dict[str, Any]) -> dict[str, Any]:
    """Latency targets are judged on the per-query best of the passes (see `measure`)."""
    ef = str(r["settings"]["hnsw_ef_search"])
    best = f"best_of_{r['search']['passes']}"
    real = r["index"]["realistic"].get(ef) or {}
    values = {
        "index_recall@10": real.get("recall@10"),
        "index_p50_ms": (real.get("latency_ms") or {}).get("p50"),
        "insert_per_s": r["insert"]["per_s"],
        "rss_added_after_insert_mb": r["memory"]["rss_added_after_insert_mb"],
        "rss_added_after_reopen_mb": max(
            r["memory"]["rss_added_by_reopen_mb"],
            r["memory"]["rss_added_fresh_process_mb"] or 0.0,
        ),
        "search_cold_p50_ms": r["search"]["cold"][best]["p50"],
        "search_cold_p95_ms": r["search"]["cold"][best]["p95"],
        "search_cached_p50_ms": r["search"]["cached"][best]["p50"],
    }
    out = {}
    for name, value in values.items():
        op, target = TARGETS[name]
        ok = value is not None and (value >= target if op == ">=" else value <= target)
        out[name] = {"value": value, "target": f"{op} {target}", "pass": bool(ok)}
    return out


def info(r: dict[str, Any]) -> dict[str, Any]:
    """Numbers worth a line in the summary that have no target."""
    ef = str(r["settings"]["hnsw_ef_search"])
    s, o, m = r["search"], r["open"], r["memory"]
    best = f"best_of_{s['passes']}"
    return {
        "records": r["records"],
        "load_average_during_search": s["load_average"],
        "search_cold_p50_ms_single_pass": s["cold"]["single_pass"]["p50"],
        "search_cold_p95_ms_single_pass": s["cold"]["single_pass"]["p95"],
        "search_cached_p50_ms_single_pass": s["cached"]["single_pass"]["p50"],
        "search_cold_layer_filter_p50_ms": s["cold_layer_filter"][best]["p50"],
        "search_cached_layer_filter_p50_ms": s["cached_layer_filter"][best]["p50"],
        "search_cached_count_access_mean_ms": s["cached_count_access"]["single_pass"]["mean"],
        "open_s": o["open_s"],
        "open_rebuilt": ",".join(o["rebuilt"]) or "nothing",
        "reindex_s": o["reindex_s"],
        "rss_added_fresh_process_mb": m["rss_added_fresh_process_mb"],
        "uniform_random_recall@10": r["index"]["uniform_random"]["by_ef"][ef]["recall@10"],
    }


def print_report(r: dict[str, Any]) -> None:
    n = r["records"]
    rows = []
    for label in ("realistic",):
        for ef, row in r["index"][label].items():
            rows.append(
                [
                    f"{label} ef={ef}",
                    row["recall@10"],
                    row["latency_ms"]["p50"],
                    row["latency_ms"]["p95"],
                    row["k50_recall@50"],
                    row["k50_latency_ms"]["p50"],
                ]
            )
    efc = r["index"].get("ef_construction_100")
    for ef, row in (efc["by_ef"] if efc else {}).items():
        rows.append(
            [
                f"realistic, ef_construction=100, ef={ef}",
                row["recall@10"],
                row["latency_ms"]["p50"],
                row["latency_ms"]["p95"],
                row["k50_recall@50"],
                row["k50_latency_ms"]["p50"],
            ]
        )
    for ef, row in r["index"]["uniform_random"]["by_ef"].items():
        rows.append(
            [
                f"uniform random ef={ef}",
                row["recall@10"],
                row["latency_ms"]["p50"],
                row["latency_ms"]["p95"],
                row["k50_recall@50"],
                row["k50_latency_ms"]["p50"],
            ]
        )
    print_table(
        f"(a) VectorIndex.search, {n:,} x 384",
        ["vectors", "recall@10", "p50 ms", "p95 ms", "k=50 recall@50", "k=50 p50 ms"],
        rows,
    )
    s = r["search"]
    best = f"best_of_{s['passes']}"

    def cells(m: dict[str, Any]) -> list[Any]:
        one, low = m["single_pass"], m[best]
        return [one["p50"], one["p95"], one["mean"], low["p50"], low["p95"]]

    rows = [
        [name, *cells(s[key])]
        for name, key in (
            ("hybrid, cold embedding", "cold"),
            ("hybrid, cached embedding", "cached"),
            ("hybrid + layer filter, cold", "cold_layer_filter"),
            ("hybrid + layer filter, cached", "cached_layer_filter"),
            ("  same, allowed-set cache off", "cached_layer_filter_no_allowed_cache"),
            ("hybrid + tag filter, cached", "cached_tag_filter"),
            ("hybrid + session filter, cached", "cached_session_filter"),
            ("hybrid, cached, count_access=True", "cached_count_access"),
        )
    ]
    rows += [[f"{m}, cached", *cells(v)] for m, v in s["modes_cached"].items()]
    for name, key in (
        ("right after bulk insert, cold", "cold_right_after_insert"),
        ("right after bulk insert, cached", "cached_right_after_insert"),
    ):
        v = s[key]
        rows.append([name, v["p50"], v["p95"], v["mean"], None, None])
    print_table(
        f"(d) MemoryService.search at {n:,} (k=10, {s['queries']} queries, "
        f"load {s['load_average']})",
        ["case", "p50 ms", "p95 ms", "mean ms", f"{best} p50", f"{best} p95"],
        rows,
    )
    rows = []
    for case, prof in s["profile"].items():
        for stage, v in prof.items():
            rows.append([f"{case}: {stage}", v.get("ms_per_query"), v.get("p50_ms_per_call")])
    print_table("(d) search profile (ms per query)", ["stage", "mean ms", "p50 ms/call"], rows)
    ins = r["insert"]
    rows = [["total", ins["seconds"], ins["per_s"]]] + [
        [stage, v["total_s"], None] for stage, v in ins["stages"].items()
    ]
    print_table(f"(b) insert {n:,} via add_many(vectors=...)", ["stage", "seconds", "per s"], rows)
    m, o = r["memory"], r["open"]
    rows = [[k, v] for k, v in m.items()] + [
        ["close after insert (waits for merges) s", o["close_after_insert_s"]],
        ["open_s", o["open_s"]],
        ["open rebuilt", ",".join(o["rebuilt"]) or "nothing"],
        ["fresh process open_s", o["fresh_process"].get("open_s")],
        ["reindex_s", o["reindex_s"]],
    ]
    print_table("(c) memory, (e) open", ["measure", "value"], rows)
    rows = [
        [k, v["value"], v["target"], "pass" if v["pass"] else "FAIL"]
        for k, v in r["checks"].items()
    ]
    print_table("targets", ["metric", "value", "target", "result"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k records, under a minute")
    args = parser.parse_args()
    run(quick=args.quick)


if __name__ == "__main__":
    main()
