"""The promotion engine on a real store, with a clock the tests control."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from magray_tui.memory import Layer, MemoryError_, MemoryService, RecordNotFound, State
from tests.conftest import FACTS

T0 = datetime(2025, 3, 1, 9, 0)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(backend, settings, embedder, clock):
    embedder.cache.clear()
    with MemoryService.open(settings=settings, embedder=embedder, clock=clock) as s:
        s.add_many([{"text": t} for t in FACTS])
        yield s


def _use(svc: MemoryService, query: str, session: str) -> None:
    svc.search(query, k=3, reader_session=session)
    svc.flush_accesses()


def test_record_used_in_several_sessions_moves_up(svc: MemoryService, clock: Clock) -> None:
    rid = svc.add("The production database password is kept in the team vault.")
    for day, session in enumerate(("mon", "tue", "wed")):
        clock.advance(hours=6 if day == 0 else 24)
        _use(svc, "where is the production database password", session)
    report = svc.run_cycle()
    moved = [a for a in report.actions if a.record_id == rid]
    assert moved and moved[0].action == "promote" and moved[0].to_layer == "insights"
    assert "breadth" in moved[0].reason and moved[0].actor == "policy"
    assert svc.get(rid, count_access=False).layer is Layer.INSIGHTS
    # Still useful a week later, in more sessions: on to Assets.
    for day in range(8):
        clock.advance(days=1)
        _use(svc, "production database password vault", f"week2-{day}")
    svc.run_cycle()
    assert svc.get(rid, count_access=False).layer is Layer.ASSETS
    history = svc.history(rid)
    assert [h["action"] for h in history] == ["promote", "promote"]
    assert "score" in history[0]["reason"] and '"features"' in history[0]["details"]


def test_one_off_interact_record_expires_to_a_tombstone(svc: MemoryService, clock: Clock) -> None:
    rid = svc.add("Lunch order: two falafel wraps.")
    clock.advance(hours=23)
    assert rid not in {a.record_id for a in svc.run_cycle().actions}
    clock.advance(hours=2)
    report = svc.run_cycle()
    assert {a.record_id for a in report.actions if a.action == "expire"} >= {rid}
    record = svc.get(rid, count_access=False)
    assert record.state is State.FORGOTTEN
    assert svc.history(rid)[-1]["action"] == "expire"
    svc.restore(rid)
    assert svc.search("falafel lunch", k=1)[0].record.id == rid


def test_pinned_record_never_expires(svc: MemoryService, clock: Clock) -> None:
    rid = svc.add("My passport number ends in 4471.")
    svc.pin(rid)
    for _ in range(3):
        clock.advance(days=100)
        svc.run_cycle()
    assert svc.get(rid, count_access=False).state is State.LIVE
    assert svc.stats()["counts"]["interact"] == 1  # every unpinned fact expired


def test_dry_run_changes_nothing(svc: MemoryService, clock: Clock) -> None:
    clock.advance(days=2)
    before = svc.stats()["counts"]
    report = svc.run_cycle(dry_run=True)
    assert not report.applied and len(report.actions) == len(FACTS)
    assert all(a.action == "expire" and "time to live passed" in a.reason for a in report.actions)
    assert svc.stats()["counts"] == before


@pytest.mark.parametrize("path", ["exact scan", "graph"])
def test_promoting_a_near_duplicate_merges_and_undo_splits(
    svc: MemoryService, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "graph":  # large target layers go through one batched graph query
        monkeypatch.setattr("magray_tui.memory.lifecycle.EXACT_SCAN_LIMIT", 0)
    keep = svc.add(
        "The staging server password rotates every Monday.", layer="insights", tags=["ops"]
    )
    dup = svc.add("the staging server password rotates every monday", tags=["security"])
    _use(svc, "staging server password", "s1")
    reads = svc.get(dup, count_access=False).access_count
    kept_reads = svc.get(keep, count_access=False).access_count
    svc.promote(dup)
    merged = svc.get(dup, count_access=False)
    survivor = svc.get(keep, count_access=False)
    assert merged.state is State.MERGED and merged.merged_into == keep
    assert survivor.tags == ("ops", "security")
    assert survivor.access_count == kept_reads + reads
    assert [h.record.id for h in svc.search("staging password monday", k=5)].count(keep) == 1
    assert dup not in {h.record.id for h in svc.search("staging password monday", k=20)}
    assert "the staging server password rotates every monday" in svc.history(dup)[-1]["details"]
    svc.undo(dup)
    assert svc.get(dup, count_access=False).state is State.LIVE
    assert svc.get(dup, count_access=False).layer is Layer.INTERACT
    restored = svc.get(keep, count_access=False)
    assert restored.tags == ("ops",) and restored.access_count == kept_reads
    with pytest.raises(MemoryError_, match="nothing to undo"):
        svc.undo(keep)  # the survivor's absorb was undone together with the merge


def test_manual_moves_pin_importance_and_undo(svc: MemoryService) -> None:
    rid = svc.add("Alice owns the billing service.")
    assert svc.promote(rid, to="assets").layer is Layer.ASSETS
    assert svc.demote(rid).layer is Layer.INSIGHTS
    assert svc.undo(rid) == "moved back to assets"
    assert svc.get(rid, count_access=False).layer is Layer.ASSETS
    svc.set_importance(rid, 0.9)
    svc.undo(rid)
    assert svc.get(rid, count_access=False).importance == 0.5
    with pytest.raises(MemoryError_, match="nowhere to promote"):
        svc.promote(rid)
    with pytest.raises(MemoryError_, match="cannot demote"):
        svc.demote(rid, to="assets")
    with pytest.raises(MemoryError_, match="between 0 and 1"):
        svc.set_importance(rid, 7)


def test_bad_targets_give_clear_messages(svc: MemoryService, clock: Clock) -> None:
    rid = svc.add("temporary")
    svc.forget(rid)
    with pytest.raises(MemoryError_, match="restore it first"):
        svc.promote(rid)
    svc.purge(rid)
    with pytest.raises(RecordNotFound):
        svc.promote(rid)
    svc.run_cycle()
    clock.advance(days=-3)  # the clock jumps backwards
    before = svc.stats()["counts"]
    with pytest.raises(MemoryError_, match="behind the last cycle"):
        svc.run_cycle()
    assert svc.stats()["counts"] == before


def test_learned_policy_takes_over_only_when_it_beats_the_default(
    svc: MemoryService, clock: Clock
) -> None:
    status = svc.policy_status()
    assert not status.active and "0 user decisions" in status.why
    # This user keeps long, detailed notes and drops short ones, whatever their reads:
    # the default score (reads, relevance) cannot express that; a model of length can.
    topics = [
        "the ledger",
        "the cache",
        "the queue",
        "the API",
        "the schema",
        "the backups",
        "the logging",
        "the search",
        "the auth flow",
        "the billing",
        "the exports",
        "the alerts",
        "the CI",
        "the deploys",
    ]
    for i, topic in enumerate(topics):
        long_id = svc.add(
            f"Design decision {i} on {topic}: we chose this approach because the auditors "
            f"need every change to {topic} recorded with its author, time and reason, "
            "and we reviewed three alternatives before settling on it."
        )
        short_id = svc.add(f"ok {i}")
        svc.promote(long_id)
        svc.forget(short_id)
    status = svc.policy_status()
    assert status.examples == 28 and status.active, status.why
    assert status.learned_accuracy > status.default_accuracy
    fresh_long = svc.add(
        "Decision: the ledger keeps every change with its author and reason "
        "because the auditors asked for a complete trail " * 2
    )
    clock.advance(hours=2)  # past the minimum time in Interact
    report = svc.run_cycle(dry_run=True)
    assert report.policy == "learned"
    actions = {a.record_id: a for a in report.actions}
    assert fresh_long in actions and actions[fresh_long].actor == "learned"
