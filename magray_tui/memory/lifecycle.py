"""The memory lifecycle: promotion cycles, TTL expiry, merges of near-duplicates, manual
moves, and undo. Every change writes a history row with its reason and feature values."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.memory import promotion as pol
from magray_tui.memory import store_lifecycle as sql
from magray_tui.memory.records import Layer, MemoryError_, Record
from magray_tui.memory.search import EXACT_SCAN_LIMIT
from magray_tui.memory.store import Filters

if TYPE_CHECKING:
    from magray_tui.memory.service import MemoryService

NEXT = {Layer.INTERACT: Layer.INSIGHTS, Layer.INSIGHTS: Layer.ASSETS}
PREVIOUS = {Layer.ASSETS: Layer.INSIGHTS, Layer.INSIGHTS: Layer.INTERACT}


@dataclass
class Action:
    record_id: str
    seq: int
    action: str  # promote | merge | expire
    from_layer: str
    to_layer: str | None
    score: float
    reason: str
    actor: str
    features: dict[str, float] = field(default_factory=dict)
    merge_into: str | None = None
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CycleReport:
    actions: list[Action]
    policy: str
    policy_why: str
    considered: int
    applied: bool
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.action] = out.get(a.action, 0) + 1
        return out


def _features_dict(x: np.ndarray, score: float, layer: str) -> dict[str, Any]:
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


def current_policy(svc: MemoryService, now: datetime) -> pol.LearnedPolicy:
    """The learned model, retrained when the user has made new decisions since last time."""
    decisions = sql.user_decisions(svc.store)
    saved = pol.LearnedPolicy.from_json(svc.store.get_meta("policy_model"))
    fresh = pol.train(decisions, svc.settings.promotion, now)
    if fresh.fingerprint == saved.fingerprint and saved.trained_at:
        return saved
    if not svc.read_only:
        svc.store.set_meta("policy_model", fresh.to_json())
    return fresh


def plan_cycle(svc: MemoryService, now: datetime, *, with_text: bool = True) -> CycleReport:
    cfg, mem = svc.settings.promotion, svc.settings.memory
    last = sql.last_cycle(svc.store)
    if last and now < last - timedelta(minutes=5):
        raise MemoryError_(
            f"the clock ({now:%Y-%m-%d %H:%M}) is behind the last cycle ({last:%Y-%m-%d %H:%M}) "
            "UTC; nothing is promoted or expired until it catches up"
        )
    learned = current_policy(svc, now)
    raw = sql.feature_rows(svc.store, now)
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
    promote &= np.asarray(raw["moves_today"]) < cfg.max_moves_per_day
    pinned = np.asarray(raw["pinned"], dtype=bool)
    expire = movable & ~promote & ~pinned & (in_layer_h >= ttl_h) & (score < keep)
    actions: list[Action] = []
    for i in np.flatnonzero(promote | expire):
        layer = Layer(layers[i])
        feats = _features_dict(x[i], score[i], layer.value)
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
    _find_duplicates(svc, [a for a in actions if a.action == "promote"])
    if with_text:  # for people reading a preview; an applied cycle does not need them
        texts = svc.store.get_many([a.seq for a in actions])
        for a in actions:
            a.text = texts[a.seq].text[:200] if a.seq in texts else ""
    policy = "learned" if learned.active else "default"
    return CycleReport(actions, policy, learned.why, len(layers), applied=False)


def _find_duplicates(svc: MemoryService, moves: list[Action]) -> None:
    """Turn a promotion into a merge where the target layer already holds a near-duplicate.

    One batched, unfiltered graph query for all candidates (a 0.95-cosine twin is among the
    nearest few), then the target layer is checked in NumPy: no Python call per node."""
    threshold = svc.settings.promotion.merge_similarity
    by_target: dict[str, list[Action]] = {}
    for a in moves:
        by_target.setdefault(a.to_layer or "", []).append(a)
    for target, group in by_target.items():
        allowed = svc.store.allowed_seqs(Filters(layers=(Layer(target),)))
        if len(allowed) == 0:
            continue
        vecs = svc.store.vectors_for([a.seq for a in group])
        if len(allowed) <= EXACT_SCAN_LIMIT:
            sims = svc.store.vectors_for(allowed.tolist()) @ vecs.T
            best = sims.argmax(axis=0)
            found = [(int(allowed[j]), float(sims[j, i])) for i, j in enumerate(best)]
        else:
            # In slices, so searches by readers get the index lock in between.
            parts = [
                svc.indexes.vectors.search_many(vecs[i : i + 256], 16)
                for i in range(0, len(vecs), 256)
            ]
            labels = np.concatenate([p[0] for p in parts])
            sims = np.concatenate([p[1] for p in parts])
            in_target = np.isin(labels, allowed)
            found = []
            for row in range(len(group)):
                hits = np.flatnonzero(in_target[row])
                j = hits[0] if len(hits) else -1
                found.append((int(labels[row, j]), float(sims[row, j])) if j >= 0 else (-1, -1.0))
        survivors = svc.store.get_many([s for s, _ in found if s >= 0])
        for a, (seq, sim) in zip(group, found, strict=True):
            a.features["novelty"] = round(1.0 - max(sim, 0.0), 4)
            if sim >= threshold and seq in survivors:
                a.action = "merge"
                a.merge_into = survivors[seq].id
                a.reason += f"; near-duplicate of {survivors[seq].id} (cosine {sim:.3f})"


def run_cycle(svc: MemoryService, *, dry_run: bool = False) -> CycleReport:
    t0 = time.perf_counter()
    now = svc.clock()
    report = plan_cycle(svc, now, with_text=dry_run)
    if not dry_run:
        if svc.read_only:
            raise MemoryError_(svc.store.note or "the memory database is open read-only")
        apply_actions(svc, report.actions, now)
        svc.store.set_meta("last_cycle_at", now.isoformat())
        report.applied = True
    report.seconds = time.perf_counter() - t0
    return report


def apply_actions(svc: MemoryService, actions: list[Action], now: datetime) -> None:
    history: list[dict[str, Any]] = []
    with svc._write_lock:
        for target in (Layer.INSIGHTS, Layer.ASSETS):
            group = [a for a in actions if a.action == "promote" and a.to_layer == target.value]
            if group:
                rev = sql.move_many(svc.store, [a.seq for a in group], target.value, now)
                _follow(svc, [a.seq for a in group], rev)
        expired = [a for a in actions if a.action == "expire"]
        if expired:
            rev = sql.forget_many(svc.store, [a.seq for a in expired], now)
            svc.indexes.drop([a.seq for a in expired], rev)
        originals: dict[str, Record] = {}
        survivors: dict[str, Record] = {}  # as changed by earlier merges of this cycle
        sources: list[tuple[int, str]] = []
        for a in actions:
            if a.action == "merge":
                source = svc.store.get(a.record_id)
                into = a.merge_into or ""
                if into not in originals:
                    originals[into] = svc.store.get(into)
                survivor = survivors.get(into) or originals[into]
                survivors[into], rows = _merge_rows(source, survivor, a.actor, a.reason, a.features)
                sources.append((source.seq, into))
                history.extend(rows)
            else:
                history.append(
                    {
                        "record_id": a.record_id,
                        "action": a.action,
                        "from_layer": a.from_layer,
                        "to_layer": a.to_layer,
                        "actor": a.actor,
                        "reason": a.reason,
                        "details": {"features": a.features},
                    }
                )
        if sources:  # two set-based updates and one index follow for all merges
            changes = [
                (r.seq, r.tags, r.access_count - originals[i].access_count)
                for i, r in survivors.items()
            ]
            rev = sql.merge_many(svc.store, sources, changes, now)
            _follow(svc, [seq for seq, _ in sources] + [r.seq for r in survivors.values()], rev)
        sql.add_history_many(svc.store, history, now)


def _follow(
    svc: MemoryService, seqs: list[int], rev: int, *, vectors_changed: bool = False
) -> None:
    """Bring the indexes up to `rev` for these records (by default their vectors are as
    they were: layer, tags or state changed)."""
    records = list(svc.store.get_many(seqs).values())
    svc.indexes.apply(records, None, rev, vectors_changed=vectors_changed)


def features_of(svc: MemoryService, record: Record) -> dict[str, Any]:
    now = svc.clock()
    raw = sql.feature_rows(svc.store, now, [record.seq])
    if len(raw["seq"]) == 0:
        return {"layer": record.layer.value}
    x = pol.feature_matrix(raw, now)[0]
    return _features_dict(x, float(pol.default_score(x[None, :])[0]), record.layer.value)


def merge(
    svc: MemoryService,
    source: Record,
    survivor: Record,
    *,
    actor: str,
    reason: str,
    features: dict[str, Any] | None = None,
) -> Record:
    """Fold `source` into `survivor`: texts kept in history, reads summed, tags united."""
    now = svc.clock()
    with svc._write_lock:
        merged, history = _merge_rows(source, survivor, actor, reason, features)
        change = (survivor.seq, merged.tags, source.access_count)
        rev = sql.merge_many(svc.store, [(source.seq, survivor.id)], [change], now)
        _follow(svc, [survivor.seq, source.seq], rev)
        sql.add_history_many(svc.store, history, now)
    return svc.store.get(survivor.id)


def _merge_rows(
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
