"""Memory footprint (docs/memory-footprint.md): batches bounded by tokens, a cache bounded in
bytes, threads by job, DuckDB's limits, and the process row of the health checks."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from magray_tui.ai.cache import ENTRY_OVERHEAD, EmbeddingCache
from magray_tui.ai.embedder import plan_batches
from magray_tui.ai.runtime import BATCH, cores, mark_batch_job, threads_for
from magray_tui.config import load_settings

REPO = Path(__file__).resolve().parent.parent


# ---- batches bounded by a token budget -----------------------------------------------------
def test_batches_respect_count_and_token_budget() -> None:
    rng = np.random.default_rng(7)
    lengths = [int(x) for x in rng.integers(1, 300, size=500)]
    batches = plan_batches(lengths, batch_size=32, batch_tokens=2048)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))  # every text once
    assert [lengths[i] for i in flat] == sorted(lengths)  # shortest first
    for b in batches:
        assert len(b) <= 32
        assert len(b) * max(lengths[i] for i in b) <= 2048
    # Greedy: each batch closed only because the next text would break a limit.
    for b, nxt in itertools.pairwise(batches):
        width = lengths[nxt[0]]
        assert len(b) == 32 or (len(b) + 1) * width > 2048
    # The short texts still fill whole batches of 32: the budget only bites on long ones.
    assert len(batches[0]) == 32 and len(batches[-1]) < 32


def test_a_text_longer_than_the_budget_runs_alone() -> None:
    batches = plan_batches([10, 5000, 12, 9000], batch_size=8, batch_tokens=100)
    assert batches == [[0, 2], [1], [3]]


def test_token_budget_changes_batching_not_vectors(embedder) -> None:
    texts = [" ".join(["memory footprint"] * n) for n in (3, 40, 90, 120, 5, 60)]
    before = embedder.batches_run
    saved = embedder.batch_tokens
    try:
        embedder.batch_tokens = 1 << 30
        wide = embedder._run_sorted([e.ids for e in embedder.tokenizer.encode_batch(texts)])
        runs_wide = embedder.batches_run - before
        embedder.batch_tokens = 256  # ~one long text per batch
        narrow = embedder._run_sorted([e.ids for e in embedder.tokenizer.encode_batch(texts)])
        runs_narrow = embedder.batches_run - before - runs_wide
    finally:
        embedder.batch_tokens = saved
    assert runs_wide == 1 and runs_narrow >= 4
    np.testing.assert_allclose(wide, narrow, atol=2e-5)


def test_long_batches_do_not_keep_their_peak(tmp_path: Path) -> None:
    """Embedding 96 texts of 256 tokens used to leave onnxruntime's arena at ~1.4 GB; with the
    token budget and no memory pattern the process stays far below. Own process: RSS is
    per process, and the test suite's other models must not count."""
    script = textwrap.dedent(
        """
        import json, sys, psutil
        from magray_tui.ai import load_embedder
        from magray_tui.config import load_settings
        emb = load_embedder(load_settings(sys.argv[1], embedding={"device": "cpu"}))
        before = psutil.Process().memory_info().rss
        words = "the memory footprint of a terminal app that stays open all day".split()
        texts = [" ".join(words[(i + j) % len(words)] for j in range(400)) for i in range(96)]
        emb.embed_documents(texts)
        after = psutil.Process().memory_info().rss
        print(json.dumps({"grew_mb": (after - before) / 2**20}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**_env(), "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 0, out.stderr
    grew = json.loads(out.stdout.strip().splitlines()[-1])["grew_mb"]
    assert grew < 400, f"RSS grew {grew:.0f} MB embedding 96 long texts"


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("MAGRAY_")}


# ---- the embedding cache, bounded in bytes -------------------------------------------------
def test_cache_keeps_within_its_byte_bound() -> None:
    vec = np.ones(384, dtype=np.float32)
    per = EmbeddingCache.entry_bytes(vec)
    cache = EmbeddingCache(capacity=1_000_000, max_bytes=10 * per)
    for i in range(25):
        cache.put(("m", i.to_bytes(20, "little")), vec * i, False)
    stats = cache.stats()
    assert stats["size"] == 10 and stats["bytes"] == 10 * per <= stats["max_bytes"]
    assert cache.get(("m", (14).to_bytes(20, "little"))) is None  # the oldest went first
    hit = cache.get(("m", (24).to_bytes(20, "little")))
    assert hit is not None and hit[0][0] == 24
    cache.put(("m", (24).to_bytes(20, "little")), vec, True)  # replacing does not double count
    assert cache.stats()["bytes"] == 10 * per


def test_cache_byte_estimate_is_not_an_underestimate() -> None:
    vec = np.zeros(384, dtype=np.float32)
    cache = EmbeddingCache(capacity=5_000)
    keys = [("all-minilm-l6-v2-int8", i.to_bytes(20, "little")) for i in range(5_000)]
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for key in keys:
            cache.put(key, vec, False)
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    measured = used / len(keys) + 20 + 33  # + the sha1 bytes object each key holds
    assert cache.stats()["bytes"] / len(keys) >= measured, (measured, ENTRY_OVERHEAD)


def test_embedder_cache_is_bounded_by_settings(home: Path) -> None:
    from magray_tui.ai import load_embedder

    settings = load_settings(home, embedding={"device": "cpu", "cache_mb": 0.01})
    emb = load_embedder(settings)
    emb.embed_documents([f"note number {i}" for i in range(40)])
    stats = emb.cache.stats()
    assert 0 < stats["bytes"] <= 0.01 * 2**20 and stats["size"] < 40


# ---- threads by job ------------------------------------------------------------------------
def test_threads_follow_the_job(home: Path) -> None:
    settings = load_settings(home)
    assert settings.embedding.intra_op_threads == 0
    n = cores()
    assert threads_for(settings.embedding)[0] == max(1, n - 1)
    mark_batch_job(settings)
    assert settings.embedding._job == BATCH
    assert threads_for(settings.embedding) == (n, f"batch job: all {n} cores")


def test_thread_settings_override_the_decision(home: Path) -> None:
    settings = load_settings(home, embedding={"batch_threads": 3, "interactive_threads": 5})
    assert threads_for(settings.embedding)[0] == 5
    mark_batch_job(settings)
    assert threads_for(settings.embedding)[0] == 3
    settings.embedding.intra_op_threads = 1  # the old setting still rules every job
    assert threads_for(settings.embedding) == (1, "embedding.intra_op_threads")


def test_batch_commands_open_the_embedder_on_all_cores(home: Path, restore_logging) -> None:
    from magray_tui.commands import AppContext
    from magray_tui.commands.memory_cmd import open_memory

    app = AppContext(home=home)
    with open_memory(app, write=False) as svc:
        interactive = svc.embedder.threads
    app = AppContext(home=home)
    with open_memory(app, write=True, batch=True) as svc:
        batch = svc.embedder.threads
        assert svc.embedder.stats()["threads_note"].startswith("batch job")
    assert (interactive, batch) == (max(1, cores() - 1), cores())


def test_env_forces_one_thread_for_a_batch_command(
    home: Path, monkeypatch: pytest.MonkeyPatch, restore_logging
) -> None:
    from magray_tui.commands import AppContext
    from magray_tui.commands.memory_cmd import open_memory

    monkeypatch.setenv("MAGRAY_EMBEDDING__INTRA_OP_THREADS", "1")
    with open_memory(AppContext(home=home), write=True, batch=True) as svc:
        assert svc.embedder.threads == 1


def test_magray_ingest_runs_as_a_batch_job(tmp_path: Path, restore_logging) -> None:
    from click.testing import CliRunner

    from magray_tui.cli import main

    home, tree = tmp_path / "home", tmp_path / "tree"
    tree.mkdir()
    (tree / "notes.md").write_text("# Notes\n\nThe footprint helper ingests this.\n")
    result = CliRunner().invoke(main, ["--home", str(home), "ingest", str(tree)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--home", str(home), "memory", "search", "footprint"])
    assert result.exit_code == 0, result.output
    logged = (home / "state" / "logs" / "magray.log").read_text(encoding="utf-8")
    n = cores()
    assert f"{n} intra-op threads (batch job: all {n} cores)" in logged
    interactive = f"{max(1, n - 1)} intra-op threads (interactive: {n} cores, one kept"
    assert interactive in logged  # `memory search` is no batch job


# ---- DuckDB limits -------------------------------------------------------------------------
def test_store_uses_the_configured_duckdb_limits(home: Path) -> None:
    from magray_tui.services import Services

    settings = load_settings(home, resources={"duckdb_memory_mb": 300, "duckdb_threads": 3})
    services = Services(settings)
    try:
        cur = services.store.cursor()
        limit = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        threads = cur.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        services.close()
    assert (limit, threads) == ("286.1 MiB", 3)  # DuckDB shows 300 MB in MiB


def test_default_duckdb_limits_suit_a_desktop(home: Path) -> None:
    config = load_settings(home).resources.duckdb_config()
    assert config["memory_limit"] == "256MB"
    assert 1 <= config["threads"] <= 4


# ---- health: the process row ---------------------------------------------------------------
def test_process_row_warns_above_the_threshold() -> None:
    from magray_tui.monitor.health import Status, Thresholds
    from magray_tui.monitor.health_system import check_process

    calm = check_process(Thresholds(process_rss_warn_mb=10_000_000))
    assert calm.status is Status.OK and "MiB resident" in calm.message
    rss = calm.details["rss_bytes"]
    assert rss > 10 * 2**20 and calm.details["peak_rss_bytes"] >= rss
    over = check_process(Thresholds(process_rss_warn_mb=1))
    assert over.status is Status.DEGRADED and "above 1 MiB" in over.message
    never = check_process(Thresholds(process_rss_warn_mb=0))
    assert never.status is Status.OK and "warns" not in never.message


def test_process_threshold_comes_from_settings(home: Path) -> None:
    from magray_tui.monitor.health import Thresholds

    settings = load_settings(home, monitor={"process_rss_warn_mb": 640})
    assert Thresholds.from_settings(settings).process_rss_warn_mb == 640
