"""The promotion engine: cycle time at 100k records, readers during a cycle, and what the
engine keeps of a month of LoCoMo conversation compared with keeping by recency alone.

(1) Cycle time. A store of 100k records (10k with --quick) is built through
    `MemoryService.add_many(items, vectors=...)` in time order under a controlled clock:
    75 % Interact (created over the last 48 h), 17 % Insights (2-120 days old), 8 % Assets
    (2-365 days old); 2 % of the Interact records re-state an Insights record (same text
    plus a suffix, cosine ~0.999) so that some promotions meet a near-duplicate. Texts and
    vectors come from real texts (LoCoMo turns and prose sentences from the installed
    packages' docstrings) embedded once by the packaged model: each record mixes two of
    those embeddings (dominant weight 0.6-0.85) plus Gaussian noise (norm 0.15),
    renormalised; its text joins the two texts. Reads are real hybrid searches (k = 10;
    LoCoMo questions and docstring-sentence queries) at simulated times with a
    `reader_session`: 1 % of n over days -60..-2 (one reader session per day) and 4 % of n
    over the last 48 h (two reader sessions per 6 h), then `flush_accesses()`.
    The built store is copied three times: (A) `run_cycle(dry_run=True)` x3 then
    `run_cycle()`, then a second cycle an hour later (steady state); (B) a reader thread
    searching in a loop (hybrid, k = 10, cached query embeddings) for 5 s before and then
    while `run_cycle()` applies, not counting its reads (so the cycle is the same as A's);
    (B') the same with the reads counted as the TUI counts them (the reader's pending
    accesses are flushed in its own search calls; the reads before the cycle change what it
    promotes a little); (C) the same cycle with the engine's stages timed (functions
    wrapped at run time, not edited). In B and B' the cycle's stages are timed too, and
    the longest gaps between completed searches are matched with the stages they overlap.

(2) LoCoMo survival. Each conversation is replayed as a month: session k of n happens on
    day floor(k * 30 / n) at its own time of day (order kept), each turn added to Interact
    ("Speaker: text" + photo caption, as bench_locomo) with created_at = that time and
    session = "session_k". The questions that name evidence are split in two halves with a
    fixed seed: the "used" half is asked as searches (k = 10, reader_session = one chat
    session per simulated day), first after its last evidence session and, with
    probability 1/2, again 1-10 days later; the "held-out" half is never asked. Two
    schedules for the first ask: "month" = a random time between the end of the last
    evidence session and the end of the month (the literal reading), "prompt" = 10 min to
    20 h after it (inside the Interact TTL). A cycle runs every simulated day at 03:00
    (accesses flushed first), until every turn is past its Interact TTL. Then: evidence
    turns (by dia_id) of each half that are live in Insights/Assets (or merged into a live
    survivor there), against keeping the N most recent turns (and N random turns), where N =
    the number of records the policy kept; and retrievability: per question, is an
    evidence turn (or its merge survivor) in the top 10 of a search over each kept set.

    .venv/bin/python benchmarks/bench_promotion.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_locomo import Conversation, load_conversations
from common import (
    bench_settings,
    docstring_sentences,
    locomo_questions,
    locomo_turn_texts,
    pct,
    percentiles,
    print_table,
    temp_home,
    write_result,
)

NAME = "promotion"
SEED = 20250301
K = 10
CYCLE_TARGET_S = 5.0

# ---- part 1: the store ------------------------------------------------------------------------
T_END = datetime(2025, 6, 1, 3, 0)  # when the measured cycle runs
LAYER_SHARE = {"assets": 0.08, "insights": 0.17, "interact": 0.75}
NEAR_DUP_SHARE = 0.02  # of Interact records: a re-statement of an Insights record
NOISE_NORM = 0.15
DUP_NOISE_NORM = 0.03
HIST_SEARCHES = 0.01  # x n, over days -60 .. -2
RECENT_SEARCHES = 0.04  # x n, over the last 48 h
READER_BEFORE_S = 5.0
READER_GAP_LIMIT_MS = 500.0

# ---- part 2: the LoCoMo month -----------------------------------------------------------------
SIM_T0 = datetime(2025, 3, 1)
MONTH_DAYS = 30
CYCLE_HOUR = 3
TURN_SPACING = timedelta(seconds=30)
SCHEDULES = ("month", "prompt")
SECOND_ASK_P = 0.5
SENSITIVITY_TO_INSIGHTS = 0.6  # default 0.5


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_avg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


class Clock:
    """The service's clock, moved by the benchmark."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        # Never backwards: the engine refuses a cycle behind the last one.
        self.now = max(self.now, when)


def open_service(home: Path, embedder: Any, clock: Clock, promotion: dict[str, Any] | None = None):
    from magray_tui.config import load_settings
    from magray_tui.memory.service import MemoryService

    if promotion:
        settings = load_settings(home, embedding={"device": "cpu"}, promotion=promotion)
    else:
        settings = bench_settings(home)
    return MemoryService.open(home, settings=settings, embedder=embedder, clock=clock)


# =============================================================================================
# (1) cycle time at 100k
# =============================================================================================
def cycle_corpus(embedder: Any, quick: bool) -> dict[str, Any]:
    turns = list(dict.fromkeys(locomo_turn_texts()))
    docs = docstring_sentences(limit=1900 if quick else 2300, max_files=1500 if quick else 4000)
    doc_base, doc_queries = docs[:1500], docs[1500:]
    if quick:
        turns = turns[::3]
        doc_base = doc_base[:500]
    texts = turns + doc_base
    t0 = time.perf_counter()
    vecs = embedder.embed_documents(texts)
    embed_s = time.perf_counter() - t0
    # Queries: real LoCoMo questions, and the first words of other docstring sentences.
    questions = list(dict.fromkeys(locomo_questions()))
    topic = [" ".join(s.split()[:8]) for s in doc_queries]
    return {
        "texts": texts,
        "vecs": np.asarray(vecs, dtype=np.float32),
        "queries": questions + topic,
        "info": {
            "base_texts": len(texts),
            "locomo_turns": len(turns),
            "docstring_sentences": len(doc_base),
            "queries": len(questions) + len(topic),
            "locomo_questions": len(questions),
            "docstring_queries": len(topic),
            "embed_s": round(embed_s, 1),
        },
    }


def make_records(n: int, texts: list[str], base: np.ndarray, seed: int = SEED):
    """(created_at, item, vector) for n records, sorted by created_at."""
    rng = np.random.default_rng(seed)
    nb, dim = base.shape
    n_assets = int(n * LAYER_SHARE["assets"])
    n_insights = int(n * LAYER_SHARE["insights"])
    n_interact = n - n_assets - n_insights
    layers = ["assets"] * n_assets + ["insights"] * n_insights + ["interact"] * n_interact
    age_days = np.concatenate(
        [
            rng.uniform(2, 365, n_assets),
            rng.uniform(2, 120, n_insights),
            rng.uniform(0, 2, n_interact),
        ]
    )
    comp = rng.integers(0, nb, (n, 2))
    w = rng.uniform(0.6, 0.85, n).astype(np.float32)
    vecs = w[:, None] * base[comp[:, 0]] + (1 - w)[:, None] * base[comp[:, 1]]
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32)
    noise *= NOISE_NORM / np.linalg.norm(noise, axis=1, keepdims=True)
    vecs += noise
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    item_texts = [f"{texts[a]} {texts[b]}" for a, b in comp]
    # Near-duplicates: some Interact records re-state an Insights record.
    ins_idx = np.arange(n_assets, n_assets + n_insights)
    int_idx = np.arange(n_assets + n_insights, n)
    n_dup = int(n_interact * NEAR_DUP_SHARE)
    dup_of = np.full(n, -1)
    if n_dup and len(ins_idx):
        dups = rng.choice(int_idx, n_dup, replace=False)
        srcs = rng.choice(ins_idx, n_dup, replace=True)
        for d, s in zip(dups, srcs, strict=True):
            noise = rng.standard_normal(dim).astype(np.float32)
            v = vecs[s] + DUP_NOISE_NORM * noise / np.linalg.norm(noise)
            vecs[d] = v / np.linalg.norm(v)
            item_texts[d] = item_texts[s] + " (noted again)"
            dup_of[d] = s
    pinned = np.zeros(n, dtype=bool)
    pinned[rng.choice(ins_idx, max(1, n_insights // 200), replace=False)] = True
    out = []
    for i in range(n):
        created = T_END - timedelta(days=float(age_days[i]))
        item = {
            "text": item_texts[i],
            "layer": layers[i],
            "kind": "note" if layers[i] != "interact" else "turn",
            "session": f"w{int(age_days[i] * 4)}",  # the writing session: 6 h blocks
            "source": "chat" if layers[i] == "interact" else "manual",
            "created_at": created,
            "pinned": bool(pinned[i]),
            "metadata": {"n": i} | ({"dup_of": int(dup_of[i])} if dup_of[i] >= 0 else {}),
        }
        out.append((created, item, vecs[i]))
    out.sort(key=lambda r: r[0])
    stats = {"assets": n_assets, "insights": n_insights, "interact": n_interact}
    stats["near_duplicates"] = n_dup
    stats["pinned"] = int(pinned.sum())
    return out, stats


def build_store(home: Path, embedder: Any, corpus: dict[str, Any], n: int) -> dict[str, Any]:
    """Insert in time order, with searches at their simulated times in between."""
    records, layer_stats = make_records(n, corpus["texts"], corpus["vecs"])
    rng = np.random.default_rng(SEED + 1)
    queries = corpus["queries"]
    # The search timeline: (time, reader session).
    hist_n, recent_n = int(n * HIST_SEARCHES), int(n * RECENT_SEARCHES)
    hist_t = np.sort(rng.uniform(2, 60, hist_n))[::-1]  # days ago, oldest first
    recent_t = np.sort(rng.uniform(0, 48, recent_n))[::-1]  # hours ago
    searches: list[tuple[datetime, str]] = [
        (T_END - timedelta(days=float(d)), f"hist-day{int(60 - d)}") for d in hist_t
    ]
    searches += [
        (T_END - timedelta(hours=float(h)), f"chat-{int((48 - h) // 6)}-{rng.integers(2)}")
        for h in recent_t
    ]
    # Insert points: every record up to a search's time exists before it; records are
    # added in groups (one per simulated day, then per 2 h in the last 48 h).
    clock = Clock(records[0][0])
    svc = open_service(home, embedder, clock)
    flush_ms: list[float] = []
    search_ms: list[float] = []
    from magray_tui.memory.repository_writes import Writes

    orig_flush = Writes.record_accesses

    def timed_flush(self: Any, events: Any) -> None:
        t0 = time.perf_counter()
        orig_flush(self, events)
        flush_ms.append((time.perf_counter() - t0) * 1000)

    Writes.record_accesses = timed_flush  # type: ignore[method-assign]

    def group_key(when: datetime) -> tuple[int, int]:
        ago = T_END - when
        if ago > timedelta(days=2):
            return (0, -math.ceil(ago / timedelta(days=1)))
        return (1, -math.ceil(ago / timedelta(hours=2)))

    insert_s = search_s = 0.0
    i_rec = 0
    i_search = 0
    t_build = time.perf_counter()
    groups = 0
    while i_rec < len(records) or i_search < len(searches):
        next_rec = records[i_rec][0] if i_rec < len(records) else None
        next_search = searches[i_search][0] if i_search < len(searches) else None
        if next_rec is not None and (next_search is None or next_rec <= next_search):
            key = group_key(next_rec)
            # The whole group (a simulated day, or 2 h in the last 48 h) goes in at once:
            # a search may see records up to that much younger than itself.
            j = i_rec
            while j < len(records) and group_key(records[j][0]) == key:
                j += 1
            chunk = records[i_rec:j]
            clock.set(chunk[-1][0])
            t0 = time.perf_counter()
            svc.add_many([c[1] for c in chunk], vectors=np.stack([c[2] for c in chunk]))
            insert_s += time.perf_counter() - t0
            i_rec = j
            groups += 1
            if groups % 20 == 0:
                log(f"  {i_rec}/{len(records)} records, {i_search}/{len(searches)} searches")
        else:
            when, session = searches[i_search]
            clock.set(when)
            q = queries[int(rng.integers(len(queries)))]
            t0 = time.perf_counter()
            svc.search(q, K, reader_session=session)
            dt = time.perf_counter() - t0
            search_ms.append(dt * 1000)
            search_s += dt
            i_search += 1
    svc.flush_accesses()
    clock.set(T_END)
    counts = svc.store.counts()
    events = svc.store._cursor().execute("SELECT count(*) FROM access_events").fetchone()[0]
    accessed = (
        svc.store._cursor()
        .execute(
            "SELECT layer, count(*) FROM memories WHERE access_count > 0 AND state = 'live' "
            "GROUP BY layer ORDER BY layer"
        )
        .fetchall()
    )
    t_close = time.perf_counter()
    svc.close()
    close_s = time.perf_counter() - t_close
    return {
        "records": n,
        "layers_at_insert": layer_stats,
        "counts_before_cycle": counts,
        "insert_groups": groups,
        "insert_s": round(insert_s, 1),
        "searches": len(searches),
        "searches_history": hist_n,
        "searches_last_48h": recent_n,
        "search_s": round(search_s, 1),
        "search_ms_while_building": percentiles(search_ms),
        "access_flush_ms": percentiles(flush_ms),
        "access_events": int(events),
        "records_with_reads": {layer: int(c) for layer, c in accessed},
        "close_s": round(close_s, 1),
        "build_s": round(time.perf_counter() - t_build, 1),
    }


def _report_summary(rep: Any) -> dict[str, Any]:
    counts = rep.counts()
    to = Counter(a.to_layer for a in rep.actions if a.action == "promote")
    return {
        "seconds": round(rep.seconds, 3),
        "considered": rep.considered,
        "policy": rep.policy,
        "actions": counts,
        "promote_to": dict(to),
        "merges": counts.get("merge", 0),
        "merge_checks": counts.get("promote", 0) + counts.get("merge", 0),
    }


def time_applied(home: Path, embedder: Any) -> dict[str, Any]:
    """One more applied cycle on a fresh copy (an applied cycle cannot be repeated)."""
    clock = Clock(T_END)
    svc = open_service(home, embedder, clock)
    try:
        load = load_avg()
        t0 = time.perf_counter()
        rep = svc.run_cycle()
        wall = time.perf_counter() - t0
        log(f"  applied (repeat): {wall:.2f} s, {rep.counts()}")
    finally:
        svc.close()
    return _report_summary(rep) | {"wall_s": round(wall, 3), "load_average": load}


def time_cycles(home: Path, embedder: Any) -> dict[str, Any]:
    clock = Clock(T_END)
    svc = open_service(home, embedder, clock)
    try:
        dry = []
        for i in range(3):
            rep = svc.run_cycle(dry_run=True)
            dry.append(_report_summary(rep) | {"load_average": load_avg()})
            log(f"  dry run {i + 1}: {rep.seconds:.2f} s, {rep.counts()}")
        load = load_avg()
        t0 = time.perf_counter()
        rep = svc.run_cycle()
        wall = time.perf_counter() - t0
        applied = _report_summary(rep) | {"wall_s": round(wall, 3), "load_average": load}
        log(f"  applied: {wall:.2f} s, {rep.counts()}")
        counts_after = svc.store.counts()
        clock.set(T_END + timedelta(hours=1))
        t0 = time.perf_counter()
        rep2 = svc.run_cycle()
        steady = _report_summary(rep2) | {"wall_s": round(time.perf_counter() - t0, 3)}
        log(f"  next cycle an hour later: {steady['wall_s']:.2f} s, {rep2.counts()}")
    finally:
        svc.close()
    return {
        "dry_run": dry,
        "dry_run_s": [d["seconds"] for d in dry],
        "dry_run_median_s": float(np.median([d["seconds"] for d in dry])),
        "applied": applied,
        "counts_after": counts_after,
        "next_cycle_1h_later": steady,
    }


def reader_test(
    home: Path, embedder: Any, queries: list[str], *, count_access: bool
) -> dict[str, Any]:
    """A thread searches in a loop; the main thread runs `run_cycle()` meanwhile. The
    cycle's stages are timed (main thread only) so that long gaps can be attributed."""
    clock = Clock(T_END)
    svc = open_service(home, embedder, clock)
    pool = queries[:300]
    for q in pool:  # cached embeddings: what is measured is the engine, not the model
        embedder.embed_query(q)
    done: list[tuple[float, float]] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        i = 0
        while not stop.is_set():
            q = pool[i % len(pool)]
            i += 1
            t0 = time.perf_counter()
            try:
                svc.search(q, K, reader_session="reader-thread", count_access=count_access)
            except Exception as exc:  # report, keep reading
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            done.append((t0, time.perf_counter()))

    st = StageTimer(timeline=True)
    wrap_stages(st, svc)
    try:
        th = threading.Thread(target=reader, daemon=True)
        load = load_avg()
        start = time.perf_counter()
        th.start()
        time.sleep(READER_BEFORE_S)
        c0 = time.perf_counter()
        rep = svc.run_cycle()
        c1 = time.perf_counter()
        time.sleep(1.0)
        stop.set()
        th.join(timeout=120)
    finally:
        st.restore()
        svc.close()

    def window(a: float, b: float, attribute: bool = False) -> dict[str, Any]:
        lat = [(e - s) * 1000 for s, e in done if s < b and e > a]
        ends = sorted(e for _, e in done if a < e <= b)
        after = [e for _, e in done if e > b]
        marks = [a, *ends] + ([min(after)] if after else [b])
        gaps = [(marks[i], marks[i + 1]) for i in range(len(marks) - 1)] or [(a, b)]
        gaps.sort(key=lambda g: g[0] - g[1])
        out: dict[str, Any] = {
            "seconds": round(b - a, 3),
            "searches_completed": len(ends),
            "searches_per_s": round(len(ends) / (b - a), 1) if b > a else None,
            "latency_ms": percentiles(lat),
            "longest_gap_between_completions_ms": round((gaps[0][1] - gaps[0][0]) * 1000, 1),
        }
        if attribute:
            out["longest_gaps"] = [
                {
                    "ms": round((g1 - g0) * 1000, 1),
                    "starts_s_into_cycle": round(g0 - a, 3),
                    "overlapping_stages_s": st.overlapping(g0, g1),
                }
                for g0, g1 in gaps[:3]
            ]
        return out

    return {
        "reader": (
            "1 thread, hybrid search k=10, 300 cached query embeddings, "
            f"count_access={count_access}"
        ),
        "cycle": _report_summary(rep) | {"wall_s": round(c1 - c0, 3), "load_average": load},
        "before": window(start + 0.5, c0),  # skip the thread's first half second
        "during": window(c0, c1, attribute=True),
        "cycle_stages": st.report(),
        "errors": errors[:5],
        "error_count": len(errors),
    }


class StageTimer:
    """Wrap callables (module functions or bound methods) to total their time; only calls
    made by the thread that created the timer count (a reader thread's are not)."""

    def __init__(self, timeline: bool = False) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        self.intervals: list[tuple[str, float, float]] = []
        self.timeline = timeline
        self.thread = threading.get_ident()
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        fn = getattr(owner, attr)
        me = self

        def timed(*a: Any, **kw: Any) -> Any:
            if threading.get_ident() != me.thread:
                return fn(*a, **kw)
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                t1 = time.perf_counter()
                slot = me.totals[label]
                slot[0] += t1 - t0
                slot[1] += 1
                if me.timeline:
                    me.intervals.append((label, t0, t1))

        had = attr in vars(owner)
        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, fn) if had else delattr(owner, attr))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def report(self) -> dict[str, dict[str, float]]:
        return {k: {"s": round(v[0], 3), "calls": int(v[1])} for k, v in self.totals.items()}

    def overlapping(self, a: float, b: float, top: int = 6) -> dict[str, float]:
        over: dict[str, float] = defaultdict(float)
        for label, t0, t1 in self.intervals:
            o = min(b, t1) - max(a, t0)
            if o > 0:
                over[label] += o
        best = sorted(over.items(), key=lambda kv: -kv[1])[:top]
        return {k: round(v, 3) for k, v in best}


def wrap_stages(st: StageTimer, svc: Any) -> None:
    from magray_tui.memory import lifecycle as lc
    from magray_tui.memory import promotion as pol
    from magray_tui.memory.commit import Committer
    from magray_tui.memory.repository_writes import Writes

    repo = svc.core.repo
    st.wrap(lc, "plan_cycle", "plan_cycle (total)")
    st.wrap(lc, "current_policy", "plan: current_policy (train/check learned)")
    st.wrap(repo, "feature_rows", "plan: feature SQL (repository.feature_rows)")
    st.wrap(pol, "feature_matrix", "plan: feature_matrix")
    st.wrap(lc, "find_duplicates", "plan: find_duplicates (merge checks)")
    st.wrap(svc.indexes.vectors, "search", "  merge check: VectorIndex.search (filtered)")
    st.wrap(repo, "vectors_for", "repo.vectors_for (any caller)")
    st.wrap(repo, "allowed_seqs", "repo.allowed_seqs")
    st.wrap(repo, "get_many", "repo.get_many (any caller)")
    st.wrap(lc, "apply_actions", "apply_actions (total, inside the one transaction)")
    st.wrap(Writes, "move_many", "apply: move_many (UPDATE)")
    st.wrap(Writes, "forget_many", "apply: forget_many (UPDATE)")
    st.wrap(Writes, "merge_many", "apply: merge_many (UPDATE)")
    st.wrap(Writes, "add_history", "history INSERT (add_history)")
    st.wrap(svc.core.committer, "follow", "apply: Committer.follow (indexes follow)")
    st.wrap(svc.indexes.vectors, "add", "  index: VectorIndex.add (re-insert)")
    st.wrap(svc.indexes.vectors, "remove", "  index: VectorIndex.remove")
    st.wrap(svc.indexes.keywords, "upsert", "  index: KeywordIndex.upsert")
    st.wrap(svc.indexes.keywords, "remove", "  index: KeywordIndex.remove")
    st.wrap(svc.indexes.keywords, "commit", "  index: KeywordIndex.commit")
    st.wrap(svc.indexes, "save", "  index: Indexes.save (hnsw checkpoint)")
    st.wrap(Committer, "commit", "Committer.commit (transaction + follow)")


def profile_cycle(home: Path, embedder: Any) -> dict[str, Any]:
    clock = Clock(T_END)
    svc = open_service(home, embedder, clock)
    st = StageTimer()
    load = load_avg()
    try:
        wrap_stages(st, svc)
        t0 = time.perf_counter()
        rep = svc.run_cycle()
        wall = time.perf_counter() - t0
    finally:
        st.restore()
        svc.close()
    return {
        "cycle": _report_summary(rep) | {"wall_s": round(wall, 3), "load_average": load},
        "stages": st.report(),
    }


def part_cycle(embedder: Any, quick: bool) -> dict[str, Any]:
    n = 10_000 if quick else 100_000
    out: dict[str, Any] = {"records": n, "load_average_at_start": load_avg()}
    log(f"(1) corpus: embedding base texts for a {n}-record store")
    corpus = cycle_corpus(embedder, quick)
    out["corpus"] = corpus["info"] | {
        "construction": (
            "record vector = normalise(normalise(w*e1 + (1-w)*e2) + Gaussian noise of norm "
            f"{NOISE_NORM}); w ~ U(0.6, 0.85); e1, e2 = packaged-model embeddings of random "
            "real texts (LoCoMo turns, docstring sentences); text = the two texts joined. "
            f"{NEAR_DUP_SHARE:.0%} of Interact records repeat an Insights record's text + "
            f"' (noted again)' with its vector + noise {DUP_NOISE_NORM} (cosine ~0.999)."
        ),
        "layers": (
            "interact 75% created over the last 48 h; insights 17% 2-120 days old; "
            "assets 8% 2-365 days old; 0.5% of insights pinned; importance 0.5"
        ),
        "reads": (
            f"{HIST_SEARCHES:.0%} x n hybrid searches (k=10) over days -60..-2, reader "
            f"session per day; {RECENT_SEARCHES:.0%} x n over the last 48 h, two reader "
            "sessions per 6 h; queries drawn at random from LoCoMo questions and the first 8 "
            "words of docstring sentences; records inserted in time order between them"
        ),
    }
    with temp_home("magray-bench-promo-") as root:
        build = root / "build"
        log(f"(1) building the store: {n} records with reads")
        out["build"] = build_store(build, embedder, corpus, n)
        log(
            f"  built in {out['build']['build_s']} s: {out['build']['counts_before_cycle']}, "
            f"{out['build']['access_events']} access events"
        )
        copies = {}
        for name in ("timing", "timing_repeat", "readers", "readers_counting", "profile"):
            copies[name] = root / name
            shutil.copytree(build, copies[name])
        out["build"]["disk_mb"] = round(
            sum(f.stat().st_size for f in build.rglob("*") if f.is_file()) / 2**20, 1
        )
        shutil.rmtree(build)
        # Write the copies out before timing: otherwise the cycle's fsyncs (keyword commit,
        # vector checkpoint, DuckDB commit) wait behind gigabytes of dirty pages.
        t0 = time.perf_counter()
        os.sync()
        out["build"]["sync_after_copies_s"] = round(time.perf_counter() - t0, 1)
        out["load_average_before_cycles"] = load_avg()
        log("(1A) cycle timing")
        out["timing"] = time_cycles(copies["timing"], embedder)
        shutil.rmtree(copies["timing"])
        out["timing"]["applied_repeat"] = time_applied(copies["timing_repeat"], embedder)
        shutil.rmtree(copies["timing_repeat"])
        walls = [out["timing"]["applied"]["wall_s"], out["timing"]["applied_repeat"]["wall_s"]]
        out["timing"]["applied_best_of_2_s"] = min(walls)
        out["load_average_before_readers"] = load_avg()
        log("(1B) readers during a cycle (reads not counted: the cycle is the same as 1A)")
        out["readers"] = reader_test(
            copies["readers"], embedder, corpus["queries"], count_access=False
        )
        shutil.rmtree(copies["readers"])
        log("(1B') readers during a cycle, counting their reads as the TUI does")
        out["readers_counting"] = reader_test(
            copies["readers_counting"], embedder, corpus["queries"], count_access=True
        )
        shutil.rmtree(copies["readers_counting"])
        log("(1C) cycle stages")
        out["profile"] = profile_cycle(copies["profile"], embedder)
    applied = out["timing"]["applied_best_of_2_s"]
    during = out["readers"]["during"]
    out["checks"] = {
        "cycle_applied_s": {
            "value": applied,
            "target": f"<= {CYCLE_TARGET_S}",
            "pass": applied <= CYCLE_TARGET_S,
            "records": n,
        },
        "readers_never_blocked": {
            "value_longest_gap_ms": during["longest_gap_between_completions_ms"],
            "target": (
                f"no gap > {READER_GAP_LIMIT_MS:.0f} ms between two completed searches of the "
                "non-counting reader during the cycle, and no errors"
            ),
            "before_longest_gap_ms": out["readers"]["before"]["longest_gap_between_completions_ms"],
            "searches_completed_during": during["searches_completed"],
            "errors": out["readers"]["error_count"],
            "pass": during["longest_gap_between_completions_ms"] <= READER_GAP_LIMIT_MS
            and out["readers"]["error_count"] == 0,
        },
    }
    out["load_average_at_end"] = load_avg()
    return out


# =============================================================================================
# (2) LoCoMo survival
# =============================================================================================
def session_number(key: str) -> int:
    return int(key.split("_")[1])


def month_times(conv: Conversation) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Start and end (simulated) of every session: session k of n on day floor(k*30/n)."""
    first: dict[str, datetime] = {}
    sizes: Counter[str] = Counter()
    for it in conv.items:
        first.setdefault(it["session"], it["created_at"])
        sizes[it["session"]] += 1
    keys = sorted(first, key=session_number)
    n = len(keys)
    starts: dict[str, datetime] = {}
    ends: dict[str, datetime] = {}
    prev_end: datetime | None = None
    for idx, key in enumerate(keys, 1):
        orig = first[key]
        day = math.floor(idx * MONTH_DAYS / n)
        t = SIM_T0 + timedelta(days=day, hours=orig.hour, minutes=orig.minute)
        if prev_end is not None and t < prev_end + timedelta(hours=1):
            t = prev_end + timedelta(hours=1)  # keep the order when two share a day
        starts[key] = t
        ends[key] = t + TURN_SPACING * sizes[key]
        prev_end = ends[key]
    return starts, ends


def split_questions(conv: Conversation) -> tuple[list[int], list[int]]:
    idx = list(range(len(conv.questions)))
    random.Random(f"{SEED}-{conv.name}").shuffle(idx)
    half = len(idx) // 2
    return sorted(idx[:half]), sorted(idx[half:])


def ask_schedule(
    conv: Conversation, used: list[int], ends: dict[str, datetime], schedule: str
) -> list[tuple[datetime, int]]:
    rng = random.Random(f"{SEED}-{conv.name}-{schedule}")
    month_end = SIM_T0 + timedelta(days=MONTH_DAYS + 1)
    asks = []
    for qi in used:
        sessions = {f"session_{e.split(':')[0][1:]}" for e in conv.questions[qi]["evidence"]}
        sessions &= set(ends)
        if not sessions:
            continue
        last_end = max(ends[s] for s in sessions)
        if schedule == "prompt":
            first = last_end + timedelta(hours=rng.uniform(1 / 6, 20))
        else:
            span = max((month_end - last_end).total_seconds() / 3600, 1 / 6)
            first = last_end + timedelta(hours=rng.uniform(1 / 6, span))
        asks.append((first, qi))
        if rng.random() < SECOND_ASK_P:
            asks.append((first + timedelta(days=rng.uniform(1, 10)), qi))
    asks.sort()
    return asks


def resolve(records: list[Any]) -> dict[str, str | None]:
    """dia_id -> id of the live Insights/Assets record that holds it (itself or a merge
    survivor), or None."""
    by_id = {r.id: r for r in records}
    out: dict[str, str | None] = {}
    for r in records:
        dia = r.metadata.get("dia_id")
        if not dia:
            continue
        cur, hops = r, 0
        while cur is not None and cur.state.value == "merged" and hops < 20:
            cur = by_id.get(cur.merged_into or "")
            hops += 1
        keep = (
            cur is not None
            and cur.state.value == "live"
            and cur.layer.value in ("insights", "assets")
        )
        out[dia] = cur.id if keep else None
    return out


def retrievable(
    kept: list[dict[str, Any]], questions: list[dict[str, Any]], embedder: Any
) -> list[bool]:
    """Per question: is one of its evidence turns in the top K of a search over `kept`
    (items whose metadata["dia_ids"] lists the turns each stands for)?"""
    if not kept:
        return [False] * len(questions)
    clock = Clock(SIM_T0 + timedelta(days=60))
    with temp_home("magray-promo-kept-") as home:
        svc = open_service(home, embedder, clock)
        try:
            svc.add_many(kept)
            flags = []
            for q in questions:
                hits = svc.search(q["question"], K, count_access=False)
                got = {d for h in hits for d in h.record.metadata.get("dia_ids", [])}
                flags.append(any(e in got for e in q["evidence"]))
        finally:
            svc.close()
    return flags


def evidence_stats(
    kept_dias: set[str], questions: list[dict[str, Any]], idx: list[int], turns: set[str]
) -> dict[str, Any]:
    ev = {e for i in idx for e in questions[i]["evidence"] if e in turns}
    idx = [i for i in idx if any(e in turns for e in questions[i]["evidence"])]
    q_any = sum(any(e in kept_dias for e in questions[i]["evidence"]) for i in idx)
    q_all = sum(all(e in kept_dias for e in questions[i]["evidence"] if e in turns) for i in idx)
    kept = len(ev & kept_dias)
    return {
        "evidence_turns": len(ev),
        "survived": kept,
        "survived_share": kept / len(ev) if ev else 0.0,
        "questions": len(idx),
        "questions_any_evidence_kept": q_any,
        "questions_all_evidence_kept": q_all,
    }


_KEEP_ALL: dict[tuple[str, int], list[bool]] = {}


def simulate(
    conv: Conversation,
    embedder: Any,
    schedule: str,
    promotion: dict[str, Any] | None = None,
) -> dict[str, Any]:
    t_start = time.perf_counter()
    starts, ends = month_times(conv)
    used, held = split_questions(conv)
    asks = ask_schedule(conv, used, ends, schedule)
    by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    turn_time: dict[str, datetime] = {}
    for it in conv.items:
        key = it["session"]
        when = starts[key] + TURN_SPACING * len(by_session[key])
        by_session[key].append(it | {"created_at": when})
        turn_time[it["metadata"]["dia_id"]] = when
    turns = set(turn_time)
    last_add = max(ends.values())
    last_ask = asks[-1][0] if asks else last_add
    # Daily cycles at 03:00 until every turn is past its TTL and the last ask is counted.
    horizon = max(last_add + timedelta(hours=48), last_ask + timedelta(days=1))
    events: list[tuple[datetime, int, Any]] = [(starts[k], 0, k) for k in by_session]
    events += [(t, 1, qi) for t, qi in asks]
    day = 1
    while True:
        t = SIM_T0 + timedelta(days=day, hours=CYCLE_HOUR)
        events.append((t, 2, None))
        if t >= horizon:
            break
        day += 1
    events.sort(key=lambda e: (e[0], e[1]))

    clock = Clock(SIM_T0)
    actions: Counter[str] = Counter()
    single_read = 0
    promote_scores: list[float] = []
    cycle_s: list[float] = []
    ask_rows: list[dict[str, Any]] = []
    merged_into: dict[str, str] = {}
    id_to_dia: dict[str, str] = {}
    dia_to_id: dict[str, str] = {}
    with temp_home(f"magray-promo-{conv.name}-") as home:
        svc = open_service(home, embedder, clock, promotion)
        try:
            for when, kind, what in events:
                clock.set(when)
                if kind == 0:
                    clock.set(ends[what])
                    items = by_session[what]
                    ids = svc.add_many(items)
                    for it, rid in zip(items, ids, strict=True):
                        id_to_dia[rid] = it["metadata"]["dia_id"]
                        dia_to_id[it["metadata"]["dia_id"]] = rid
                elif kind == 1:
                    q = conv.questions[what]
                    session = f"chat-day{(when - SIM_T0).days}"
                    hits = svc.search(q["question"], K, reader_session=session)
                    got = set()
                    for h in hits:
                        got.add(h.record.metadata.get("dia_id"))
                        got |= {d for d, s in _sources(merged_into, id_to_dia, h.record.id)}
                    live_ev = 0
                    for e in q["evidence"]:
                        rid = dia_to_id.get(e)
                        if rid is None:
                            continue
                        rec = svc.store.get(rid)
                        while rec.state.value == "merged" and rec.merged_into:
                            rec = svc.store.get(rec.merged_into)
                        live_ev += rec.state.value == "live"
                    ask_rows.append(
                        {
                            "evidence_live": live_ev > 0,
                            "evidence_in_top10": any(e in got for e in q["evidence"]),
                        }
                    )
                else:
                    svc.flush_accesses()
                    rep = svc.run_cycle()
                    cycle_s.append(rep.seconds)
                    for a in rep.actions:
                        label = f"promote_to_{a.to_layer}" if a.action == "promote" else a.action
                        actions[label] += 1
                        if a.action in ("promote", "merge"):
                            promote_scores.append(a.score)
                            # frequency feature of one read = ln 2 / ln 9
                            if abs(a.features.get("frequency", 0) - 0.3155) < 0.001:
                                single_read += 1
                        if a.action == "merge" and a.merge_into:
                            merged_into[a.record_id] = a.merge_into
            from magray_tui.memory.store import Filters

            records = list(svc.store.iter_records(Filters(state=None)))
            counts = svc.store.counts()
        finally:
            svc.close()

    # ---- what each policy keeps ------------------------------------------------------------
    holder = resolve(records)
    ours_dias = {d for d, h in holder.items() if h}
    live_kept = [
        r for r in records if r.state.value == "live" and r.layer.value in ("insights", "assets")
    ]
    n_kept = len(live_kept)
    by_time = sorted(turns, key=lambda d: turn_time[d])
    recency_dias = set(by_time[len(by_time) - n_kept :]) if n_kept else set()
    rnd = random.Random(f"{SEED}-{conv.name}-{schedule}-random")
    random_dias = set(rnd.sample(sorted(turns), n_kept))
    text_of = {it["metadata"]["dia_id"]: it["text"] for it in conv.items}

    def items_for(dias: set[str], groups: dict[str, list[str]] | None = None):
        out = []
        for d in sorted(dias, key=lambda d: turn_time[d]):
            members = groups.get(d, [d]) if groups else [d]
            out.append(
                {"text": text_of[d], "metadata": {"dia_id": d, "dia_ids": members}, "kind": "turn"}
            )
        return out

    # Ours: one item per kept record, standing for itself and the turns merged into it.
    groups: dict[str, list[str]] = defaultdict(list)
    kept_ids = {r.id: r.metadata.get("dia_id") for r in live_kept}
    for d, h in holder.items():
        if h:
            groups[kept_ids[h]].append(d)
    ours_items = items_for({kept_ids[r.id] for r in live_kept}, groups)
    qs = conv.questions
    policies = {
        "ours": (ours_dias, ours_items),
        "recency": (recency_dias, items_for(recency_dias)),
        "random": (random_dias, items_for(random_dias)),
        "keep_all": (turns, items_for(turns)),
    }
    survival: dict[str, Any] = {}
    retrieval: dict[str, Any] = {}
    used_ev = {e for i in used for e in qs[i]["evidence"]}
    for name, (dias, kept_items) in policies.items():
        survival[name] = {
            "used": evidence_stats(dias, qs, used, turns),
            "held_out": evidence_stats(dias, qs, held, turns),
            # Evidence turns of held-out questions that no used question names.
            "held_out_only": evidence_stats(dias, qs, held, turns - used_ev),
        }
        if name == "keep_all":  # the same for every schedule
            key = (conv.name, len(kept_items))
            if key not in _KEEP_ALL:
                _KEEP_ALL[key] = retrievable(kept_items, qs, embedder)
            flags = _KEEP_ALL[key]
        else:
            flags = retrievable(kept_items, qs, embedder)
        retrieval[name] = {
            "used": sum(flags[i] for i in used),
            "held_out": sum(flags[i] for i in held),
            "used_share": sum(flags[i] for i in used) / max(1, len(used)),
            "held_out_share": sum(flags[i] for i in held) / max(1, len(held)),
        }
    ask_n = len(ask_rows)
    first_asks = {}
    for t, qi in asks:
        first_asks.setdefault(qi, t)
    return {
        "conversation": conv.name,
        "schedule": schedule,
        "sessions": len(starts),
        "turns": len(turns),
        "questions": len(qs),
        "used": len(used),
        "held_out": len(held),
        "asks": ask_n,
        "asks_with_evidence_live": sum(r["evidence_live"] for r in ask_rows),
        "asks_with_evidence_in_top10": sum(r["evidence_in_top10"] for r in ask_rows),
        "first_ask_delay_h": percentiles(
            [
                (t - max(ends[s] for s in _ev_sessions(qs[qi], ends))).total_seconds() / 3600
                for qi, t in first_asks.items()
            ]
        ),
        "cycles": len(cycle_s),
        "cycle_s": percentiles([s * 1000 for s in cycle_s]) | {"unit": "ms"},
        "actions": dict(actions),
        "promotions_after_a_single_read": single_read,
        "promotion_score": percentiles(promote_scores),
        "final_counts": counts,
        "kept": n_kept,
        "kept_share": n_kept / len(turns),
        "survival": survival,
        "retrievable_top10": retrieval,
        "seconds": round(time.perf_counter() - t_start, 1),
    }


def _ev_sessions(q: dict[str, Any], ends: dict[str, datetime]) -> set[str]:
    return {f"session_{e.split(':')[0][1:]}" for e in q["evidence"]} & set(ends)


def _sources(merged_into: dict[str, str], id_to_dia: dict[str, str], survivor: str):
    """(dia_id, id) of every record merged (transitively) into `survivor`."""
    for src, dst in merged_into.items():
        cur, hops = dst, 0
        while cur != survivor and cur in merged_into and hops < 20:
            cur = merged_into[cur]
            hops += 1
        if cur == survivor and src in id_to_dia:
            yield id_to_dia[src], src


def total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"conversations": [r["conversation"] for r in rows]}
    for key in ("turns", "questions", "used", "held_out", "asks", "kept", "cycles"):
        out[key] = sum(r[key] for r in rows)
    for key in ("asks_with_evidence_live", "asks_with_evidence_in_top10"):
        out[key] = sum(r[key] for r in rows)
    out["promotions_after_a_single_read"] = sum(r["promotions_after_a_single_read"] for r in rows)
    acts: Counter[str] = Counter()
    for r in rows:
        acts.update(r["actions"])
    out["actions"] = dict(acts)
    final: Counter[str] = Counter()
    for r in rows:
        final.update(r["final_counts"])
    out["final_counts"] = dict(final)
    out["kept_share"] = out["kept"] / out["turns"]
    out["survival"] = {}
    out["retrievable_top10"] = {}
    for pol in rows[0]["survival"]:
        out["survival"][pol] = {}
        for half in ("used", "held_out", "held_out_only"):
            s = {
                k: sum(r["survival"][pol][half][k] for r in rows)
                for k in (
                    "evidence_turns",
                    "survived",
                    "questions",
                    "questions_any_evidence_kept",
                    "questions_all_evidence_kept",
                )
            }
            s["survived_share"] = s["survived"] / max(1, s["evidence_turns"])
            out["survival"][pol][half] = s
        rt = {h: sum(r["retrievable_top10"][pol][h] for r in rows) for h in ("used", "held_out")}
        rt["used_share"] = rt["used"] / max(1, out["used"])
        rt["held_out_share"] = rt["held_out"] / max(1, out["held_out"])
        out["retrievable_top10"][pol] = rt
    return out


def part_locomo(embedder: Any, quick: bool) -> dict[str, Any]:
    convs = load_conversations(quick=False)
    if quick:
        convs = convs[:1]
    out: dict[str, Any] = {"load_average_at_start": load_avg()}
    for schedule in SCHEDULES:
        rows = []
        for conv in convs:
            log(f"(2) {conv.name}, schedule {schedule!r}")
            row = simulate(conv, embedder, schedule)
            rows.append(row)
            log(
                f"  kept {row['kept']}/{row['turns']}; used evidence kept "
                f"{row['survival']['ours']['used']['survived']}/"
                f"{row['survival']['ours']['used']['evidence_turns']} vs recency "
                f"{row['survival']['recency']['used']['survived']}; {row['seconds']} s"
            )
        out[schedule] = {"per_conversation": rows, "total": total(rows)}
    if not quick:
        # Not a tuning of the engine: the same replay with one setting changed, to show
        # what the threshold does (a single top-10 read scores about 0.5-0.6 by default).
        out["sensitivity"] = {"setting": {"promotion.to_insights": SENSITIVITY_TO_INSIGHTS}}
        for schedule in SCHEDULES:
            rows = []
            for conv in convs:
                log(f"(2) sensitivity: {conv.name}, {schedule!r}")
                rows.append(
                    simulate(
                        conv,
                        embedder,
                        schedule,
                        promotion={"to_insights": SENSITIVITY_TO_INSIGHTS},
                    )
                )
            out["sensitivity"][schedule] = {"per_conversation": rows, "total": total(rows)}
    out["load_average_at_end"] = load_avg()
    return out


# =============================================================================================
def print_cycle(r: dict[str, Any]) -> None:
    t = r["timing"]
    n = r["records"]
    rows = [
        ["dry run (median of 3)", t["dry_run_median_s"], _acts(t["dry_run"][0])],
        ["run_cycle() applied", t["applied"]["wall_s"], _acts(t["applied"])],
        ["run_cycle() applied (repeat)", t["applied_repeat"]["wall_s"], _acts(t["applied_repeat"])],
        [
            "next cycle, 1 h later",
            t["next_cycle_1h_later"]["wall_s"],
            _acts(t["next_cycle_1h_later"]),
        ],
        [
            "applied, reader not counting",
            r["readers"]["cycle"]["wall_s"],
            _acts(r["readers"]["cycle"]),
        ],
        [
            "applied, reader counting reads",
            r["readers_counting"]["cycle"]["wall_s"],
            _acts(r["readers_counting"]["cycle"]),
        ],
        ["applied, stages timed", r["profile"]["cycle"]["wall_s"], _acts(r["profile"]["cycle"])],
    ]
    print_table(
        f"(1) promotion cycle over {n:,} records (target <= {CYCLE_TARGET_S} s)",
        ["cycle", "seconds", "actions"],
        rows,
    )
    rows = []
    for key, label in (("readers", "not counting"), ("readers_counting", "counting reads")):
        rd = r[key]
        for name, w in (("before", rd["before"]), ("during run_cycle()", rd["during"])):
            rows.append(
                [
                    f"{label}: {name}",
                    w["searches_completed"],
                    w["searches_per_s"],
                    w["latency_ms"].get("p50"),
                    w["latency_ms"].get("p95"),
                    w["latency_ms"].get("max"),
                    w["longest_gap_between_completions_ms"],
                ]
            )
    print_table(
        "(1) a reader thread searching (hybrid, k=10, cached query embeddings) before and "
        "during the cycle",
        ["reader / window", "searches", "per s", "p50 ms", "p95 ms", "max ms", "longest gap ms"],
        rows,
    )
    for key in ("readers", "readers_counting"):
        for g in r[key]["during"].get("longest_gaps", [])[:2]:
            print(
                f"  {key}: gap of {g['ms']} ms at {g['starts_s_into_cycle']} s into the cycle, "
                f"overlapping {g['overlapping_stages_s']}"
            )
    stages = sorted(r["profile"]["stages"].items(), key=lambda kv: -kv[1]["s"])
    print_table(
        "(1) cycle stages (inclusive; nested rows indented)",
        ["stage", "seconds", "calls"],
        [[k, v["s"], v["calls"]] for k, v in stages],
    )


def _acts(summary: dict[str, Any]) -> str:
    a = dict(summary["actions"])
    to = summary.get("promote_to", {})
    parts = [f"{v} promote->{k}" for k, v in sorted(to.items())]
    parts += [f"{a[k]} {k}" for k in ("merge", "expire") if a.get(k)]
    return ", ".join(parts) or "none"


def _ev(s: dict[str, Any]) -> str:
    return f"{s['survived']}/{s['evidence_turns']} {pct(s['survived_share'])}"


def print_locomo(r: dict[str, Any]) -> None:
    for schedule in SCHEDULES:
        part = r[schedule]
        rows = []
        for row in [*part["per_conversation"], part["total"] | {"conversation": "TOTAL"}]:
            for pol in ("ours", "recency", "random", "keep_all"):
                s, rt = row["survival"][pol], row["retrievable_top10"][pol]
                kept = row["kept"] if pol != "keep_all" else row["turns"]
                rows.append(
                    [
                        f"{row['conversation']} {pol}",
                        f"{kept}/{row['turns']}",
                        *(_ev(s[h]) for h in ("used", "held_out", "held_out_only")),
                        pct(rt["used_share"]),
                        pct(rt["held_out_share"]),
                    ]
                )
        print_table(
            f"(2) LoCoMo month, asks '{schedule}': evidence turns live in Insights/Assets "
            "after their Interact TTL, at the same storage budget",
            [
                "conversation / policy",
                "kept",
                "used-q evidence",
                "held-out-q evidence",
                "held-out-only evidence",
                "retr@10 used q",
                "retr@10 held-out q",
            ],
            rows,
        )
        tot = part["total"]
        print(
            f"  asks {tot['asks']}: evidence still live at ask {tot['asks_with_evidence_live']}, "
            f"evidence in top 10 at ask {tot['asks_with_evidence_in_top10']}; actions "
            f"{tot['actions']}; promotions after a single read "
            f"{tot['promotions_after_a_single_read']}"
        )


def print_sensitivity(r: dict[str, Any]) -> None:
    sens = r.get("sensitivity")
    if not sens:
        return
    rows = []
    for schedule in SCHEDULES:
        for label, part in (
            ("default 0.5", r[schedule]),
            (f"{SENSITIVITY_TO_INSIGHTS}", sens[schedule]),
        ):
            tot = part["total"]
            for pol in ("ours", "recency"):
                s, rt = tot["survival"][pol], tot["retrievable_top10"][pol]
                rows.append(
                    [
                        f"{schedule}, to_insights {label}, {pol}",
                        f"{tot['kept']}/{tot['turns']}",
                        *(_ev(s[h]) for h in ("used", "held_out", "held_out_only")),
                        pct(rt["used_share"]),
                        pct(rt["held_out_share"]),
                        tot["promotions_after_a_single_read"] if pol == "ours" else "",
                    ]
                )
    print_table(
        "(2) sensitivity: the same replays with promotion.to_insights changed (totals)",
        [
            "schedule / threshold / policy",
            "kept",
            "used-q evidence",
            "held-out-q evidence",
            "held-out-only evidence",
            "retr@10 used q",
            "retr@10 held-out q",
            "1-read promotions",
        ],
        rows,
    )


def run(quick: bool = False) -> dict[str, Any]:
    from magray_tui.ai import load_embedder

    t0 = time.perf_counter()
    result: dict[str, Any] = {"quick": quick, "load_average_at_start": load_avg(), "k": K}
    with temp_home("magray-promo-model-") as home:
        settings = bench_settings(home)
        embedder = load_embedder(settings)
        embedder.embed_query("warm up the model")
        p, m = settings.promotion, settings.memory
        result["model"] = embedder.model_id
        result["settings"] = {
            "promotion": p.model_dump(),
            "ttl_interact_hours": m.ttl_interact_hours,
            "ttl_insights_days": m.ttl_insights_days,
            "embedding_threads": settings.embedding.intra_op_threads,
            "device": "cpu",
        }
        result["cycle"] = part_cycle(embedder, quick)
        print_cycle(result["cycle"])
        result["locomo"] = part_locomo(embedder, quick)
        result["locomo"]["setup"] = {
            "conversations": "one (conv-26)" if quick else "all five in the data folder",
            "month": (
                f"session k of n on day floor(k*{MONTH_DAYS}/n) at its own time of day (order "
                f"kept, >= 1 h apart); turns {TURN_SPACING.seconds} s apart; each turn added to "
                "Interact with that created_at, session='session_k', metadata dia_id"
            ),
            "questions": (
                "all questions that name evidence (categories 1-5); shuffled with "
                f"random.Random('{SEED}-<conversation>'), first half 'used' (asked as "
                "searches), second half 'held_out' (never asked)"
            ),
            "asks": (
                "search(question, k=10, reader_session='chat-day<D>', counting accesses); "
                "first ask after the end of the last evidence session: 'month' = uniform up to "
                f"the end of day {MONTH_DAYS}; 'prompt' = uniform 10 min - 20 h later; with "
                f"probability {SECOND_ASK_P} asked again 1-10 days after the first (seeded per "
                "conversation and schedule)"
            ),
            "cycles": (
                f"flush_accesses() + run_cycle() every simulated day at 0{CYCLE_HOUR}:00 until "
                "48 h after the last turn and 1 day after the last ask; default settings"
            ),
            "survival": (
                "an evidence turn survives if its record is live in Insights/Assets at the end, "
                "or merged (transitively) into one that is; recency = the N most recent turns, "
                "random = N turns at random (seeded), N = records the policy kept; keep_all = "
                "every turn (the ceiling)"
            ),
            "sensitivity": (
                "full run only: the same replays with promotion.to_insights = "
                f"{SENSITIVITY_TO_INSIGHTS} instead of 0.5, to show what the threshold does; "
                "the headline numbers use the defaults"
            ),
            "retrievable_top10": (
                "per question, a fresh store of the kept set (ours: one record per kept "
                "record, standing for the turns merged into it) searched with the question "
                "(hybrid, k=10, accesses not counted): is an evidence turn in the top 10"
            ),
        }
        print_locomo(result["locomo"])
        print_sensitivity(result["locomo"])
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["load_average_at_end"] = load_avg()
    path = write_result(NAME, result)
    log(f"wrote {path}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k records, one conversation")
    args = parser.parse_args()
    run(quick=args.quick)


if __name__ == "__main__":
    main()
