"""One write path: after every change through the public MemoryService API, both indexes
are at the store's revision and hold exactly the live records (a search on them finds what
a search on freshly rebuilt indexes finds)."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from magray_tui.config import load_settings
from magray_tui.memory import Layer, MemoryError_, MemoryService, State
from tests.conftest import FACTS

T0 = datetime(2025, 3, 1, 9, 0)


def index_status(svc: MemoryService) -> dict:
    return svc.stats()["indexes"]


def assert_indexes_at_store_rev(svc: MemoryService) -> None:
    status = index_status(svc)
    assert status["vector_watermark"] == status["store_rev"], status
    assert status["keyword_watermark"] == status["store_rev"], status
    live = svc.stats()["total_live"]
    assert status["vector_entries"] == live == status["keyword_entries"], status


def test_pin_importance_and_undo_keep_the_indexes_at_the_store_revision(memory) -> None:
    # The bug: pin / set_importance / undo bumped the store's revision without telling the
    # indexes (watermark 1 against store revision 4; every reopen replayed those rows).
    rid = memory.add("The staging server restarts every Sunday at 3am.")
    memory.pin(rid)
    assert_indexes_at_store_rev(memory)
    memory.set_importance(rid, 0.9)
    assert_indexes_at_store_rev(memory)
    assert memory.undo(rid) == "importance back to 0.5"
    assert_indexes_at_store_rev(memory)
    assert memory.undo(rid) == "unpinned"
    assert_indexes_at_store_rev(memory)
    status = index_status(memory)
    assert status["store_rev"] == 5  # add, pin, importance, two undos: one revision each


def test_reopen_after_pin_replays_nothing(settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        rid = svc.add("The office plants are watered on Fridays.")
        svc.pin(rid)
        svc.set_importance(rid, 0.8)
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        report = svc.catch_up_report
        assert (report.vector_replayed, report.keyword_replayed, report.rebuilt) == (0, 0, [])
        assert_indexes_at_store_rev(svc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


SENTENCES = [
    *FACTS,
    "Lunch order: two falafel wraps and a lemonade.",
    "The backup disk is labelled ORANGE and sits in the second drawer.",
    "Grandma's birthday is on the fourth of May.",
]
WORDS = ["database", "marathon", "coffee", "backup", "theme", "deploy", "falafel"]
IDX = st.integers(min_value=0, max_value=40)


class MemoryModel(RuleBasedStateMachine):
    """Random sequences of every kind of write; the invariant is the one-write-path rule."""

    embedder = None  # set by the test from the session fixture
    new_database = None  # the postgres backend: a fresh database per example

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="magray-commit-prop-"))
        self.clock = Clock()
        make = type(self).new_database
        flags = {"store": {"url": make()}} if make else {}
        self.settings = load_settings(self.dir, **flags)
        self.svc = MemoryService.open(
            settings=self.settings, embedder=type(self).embedder, clock=self.clock
        )
        self.ids: list[str] = []
        self.n = 0

    def teardown(self) -> None:
        self.svc.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _text(self, i: int) -> str:
        self.n += 1
        return f"{SENTENCES[i % len(SENTENCES)]} (note {self.n})"

    def _pick(self, i: int) -> str:
        return self.ids[i % len(self.ids)]

    def attempt(self, op) -> None:
        # A refused operation (promote from assets, undo of nothing) is fine: the
        # invariants still have to hold after it.
        with contextlib.suppress(MemoryError_):
            op()

    @rule(i=IDX, layer=st.sampled_from(list(Layer)))
    def add(self, i: int, layer: Layer) -> None:
        self.ids.append(self.svc.add(self._text(i), layer=layer, tags=[WORDS[i % len(WORDS)]]))

    @rule(i=IDX, n=st.integers(min_value=1, max_value=4))
    def add_many(self, i: int, n: int) -> None:
        items = [{"text": self._text(i + j), "layer": "interact"} for j in range(n)]
        self.ids.extend(self.svc.add_many(items))

    @precondition(lambda self: self.ids)
    @rule(i=IDX, j=IDX)
    def update(self, i: int, j: int) -> None:
        rid = self._pick(i)
        if j % 2:
            self.attempt(lambda: self.svc.update(rid, text=self._text(j)))
        else:
            self.attempt(lambda: self.svc.update(rid, tags=[WORDS[j % len(WORDS)], "edited"]))

    @precondition(lambda self: self.ids)
    @rule(i=IDX)
    def forget(self, i: int) -> None:
        self.attempt(lambda: self.svc.forget(self._pick(i)))

    @precondition(lambda self: self.ids)
    @rule(i=IDX)
    def restore(self, i: int) -> None:
        self.attempt(lambda: self.svc.restore(self._pick(i)))

    @precondition(lambda self: self.ids)
    @rule(i=IDX, everything=st.booleans())
    def purge(self, i: int, everything: bool) -> None:
        if everything:
            gone = self.svc.purge(all_forgotten=True)
        else:
            rid = self._pick(i)
            gone = []
            self.attempt(lambda: gone.extend(self.svc.purge(rid)))
        self.ids = [x for x in self.ids if x not in set(gone)]

    @precondition(lambda self: self.ids)
    @rule(i=IDX, up=st.booleans())
    def move(self, i: int, up: bool) -> None:
        rid = self._pick(i)
        self.attempt(lambda: (self.svc.promote if up else self.svc.demote)(rid))

    @precondition(lambda self: self.ids)
    @rule(i=IDX, pinned=st.booleans())
    def pin(self, i: int, pinned: bool) -> None:
        self.attempt(lambda: self.svc.pin(self._pick(i), pinned))

    @precondition(lambda self: self.ids)
    @rule(i=IDX, value=st.sampled_from([0.0, 0.2, 0.9, 1.0]))
    def importance(self, i: int, value: float) -> None:
        self.attempt(lambda: self.svc.set_importance(self._pick(i), value))

    @precondition(lambda self: self.ids)
    @rule(i=IDX)
    def undo(self, i: int) -> None:
        self.attempt(lambda: self.svc.undo(self._pick(i)))

    @rule(hours=st.sampled_from([1, 30, 24 * 40]), i=IDX)
    def run_cycle(self, hours: int, i: int) -> None:
        self.clock.now += timedelta(hours=hours)
        if self.ids:  # some reads, so the cycle has something to promote
            self.svc.search(SENTENCES[i % len(SENTENCES)], k=3, reader_session=f"s{i}")
            self.svc.flush_accesses()
        self.svc.run_cycle()

    @rule(i=IDX, n=st.integers(min_value=1, max_value=3))
    def import_(self, i: int, n: int) -> None:
        path = self.dir / f"import-{self.n}.jsonl"
        lines = [
            {"text": self._text(i + j), "layer": "insights", "tags": ["imported"]} for j in range(n)
        ]
        path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        before = {r.id for r in self.svc.list(layers=["insights"], limit=1000)}
        self.svc.import_(path)
        after = {r.id for r in self.svc.list(layers=["insights"], limit=1000)}
        self.ids.extend(sorted(after - before))

    @invariant()
    def indexes_follow_the_store(self) -> None:
        assert_indexes_at_store_rev(self.svc)

    @invariant()
    def search_equals_search_on_rebuilt_indexes(self) -> None:
        live = {r.id for r in self.svc.list(limit=1000)}

        def found() -> list[set[str]]:
            out = []
            for query in ("database marathon coffee backup falafel theme deploy",):
                for mode in ("vector", "keyword"):
                    hits = self.svc.search(query, k=200, mode=mode, count_access=False)
                    out.append({h.record.id for h in hits})
                for layer in Layer:  # the keyword index filters by its own copy of the layer
                    hits = self.svc.search(
                        query, k=200, mode="keyword", layers=[layer], count_access=False
                    )
                    out.append({h.record.id for h in hits})
            return out

        before = found()
        assert before[0] == live  # vector search at this depth returns every live record
        self.svc.reindex()
        assert found() == before
        for rid in live:
            assert self.svc.get(rid, count_access=False).state is State.LIVE


def test_every_write_keeps_both_indexes_at_the_store_revision(
    backend, embedder, request, monkeypatch
) -> None:
    monkeypatch.delenv("MAGRAY_STORE__URL", raising=False)
    MemoryModel.embedder = embedder
    server = request.getfixturevalue("pg_server") if backend == "postgres" else None
    monkeypatch.setattr(MemoryModel, "new_database", server.new_database if server else None)
    run = MemoryModel.TestCase
    run.settings = settings(
        max_examples=8,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run().runTest()
