"""The packaged embedding model vs the int8-kernel default built from the fp32 weights.

On the same 2,000 LoCoMo turns:
- accuracy gates against the fp32 model built from the same weights: cosine (mean, min)
  and top-10 neighbour overlap among the 2,000 (the packaged model is measured too);
- sentences/s through `Embedder.embed_documents` (cache cleared) for each model with
  1 intra-op thread and with all cores, per length bucket (texts sorted by token length,
  cut into four buckets of 500), plus bare `session.run` on the same padded batches, so
  the pipeline's own cost shows.

    .venv/bin/python benchmarks/bench_embed_models.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_settings, locomo_turn_texts, print_table, temp_home, write_result

NAME = "bench_embed_models"
PACKAGED, DEFAULT, FP32 = "all-minilm-l6-v2-int8", "all-minilm-l6-v2-qint8", "all-minilm-l6-v2-fp32"
GATES = {"cos_mean": 0.99, "cos_min": 0.97, "top10_overlap": 0.95}
BUCKETS = 4


def load(home: Path, model_id: str, threads: int) -> Any:
    from magray_tui.ai import load_embedder

    return load_embedder(bench_settings(home, threads=threads), model_id)


def top10(vectors: np.ndarray) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -2.0)
    return np.argsort(-sims, axis=1)[:, :10]


def gates(ref: np.ndarray, got: np.ndarray) -> dict[str, float]:
    cos = (ref * got).sum(axis=1)
    a, b = top10(ref), top10(got)
    overlap = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)])
    return {
        "cos_mean": round(float(cos.mean()), 5),
        "cos_min": round(float(cos.min()), 5),
        "cos_p1": round(float(np.percentile(cos, 1)), 5),
        "top10_overlap": round(float(overlap), 4),
    }


def buckets(embedder: Any, texts: list[str]) -> list[list[str]]:
    """Texts sorted by token length, cut into BUCKETS equal parts (shortest first)."""
    lengths = [len(e.ids) for e in embedder.tokenizer.encode_batch(texts)]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    size = len(order) // BUCKETS
    return [[texts[i] for i in order[k * size : (k + 1) * size]] for k in range(BUCKETS)]


def throughput(embedder: Any, parts: list[list[str]]) -> dict[str, Any]:
    """sentences/s per bucket and overall, through the pipeline and bare session.run."""
    out: dict[str, Any] = {"buckets": []}
    total_n = total_pipe = total_bare = 0.0
    for part in parts:
        embedder.cache.clear()
        t0 = time.perf_counter()
        embedder.embed_documents(part)
        pipe = time.perf_counter() - t0
        seqs = [e.ids for e in embedder.tokenizer.encode_batch(part)]
        feeds = []
        for start in range(0, len(seqs), embedder.batch_size):
            ids, mask = embedder.pad(seqs[start : start + embedder.batch_size])
            feeds.append(embedder.make_feeds(ids, mask))
        t0 = time.perf_counter()
        for feed in feeds:
            embedder.session.run([embedder.output_name], feed)
        bare = time.perf_counter() - t0
        out["buckets"].append(
            {
                "tokens_max": max(len(s) for s in seqs),
                "sentences_per_s": round(len(part) / pipe, 1),
                "bare_run_sentences_per_s": round(len(part) / bare, 1),
            }
        )
        total_n, total_pipe, total_bare = total_n + len(part), total_pipe + pipe, total_bare + bare
    out["sentences_per_s"] = round(total_n / total_pipe, 1)
    out["bare_run_sentences_per_s"] = round(total_n / total_bare, 1)
    out["pipeline_overhead"] = round(total_pipe / total_bare - 1, 3)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    texts = locomo_turn_texts()[: 400 if quick else 2000]
    cores = os.cpu_count() or 1
    load_start = os.getloadavg()
    with temp_home() as home:
        vectors = {}
        for model_id in (FP32, PACKAGED, DEFAULT):
            emb = load(home, model_id, cores)
            vectors[model_id] = emb.embed_documents(texts)
        accuracy = {m: gates(vectors[FP32], vectors[m]) for m in (PACKAGED, DEFAULT)}
        speed: dict[str, Any] = {}
        parts: list[list[str]] | None = None
        for model_id in (PACKAGED, DEFAULT):
            for threads in (1, cores):
                emb = load(home, model_id, threads)
                parts = parts or buckets(emb, texts)
                throughput(emb, parts[:1])  # warm-up (allocator, thread pool)
                speed[f"{model_id} threads={threads}"] = throughput(emb, parts)
    passed = {k: accuracy[DEFAULT][k] >= v for k, v in GATES.items()}
    base = speed[f"{PACKAGED} threads=1"]["sentences_per_s"]
    ratios = {k: round(v["sentences_per_s"] / base, 2) for k, v in speed.items()}
    data = {
        "sentences": len(texts),
        "cores": cores,
        "load_average_at_start": load_start,
        "load_average_at_end": os.getloadavg(),
        "gates": GATES,
        "accuracy_vs_fp32": accuracy,
        "gates_passed": passed,
        "throughput": speed,
        "ratio_vs_packaged_1_thread": ratios,
    }
    print_table(
        "accuracy against the fp32 model (gates: cos mean ≥ 0.99, min ≥ 0.97, top-10 ≥ 0.95)",
        ["model vs fp32", "cos mean", "cos min", "top-10 overlap"],
        [[m, a["cos_mean"], a["cos_min"], a["top10_overlap"]] for m, a in accuracy.items()],
    )
    print_table(
        f"sentences/s on {len(texts)} LoCoMo turns (load {load_start[0]:.1f})",
        ["model, threads", "sentences/s", "bare run/s", "overhead", "× packaged 1 thread"],
        [
            [
                k,
                v["sentences_per_s"],
                v["bare_run_sentences_per_s"],
                v["pipeline_overhead"],
                ratios[k],
            ]
            for k, v in speed.items()
        ],
    )
    write_result(f"{NAME}_quick" if quick else NAME, data)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 sentences")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    main()
