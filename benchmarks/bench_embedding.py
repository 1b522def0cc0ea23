"""Embedding throughput on real conversation turns (LoCoMo), CPU, the default model.

Measures (a) sentences/s at batch 32 with 1 intra-op thread, (b) the pipeline's overhead
(tokenize + pad + pool + normalise) over bare `session.run` on the very same batches, and
(c) length-bucketed vs input-order batching. Prints a table and writes
benchmarks/results/embedding.json. `run(quick=True)` is the short version for run_all.py.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a plain script from a checkout

from magray_tui.ai import Embedder, load_embedder  # noqa: E402
from magray_tui.config import load_settings  # noqa: E402

LOCOMO = ROOT.parent / "shared" / "data" / "locomo"
RESULTS = ROOT / "benchmarks" / "results" / "embedding.json"
BATCH = 32
TARGET_RATE = 100.0
TARGET_OVERHEAD = 1.10


def load_turns(limit: int, lo: int = 10, hi: int = 35) -> list[str]:
    """Dialogue turns of lo..hi words, in file order (so input order is realistic).

    The five shared conversations hold only 1,074 turns of 15-25 words; 10-35 gives 2,105
    turns that still average ~20 words, enough for the 2,000 this benchmark wants.
    """
    turns: list[str] = []
    for path in sorted(LOCOMO.glob("conv-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            if not (key.startswith("session_") and isinstance(value, list)):
                continue
            for turn in value:
                text = str(turn.get("text", ""))
                if lo <= len(text.split()) <= hi:
                    turns.append(text)
    if not turns:
        raise SystemExit(f"no LoCoMo turns found under {LOCOMO}")
    return turns[:limit]


def _seconds(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _batches(emb: Embedder, seqs: list[list[int]], bucketed: bool) -> list[dict]:
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i])) if bucketed else range(len(seqs))
    order = list(order)
    feeds = []
    for start in range(0, len(order), BATCH):
        ids, mask = emb.pad([seqs[i] for i in order[start : start + BATCH]])
        feeds.append(emb.make_feeds(ids, mask))
    return feeds


def _bare(emb: Embedder, feeds: list[dict]) -> None:
    out = [emb.output_name]
    for feed in feeds:
        emb.session.run(out, feed)


def _padding(feeds: list[dict]) -> float:
    padded = sum(f["input_ids"].size for f in feeds)
    real = sum(int(f["attention_mask"].sum()) for f in feeds)
    return padded / real


def run(quick: bool = False) -> dict[str, Any]:
    n, repeats = (320, 2) if quick else (2000, 3)
    texts = load_turns(n)
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(
            home,
            embedding={
                "device": "cpu",
                "batch_size": BATCH,
                "intra_op_threads": 1,
                "cache_size": 0,
            },
        )
        emb = load_embedder(settings)
        seqs = [e.ids for e in emb.tokenizer.encode_batch(texts)]
        bucketed = _batches(emb, seqs, bucketed=True)
        in_order = _batches(emb, seqs, bucketed=False)
        emb.embed_documents(texts[:BATCH])  # warm up allocator and kernels

        # Interleave pipeline and bare runs so drifting machine load hits both alike, and
        # keep the best of each: the run least disturbed by other work on the machine.
        pipeline_s = bare_s = order_s = float("inf")
        for _ in range(repeats):
            pipeline_s = min(pipeline_s, _seconds(lambda: emb.embed_documents(texts)))
            bare_s = min(bare_s, _seconds(lambda: _bare(emb, bucketed)))
            order_s = min(order_s, _seconds(lambda: _bare(emb, in_order)))
        words = sum(len(t.split()) for t in texts) / len(texts)
        result = {
            "model": emb.model_id,
            "provider": emb.provider,
            "intra_op_threads": 1,
            "batch_size": BATCH,
            "sentences": len(texts),
            "mean_words": round(words, 1),
            "mean_tokens": round(sum(map(len, seqs)) / len(seqs), 1),
            "sentences_per_s": round(len(texts) / pipeline_s, 1),
            "bare_sentences_per_s": round(len(texts) / bare_s, 1),
            "overhead_ratio": round(pipeline_s / bare_s, 3),
            "bucketed_s": round(bare_s, 3),
            "input_order_s": round(order_s, 3),
            "bucketing_speedup": round(order_s / bare_s, 2),
            "padding_bucketed": round(_padding(bucketed), 3),
            "padding_input_order": round(_padding(in_order), 3),
            "targets": {"sentences_per_s": TARGET_RATE, "overhead_ratio": TARGET_OVERHEAD},
            "quick": quick,
            "machine": {
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "onnxruntime": _ort_version(),
            },
        }
    result["meets_targets"] = (
        result["sentences_per_s"] >= TARGET_RATE and result["overhead_ratio"] <= TARGET_OVERHEAD
    )
    return result


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def print_table(r: dict[str, Any]) -> None:
    rows = [
        ("model / provider", f"{r['model']} / {r['provider']}, 1 thread, batch {r['batch_size']}"),
        (
            "texts",
            f"{r['sentences']} LoCoMo turns, {r['mean_words']} words, "
            f"{r['mean_tokens']} tokens on average",
        ),
        ("sentences/s (pipeline)", f"{r['sentences_per_s']:.1f}   target ≥ {TARGET_RATE:.0f}"),
        ("sentences/s (bare run)", f"{r['bare_sentences_per_s']:.1f}"),
        ("overhead ratio", f"{r['overhead_ratio']:.3f}   target ≤ {TARGET_OVERHEAD:.2f}"),
        (
            "bucketed vs input order",
            f"{r['bucketed_s']:.2f} s vs {r['input_order_s']:.2f} s "
            f"({r['bucketing_speedup']:.2f}× faster)",
        ),
        (
            "padding / real tokens",
            f"{r['padding_bucketed']:.2f} bucketed, {r['padding_input_order']:.2f} input order",
        ),
        ("meets targets", "yes" if r["meets_targets"] else "NO"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    result = run(quick=quick)
    print_table(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
