"""Health checks on a real store in a temp home, and `magray health` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from magray_tui.cli import main
from magray_tui.config import load_settings
from magray_tui.memory import items
from magray_tui.memory.records import utcnow
from magray_tui.monitor import health_system
from magray_tui.monitor.gpu import GpuMonitor
from magray_tui.monitor.gpu_source import GpuReading
from magray_tui.monitor.health import Status, Thresholds, run_checks
from magray_tui.services import Services
from magray_tui.testing.scripted_gpu import ScriptedSource, demo_reading

from .llm_server import models_server, no_provider_keys  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[2]
LENIENT = Thresholds(
    disk_warn_free_gb=0,
    disk_fail_free_gb=0,
    ram_warn_available_pct=0,
    ram_fail_available_pct=0,
    process_rss_warn_mb=0,
)


def no_gpu() -> ScriptedSource:
    """What NVML says on a machine without an NVIDIA driver."""
    return ScriptedSource(open_error="no NVIDIA GPU found — embeddings run on CPU (no driver)")


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    """Services load the model the real way; only the (read-only) session model is reused."""
    import magray_tui.ai

    monkeypatch.setattr(magray_tui.ai, "load_embedder", lambda settings, *a, **k: embedder)


@pytest.fixture
def services(settings, shared_model) -> Iterator[Services]:
    svc = Services(settings)
    svc.memory.add_many([{"text": t} for t in ("Tea at four.", "The ferry leaves at nine.")])
    yield svc
    svc.close()


def test_a_fresh_store_is_healthy(settings, services: Services) -> None:
    gpu = GpuMonitor(no_gpu())
    report = run_checks(settings, services, probe=True, gpu=gpu, thresholds=LENIENT)
    status = {c.name: c.status for c in report.checks}
    assert status == {
        "database": Status.OK,
        "vector_index": Status.OK,
        "keyword_index": Status.OK,
        "embedder": Status.OK,
        "llm": Status.SKIPPED,  # on demand only
        "gpu": Status.OK,  # no GPU is a state, not a fault
        "disk": Status.OK,
        "ram": Status.OK,
        "process": Status.OK,
    }
    assert report.overall is Status.OK
    db = report.get("database")
    assert db is not None and db.details["schema_version"] == db.details["schema_latest"]
    assert db.details["counts"]["interact"] == 2 and "2 live memories" in db.message
    assert report.get("vector_index").details["entries"] == 2  # type: ignore[union-attr]
    embedder = report.get("embedder")
    assert embedder is not None and embedder.details["probe_ms"] > 0
    assert "last batch" in embedder.message
    data = json.loads(json.dumps(report.to_dict()))
    assert data["overall"] == "ok" and len(data["checks"]) == 9


def _write_behind_the_indexes(services: Services, text: str) -> None:
    """A row committed to the store that the indexes never followed (what a bug or a
    half-copied data folder leaves behind)."""
    memory = services.memory
    row = items.prepare({"text": text}, now=utcnow(), max_bytes=10_000)
    memory.store.insert([row], memory.embedder.embed_documents([text]))


def test_index_count_mismatch_is_degraded_until_reindexed(settings, services: Services) -> None:
    _write_behind_the_indexes(services, "A record the indexes never saw.")
    report = run_checks(settings, services, gpu=GpuMonitor(no_gpu()), thresholds=LENIENT)
    for name in ("vector_index", "keyword_index"):
        check = report.get(name)
        assert check is not None and check.status is Status.DEGRADED
        assert "2 entries for 3 live memories" in check.message
        assert "magray memory reindex" in check.message
        assert check.details["watermark"] < check.details["store_rev"]
    assert report.get("database").status is Status.OK  # type: ignore[union-attr]
    assert report.overall is Status.DEGRADED
    services.memory.reindex()
    again = run_checks(settings, services, gpu=GpuMonitor(no_gpu()), thresholds=LENIENT)
    assert again.overall is Status.OK
    assert [(o.name, n.status) for o, n in again.changes_since(report)] == [
        ("vector_index", Status.OK),
        ("keyword_index", Status.OK),
    ]


def test_disk_check_against_thresholds(tmp_path: Path) -> None:
    free_gb = health_system.disk_usage(tmp_path).free / 1e9
    roomy = health_system.check_disk(tmp_path, Thresholds(disk_warn_free_gb=0, disk_fail_free_gb=0))
    assert roomy.status is Status.OK and roomy.details["free_bytes"] > 0
    tight = health_system.check_disk(
        tmp_path / "not-yet" / "data",  # before first use: its nearest existing parent
        Thresholds(disk_warn_free_gb=free_gb * 2 + 1, disk_fail_free_gb=0),
    )
    assert tight.status is Status.DEGRADED and "below" in tight.message
    full = health_system.check_disk(
        tmp_path, Thresholds(disk_warn_free_gb=free_gb * 3 + 2, disk_fail_free_gb=free_gb * 2 + 1)
    )
    assert full.status is Status.FAILING and "writes may fail" in full.message


def test_thresholds_follow_monitor_settings(home: Path) -> None:
    settings = load_settings(home, monitor={"gpu_warn_temp_c": 70})
    assert Thresholds.from_settings(settings).gpu_warn_temp_c == 70
    hot = ScriptedSource(frame=lambda tick: [_with(demo_reading(0, 0), temp_c=75.0)])
    result = health_system.check_gpu(settings, GpuMonitor(hot), Thresholds.from_settings(settings))
    assert result.status is Status.DEGRADED and "75 °C" in result.message


def _with(reading: GpuReading, **changes) -> GpuReading:
    import dataclasses

    return dataclasses.replace(reading, **changes)


def test_gpu_states(settings) -> None:
    limits = Thresholds()
    one = health_system.check_gpu(settings, GpuMonitor(ScriptedSource.gpus("h100")), limits)
    assert one.status is Status.OK and "GPU 0 NVIDIA H100" in one.message
    assert one.details["gpus"] == 1
    two = health_system.check_gpu(
        settings, GpuMonitor(ScriptedSource.gpus("h100", "rtx4090")), limits
    )
    assert two.status is Status.OK and "GPU 1 NVIDIA GeForce RTX 4090" in two.message
    full = ScriptedSource(
        frame=lambda t: [_with(demo_reading(0, 0), vram_used=int(79.5 * 1024**3))]
    )
    assert health_system.check_gpu(settings, GpuMonitor(full), limits).status is Status.DEGRADED
    lost = health_system.check_gpu(
        settings, GpuMonitor(ScriptedSource.gpus("h100", lost={0: 0})), limits
    )
    assert lost.status is Status.FAILING and "stopped answering" in lost.message
    none = health_system.check_gpu(settings, GpuMonitor(no_gpu()), limits)
    assert none.status is Status.OK and "no NVIDIA GPU found" in none.message
    settings.embedding.device = "cuda"
    wanted = health_system.check_gpu(settings, GpuMonitor(no_gpu()), limits)
    assert wanted.status is Status.DEGRADED and "cannot be honoured" in wanted.message


def test_gpu_check_with_the_real_nvml(settings) -> None:
    """NVML as installed here: no library/GPU gives the no-GPU state, a GPU its reading."""
    monitor = GpuMonitor.from_settings(settings)
    limits = Thresholds()
    try:
        result = health_system.check_gpu(settings, monitor, limits)
        snap = monitor.snapshot()
    finally:
        monitor.close()
    if snap.state == "no_gpu":
        assert result.status is Status.OK and "no NVIDIA GPU found" in result.message
        return
    # A machine with a GPU: the expected outcome follows from the readings themselves.
    readings = [g.reading for g in snap.gpus]
    assert readings, f"NVML answered ({snap.state}) but gave no GPU"
    assert result.details["gpus"] == len(readings)
    if snap.state == "error":
        assert result.status is Status.DEGRADED
        return
    lost = [r for r in readings if r.lost]
    hot = [r for r in readings if r.temp_c is not None and r.temp_c >= limits.gpu_warn_temp_c]
    full = [r for r in readings if r.vram_pct is not None and r.vram_pct >= limits.gpu_crit_pct]
    ecc = [r for r in readings if r.ecc_uncorrected]
    if not (lost or hot or full or ecc):
        first = readings[0]
        assert result.status is Status.OK
        assert result.message.startswith(f"GPU {first.index} {first.name}")
    elif len(lost) == len(readings):
        assert result.status is Status.FAILING
        assert f"GPU {lost[0].index} stopped answering" in result.message
    else:
        assert result.status is Status.DEGRADED
        named = (lost or hot or full or ecc)[0]
        assert f"GPU {named.index}" in result.message


# ---- LLM ------------------------------------------------------------------------------------
def test_llm_check_without_a_client_says_not_configured(settings, monkeypatch) -> None:
    monkeypatch.setattr(health_system, "LLM_CLIENT_MODULE", "magray_tui.llm.no_such_client")
    result = health_system.check_llm(settings)
    assert result.status is Status.SKIPPED and "not configured" in result.message


@pytest.mark.usefixtures("no_provider_keys")
def test_llm_check_asks_the_configured_server(home: Path) -> None:
    with models_server(["qwen-mini"]) as base:
        settings = load_settings(home, llm={"model": "openai/qwen-mini", "api_base": base})
        up = health_system.check_llm(settings)
        assert up.status is Status.OK, up.message
        assert "openai-compatible · openai/qwen-mini answered in" in up.message
        assert up.details["judged"] == "openai-compatible"
        assert "offline" in up.details  # every provider found is listed
    down = health_system.check_llm(settings)  # the server is gone now
    assert down.status is Status.FAILING and "not reachable" in down.message


# ---- the CLI --------------------------------------------------------------------------------
def run_cli(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--home", str(home), "health", "--no-llm", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_cli_healthy_store_exits_zero(home: Path, services: Services) -> None:
    services.close()  # the CLI opens the store itself
    code, out = run_cli(home)
    assert code == 0, out
    assert "magray health" in out and "Database" in out and "Keyword index" in out
    code, out = run_cli(home, "--json")
    data = json.loads(out)
    assert code == 0 and data["overall"] in ("ok", "degraded")  # disk/RAM depend on the box
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["database"]["status"] == "ok" and checks["database"]["details"]["live"] == 2
    assert checks["embedder"]["details"]["probe_ms"] > 0
    assert checks["llm"]["status"] == "skipped"
    assert data["metrics"]["layer_counts"]["interact"] == 2
    assert data["metrics"]["latencies"]["embed"]["count"] >= 1


HOLDER = """
import sys
from pathlib import Path
from magray_tui.memory.store import Store
store = Store.open(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.read()
store.close()
"""


def test_cli_on_a_store_held_by_a_process_outside_magray(home: Path, services: Services) -> None:
    """A process that opened the file directly (not a magray host) keeps magray out: the
    database check fails and names it (there is no read-only snapshot any more)."""
    db = services.settings.paths.db_file
    services.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(db)],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code, out = run_cli(home, "--json")
        data = json.loads(out)
        database = next(c for c in data["checks"] if c["name"] == "database")
        assert database["status"] == "failing"
        assert f"in use by PID {holder.pid}" in database["message"]
        assert code == 1
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0


MAGRAY_HOST = """
import sys
from magray_tui.config import load_settings
from magray_tui.services import Services
services = Services(load_settings())
services.memory.stats()
print("ready", flush=True)
sys.stdin.read()
services.close()
"""


def test_cli_beside_an_open_magray_checks_the_host(home: Path, services: Services) -> None:
    services.close()
    host = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(MAGRAY_HOST)],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "MAGRAY_HOME": str(home)},
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert host.stdout is not None and host.stdout.readline().strip() == "ready"
        code, out = run_cli(home, "--json")
        assert code == 0, out
        data = json.loads(out)
        checks = {c["name"]: c for c in data["checks"]}
        assert checks["database"]["status"] == "ok", checks["database"]
        assert checks["database"]["details"]["live"] == 2
        assert checks["vector_index"]["status"] == "ok"
        assert checks["embedder"]["details"]["probe_ms"] > 0
        assert data["metrics"]["layer_counts"]["interact"] == 2
    finally:
        host.communicate("", timeout=60)
    assert host.returncode == 0


def test_cli_damaged_database_fails_with_one_line(home: Path, shared_model) -> None:
    db = load_settings(home).paths.db_file
    db.parent.mkdir(parents=True)
    db.write_bytes(os.urandom(64 * 1024))
    code, out = run_cli(home, "--json")
    assert code == 1
    data = json.loads(out)
    checks = {c["name"]: c for c in data["checks"]}
    assert data["overall"] == "failing"
    assert checks["database"]["status"] == "failing"
    assert "not a DuckDB database or is damaged" in checks["database"]["message"]
    for name in ("vector_index", "keyword_index", "embedder"):
        assert checks[name]["status"] == "failing"
    assert checks["disk"]["status"] in ("ok", "degraded", "failing")  # still checked
    code, out = run_cli(home)
    assert code == 1 and "✖" in out and "failing" in out
