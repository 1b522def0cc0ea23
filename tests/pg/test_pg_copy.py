"""`memory copy`: a home's memory to a server and back, with every state, access count,
history entry and vector kept (nothing re-embedded), idempotent and resumable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from magray_tui.config import load_settings
from magray_tui.memory import MemoryService, State
from tests.cli_run import env_for, run_cli
from tests.conftest import FACTS


class CountingEmbedder:
    """The real model, counting what it embeds (a copy must embed nothing)."""

    def __init__(self, real) -> None:
        self.real, self.model_id, self.dim, self.texts = real, real.model_id, real.dim, 0

    def embed_documents(self, texts):
        self.texts += len(texts)
        return self.real.embed_documents(texts)

    def embed_query(self, text):
        return self.real.embed_query(text)


def _local(home: Path, embedder, monkeypatch) -> MemoryService:
    monkeypatch.delenv("MAGRAY_STORE__URL", raising=False)
    return MemoryService.open(settings=load_settings(home), embedder=embedder)


def _snapshot(svc: MemoryService) -> dict[str, tuple]:
    out = {}
    for r in svc.core.repo.iter_records(svc.filters(state=None)):
        vec = svc.core.repo.vectors_for([r.seq])[0]
        hist = [(h["action"], h["ts"], h["to_layer"]) for h in svc.core.repo.history(r.id)]
        out[r.id] = (
            r.text,
            r.layer,
            r.state,
            r.tags,
            r.access_count,
            r.last_access,
            r.created_at,
            r.merged_into,
            tuple(np.round(vec, 5)),
            tuple(hist),
        )
    return out


def test_copy_to_a_server_and_back_keeps_everything(
    pg_url: str, tmp_path: Path, embedder, monkeypatch
) -> None:
    src_home, back_home = tmp_path / "src", tmp_path / "back"
    src_home.mkdir(), back_home.mkdir()
    with _local(src_home, embedder, monkeypatch) as src:
        ids = src.add_many([{"text": t, "tags": ["f"]} for t in FACTS[:8]])
        src.promote(ids[0], "assets")
        src.forget(ids[1])
        src.search(FACTS[2], k=1)
        src.flush_accesses()
        before = _snapshot(src)
        counting = CountingEmbedder(embedder)
        src.embedder = counting  # the copy's other side is opened with this one too
        report = src.copy(pg_url, to=True)
        assert (report.copied, report.skipped_existing) == (8, 0)
        assert report.history == 2  # the promotion and the forget
        again = src.copy(pg_url, to=True)  # idempotent
        assert (again.copied, again.skipped_existing) == (0, 8)
        assert counting.texts == 0  # vectors travelled, nothing was embedded
    monkeypatch.setenv("MAGRAY_STORE__URL", pg_url)
    with MemoryService.open(settings=load_settings(tmp_path / "src"), embedder=embedder) as srv:
        assert _snapshot(srv) == before
        assert srv.get(ids[1], count_access=False).state is State.FORGOTTEN
        assert srv.search(FACTS[3], k=1, count_access=False)[0].record.id == ids[3]
    with _local(back_home, embedder, monkeypatch) as back:
        report = back.copy(pg_url, to=False)
        assert report.copied == 8
        assert _snapshot(back) == before


def test_an_interrupted_copy_resumes_without_duplicates(
    pg_url: str, tmp_path: Path, embedder, monkeypatch
) -> None:
    from magray_tui.memory.store_copy import copy_memories

    home = tmp_path / "h"
    home.mkdir()
    with _local(home, embedder, monkeypatch) as src:
        src.add_many([{"text": f"fact number {i} about the build farm"} for i in range(25)])

        class Interrupted(Exception):
            pass

        def stop_after_first(done: int, total: int) -> None:
            raise Interrupted

        settings = src.settings.model_copy(deep=True)
        settings.store.url = pg_url
        with MemoryService.open(settings=settings, embedder=embedder) as dst:
            with pytest.raises(Interrupted):
                copy_memories(src, dst, batch=10, progress=stop_after_first)
            assert dst.core.repo.live_count() == 10  # one whole batch, committed
            report = copy_memories(src, dst, batch=10)
            assert (report.copied, report.skipped_existing) == (15, 10)
            assert dst.core.repo.live_count() == 25
            texts = [r.text for r in dst.core.repo.iter_records(dst.filters(state=None))]
            assert len(texts) == len(set(texts)) == 25


def test_cli_copy_to_a_server_masks_the_password(pg_url: str, tmp_path: Path) -> None:
    home = tmp_path / "cli"
    home.mkdir()
    env = env_for(home)
    added = run_cli(home, "memory", "add", "the release train leaves on Thursdays", env=env)
    assert added.returncode == 0, added.stderr.decode()
    proc = run_cli(home, "memory", "copy", "--to", pg_url, "--namespace", "moved", env=env)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "copied 1 memories" in out and "namespace moved" in out
    assert "s3cret-pw" not in out and "postgresql://magray:***@/" in out
    search = run_cli(
        home,
        "memory",
        "search",
        "when does the release train leave?",
        env=env_for(home, MAGRAY_STORE__URL=pg_url, MAGRAY_STORE__NAMESPACE="moved"),
    )
    assert "release train" in search.stdout.decode(), search.stderr.decode()
