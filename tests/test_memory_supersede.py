"""Facts over time (issue 16 §1): a newer memory that changes a value supersedes the older
one instead of being merged into it; real store, real embeddings, a clock the tests set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from magray_tui.memory import Layer, MemoryError_, MemoryService, State
from tests.conftest import FACTS
from tests.test_memory_cli import magray
from tests.test_memory_lifecycle import Clock

OLD = "The staging database listens on port 5433."
NEW = "The staging database listens on port 5434."


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(backend, settings, embedder, clock):
    embedder.cache.clear()
    with MemoryService.open(settings=settings, embedder=embedder, clock=clock) as s:
        s.add_many([{"text": t} for t in FACTS])
        yield s


@pytest.mark.parametrize("path", ["exact scan", "graph"])
def test_the_issue_repro_a_new_port_supersedes_the_old_one(
    svc: MemoryService, clock: Clock, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "graph":  # large target layers go through one batched graph query
        monkeypatch.setattr("magray_tui.memory.lifecycle.EXACT_SCAN_LIMIT", 0)
    old = svc.add(OLD, layer="insights")
    clock.advance(days=3)
    new = svc.add(NEW)
    clock.advance(hours=2)
    promoted = svc.promote(new)
    assert promoted.state is State.LIVE and promoted.merged_into is None
    assert promoted.layer is Layer.INSIGHTS and promoted.superseded_by is None
    older = svc.get(old, count_access=False)
    assert older.state is State.LIVE and older.superseded_by == new
    assert older.valid_until == clock.now
    listed = {r.id: r for r in svc.list(layers=["insights"])}
    assert set(listed) == {old, new}  # both visible
    hits = svc.search("staging database port", k=5)
    ids = [h.record.id for h in hits]
    assert ids.index(new) < ids.index(old) and ids[0] == new
    assert hits[ids.index(old)].parts["superseded"] == svc.settings.memory.superseded_penalty
    assert "superseded" not in hits[0].parts
    assert [h.record.id for h in svc.search("staging database port 5433", k=1)] == [new]
    assert [h["action"] for h in svc.history(old)] == ["superseded"]
    assert [h["action"] for h in svc.history(new)] == ["promote", "supersedes"]
    chain = svc.chain(new)
    assert [r["id"] for r in chain["older"]] == [old] and chain["newer"] == []
    assert [r["id"] for r in svc.chain(old)["newer"]] == [new]


def test_undo_on_either_side_restores_the_previous_state(svc: MemoryService, clock: Clock) -> None:
    old = svc.add(OLD, layer="insights")
    new = svc.add(NEW)
    svc.promote(new)
    assert "no longer superseded" in svc.undo(old)
    restored = svc.get(old, count_access=False)
    assert restored.superseded_by is None and restored.valid_until is None
    # The newer side's link row counts as undone too: its next undo is the promotion.
    assert svc.undo(new) == "moved back to interact"
    assert svc.get(new, count_access=False).layer is Layer.INTERACT
    hits = svc.search("staging database port", k=5)
    assert old in [h.record.id for h in hits]
    assert all("superseded" not in h.parts for h in hits)  # no rank penalty any more
    # Undo from the newer side first, this time through an explicit supersede.
    svc.supersede(old, new)
    assert svc.undo(new).startswith(f"{old} is no longer superseded")
    assert svc.get(old, count_access=False).superseded_by is None
    with pytest.raises(MemoryError_, match="nothing to undo"):
        svc.undo(old)  # its own superseded row was undone with the newer one's


def test_a_cycle_supersedes_and_its_dry_run_changes_nothing(
    svc: MemoryService, clock: Clock
) -> None:
    old = svc.add(OLD, layer="insights")
    clock.advance(days=2)
    new = svc.add(NEW, importance=1.0)
    for day, session in enumerate(("mon", "tue", "wed")):
        clock.advance(hours=6 if day == 0 else 24)
        svc.search("which port does the staging database listen on", k=3, reader_session=session)
        svc.flush_accesses()
    preview = svc.run_cycle(dry_run=True)
    planned = [a for a in preview.actions if a.record_id == new]
    assert planned and planned[0].action == "supersede"
    assert planned[0].supersede == {"older": old, "newer": new}
    assert svc.get(old, count_access=False).superseded_by is None  # a preview writes nothing
    report = svc.run_cycle()
    assert report.counts().get("supersede") == 1
    assert svc.get(new, count_access=False).layer is Layer.INSIGHTS
    older = svc.get(old, count_access=False)
    assert older.superseded_by == new and older.valid_until == clock.now
    assert svc.history(old)[-1]["actor"] == "policy"


def test_a_restatement_still_merges_and_a_neighbour_stays_apart(svc: MemoryService) -> None:
    keep = svc.add("Caroline went to the LGBTQ support group on Tuesday evening.", layer="insights")
    same = svc.add("On Tuesday evening Caroline attended the LGBTQ support group.")
    other = svc.add("The staging cache listens on port 6379.")
    svc.add(OLD, layer="insights")
    assert svc.promote(same).merged_into == keep
    moved = svc.promote(other)
    assert moved.merged_into is None and moved.layer is Layer.INSIGHTS
    assert all(r.superseded_by is None for r in svc.list(layers=["insights"]))


def test_explicit_supersede_builds_a_chain_and_refuses_what_makes_no_sense(
    svc: MemoryService, clock: Clock
) -> None:
    a = svc.add("Caroline lives in Boston.")
    clock.advance(days=1)
    b = svc.add("Caroline lives in Denver.")
    clock.advance(days=1)
    c = svc.add("Caroline lives in Seattle.")
    assert svc.supersede(a, b).superseded_by == b
    clock.advance(minutes=5)
    assert svc.supersede(b, c).valid_until == clock.now
    chain = svc.chain(b)
    assert [r["id"] for r in chain["newer"]] == [c]
    assert [r["id"] for r in chain["older"]] == [a]
    assert [r["id"] for r in svc.chain(c)["older"]] == [b, a]
    assert [r["id"] for r in svc.chain(a)["newer"]] == [b, c]
    with pytest.raises(MemoryError_, match="cannot supersede itself"):
        svc.supersede(c, c)
    with pytest.raises(MemoryError_, match="already superseded by"):
        svc.supersede(a, c)
    with pytest.raises(MemoryError_, match="loop"):
        svc.supersede(c, a)
    svc.forget(c)
    with pytest.raises(MemoryError_, match="forgotten; restore it first"):
        svc.supersede(c, svc.add("Caroline lives in Austin."))
    assert svc.get(b, count_access=False).superseded_by == c  # refusals changed nothing


def test_cli_marks_superseded_rows_and_json_has_the_fields(tmp_path: Path) -> None:
    home = tmp_path / "h"
    old = magray(home, "memory", "add", "--layer", "insights", OLD).output.strip()
    new = magray(home, "memory", "add", NEW).output.strip()
    out = magray(home, "memory", "promote", new).output
    assert f"{new} now in insights" in out and f"{new} supersedes {old}" in out
    rows = {r["id"]: r for r in json.loads(magray(home, "memory", "list", "--json").output)}
    assert rows[old]["superseded_by"] == new and rows[old]["valid_until"].endswith("Z")
    assert rows[new]["superseded_by"] is None and rows[new]["valid_until"] is None
    text_column = " ".join(
        line.split("│")[-2].strip()
        for line in magray(home, "memory", "list").output.splitlines()
        if line.count("│") >= 2
    )
    # Compared without whitespace: at 80 columns the table folds the id inside the text.
    folded = "".join(text_column.split())
    assert "".join(f"[superseded by {new}] {OLD}".split()) in folded
    assert f"[supersededby{old}]" not in folded
    hits = json.loads(magray(home, "memory", "search", "staging database port", "--json").output)
    assert [h["id"] for h in hits][:2] == [new, old]
    assert magray(home, "memory", "undo", old).exit_code == 0
    bad = magray(home, "memory", "supersede", old, old)
    assert bad.exit_code == 1 and "cannot supersede itself" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    done = magray(home, "memory", "supersede", old, new, "--json")
    assert json.loads(done.output)["superseded_by"] == new
