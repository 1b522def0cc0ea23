"""The duplicate / update classifier (memory/fact_compare.py): clear cases by hand, and its
precision on the labelled set (benchmarks/data/fact_pairs.jsonl) with real embeddings
stays near what docs/promotion.md states."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from magray_tui.memory.fact_compare import compare, facts

PAIRS = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "fact_pairs.jsonl"
# docs/promotion.md, "Duplicates and updates": measured on the set with the packaged model.
DOCUMENTED = {"update": (1.0, 0.79), "duplicate": (1.0, 0.24)}  # (precision, recall)
MARGIN = 0.05


@pytest.mark.parametrize(
    ("older", "newer", "cosine", "verdict"),
    [
        (  # the example: a value changed
            "The staging database listens on port 5433.",
            "The staging database listens on port 5434.",
            0.98,
            "update",
        ),
        (  # the same fact in other words: numbers spelled differently still agree
            "Maria's dog Max is 3 years old.",
            "Max, Maria's dog, is three years old.",
            0.98,
            "duplicate",
        ),
        ("Joanna is allergic to cats.", "Joanna is not allergic to cats.", 0.9, "update"),
        ("Jon works as a banker.", "Jon no longer works as a banker.", 0.85, "update"),
        ("The shell tool is off by default.", "The shell tool is on by default.", 0.95, "update"),
        (  # a unit changed, the number did not
            "The API rate limit is 600 requests per minute.",
            "The API rate limit is 600 requests per hour.",
            0.95,
            "update",
        ),
        (  # another subject with the same shape: both stay
            "The staging database listens on port 5433.",
            "The production database listens on port 5432.",
            0.93,
            "unrelated",
        ),
        (  # the same statement about someone else
            "Maria's dog Max is 3 years old.",
            "John's dog Max is 3 years old.",
            0.95,
            "unrelated",
        ),
        (  # the newer one only adds a detail: not a changed value
            "The backup runs nightly.",
            "The backup runs nightly at 02:30.",
            0.93,
            "unrelated",
        ),
        (  # same content but the embeddings do not agree enough to merge
            "The staging database listens on port 5433.",
            "Port 5433 is where the staging database listens.",
            0.90,
            "unrelated",
        ),
        (  # far apart: nothing is compared
            "The staging database listens on port 5433.",
            "The staging database listens on port 5434.",
            0.5,
            "unrelated",
        ),
    ],
)
def test_clear_cases(older: str, newer: str, cosine: float, verdict: str) -> None:
    assert compare(older, newer, cosine) == verdict


def test_values_are_normalised() -> None:
    assert facts("The budget is $5,000.").values == facts("The budget is $5000.").values
    assert "3" in facts("three turtles").values and "#1" in facts("his first win").values
    assert facts("Deploys on Tuesday at 10:00").values == {"tue", "10:00"}
    assert facts("It is not here").negated and not facts("It isn't not here").negated
    # "on" as a preposition is no state; at the end of a clause it is.
    assert facts("listens on port 5433").values == {"5433"}
    assert "+state" in facts("The tool is on by default.").values


def test_precision_on_the_labelled_set_stays_near_the_documented_figure(embedder) -> None:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    assert len(pairs) >= 100
    assert {p["label"] for p in pairs} == {"duplicate", "update", "unrelated"}
    older = embedder.embed_documents([p["older"] for p in pairs])
    newer = embedder.embed_documents([p["newer"] for p in pairs])
    cosines = np.sum(older * newer, axis=1)
    said = [compare(p["older"], p["newer"], float(c)) for p, c in zip(pairs, cosines, strict=True)]
    for label, (precision, recall) in DOCUMENTED.items():
        predicted = [p["label"] for p, s in zip(pairs, said, strict=True) if s == label]
        labelled = sum(p["label"] == label for p in pairs)
        assert len(predicted) >= 5, label  # enough predictions for a precision to mean much
        assert predicted.count(label) / len(predicted) >= precision - MARGIN, label
        assert predicted.count(label) / labelled >= recall - MARGIN, label
