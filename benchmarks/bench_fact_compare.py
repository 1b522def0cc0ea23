"""Precision and recall of the duplicate / update classifier (memory/fact_compare.py) on a
labelled set of sentence pairs (benchmarks/data/fact_pairs.jsonl).

The set: pairs (older, newer, label) from real sentences. "locomo": both sides are turns
of the LoCoMo conversations in /work/shared/data (near neighbours mined by cosine, then
labelled by reading them); "locomo+edit" and "docs+edit": one side is a fact from LoCoMo or
from the project's docs, the other written for the pair (a restatement, a changed value, or
a different statement on a near subject); "edit": operations facts like the issue's
"port 5433". Labels: duplicate (same fact, other words), update (same subject, a value
changed), unrelated (near neighbours that are different facts). Cosines come from the
packaged embedding model, as promotion computes them.

    .venv/bin/python benchmarks/bench_fact_compare.py [--sweep]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_cpu_embedder, print_table, temp_home, write_result

from magray_tui.memory.fact_compare import DUPLICATE_MIN, UPDATE_MIN, compare

NAME = "bench_fact_compare"
PAIRS = Path(__file__).resolve().parent / "data" / "fact_pairs.jsonl"
LABELS = ("duplicate", "update", "unrelated")


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def cosines(pairs: list[dict[str, Any]], embedder: Any) -> np.ndarray:
    older = embedder.embed_documents([p["older"] for p in pairs])
    newer = embedder.embed_documents([p["newer"] for p in pairs])
    return np.sum(np.asarray(older) * np.asarray(newer), axis=1)


def score(
    pairs: list[dict[str, Any]], cos: np.ndarray, **thresholds: float
) -> tuple[dict[str, Any], list[str]]:
    predicted = [
        compare(p["older"], p["newer"], float(c), **thresholds)
        for p, c in zip(pairs, cos, strict=True)
    ]
    confusion = Counter((p["label"], q) for p, q in zip(pairs, predicted, strict=True))
    per_class: dict[str, Any] = {}
    for label in LABELS:
        tp = confusion[(label, label)]
        said = sum(n for (_, q), n in confusion.items() if q == label)
        truth = sum(n for (t, _), n in confusion.items() if t == label)
        per_class[label] = {
            "precision": tp / said if said else None,
            "recall": tp / truth if truth else None,
            "predicted": said,
            "labelled": truth,
        }
    return {
        "per_class": per_class,
        "confusion": {f"{t}->{q}": n for (t, q), n in sorted(confusion.items())},
        "accuracy": sum(confusion[(x, x)] for x in LABELS) / len(pairs),
    }, predicted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", action="store_true", help="also try other thresholds")
    args = parser.parse_args()
    pairs = load_pairs()
    with temp_home() as home:
        cos = cosines(pairs, load_cpu_embedder(home))
    result, predicted = score(pairs, cos)
    rows = [
        (
            label,
            result["per_class"][label]["labelled"],
            result["per_class"][label]["predicted"],
            _pct(result["per_class"][label]["precision"]),
            _pct(result["per_class"][label]["recall"]),
        )
        for label in LABELS
    ]
    print(f"{len(pairs)} pairs ({dict(Counter(p['label'] for p in pairs))})")
    print(f"thresholds: duplicate >= {DUPLICATE_MIN}, update >= {UPDATE_MIN}")
    print_table("classifier", ("class", "labelled", "predicted", "precision", "recall"), rows)
    print("confusion (label->predicted):", result["confusion"])
    before = _cosine_only(pairs, cos)
    print(
        f"before (merge at cosine >= {DUPLICATE_MIN} alone): {before['merged']} merges, "
        f"precision {_pct(before['precision'])}; updates swallowed: "
        f"{before['updates_merged']} of {before['updates']}"
    )
    wrong = [
        (p["label"], q, f"{c:.3f}", p["older"][:60], p["newer"][:60])
        for p, q, c in zip(pairs, predicted, cos, strict=True)
        if q != p["label"]
    ]
    if wrong:
        print_table("misclassified", ("label", "predicted", "cosine", "older", "newer"), wrong)
    sweep = []
    if args.sweep:
        for dup in (0.90, 0.93, 0.95, 0.97):
            for upd in (0.70, 0.75, 0.80, 0.85, 0.90):
                r, _ = score(pairs, cos, duplicate_min=dup, update_min=upd)
                pc = r["per_class"]
                sweep.append(
                    {
                        "duplicate_min": dup,
                        "update_min": upd,
                        **{f"{k}_{m}": pc[k][m] for k in LABELS for m in ("precision", "recall")},
                    }
                )
        print_table(
            "threshold sweep",
            ("dup_min", "upd_min", "dup P", "dup R", "upd P", "upd R"),
            [
                (
                    s["duplicate_min"],
                    s["update_min"],
                    _pct(s["duplicate_precision"]),
                    _pct(s["duplicate_recall"]),
                    _pct(s["update_precision"]),
                    _pct(s["update_recall"]),
                )
                for s in sweep
            ],
        )
    path = write_result(
        NAME,
        {
            "pairs": len(pairs),
            "labels": dict(Counter(p["label"] for p in pairs)),
            "thresholds": {"duplicate_min": DUPLICATE_MIN, "update_min": UPDATE_MIN},
            **result,
            "cosine_by_label": {
                label: _summary([c for p, c in zip(pairs, cos, strict=True) if p["label"] == label])
                for label in LABELS
            },
            "sweep": sweep,
            "before_cosine_only": before,
        },
    )
    print(f"wrote {path}")


def _cosine_only(pairs: list[dict[str, Any]], cos: np.ndarray) -> dict[str, Any]:
    """What promotion did before this classifier: merge at cosine >= DUPLICATE_MIN."""
    merged = [p["label"] for p, c in zip(pairs, cos, strict=True) if c >= DUPLICATE_MIN]
    return {
        "merged": len(merged),
        "precision": merged.count("duplicate") / len(merged) if merged else None,
        "updates_merged": merged.count("update"),
        "updates": sum(p["label"] == "update" for p in pairs),
    }


def _summary(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {
        "min": round(float(arr.min()), 3),
        "median": round(float(np.median(arr)), 3),
        "max": round(float(arr.max()), 3),
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


if __name__ == "__main__":
    main()
