"""The real NVML path. On a machine without the NVIDIA driver (CI, this one) the real
pynvml must give the no-GPU state; with a GPU it must give real readings.

The mapping of NVML calls to readings (NotSupported → N/A, a lost GPU, processes) is
checked by replacing pynvml's device functions (the hardware part) while keeping its
real error classes, since no GPU answers here."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pynvml
import pytest

from magray_tui.monitor.gpu import GpuMonitor
from magray_tui.monitor.gpu_source import NO_NVML, NvmlSource


def _nvml_works() -> bool:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


def test_real_nvml_gives_readings_or_the_no_gpu_state() -> None:
    monitor = GpuMonitor(NvmlSource())
    try:
        snap = monitor.sample_now(force=True)
    finally:
        monitor.close()
    if _nvml_works():
        assert snap.state == "ok" and snap.gpus
        gpu = snap.gpus[0].reading
        assert gpu.name and gpu.vram_total and gpu.vram_total > 0
        assert snap.system.driver_version
    else:
        assert snap.state == "no_gpu" and not snap.gpus
        assert snap.reason.startswith("no NVIDIA GPU found (")
        assert snap.reason.endswith("— embeddings run on CPU")
        if not os.path.exists("/proc/driver/nvidia"):  # no driver at all: the library hint
            assert snap.reason == NO_NVML


def test_pynvml_is_imported_only_when_sampling() -> None:
    code = (
        "import sys\n"
        "import magray_tui.monitor.gpu, magray_tui.tui.panes.gpu, magray_tui.ai.device\n"
        "assert 'pynvml' not in sys.modules, 'imported at module load'\n"
        "from magray_tui.monitor.gpu import GpuMonitor\n"
        "GpuMonitor(magray_tui.monitor.gpu.NvmlSource()).sample_now()\n"
        "assert 'pynvml' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # nothing printed on the terminal


# ---- the mapping, with pynvml's device calls replaced ---------------------------------------
def _raise(code: int):
    def fail(*_a):
        raise pynvml.NVMLError(code)  # pynvml picks the subclass, e.g. NVMLError_NotSupported

    return fail


@pytest.fixture
def fake_driver(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Two GPUs: a full one, and one that reports little and then falls off the bus."""
    state = {"lost": False}
    gpus = ["h0", "h1"]
    proc = SimpleNamespace

    def per_gpu(full, partial):
        def call(h, *args):
            if h == "h1" and state["lost"]:
                raise pynvml.NVMLError_GpuIsLost(pynvml.NVML_ERROR_GPU_IS_LOST)
            value = full if h == "h0" else partial
            return value(*args) if callable(value) else value

        return call

    not_supported = _raise(pynvml.NVML_ERROR_NOT_SUPPORTED)
    calls = {
        "nvmlInit": lambda: None,
        "nvmlShutdown": lambda: None,
        "nvmlDeviceGetCount": lambda: len(gpus),
        "nvmlDeviceGetHandleByIndex": lambda i: gpus[i],
        "nvmlSystemGetDriverVersion": lambda: "550.54.15",
        "nvmlSystemGetCudaDriverVersion": lambda: 12040,
        "nvmlDeviceGetName": lambda h: {"h0": "NVIDIA H100", "h1": b"Tesla T4"}[h],
        "nvmlDeviceGetUUID": lambda h: f"GPU-{h}",
        "nvmlDeviceGetEnforcedPowerLimit": per_gpu(700_000, not_supported),
        "nvmlDeviceGetUtilizationRates": per_gpu(proc(gpu=87, memory=41), not_supported),
        "nvmlDeviceGetMemoryInfo": per_gpu(
            proc(used=30 * 2**30, total=80 * 2**30, free=50 * 2**30),
            proc(used=1 * 2**30, total=16 * 2**30, free=15 * 2**30),
        ),
        "nvmlDeviceGetTemperature": per_gpu(lambda _s: 64, lambda _s: 40),
        "nvmlDeviceGetPowerUsage": per_gpu(350_500, not_supported),
        "nvmlDeviceGetPerformanceState": per_gpu(0, 32),  # 32 = unknown
        "nvmlDeviceGetClockInfo": per_gpu(lambda kind: 1755 if kind == 1 else 2619, 585),
        "nvmlDeviceGetFanSpeed": per_gpu(not_supported, 30),
        "nvmlDeviceGetTotalEccErrors": per_gpu(lambda kind, _c: 3 * kind, not_supported),
        "nvmlDeviceGetComputeRunningProcesses": per_gpu(
            [proc(pid=os.getpid(), usedGpuMemory=2 * 2**30), proc(pid=4242, usedGpuMemory=None)],
            [],
        ),
        "nvmlDeviceGetGraphicsRunningProcesses": per_gpu(not_supported, not_supported),
        "nvmlSystemGetProcessName": lambda pid: "/usr/bin/python3" if pid == 4242 else "magray",
    }
    for name, fn in calls.items():
        monkeypatch.setattr(pynvml, name, fn)
    return state


def test_nvml_readings_map_not_supported_to_none(fake_driver) -> None:
    source = NvmlSource()
    system = source.open()
    assert (system.driver_version, system.cuda_version) == ("550.54.15", "12.4")
    full, partial = source.read()
    assert (full.name, full.util_sm, full.util_mem, full.temp_c) == ("NVIDIA H100", 87, 41, 64)
    assert (full.power_w, full.power_limit_w, full.pstate) == (350.5, 700.0, "P0")
    assert (full.clock_sm_mhz, full.clock_mem_mhz) == (1755, 2619)
    assert (full.fan_pct, full.ecc_corrected, full.ecc_uncorrected) == (None, 0, 3)
    assert full.vram_free == 50 * 2**30 and round(full.vram_pct) == 38
    mine, other = full.processes
    assert mine.is_self and mine.vram_bytes == 2 * 2**30 and mine.name == "magray"
    assert not other.is_self and other.vram_bytes is None and other.name == "python3"
    assert partial.name == "Tesla T4"  # bytes from old drivers are decoded
    assert partial.util_sm is None and partial.power_w is None and partial.power_limit_w is None
    assert partial.pstate is None and partial.ecc_uncorrected is None and partial.fan_pct == 30
    assert partial.processes == ()


def test_a_gpu_falling_off_the_bus_is_lost_not_fatal(fake_driver) -> None:
    monitor = GpuMonitor(NvmlSource())
    monitor.sample_now(force=True)
    fake_driver["lost"] = True
    snap = monitor.sample_now(force=True)
    monitor.close()
    assert snap.state == "ok"
    assert snap.gpus[0].reading.util_sm == 87
    lost = snap.gpus[1].reading
    assert lost.lost and "lost" in lost.lost.lower() and lost.temp_c is None


def test_driver_not_loaded_is_the_no_gpu_state(monkeypatch) -> None:
    monkeypatch.setattr(pynvml, "nvmlInit", _raise(pynvml.NVML_ERROR_DRIVER_NOT_LOADED))
    snap = GpuMonitor(NvmlSource()).sample_now()
    assert snap.state == "no_gpu"
    assert snap.reason == (
        "no NVIDIA GPU found (the NVIDIA driver is not loaded) — embeddings run on CPU"
    )
