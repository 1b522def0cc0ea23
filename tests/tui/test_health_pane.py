"""The Health pane with real services on a temp home: checks, live metrics, alerts as
toasts when a component changes state, the on-demand LLM check, refresh only while shown,
and one snapshot with a frozen clock and deterministically seeded metrics."""

from __future__ import annotations

from collections import namedtuple
from types import SimpleNamespace

import pytest
from textual.widgets import DataTable

from magray_tui.ai.cache import EmbeddingCache
from magray_tui.ai.device import DeviceDecision
from magray_tui.ai.embedder import Embedder
from magray_tui.config import load_settings
from magray_tui.memory import MemoryError_, items
from magray_tui.memory.records import utcnow
from magray_tui.monitor import health_system
from magray_tui.monitor.gpu import SERVICE_NAME, GpuMonitor
from magray_tui.monitor.metrics import metrics
from magray_tui.testing.scripted_gpu import ScriptedSource, demo_reading
from magray_tui.tui.backend import Backend, open_backend
from magray_tui.tui.panes import health as health_pane
from tests.monitor.llm_server import models_server, no_provider_keys  # noqa: F401

from .conftest import FIXED_NOW
from .pilot_helpers import screen_text, wait_until


def steady_gpu(services) -> None:
    """One GPU whose readings never change (NVML is absent here: a scripted source)."""
    source = ScriptedSource(frame=lambda tick: [demo_reading(0, 0)])
    services.shared(SERVICE_NAME, lambda s: GpuMonitor(source))


def opener(settings):
    backend = open_backend(settings)
    steady_gpu(backend.services)
    return backend


@pytest.fixture
def fast_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health_pane, "REFRESH_S", 0.2)


def pane(app) -> health_pane.HealthPane:
    return app.pane("health")  # type: ignore[return-value]


def row_status(app, name: str) -> str:
    table = app.query_one("#health-checks", DataTable)
    return str(table.get_cell(name, "status"))


async def show_health(pilot, refreshes: int = 1) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.backend is not None, what="services open")
    await pilot.press("5")
    await wait_until(pilot, lambda: pane(app).refreshes >= refreshes, what="health refreshed")


async def test_checks_and_metrics_are_shown(make_app, seeded_settings) -> None:
    app = make_app(seeded_settings, backend_opener=opener)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_health(pilot)
        report = pane(app).report
        assert report is not None
        assert [c.name for c in report.checks] == [
            "database",
            "vector_index",
            "keyword_index",
            "embedder",
            "llm",
            "gpu",
            "disk",
            "ram",
            "process",
        ]
        for name in ("database", "vector_index", "keyword_index", "embedder", "gpu"):
            assert row_status(app, name) == "ok", name
        assert row_status(app, "llm") == "skipped"
        text = screen_text(app)
        assert "5 live memories" in text and "GPU 0 NVIDIA H100" in text
        assert "Latency (this process)" in text and "embedding cache" in text
        assert "interact 2 · insights 2 · assets 1" in text
        # The detail panel follows the cursor.
        app.query_one("#health-checks", DataTable).focus()
        await pilot.press("down")
        await wait_until(pilot, lambda: "watermark" in screen_text(app), what="detail shown")
        assert "ef_search" in screen_text(app)


async def test_a_component_changing_state_raises_a_toast(
    make_app, seeded_settings, fast_refresh
) -> None:
    app = make_app(seeded_settings, backend_opener=opener)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_health(pilot)
        memory = app.backend.memory
        row = items.prepare({"text": "Written behind the indexes."}, now=utcnow(), max_bytes=10_000)
        memory.store.insert([row], memory.embedder.embed_documents([row["text"]]))
        await wait_until(pilot, lambda: row_status(app, "vector_index") == "degraded")
        await wait_until(pilot, lambda: any("ok → degraded" in n for n in app.notes))
        assert any("6 live memories" in n and "reindex" in n for n in app.notes)
        memory.reindex()
        await wait_until(pilot, lambda: row_status(app, "vector_index") == "ok")
        await wait_until(pilot, lambda: any("degraded → ok" in n for n in app.notes))


async def test_refreshes_only_while_shown(make_app, seeded_settings, fast_refresh) -> None:
    app = make_app(seeded_settings, backend_opener=opener)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_health(pilot, refreshes=3)  # every 0.2 s while shown
        await pilot.press("2")
        await wait_until(pilot, lambda: app.active_pane_id == "memory")
        await pilot.pause(0.3)  # a refresh in flight may still land
        hidden_at = pane(app).refreshes
        await pilot.pause(1.2)  # six intervals
        assert pane(app).refreshes == hidden_at
        await pilot.press("5")
        await wait_until(pilot, lambda: pane(app).refreshes > hidden_at, timeout=2)


@pytest.mark.usefixtures("no_provider_keys")
async def test_llm_check_runs_on_demand(make_app, seeded_home) -> None:
    with models_server(["qwen-mini"]) as base:
        llm = {"model": "openai/qwen-mini", "api_base": base}
        app = make_app(load_settings(seeded_home, llm=llm), backend_opener=opener)
        async with app.run_test(size=(120, 40)) as pilot:
            await show_health(pilot)
            assert row_status(app, "llm") == "skipped"  # never on a refresh
            await pilot.press("l")
            await wait_until(pilot, lambda: row_status(app, "llm") == "ok", what="LLM checked")
            assert any("qwen-mini answered in" in n for n in app.notes)
            await pilot.press("r")  # a refresh keeps the on-demand result
            before = pane(app).refreshes
            await wait_until(pilot, lambda: pane(app).refreshes > before)
            assert row_status(app, "llm") == "ok"


async def test_services_that_fail_to_open_show_as_failing(make_app, seeded_settings) -> None:
    def broken(settings):
        raise MemoryError_("the memory database is damaged (test)")

    app = make_app(seeded_settings, backend_opener=broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: pane(app).refreshes >= 1, what="health refreshed")
        assert row_status(app, "database") == "failing"
        assert row_status(app, "embedder") == "failing"
        database = pane(app).report.get("database")  # type: ignore[union-attr]
        assert database is not None and "damaged (test)" in database.message
        assert "damaged" in screen_text(app)  # in the row, and whole in the detail panel
        assert row_status(app, "disk") in ("ok", "degraded", "failing")  # still checked


# ---- snapshot --------------------------------------------------------------------------------
Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def seeded_metrics(monkeypatch: pytest.MonkeyPatch, embedder):
    """Every number the pane shows, fixed: metrics at known times, a fresh cache with known
    hits, the provider, and the disk/RAM readings (which belong to the machine)."""
    monkeypatch.setattr(Backend, "model_label", lambda self: self.memory.embedder.model_id)
    # Which device runs the model belongs to the machine (the GPU pane's tests cover it).
    fixed = DeviceDecision("auto", "CPUExecutionProvider", "", 32)
    monkeypatch.setattr(Embedder, "device", property(lambda self: fixed))
    monkeypatch.setattr(embedder, "cache", EmbeddingCache(100))
    embedder.embed_documents(["alpha", "beta", "gamma"])
    embedder.embed_documents(["alpha", "beta"])  # 2 hits, 3 misses
    monkeypatch.setattr(metrics, "clock", lambda: 5000.0)
    metrics.reset()
    for i in range(40):
        metrics.observe("embed", 0.004 + (i % 10) * 0.001)
    metrics.count("embed.texts", 640)
    for i in range(25):
        metrics.observe("search", 0.006 + (i % 5) * 0.002)
    metrics.count("search.errors")
    for i in range(10):
        metrics.observe("db.write", 0.003 + i * 0.0005)
    for i in range(5):
        metrics.observe("llm.first_token", 0.3 + i * 0.05)
        metrics.observe("llm.total", 1.5 + i * 0.2)
    metrics.observe("promotion.cycle", 0.08)
    metrics.observe("promotion.cycle", 0.12)
    metrics.count("promotion.promote", 3)
    metrics.count("promotion.expire", 4)
    monkeypatch.setattr(
        health_system, "disk_usage", lambda path: Usage(500 * 10**9, 380 * 10**9, 120 * 10**9)
    )
    vm = SimpleNamespace(total=16 * 2**30, available=9 * 2**30)
    monkeypatch.setattr(health_system, "memory_reading", lambda: (vm, 412 * 2**20))
    monkeypatch.setattr(health_system, "process_reading", lambda: (412 * 2**20, 530 * 2**20))
    yield
    metrics.reset()


def test_health_pane_snapshot(snap_compare, make_app, seeded_settings, seeded_metrics) -> None:
    def frozen(settings):
        backend = opener(settings)
        backend.memory.clock = lambda: FIXED_NOW
        return backend

    app = make_app(seeded_settings, backend_opener=frozen)

    async def settled(pilot) -> None:
        await show_health(pilot)
        await wait_until(pilot, lambda: not pilot.app.jobs.snapshot())
        app.query_one("#health-checks", DataTable).focus()
        await pilot.press("down")  # the vector index: its details hold no paths or sizes
        pane = pilot.app.query_one("#pane-health")
        # The message column is cut to the table's width once laid out: wait for that.
        await wait_until(
            pilot,
            lambda: (
                pane.checks_table.size.width
                and pane._message_width
                == max(pane.checks_table.size.width - health_pane.MESSAGE_MARGIN, 20)
            ),
        )
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(120, 40), run_before=settled)
