"""The GPU sampler: history, N/A metrics, failed polls, GPUs disappearing, pause/resume.

This machine has no GPU, so readings come from a ScriptedSource (the same interface as
NVML); the real pynvml path is tested in test_gpu_nvml.py.
"""

from __future__ import annotations

import time

import pytest

from magray_tui.monitor.gpu import MIN_INTERVAL_S, REOPEN_AFTER, GpuMonitor, monitor_for
from magray_tui.monitor.gpu_source import NO_NVML
from magray_tui.services import Services
from magray_tui.testing.scripted_gpu import ScriptedSource, demo_reading

from ..conftest import wait_until


def sampled(source: ScriptedSource, n: int, **kw) -> GpuMonitor:
    monitor = GpuMonitor(source, **kw)
    for _ in range(n):
        monitor.sample_now(force=True)
    return monitor


def test_history_follows_the_readings_and_is_a_ring_buffer() -> None:
    monitor = sampled(ScriptedSource.gpus("h100"), 15, history_points=10)
    snap = monitor.snapshot()
    assert (snap.state, snap.reason, snap.samples) == ("ok", "", 15)
    (gpu,) = snap.gpus
    # The last 10 of 15 polls (ticks 5..14), oldest first.
    assert gpu.history["util_sm"] == tuple(demo_reading(0, t).util_sm for t in range(5, 15))
    assert gpu.history["vram_pct"] == tuple(demo_reading(0, t).vram_pct for t in range(5, 15))
    assert len(snap.times) == 10
    assert gpu.reading == demo_reading(0, 14)
    assert snap.system.driver_version == "550.54.15"
    assert snap.last_poll_ms is not None and snap.last_poll_ms >= 0


def test_unsupported_metrics_are_none_not_errors() -> None:
    snap = sampled(ScriptedSource.gpus("h100", "rtx4090"), 3).snapshot()
    h100, rtx = (g.reading for g in snap.gpus)
    assert h100.fan_pct is None and h100.ecc_uncorrected == 0  # data-centre card: no fan
    assert rtx.ecc_uncorrected is None and rtx.fan_pct is not None  # desktop card: no ECC
    data = snap.to_dict()
    assert data["gpus"][0]["fan_pct"] is None
    assert data["gpus"][1]["ecc_corrected"] is None
    assert data["gpus"][0]["vram_free"] == h100.vram_total - h100.vram_used


def test_no_gpu_is_a_state_with_its_reason() -> None:
    source = ScriptedSource.without_gpu()
    monitor = GpuMonitor(source)
    snap = monitor.sample_now(force=True)
    assert (snap.state, snap.reason, snap.gpus) == ("no_gpu", NO_NVML, ())
    assert not snap.available
    monitor.sample_now(force=True)
    assert source.opened == 1  # a missing driver does not appear between polls


def test_a_failed_poll_keeps_the_last_reading_and_recovers() -> None:
    source = ScriptedSource.gpus("h100", errors={2: "Unknown Error"})
    monitor = sampled(source, 3)
    snap = monitor.snapshot()
    assert snap.state == "error" and "Unknown Error" in snap.reason
    assert snap.gpus[0].reading == demo_reading(0, 1)  # stale but shown
    assert snap.samples == 2
    snap = monitor.sample_now(force=True)
    assert (snap.state, snap.reason, snap.samples) == ("ok", "", 3)


def test_repeated_failures_reopen_the_source() -> None:
    errors = {t: "driver hiccup" for t in range(1, 1 + REOPEN_AFTER)}
    source = ScriptedSource.gpus("h100", errors=errors)
    monitor = sampled(source, 1 + REOPEN_AFTER)
    assert source.opened == 1 and not source.is_open  # closed after the third failure
    snap = monitor.sample_now(force=True)
    assert source.opened == 2 and snap.state == "ok"


def test_a_gpu_that_stops_answering_is_marked_lost() -> None:
    source = ScriptedSource.gpus("h100", "rtx4090", lost={1: 2})
    snap = sampled(source, 4).snapshot()
    assert snap.state == "ok"  # GPU 0 still answers
    h100, rtx = snap.gpus
    assert h100.reading.lost is None
    assert "lost" in rtx.reading.lost and rtx.reading.util_sm is None
    assert rtx.history["util_sm"][2:] == (None, None)
    assert None not in rtx.history["util_sm"][:2]


def test_a_gpu_gone_from_the_list_and_all_gpus_lost() -> None:
    frames = {0: 2, 1: 2, 2: 1}  # tick -> how many GPUs the driver lists
    source = ScriptedSource(
        frame=lambda t: [demo_reading(i, t) for i in range(frames.get(t, 1))], lost={0: 3}
    )
    monitor = sampled(source, 3)
    snap = monitor.snapshot()
    assert snap.gpus[1].reading.lost == "GPU disappeared"
    assert snap.gpus[1].history["temp_c"][-1] is None
    snap = monitor.sample_now(force=True)  # tick 3: GPU 0 lost too
    assert snap.state == "error" and snap.reason == "every GPU stopped answering"


def test_a_gpu_appearing_later_lines_up_with_the_times() -> None:
    source = ScriptedSource(frame=lambda t: [demo_reading(i, t) for i in range(1 + (t >= 2))])
    snap = sampled(source, 4).snapshot()
    assert len(snap.gpus[1].history["util_sm"]) == len(snap.times) == 4
    assert snap.gpus[1].history["util_sm"][:2] == (None, None)


def test_sampling_runs_only_while_someone_holds_it() -> None:
    source = ScriptedSource.gpus("h100")
    monitor = GpuMonitor(source, interval_s=0.25)
    calls = []
    monitor.add_listener(lambda: calls.append(1))
    try:
        assert monitor.snapshot().state == "idle" and source.tick == 0  # nothing before resume
        monitor.resume("pane")
        monitor.resume("health")
        wait_until(lambda: monitor.snapshot().samples >= 2)
        monitor.pause("pane")
        n = monitor.snapshot().samples
        wait_until(lambda: monitor.snapshot().samples >= n + 1)  # health still holds it
        monitor.pause("health")
        assert not monitor.sampling and not monitor.snapshot().sampling
        time.sleep(0.1)  # a poll already under way may finish
        n = source.tick
        time.sleep(0.6)
        assert source.tick == n
        assert len(calls) == monitor.snapshot().samples
    finally:
        monitor.close()
    assert not source.is_open
    monitor.resume("late")  # after close: ignored, no thread
    assert not monitor.sampling


def test_interval_has_a_floor() -> None:
    assert GpuMonitor(ScriptedSource(), interval_s=0.01).interval_s == MIN_INTERVAL_S


def test_a_listener_that_fails_does_not_stop_sampling() -> None:
    monitor = GpuMonitor(ScriptedSource.gpus("h100"))

    def broken() -> None:
        raise RuntimeError("listener bug")

    monitor.add_listener(broken)
    assert monitor.sample_now(force=True).samples == 1
    assert monitor.sample_now(force=True).samples == 2


def test_a_source_bug_becomes_an_error_state_in_the_thread() -> None:
    def frame(tick: int):
        if tick >= 1:
            raise ValueError("bug in a source")
        return [demo_reading(0, tick)]

    monitor = GpuMonitor(ScriptedSource(frame=frame), interval_s=0.25)
    monitor.resume()
    try:
        wait_until(lambda: monitor.snapshot().state == "error")
        assert "see the log" in monitor.snapshot().reason
    finally:
        monitor.close()


def test_services_share_one_monitor_and_close_it(settings) -> None:
    services = Services(settings)
    monitor = monitor_for(services)
    assert monitor is monitor_for(services)
    assert monitor.interval_s == settings.monitor.gpu_interval_s
    assert monitor.history_points == settings.monitor.history_points
    monitor.resume()
    services.close()
    assert not monitor.sampling


@pytest.mark.parametrize("interval", [0.1, 0])
def test_settings_refuse_an_interval_below_the_floor(interval, home) -> None:
    from magray_tui.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="gpu_interval_s"):
        load_settings(home, monitor={"gpu_interval_s": interval})


def test_a_fresh_sample_is_shared_not_polled_again() -> None:
    source = ScriptedSource.gpus("h100")
    monitor = GpuMonitor(source, interval_s=0.25)
    assert monitor.sample_now().samples == 1
    assert monitor.sample_now().samples == 1  # younger than one interval: no poll
    assert source.tick == 1
    time.sleep(0.3)
    assert monitor.sample_now().samples == 2
