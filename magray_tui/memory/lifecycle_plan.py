"""The promotion planner: record features in, actions out. Pure: no I/O, no clock (the
caller passes `now`), so a plan can be checked, previewed and tested on its own."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from magray_tui.config import MemorySettings, PromotionSettings
from magray_tui.memory import promotion as pol
from magray_tui.memory.records import Layer, Record

NEXT = {Layer.INTERACT: Layer.INSIGHTS, Layer.INSIGHTS: Layer.ASSETS}
PREVIOUS = {Layer.ASSETS: Layer.INSIGHTS, Layer.INSIGHTS: Layer.INTERACT}


@dataclass
class Action:
    record_id: str
    seq: int
    action: str  # promote | merge | supersede (a promotion that updates a value) | expire
    from_layer: str
    to_layer: str | None
    score: float
    reason: str
    actor: str
    features: dict[str, float] = field(default_factory=dict)
    merge_into: str | None = None
    # For a supersede: {"older": id, "newer": id}; the record moved is one of the two.
    supersede: dict[str, str] | None = None
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def features_dict(x: np.ndarray, score: float, layer: str) -> dict[str, Any]:
    out: dict[str, Any] = {n: round(float(v), 4) for n, v in zip(pol.FEATURES, x, strict=True)}
    out["score"] = round(float(score), 4)
    out["layer"] = layer
    return out


def _reason(action: str, feats: dict[str, Any], threshold: float | None, actor: str) -> str:
    parts = ", ".join(f"{k} {feats[k]:.2f}" for k in pol.FEATURES if feats.get(k))
    if action == "expire":
        return f"time to live passed; score {feats['score']:.2f} too low to keep ({parts})"
    what = "model probability" if actor == "learned" else "score"
    return f"{what} {feats['score']:.2f} ≥ {threshold:.2f} ({parts})"


def plan(
    raw: dict[str, Any],
    now: datetime,
    cfg: PromotionSettings,
    mem: MemorySettings,
    learned: pol.LearnedPolicy,
) -> list[Action]:
    """Promotions and expiries for the live records whose features are in `raw`."""
    x = pol.feature_matrix(raw, now)
    layers = np.asarray(raw["layer"], dtype=object)
    if learned.active:
        score, actor = learned.probability(x), "learned"
        thr = np.full(len(layers), 0.5)
        keep = np.full(len(layers), 0.5)
    else:
        score, actor = pol.default_score(x), "policy"
        thr = np.where(layers == Layer.INTERACT.value, cfg.to_insights, cfg.to_assets)
        keep = np.where(layers == Layer.INTERACT.value, np.inf, cfg.keep_insights)
    now64 = np.datetime64(now, "us")
    in_layer_h = (now64 - np.asarray(raw["layer_since"], dtype="datetime64[us]")) / np.timedelta64(
        1, "h"
    )
    min_h = np.where(
        layers == Layer.INTERACT.value, cfg.min_hours_interact, cfg.min_days_insights * 24
    )
    ttl_h = np.where(
        layers == Layer.INTERACT.value, mem.ttl_interact_hours, mem.ttl_insights_days * 24
    )
    movable = layers != Layer.ASSETS.value
    promote = movable & (score >= thr) & (in_layer_h >= min_h)
    if not learned.active:
        # Model-written text nobody confirmed is conversation, not knowledge: however often
        # it was read, the default policy keeps it where it is (it still expires).
        promote &= ~np.asarray(raw["unconfirmed"], dtype=bool)
    promote &= np.asarray(raw["moves_today"]) < cfg.max_moves_per_day
    pinned = np.asarray(raw["pinned"], dtype=bool)
    expire = movable & ~promote & ~pinned & (in_layer_h >= ttl_h) & (score < keep)
    actions: list[Action] = []
    for i in np.flatnonzero(promote | expire):
        layer = Layer(layers[i])
        feats = features_dict(x[i], score[i], layer.value)
        if promote[i]:
            actions.append(
                Action(
                    str(raw["id"][i]),
                    int(raw["seq"][i]),
                    "promote",
                    layer.value,
                    NEXT[layer].value,
                    float(score[i]),
                    _reason("promote", feats, float(thr[i]), actor),
                    actor,
                    feats,
                )
            )
        else:
            actions.append(
                Action(
                    str(raw["id"][i]),
                    int(raw["seq"][i]),
                    "expire",
                    layer.value,
                    None,
                    float(score[i]),
                    _reason("expire", feats, None, actor),
                    actor,
                    feats,
                )
            )
    return actions


@dataclass
class Near:
    """A record that a cycle leaves where it is, with how far it is from moving: what a
    dry run with nothing to do shows, so the thresholds can be judged."""

    record_id: str
    seq: int
    layer: str
    to_layer: str
    score: float
    threshold: float
    blocked_by: str  # why it stays: "score", "age in layer" or "moves today"
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def nearest(
    raw: dict[str, Any],
    now: datetime,
    cfg: PromotionSettings,
    mem: MemorySettings,
    learned: pol.LearnedPolicy,
    n: int = 5,
) -> list[Near]:
    """The `n` records closest to promotion that `plan` does not promote: highest score
    relative to their threshold first."""
    if not len(raw["seq"]):
        return []
    x = pol.feature_matrix(raw, now)
    layers = np.asarray(raw["layer"], dtype=object)
    if learned.active:
        score = learned.probability(x)
        thr = np.full(len(layers), 0.5)
    else:
        score = pol.default_score(x)
        thr = np.where(layers == Layer.INTERACT.value, cfg.to_insights, cfg.to_assets)
    since = np.asarray(raw["layer_since"], dtype="datetime64[us]")
    in_layer_h = (np.datetime64(now, "us") - since) / np.timedelta64(1, "h")
    min_h = np.where(
        layers == Layer.INTERACT.value, cfg.min_hours_interact, cfg.min_days_insights * 24
    )
    busy = np.asarray(raw["moves_today"]) >= cfg.max_moves_per_day
    movable = layers != Layer.ASSETS.value
    promoted = movable & (score >= thr) & (in_layer_h >= min_h) & ~busy
    candidates = np.flatnonzero(movable & ~promoted)
    ratio = score[candidates] / np.maximum(thr[candidates], 1e-9)
    out = []
    for i in candidates[np.argsort(-ratio, kind="stable")][:n]:
        layer = Layer(layers[i])
        if score[i] < thr[i]:
            why = "score"
        elif in_layer_h[i] < min_h[i]:
            why = "age in layer"
        else:
            why = "moves today"
        out.append(
            Near(
                str(raw["id"][i]),
                int(raw["seq"][i]),
                layer.value,
                NEXT[layer].value,
                round(float(score[i]), 4),
                round(float(thr[i]), 4),
                why,
            )
        )
    return out


def merge_rows(
    source: Record,
    survivor: Record,
    actor: str,
    reason: str,
    features: dict[str, Any] | None,
) -> tuple[Record, list[dict[str, Any]]]:
    """The survivor as it becomes (tags united, reads summed) and the two history rows that
    let undo split them back exactly; nothing is written here."""
    merged = replace(
        survivor,
        tags=tuple(dict.fromkeys((*survivor.tags, *source.tags))),
        access_count=survivor.access_count + source.access_count,
    )
    details = {
        "features": features or {},
        "source_text": source.text,
        "survivor": survivor.id,
        "source": source.id,
        "added_access": source.access_count,
        "survivor_tags": list(survivor.tags),
    }
    common = {
        "from_layer": source.layer.value,
        "to_layer": survivor.layer.value,
        "actor": actor,
        "details": details,
    }
    return merged, [
        {"record_id": source.id, "action": "merge", "reason": reason, **common},
        {
            "record_id": survivor.id,
            "action": "absorb",
            "reason": f"absorbed near-duplicate {source.id}",
            **common,
        },
    ]
