"""Promotion policies: the transparent default score and a logistic model learned from the
user's own decisions, which takes over only when it beats the default on held-out ones."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from magray_tui.config import PromotionSettings
from magray_tui.memory.records import Layer

# What the policies see, each scaled to about [0, 1].
# `unconfirmed`: 1 for model-written text (author assistant or tool) the user never confirmed;
# the learned model weighs it like any feature, the default policy never promotes such text.
FEATURES = (
    "relevance",
    "frequency",
    "recency",
    "breadth",
    "importance",
    "age",
    "length",
    "unconfirmed",
)
# The default score: mean retrieval relevance, how often and how lately it was read, in how
# many distinct sessions (breadth: used in several contexts means durable), and importance.
# (The original used 0.4 score + 0.3 ln(1+accesses) + 0.2 recency + 0.1 age; age alone says
# nothing about worth, breadth does, so it takes age's place.)
DEFAULT_WEIGHTS = {
    "relevance": 0.30,
    "frequency": 0.25,
    "recency": 0.15,
    "breadth": 0.20,
    "importance": 0.10,
}
POSITIVE = {"promote", "pin"}
NEGATIVE = {"demote", "forget"}


def feature_matrix(raw: dict[str, Any], now: datetime) -> np.ndarray:
    """(n, len(FEATURES)) from the columns of `MemoryRepository.feature_rows`."""
    n = len(raw["seq"])
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    now64 = np.datetime64(now, "us")
    day = np.timedelta64(1, "D")
    acc = raw["access_count"].astype(np.float64)
    last = raw["last_access"]
    last_mask = getattr(last, "mask", np.zeros(n, dtype=bool))
    last_days = np.where(
        last_mask, np.inf, (now64 - np.asarray(last, dtype="datetime64[us]")) / day
    )
    age_days = (now64 - np.asarray(raw["created_at"], dtype="datetime64[us]")) / day
    out[:, 0] = np.clip(np.asarray(raw["rel"], dtype=np.float64), 0, 1)
    out[:, 1] = np.minimum(np.log1p(acc) / np.log(9.0), 1.0)
    out[:, 2] = np.where(np.isfinite(last_days), np.exp(-np.maximum(last_days, 0) / 7.0), 0.0)
    out[:, 3] = np.minimum(np.asarray(raw["sessions"], dtype=np.float64) / 3.0, 1.0)
    out[:, 4] = np.clip(np.asarray(raw["importance"], dtype=np.float64), 0, 1)
    out[:, 5] = np.clip(age_days / 30.0, 0, 1)
    out[:, 6] = np.minimum(np.log1p(raw["chars"].astype(np.float64)) / np.log(2001.0), 1.0)
    out[:, 7] = np.asarray(raw["unconfirmed"], dtype=bool).astype(np.float64)
    return out


def default_score(x: np.ndarray) -> np.ndarray:
    w = np.array([DEFAULT_WEIGHTS.get(name, 0.0) for name in FEATURES])
    return x @ w


def threshold_for(layer: Layer | str, cfg: PromotionSettings) -> float:
    return cfg.to_insights if Layer(layer) is Layer.INTERACT else cfg.to_assets


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 2000, lr: float = 0.5
) -> tuple[np.ndarray, float]:
    """Plain batch gradient descent; the data is small (the user's own decisions)."""
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = _sigmoid(x @ w + b)
        err = p - y
        w -= lr * (x.T @ err / len(y) + l2 * w)
        b -= lr * float(err.mean())
    return w, b


@dataclass
class LearnedPolicy:
    weights: list[float] = field(default_factory=list)
    bias: float = 0.0
    examples: int = 0
    positives: int = 0
    held_out: int = 0
    learned_accuracy: float | None = None
    default_accuracy: float | None = None
    active: bool = False
    why: str = "no decisions from the user yet"
    trained_at: str | None = None
    fingerprint: str = ""

    def probability(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(x @ np.asarray(self.weights) + self.bias)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> LearnedPolicy:
        if not text:
            return cls()
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return cls(why="the saved model could not be read; retraining")


def examples_matrix(decisions: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Last decision per record wins; returns features, labels and the from-layers."""
    latest: dict[str, dict[str, Any]] = {}
    for d in decisions:
        latest[d["record_id"]] = d
    rows = [d for d in latest.values() if d["action"] in POSITIVE | NEGATIVE]
    x = np.array([[float(d["features"].get(n, 0.0)) for n in FEATURES] for d in rows])
    y = np.array([1.0 if d["action"] in POSITIVE else 0.0 for d in rows])
    layers = [d["features"].get("layer", "interact") for d in rows]
    return x.reshape(len(rows), len(FEATURES)), y, layers


def train(decisions: list[dict[str, Any]], cfg: PromotionSettings, now: datetime) -> LearnedPolicy:
    x, y, layers = examples_matrix(decisions)
    n = len(y)
    # The feature names are part of it: a model saved for other features is retrained.
    fingerprint = hashlib.sha1(
        json.dumps([FEATURES, decisions], sort_keys=True, default=str).encode()
    ).hexdigest()
    policy = LearnedPolicy(
        examples=n, positives=int(y.sum()), trained_at=now.isoformat(), fingerprint=fingerprint
    )
    if n < cfg.learned_min_examples:
        policy.why = (
            f"{n} user decision{'s' * (n != 1)} so far; learning starts at "
            f"{cfg.learned_min_examples}"
        )
        return policy
    if y.min() == y.max():
        policy.why = "every user decision so far has the same label; nothing to learn yet"
        return policy
    # Held-out comparison: a fixed shuffle, 30 % held out, both policies judged on it.
    order = np.random.default_rng(0).permutation(n)
    cut = max(1, round(n * 0.3))
    test, fit = order[:cut], order[cut:]
    w, b = fit_logistic(x[fit], y[fit])
    learned_pred = _sigmoid(x[test] @ w + b) >= 0.5
    thresholds = np.array([threshold_for(layers[i], cfg) for i in test])
    default_pred = default_score(x[test]) >= thresholds
    policy.held_out = len(test)
    policy.learned_accuracy = float((learned_pred == (y[test] == 1)).mean())
    policy.default_accuracy = float((default_pred == (y[test] == 1)).mean())
    w_all, b_all = fit_logistic(x, y)
    policy.weights, policy.bias = [float(v) for v in w_all], float(b_all)
    policy.active = policy.learned_accuracy > policy.default_accuracy
    verdict = "beats" if policy.active else "does not beat"
    policy.why = (
        f"learned model {verdict} the default on {len(test)} held-out decisions "
        f"({policy.learned_accuracy:.0%} vs {policy.default_accuracy:.0%})"
    )
    return policy
