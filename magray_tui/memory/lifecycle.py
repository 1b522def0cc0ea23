"""The memory lifecycle: promotion cycles, TTL expiry, merges of near-duplicates, and
supersedes (a promoted record that changes a value of its near neighbour, see supersede.py).

`lifecycle_plan.plan` decides (pure); this module reads its inputs, finds near-duplicates
in the target layers, and applies a whole cycle as ONE commit: moves, expiries, merges,
their history rows and `last_cycle_at` land together or not at all (a kill in the middle
leaves the store as before the cycle), and the indexes follow from the watermark."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from magray_tui.memory import fact_compare
from magray_tui.memory import promotion as pol
from magray_tui.memory import supersede as sup
from magray_tui.memory.core import MemoryCore
from magray_tui.memory.lifecycle_plan import (
    NEXT,
    PREVIOUS,
    Action,
    Near,
    features_dict,
    merge_rows,
    nearest,
    plan,
)
from magray_tui.memory.records import Filters, Layer, MemoryError_, Record
from magray_tui.memory.repository_writes import Writes
from magray_tui.memory.search import EXACT_SCAN_LIMIT

__all__ = ["NEXT", "PREVIOUS", "Action", "CycleReport", "run_cycle"]


@dataclass
class CycleReport:
    actions: list[Action]
    policy: str
    policy_why: str
    considered: int
    applied: bool
    seconds: float = 0.0
    nearest: list[Near] = field(default_factory=list)  # dry runs: closest to moving

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.action] = out.get(a.action, 0) + 1
        return out


def current_policy(core: MemoryCore, now: datetime) -> pol.LearnedPolicy:
    """The learned model, retrained when the user has made new decisions since last time."""
    decisions = core.repo.user_decisions()
    saved = pol.LearnedPolicy.from_json(core.store.get_meta("policy_model"))
    fresh = pol.train(decisions, core.settings.promotion, now)
    if fresh.fingerprint == saved.fingerprint and saved.trained_at:
        return saved
    if not core.read_only:
        core.commit(lambda w: w.set_meta("policy_model", fresh.to_json()))
    return fresh


def plan_cycle(core: MemoryCore, now: datetime, *, with_text: bool = True) -> CycleReport:
    last = core.repo.last_cycle()
    if last and now < last - timedelta(minutes=5):
        raise MemoryError_(
            f"the clock ({now:%Y-%m-%d %H:%M}) is behind the last cycle ({last:%Y-%m-%d %H:%M}) "
            "UTC; nothing is promoted or expired until it catches up"
        )
    learned = current_policy(core, now)
    raw = core.repo.feature_rows(now)
    actions = plan(raw, now, core.settings.promotion, core.settings.memory, learned)
    find_duplicates(core, [a for a in actions if a.action == "promote"])
    near: list[Near] = []
    if with_text:  # for people reading a preview; an applied cycle does not need them
        near = nearest(raw, now, core.settings.promotion, core.settings.memory, learned)
        texts = core.repo.get_many([a.seq for a in actions] + [c.seq for c in near])
        for item in [*actions, *near]:
            item.text = texts[item.seq].text[:200] if item.seq in texts else ""
    policy = "learned" if learned.active else "default"
    return CycleReport(actions, policy, learned.why, len(raw["seq"]), applied=False, nearest=near)


def find_duplicates(core: MemoryCore, moves: list[Action]) -> None:
    """Turn a promotion into a merge where the target layer already holds a duplicate, or
    into a supersede where its nearest neighbour there states the same subject with another
    value (`fact_compare.compare`: the embeddings and the content must both agree to merge).

    One batched, unfiltered graph query for all candidates (a near twin is among the
    nearest few), then the target layer is checked in NumPy: no Python call per node."""
    cfg = core.settings.promotion
    threshold = min(cfg.merge_similarity, cfg.supersede_similarity)
    by_target: dict[str, list[Action]] = {}
    for a in moves:
        by_target.setdefault(a.to_layer or "", []).append(a)
    for target, group in by_target.items():
        allowed = core.repo.allowed_seqs(Filters(layers=(Layer(target),)))
        if len(allowed) == 0:
            continue
        vecs = core.repo.vectors_for([a.seq for a in group])
        if len(allowed) <= EXACT_SCAN_LIMIT:
            sims = core.repo.vectors_for(allowed.tolist()) @ vecs.T
            best = sims.argmax(axis=0)
            found = [(int(allowed[j]), float(sims[j, i])) for i, j in enumerate(best)]
        else:
            # In slices, so searches by readers get the index lock in between.
            parts = [
                core.indexes.vectors.search_many(vecs[i : i + 256], 16)
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
        survivors = core.repo.get_many([s for s, _ in found if s >= 0])
        near = [(a, seq, sim) for a, (seq, sim) in zip(group, found, strict=True)]
        candidates = core.repo.get_many([a.seq for a, seq, sim in near if sim >= threshold])
        for a, seq, sim in near:
            a.features["novelty"] = round(1.0 - max(sim, 0.0), 4)
            if sim >= threshold and seq in survivors and a.seq in candidates:
                _classify(a, candidates[a.seq], survivors[seq], sim, cfg)


def _classify(a: Action, record: Record, neighbour: Record, sim: float, cfg: Any) -> None:
    """Merge, supersede or leave as a plain promotion, by the content of the two texts."""
    older, newer = sorted((neighbour, record), key=lambda r: (r.created_at, r.seq))
    verdict = fact_compare.compare(
        older.text,
        newer.text,
        sim,
        duplicate_min=cfg.merge_similarity,
        update_min=cfg.supersede_similarity,
    )
    if verdict == "duplicate":
        a.action = "merge"
        a.merge_into = neighbour.id
        a.reason += f"; duplicate of {neighbour.id} (cosine {sim:.3f}, same content)"
    elif verdict == "update" and not older.superseded_by:
        a.action = "supersede"
        a.supersede = {"older": older.id, "newer": newer.id}
        a.reason += f"; {newer.id} changes a value of {older.id} (cosine {sim:.3f}): supersedes it"


def run_cycle(core: MemoryCore, *, dry_run: bool = False) -> CycleReport:
    t0 = time.perf_counter()
    now = core.clock()
    report = plan_cycle(core, now, with_text=dry_run)
    if not dry_run:
        core.require_writable()

        def write(w: Writes) -> None:
            apply_actions(core, w, report.actions)
            w.set_meta("last_cycle_at", now.isoformat())

        core.commit(write, now=now)
        report.applied = True
    report.seconds = time.perf_counter() - t0
    return report


def apply_actions(core: MemoryCore, w: Writes, actions: list[Action]) -> None:
    """Write a planned cycle inside the caller's transaction."""
    history: list[dict[str, Any]] = []
    moving = ("promote", "supersede")
    for target in (Layer.INSIGHTS, Layer.ASSETS):
        group = [a for a in actions if a.action in moving and a.to_layer == target.value]
        w.move_many([a.seq for a in group], target.value)
    w.forget_many([a.seq for a in actions if a.action == "expire"])
    originals: dict[str, Record] = {}
    survivors: dict[str, Record] = {}  # as changed by earlier merges of this cycle
    sources: list[tuple[int, str]] = []
    for a in actions:
        if a.action == "merge":
            source = core.repo.get(a.record_id)
            into = a.merge_into or ""
            if into not in originals:
                originals[into] = core.repo.get(into)
            survivor = survivors.get(into) or originals[into]
            survivors[into], rows = merge_rows(source, survivor, a.actor, a.reason, a.features)
            sources.append((source.seq, into))
            history.extend(rows)
        else:
            history.append(
                {
                    "record_id": a.record_id,
                    "action": "promote" if a.action == "supersede" else a.action,
                    "from_layer": a.from_layer,
                    "to_layer": a.to_layer,
                    "actor": a.actor,
                    "reason": a.reason,
                    "details": {"features": a.features},
                }
            )
    w.add_history(history)  # before the links: undo reverses a link before its move
    linked: set[str] = set()  # two promotions of one cycle may update the same record
    for a in actions:
        if a.action == "supersede" and a.supersede and a.supersede["older"] not in linked:
            linked.add(a.supersede["older"])
            older = core.repo.get(a.supersede["older"])
            newer = core.repo.get(a.supersede["newer"])
            if not older.superseded_by:
                sup.write_link(w, older, newer, actor=a.actor, reason="changes a value")
    if sources:  # two set-based updates for all merges
        changes = [
            (r.seq, r.tags, r.access_count - originals[i].access_count)
            for i, r in survivors.items()
        ]
        w.merge_many(sources, changes)


def features_of(core: MemoryCore, record: Record) -> dict[str, Any]:
    now = core.clock()
    raw = core.repo.feature_rows(now, [record.seq])
    if len(raw["seq"]) == 0:
        return {"layer": record.layer.value}
    x = pol.feature_matrix(raw, now)[0]
    return features_dict(x, float(pol.default_score(x[None, :])[0]), record.layer.value)


def merge(
    core: MemoryCore,
    source: Record,
    survivor: Record,
    *,
    actor: str,
    reason: str,
    features: dict[str, Any] | None = None,
) -> Record:
    """Fold `source` into `survivor`: texts kept in history, reads summed, tags united."""
    merged, history = merge_rows(source, survivor, actor, reason, features)
    change = (survivor.seq, merged.tags, source.access_count)

    def write(w: Writes) -> None:
        w.merge_many([(source.seq, survivor.id)], [change])
        w.add_history(history)

    core.commit(write)
    return core.repo.get(survivor.id)
