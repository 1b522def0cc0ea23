"""The metrics registry, and the services recording into it (a real store and model)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest

from magray_tui.memory import MemoryService
from magray_tui.monitor.metrics import KNOWN_LATENCIES, Metrics, metrics


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_percentiles_over_known_samples() -> None:
    reg = Metrics()
    for ms in range(1, 101):  # 1..100 ms, shuffled order must not matter
        reg.observe("search", ((ms * 37) % 100 + 1) / 1000)
    stats = reg.latency("search")
    assert stats is not None
    assert stats.count == stats.window == 100
    assert stats.p50_ms == pytest.approx(51, abs=1)
    assert stats.p95_ms == pytest.approx(95, abs=1)
    assert stats.p99_ms == pytest.approx(99, abs=1)
    assert stats.max_ms == pytest.approx(100)
    assert stats.total_s == pytest.approx(sum(range(1, 101)) / 1000)
    assert reg.latency("never-recorded") is None


def test_window_is_bounded_but_lifetime_totals_are_not() -> None:
    reg = Metrics(window=10)
    for n in range(1, 31):
        reg.observe("embed", n / 1000)
    stats = reg.latency("embed")
    assert stats is not None
    assert stats.count == 30 and stats.window == 10
    assert stats.p50_ms == pytest.approx(25, abs=1)  # over the last ten: 21..30 ms
    assert stats.last_ms == pytest.approx(30)


def test_timer_records_time_and_counts_errors() -> None:
    ticks = Ticks()
    reg = Metrics(clock=ticks)
    with reg.timer("db.write"):
        pass
    with pytest.raises(ValueError, match="boom"), reg.timer("db.write"):
        raise ValueError("boom")
    stats = reg.latency("db.write")
    assert stats is not None and stats.count == 2 and stats.errors == 1
    assert reg.counter("db.write.errors") == 1
    assert reg.counter("nothing") == 0


def test_per_minute_throughput_uses_recent_samples_only() -> None:
    ticks = Ticks(0.0)
    reg = Metrics(clock=ticks)
    for t in (0.0, 10.0, 50.0, 95.0, 100.0):
        ticks.t = t
        reg.observe("search", 0.001)
    ticks.t = 100.0
    stats = reg.latency("search")
    assert stats is not None and stats.per_min == 3  # 50, 95, 100 are within 60 s of 100
    assert stats.rate_per_s == pytest.approx(4 / 100)
    ticks.t = 1000.0
    assert reg.latency("search").per_min == 0  # type: ignore[union-attr]


def test_concurrent_recording_loses_nothing() -> None:
    reg = Metrics()

    def work() -> None:
        for _ in range(2000):
            reg.observe("embed", 0.001)
            reg.count("embed.texts", 2)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reg.latency("embed").count == 8000  # type: ignore[union-attr]
    assert reg.counter("embed.texts") == 16000


def test_snapshot_as_json_and_reset() -> None:
    reg = Metrics()
    reg.observe("search", 0.002)
    reg.count("search.errors")
    data = json.loads(json.dumps(reg.to_dict()))
    assert data["latencies"]["search"]["count"] == 1
    assert data["latencies"]["search"]["errors"] == 1
    assert data["counters"] == {"search.errors": 1}
    reg.reset()
    assert reg.snapshot() == ({}, {})


def _counts() -> dict[str, int]:
    latencies, counters = metrics.snapshot()
    out = {name: s.count for name, s in latencies.items()}
    out.update(counters)
    return out


def _delta(before: dict[str, int], name: str) -> int:
    return _counts().get(name, 0) - before.get(name, 0)


def test_memory_service_records_embed_search_and_writes(memory: MemoryService) -> None:
    before = _counts()
    texts = ["The lighthouse keeper logs the ships at dawn.", "Tide tables are pinned by the door."]
    ids = memory.add_many([{"text": t} for t in texts])
    assert _delta(before, "embed") == 1  # one batch of two
    assert _delta(before, "embed.texts") == 2
    assert _delta(before, "db.write") == 1
    memory.search("who logs the ships", k=2)
    assert _delta(before, "search") == 1
    memory.update(ids[0], tags=["coast"])  # no new text: no embedding
    memory.forget(ids[1])
    memory.restore(ids[1])
    memory.purge(memory.forget(ids[1]).id)
    assert _delta(before, "db.write") == 6  # add, update, forget, restore, forget, purge
    assert _delta(before, "embed") == 2  # the search query only
    # The same text again is a cache hit: no model run, and the cache counts it.
    hits = memory.embedder.cache_stats()["hits"]
    memory.embedder.embed_documents([texts[0]])
    assert _delta(before, "embed") == 2
    assert memory.embedder.cache_stats()["hits"] == hits + 1
    assert set(KNOWN_LATENCIES) >= {"embed", "search", "db.write"}


def test_failed_search_counts_an_error(memory: MemoryService, monkeypatch) -> None:
    memory.add("Ravens nest on the north tower.")
    before = _counts()

    def broken(*args, **kwargs):
        raise RuntimeError("index went away")

    monkeypatch.setattr(memory.core.retriever, "search", broken)
    with pytest.raises(RuntimeError):
        memory.search("ravens")
    assert _delta(before, "search.errors") == 1 and _delta(before, "search") == 1


def test_promotion_cycle_records_time_and_moves(settings, embedder) -> None:
    now = datetime(2025, 3, 1, 9, 0)
    clock = {"now": now}
    with MemoryService.open(
        settings=settings, embedder=embedder, clock=lambda: clock["now"]
    ) as svc:
        svc.add_many([{"text": f"one-off note number {i} about lunch"} for i in range(3)])
        before = _counts()
        svc.run_cycle(dry_run=True)  # a preview is not activity
        assert _delta(before, "promotion.cycle") == 0
        clock["now"] = now + timedelta(hours=30)  # past the Interact TTL
        report = svc.run_cycle()
        assert report.counts().get("expire") == 3
        assert _delta(before, "promotion.cycle") == 1
        assert _delta(before, "promotion.expire") == 3
        assert _delta(before, "promotion.promote") == report.counts().get("promote", 0)
