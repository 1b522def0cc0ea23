"""MemoryService with the real DuckDB file, hnswlib and tantivy indexes and ONNX model."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from magray_tui.memory import Layer, MemoryError_, MemoryService, RecordNotFound, State
from tests.conftest import FACTS


def _fill(svc: MemoryService) -> list[str]:
    items = [
        {
            "text": t,
            "layer": ["interact", "insights", "assets"][i % 3],
            "tags": [f"t{i % 2}"],
            "kind": "fact" if i % 4 == 0 else "note",
            "session": f"s{i % 3}",
            "created_at": datetime(2024, 1, 1) + timedelta(days=i),
        }
        for i, t in enumerate(FACTS)
    ]
    return svc.add_many(items)


def test_add_then_search_finds_paraphrase_with_score_parts(memory: MemoryService) -> None:
    ids = _fill(memory)
    hits = memory.search("which database is our source of truth?", k=3)
    assert hits[0].record.id == ids[3]
    top = hits[0]
    assert top.parts["vector_rank"] == 1
    assert top.parts["keyword_rank"] is not None  # "database", "source", "truth" match
    assert 0 < top.score <= 1.0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("mode", ["vector", "keyword", "hybrid"])
def test_each_mode_returns_its_own_evidence(memory: MemoryService, mode: str) -> None:
    _fill(memory)
    hits = memory.search("marathon training in Chicago", k=2, mode=mode)
    assert "marathon" in hits[0].record.text
    parts = hits[0].parts
    if mode == "vector":
        assert parts["vector_rank"] == 1 and parts["keyword_rank"] is None
    if mode == "keyword":
        assert parts["keyword_rank"] == 1 and parts["vector_rank"] is None
    if mode == "hybrid":
        assert parts["vector_rank"] == 1 and parts["keyword_rank"] == 1


def test_filters_by_layer_kind_tags_session_and_time(memory: MemoryService) -> None:
    _fill(memory)
    q = "things to remember"
    assert {h.record.layer for h in memory.search(q, k=20, layers=["assets"])} == {Layer.ASSETS}
    assert {h.record.kind for h in memory.search(q, k=20, kinds=["fact"])} == {"fact"}
    tagged = memory.search(q, k=20, tags=["t1"])
    assert tagged and all("t1" in h.record.tags for h in tagged)
    assert {h.record.session for h in memory.search(q, k=20, session="s2")} == {"s2"}
    since, until = datetime(2024, 1, 3), datetime(2024, 1, 6)
    got = memory.search(q, k=20, since=since, until=until)
    assert got and all(since <= h.record.created_at < until for h in got)
    assert len(got) == 3
    # Words that match records in every layer: the filter must keep only Insights' matches.
    words = "database deploy token marathon revenue coffee"
    unfiltered = memory.search(words, k=20, mode="keyword")
    assert {h.record.layer for h in unfiltered} == set(Layer)
    for mode in ("vector", "keyword"):
        hits = memory.search(words, k=20, layers=["insights"], mode=mode)
        assert hits and all(h.record.layer is Layer.INSIGHTS for h in hits)
    keyword = memory.search(words, k=20, layers=["insights"], mode="keyword")
    assert {h.record.text for h in keyword} == {FACTS[7], FACTS[10]}


def test_filtered_vector_search_through_the_graph(memory: MemoryService, monkeypatch) -> None:
    # Large allowed sets walk the HNSW graph with a filter instead of an exact scan.
    from magray_tui.memory import search as search_mod

    monkeypatch.setattr(search_mod, "EXACT_SCAN_LIMIT", 1)
    _fill(memory)
    hits = memory.search("cat and coffee", k=3, layers=["interact"], mode="vector")
    assert hits and all(h.record.layer is Layer.INTERACT for h in hits)
    assert "cat" in hits[0].record.text


def test_search_counts_accesses(memory: MemoryService) -> None:
    ids = _fill(memory)
    memory.search("tomato plants", k=1, reader_session="chat-1")
    memory.search("watering tomatoes", k=1)
    memory.flush_accesses()
    record = memory.get(ids[8], count_access=False)
    assert record.access_count == 2
    assert record.last_access is not None
    rows = (
        memory.store.cursor()
        .execute(
            "SELECT count(*), count(DISTINCT session) FROM access_events WHERE seq = ?",
            [record.seq],
        )
        .fetchone()
    )
    assert rows == (2, 1)
    assert memory.search("tomato", k=1, count_access=False)
    memory.flush_accesses()
    assert memory.get(ids[8], count_access=False).access_count == 2


def test_update_reembeds_and_keeps_history(memory: MemoryService) -> None:
    rid = memory.add("The meeting is on Monday.", tags=["work"])
    memory.update(rid, text="The meeting moved to Friday afternoon.", tags=["work", "moved"])
    hits = memory.search("friday afternoon", k=1, mode="keyword")
    assert hits[0].record.id == rid
    assert memory.search("monday", k=5, mode="keyword") == []
    record = memory.get(rid)
    assert record.tags == ("work", "moved")
    history = memory.history(rid)
    assert history[-1]["action"] == "edit"
    assert "Monday" in history[-1]["details"]


def test_forget_restore_purge(memory: MemoryService) -> None:
    ids = _fill(memory)
    target = ids[6]  # the cat
    memory.forget(target, reason="not useful")
    assert target not in {h.record.id for h in memory.search("cat coffee mug", k=12)}
    assert memory.get(target).state is State.FORGOTTEN
    assert [r.id for r in memory.list(forgotten=True)] == [target]
    memory.restore(target)
    assert memory.search("cat coffee mug", k=1)[0].record.id == target
    with pytest.raises(MemoryError_, match="forget it before purging"):
        memory.purge(target)
    memory.forget(target)
    assert memory.purge() == []  # still inside its grace period
    assert memory.purge(target) == [target]
    with pytest.raises(RecordNotFound):
        memory.get(target)
    actions = [h["action"] for h in memory.store.history(target)]
    assert actions == ["forget", "restore", "forget", "purge"]
    assert memory.stats()["indexes"]["vector_entries"] == len(ids) - 1


def test_purge_expired_tombstones_with_a_clock(backend, settings, embedder) -> None:
    now = [datetime(2025, 1, 1)]
    with MemoryService.open(settings=settings, embedder=embedder, clock=lambda: now[0]) as svc:
        rid = svc.add("temporary scratch note")
        svc.forget(rid)
        now[0] += timedelta(days=settings.memory.tombstone_grace_days + 1)
        assert svc.purge() == [rid]


def test_get_by_prefix_and_ambiguity(memory: MemoryService) -> None:
    rid = memory.add("a memorable fact")
    assert memory.get(rid[:6]).id == rid
    with pytest.raises(RecordNotFound):
        memory.get("zzzzzzzz")


def test_bad_input_is_refused_clearly(memory: MemoryService) -> None:
    with pytest.raises(MemoryError_, match="empty text"):
        memory.add("   ")
    with pytest.raises(MemoryError_, match="unknown layer"):
        memory.add("x", layer="attic")
    with pytest.raises(MemoryError_, match="ISO-8601"):
        memory.add("x", created_at="yesterday-ish")
    with pytest.raises(MemoryError_, match="metadata"):
        memory.add_many([{"text": "x", "metadata": ["not", "a", "dict"]}])
    with pytest.raises(MemoryError_, match="#2: missing 'text'"):
        memory.add_many([{"text": "ok"}, {"layer": "assets"}])
    with pytest.raises(MemoryError_, match="unknown search mode"):
        memory.search("x", mode="magic")
    with pytest.raises(MemoryError_, match="k must be"):
        memory.search("x", k=0)
    assert memory.stats()["total_live"] == 0  # nothing half-written


def test_hostile_queries_do_not_break_search(memory: MemoryService) -> None:
    _fill(memory)
    for query in ['AND OR NOT (( ] :* "', "title:foo^3 ~2", "\x00\x01", "🙂" * 500, "a" * 100_000]:
        memory.search(query, k=5)
    assert memory.search("   ", k=5) == []


def test_huge_and_non_utf8_text(memory: MemoryService) -> None:
    big = ("All work and no play makes Jack a dull boy. " * 1_200_000)[:50_000_000]
    rid = memory.add(big)
    record = memory.get(rid)
    limit = memory.settings.memory.max_text_bytes
    assert len(record.text.encode()) <= limit
    assert record.metadata["truncated"]["original_bytes"] == 50_000_000
    raw = b"caf\xe9 latte \xff\xfe price list"
    rid2 = memory.add(raw)
    assert memory.get(rid2).text == "caf\ufffd latte \ufffd\ufffd price list"
    assert memory.search("latte price", k=1)[0].record.id == rid2


def test_vectors_given_by_the_caller(memory: MemoryService, embedder) -> None:
    texts = ["alpha centauri is a star system", "beta carotene is in carrots"]
    vecs = embedder.embed_documents(texts) * 3.0  # not normalised: the service normalises
    ids = memory.add_many([{"text": t} for t in texts], vectors=vecs)
    assert memory.search("nearest star", k=1, mode="vector")[0].record.id == ids[0]
    with pytest.raises(MemoryError_, match="shape"):
        memory.add_many([{"text": "x"}], vectors=np.zeros((1, 5)))


def test_reopen_loads_indexes_without_rebuild(settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        ids = _fill(svc)
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        report = svc.catch_up_report
        assert report.vector_loaded and report.keyword_loaded
        assert (report.vector_replayed, report.keyword_replayed, report.rebuilt) == (0, 0, [])
        assert svc.search("marathon", k=1)[0].record.id == ids[10]


def test_damaged_index_files_are_rebuilt(settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        ids = _fill(svc)
    index_dir = settings.paths.index_dir
    for f in index_dir.glob("vectors-*.bin"):
        f.write_bytes(b"garbage")
    (index_dir / "keyword" / "keyword.json").write_text("{not json")
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        report = svc.catch_up_report
        assert not report.vector_loaded and not report.keyword_loaded
        assert svc.search("marathon", k=1)[0].record.id == ids[10]
        assert svc.search("marathon", k=1, mode="keyword")[0].record.id == ids[10]


def test_reindex_rebuilds_from_the_database(memory: MemoryService) -> None:
    ids = _fill(memory)
    memory.forget(ids[0])
    report = memory.reindex()
    assert report.rebuilt == ["vector", "keyword"]
    assert len(memory.indexes.vectors) == len(ids) - 1
    assert len(memory.indexes.keywords) == len(ids) - 1


def test_store_embedded_with_another_model_is_refused(backend, settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        svc.add("hello")
        svc.store.set_meta("embed_model", "some-other-model")
    with pytest.raises(MemoryError_, match="embedded with some-other-model"):
        MemoryService.open(settings=settings, embedder=embedder)
