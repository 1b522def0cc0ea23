"""The GPU pane in the real app: readings from a ScriptedSource behind the real monitor
(this machine has no GPU), put in place through `Services.shared` like any service."""

from __future__ import annotations

from dataclasses import replace

import pytest

from magray_tui.monitor.gpu import SERVICE_NAME, GpuMonitor
from magray_tui.monitor.gpu_source import GIB, GpuProcess
from magray_tui.testing.scripted_gpu import ScriptedSource, demo_reading
from magray_tui.tui.backend import Backend, open_backend
from magray_tui.tui.panes.gpu import GpuPane
from magray_tui.tui.widgets.gpu_processes import GpuProcessTable

from .conftest import FIXED_NOW
from .pilot_helpers import screen_text, text_of, wait_until


class Ticks:
    """A clock that moves one interval per sample, so history ages are exact."""

    def __init__(self, step: float = 1.0) -> None:
        self.t, self.step = 1000.0, step

    def __call__(self) -> float:
        return self.t


def opener_with(monitor: GpuMonitor):
    def open_with_monitor(settings) -> Backend:
        backend = open_backend(settings)
        backend.memory.clock = lambda: FIXED_NOW
        backend.services.shared(SERVICE_NAME, lambda _: monitor)
        return backend

    return open_with_monitor


def steady(source: ScriptedSource, samples: int, clock: Ticks | None = None) -> GpuMonitor:
    """A monitor already holding `samples` polls and not due again for an hour: what it
    shows is fixed (snapshots), whatever the test's timing."""
    monitor = GpuMonitor(source, interval_s=3600, history_points=300, clock=clock or Ticks())
    for _ in range(samples):
        monitor.sample_now(force=True)
        if clock is not None:
            clock.t += clock.step
    return monitor


def pane(app) -> GpuPane:
    return app.query_one(GpuPane)


async def show_gpu(pilot, samples: int = 0) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.backend is not None, what="services open")
    await pilot.press("4")
    await wait_until(pilot, lambda: app.active_pane_id == "gpu")
    await wait_until(pilot, lambda: pane(app).monitor is not None, what="monitor attached")
    await wait_until(pilot, lambda: pane(app).monitor.snapshot().samples >= samples)
    await pilot.pause(0.1)


@pytest.fixture
def frozen_device(monkeypatch, embedder):
    """The embedder's device depends on the machine: fix it for the images."""
    from magray_tui.ai.device import DeviceDecision

    decision = DeviceDecision(
        "auto",
        "CPUExecutionProvider",
        "no NVIDIA GPU found (NVML library not found: is the NVIDIA driver installed?) "
        "— embeddings run on CPU",
        32,
    )
    monkeypatch.setattr(type(embedder), "device", property(lambda self: decision))
    monkeypatch.setattr(Backend, "model_label", lambda self: self.memory.embedder.model_id)
    return decision


def gpu_app(make_app, settings, monitor):
    return make_app(settings, backend_opener=opener_with(monitor))


# ---- behaviour -----------------------------------------------------------------------------
async def test_one_gpu_card_processes_and_our_device(make_app, seeded_settings, embedder) -> None:
    monitor = steady(ScriptedSource.gpus("h100"), 5)
    app = gpu_app(make_app, seeded_settings, monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_gpu(pilot, 5)
        gpu = pane(app)
        assert list(gpu.cards) == [0]
        card = gpu.cards[0]
        want = demo_reading(0, 4)
        assert card.border_title == "GPU 0 · NVIDIA H100 80GB HBM3"
        assert card.meters["util_sm"].text == f"{want.util_sm:.0f}%"
        assert card.meters["vram"].text == (
            f"{want.vram_used / GIB:.1f} / {want.vram_total / GIB:.1f} GiB"
        )
        assert "fan N/A" in text_of(app, "#gpu-card-0 .gpu-details")  # an H100 has no fan
        assert card.plots["util_sm"].values == tuple(demo_reading(0, t).util_sm for t in range(5))
        table = app.query_one(GpuProcessTable)
        names = [r.proc.name for r in table.rows_shown]
        assert names == ["python3", "magray", "Xorg"]  # biggest VRAM first
        assert [r.proc.is_self for r in table.rows_shown] == [False, True, False]
        shown = screen_text(app)
        assert "★ magray" in shown and "(magray)" in shown
        device = text_of(app, "#gpu-device")
        assert embedder.device.label in device and embedder.device.reason in device
        assert f"batch {embedder.batch_size}" in device
        assert "-notice" not in gpu.classes


async def test_two_gpus_and_metrics_a_card_does_not_report(make_app, seeded_settings) -> None:
    monitor = steady(ScriptedSource.gpus("h100", "rtx4090"), 3)
    app = gpu_app(make_app, seeded_settings, monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_gpu(pilot, 3)
        gpu = pane(app)
        assert sorted(gpu.cards) == [0, 1]
        rtx = text_of(app, "#gpu-card-1 .gpu-details")
        assert "ECC N/A" in rtx and "fan N/A" not in rtx
        assert gpu.cards[1].border_title == "GPU 1 · NVIDIA GeForce RTX 4090"
        table = app.query_one(GpuProcessTable)
        assert sorted(r.gpu for r in table.rows_shown) == [0, 0, 0, 1]


async def test_no_gpu_says_why_and_never_spins(make_app, seeded_settings) -> None:
    monitor = GpuMonitor(ScriptedSource.without_gpu(), interval_s=0.25)
    app = gpu_app(make_app, seeded_settings, monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_gpu(pilot)
        await wait_until(pilot, lambda: monitor.snapshot().state == "no_gpu")
        await wait_until(pilot, lambda: "embeddings run on the CPU" in text_of(app, "#gpu-notice"))
        await pilot.pause(0.2)
        # Why, once: in the notice, or in the embeddings line when that says the same.
        assert screen_text(app).count("NVML library not found") == 1
        assert not pane(app).cards
        assert not app.query_one("#gpu-proc-title").display
        assert "nothing to read" in text_of(app, "#gpu-status")


async def test_sampling_pauses_while_hidden_and_on_p(make_app, seeded_settings) -> None:
    source = ScriptedSource.gpus("h100")
    monitor = GpuMonitor(source, interval_s=0.25)
    app = gpu_app(make_app, seeded_settings, monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.backend is not None)
        await pilot.pause(0.2)
        assert not monitor.sampling  # the pane was never shown: nobody holds the sampler
        ticks = source.tick  # (the Health checks may poll once on their own)
        await pilot.pause(0.8)
        assert source.tick <= ticks + 1  # sampling at 0.25 s would have made 3
        await show_gpu(pilot, 2)
        assert monitor.sampling
        await pilot.press("2")
        await wait_until(pilot, lambda: not monitor.sampling, what="paused when hidden")
        await pilot.pause(0.1)
        ticks = source.tick
        await pilot.pause(0.8)
        assert source.tick <= ticks + 1
        await pilot.press("4")
        await wait_until(pilot, lambda: source.tick > ticks + 1, what="resumed when shown")
        app.query_one(GpuPane).focus()
        await pilot.press("p")
        assert not monitor.sampling and "paused (p resumes)" in text_of(app, "#gpu-status")
        await pilot.press("p")
        assert monitor.sampling


async def test_processes_sort_by_key_and_header(make_app, seeded_settings) -> None:
    frame = lambda t: [  # noqa: E731
        replace(
            demo_reading(0, t),
            processes=(
                GpuProcess(30, "beta", 5 * GIB),
                GpuProcess(10, "alpha", 9 * GIB),
                GpuProcess(20, "gamma", None),
            ),
        )
    ]
    monitor = steady(ScriptedSource(frame=frame), 2)
    app = gpu_app(make_app, seeded_settings, monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_gpu(pilot, 2)
        table = app.query_one(GpuProcessTable)
        pids = lambda: [r.proc.pid for r in table.rows_shown]  # noqa: E731
        assert pids() == [10, 30, 20]  # VRAM, biggest first; unknown last
        app.query_one(GpuPane).focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: pids() == [10, 20, 30], what="sorted by pid")
        await pilot.press("s")
        await wait_until(pilot, lambda: pids() == [10, 30, 20], what="sorted by name")
        assert [r.proc.name for r in table.rows_shown] == ["alpha", "beta", "gamma"]
        table.sort_on("name")  # the same column again: reversed
        await pane(app).refresh_view()
        assert [r.proc.name for r in table.rows_shown] == ["gamma", "beta", "alpha"]
        assert "Process ▼" in str(
            table.columns[next(iter(k for k in table.columns if k.value == "name"))].label
        )


async def test_a_gpu_lost_while_shown(make_app, seeded_settings) -> None:
    source = ScriptedSource.gpus("h100", "rtx4090", lost={1: 3})
    monitor = GpuMonitor(source, interval_s=0.25)
    app = gpu_app(make_app, seeded_settings, monitor)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_gpu(pilot, 1)
        await wait_until(pilot, lambda: 1 in pane(app).cards)
        await wait_until(pilot, lambda: "-lost" in pane(app).cards[1].classes, what="lost")
        assert "not answering" in text_of(app, "#gpu-card-1 .gpu-details")
        assert "-lost" not in pane(app).cards[0].classes


# ---- snapshots -----------------------------------------------------------------------------
def _snap_app(make_app, seeded_settings, source):
    return gpu_app(make_app, seeded_settings, steady(source, 24, clock=Ticks()))


def _shown(samples: int):
    async def run_before(pilot):
        await show_gpu(pilot, samples)
        await pilot.pause(0.2)

    return run_before


def test_snapshot_one_gpu(snap_compare, make_app, seeded_settings, frozen_device):
    app = _snap_app(make_app, seeded_settings, ScriptedSource.gpus("h100", self_pid=4321))
    assert snap_compare(app, terminal_size=(120, 36), run_before=_shown(24))


def test_snapshot_one_gpu_tall_plots(snap_compare, make_app, seeded_settings, frozen_device):
    app = _snap_app(make_app, seeded_settings, ScriptedSource.gpus("h100", self_pid=4321))
    assert snap_compare(app, terminal_size=(120, 52), run_before=_shown(24))


def test_snapshot_two_gpus(snap_compare, make_app, seeded_settings, frozen_device):
    source = ScriptedSource.gpus("h100", "rtx4090", self_pid=4321)
    app = _snap_app(make_app, seeded_settings, source)
    assert snap_compare(app, terminal_size=(120, 48), run_before=_shown(24))


def test_snapshot_no_gpu(snap_compare, make_app, seeded_settings, frozen_device):
    monitor = GpuMonitor(ScriptedSource.without_gpu(), interval_s=3600)
    monitor.sample_now(force=True)
    app = gpu_app(make_app, seeded_settings, monitor)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_shown(0))
