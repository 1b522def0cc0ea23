"""Device selection for the embedder: NVML first, then a CUDA session that must run, the
reason recorded on fallback, batch sizes from VRAM, and the CPU cool-down after GPU errors.

This machine has no GPU: the CUDA paths run for real and fail for real (no NVML, no CUDA
libraries), and the run-time fallback is driven by a stand-in for the GPU session that
fails on demand, behind the same `session.run` interface.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from magray_tui.ai import load_embedder
from magray_tui.ai.device import (
    GpuProbe,
    cuda_provider_problem,
    measure_batch,
    preflight,
    probe_gpu,
    select_session,
    vram_batch,
)
from magray_tui.ai.embedder import Embedder, _size_gpu_batch
from magray_tui.ai.registry import ModelRegistry
from magray_tui.ai.runtime import CPU, CUDA, OpenSession, open_session
from magray_tui.config import load_settings
from magray_tui.monitor.gpu_source import NO_GPU
from magray_tui.testing.scripted_gpu import ScriptedSource

GB = 1000**3
H100 = GpuProbe("", "", 0, "NVIDIA H100 80GB HBM3", 70 * GB, 80 * GB)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("device-home"))
    return ModelRegistry(settings).get(settings.embedding.model).model_file


@pytest.mark.parametrize(
    ("free_gb", "batch"),
    [
        (None, 32),
        (0, 32),
        (3.99, 32),
        (4, 64),
        (7.9, 64),
        (8, 128),
        (15.9, 128),
        (16, 256),
        (80, 256),
    ],
)
def test_batch_size_from_free_vram(free_gb, batch) -> None:
    assert vram_batch(None if free_gb is None else int(free_gb * GB)) == batch


def test_probe_reads_gpu_zero_through_the_source() -> None:
    probe = probe_gpu(ScriptedSource.gpus("rtx4090", "h100"))
    assert probe.found and probe.index == 0 and probe.name == "NVIDIA GeForce RTX 4090"
    assert (
        probe.vram_free == probe.vram_total - ScriptedSource.gpus("rtx4090").frame(0)[0].vram_used
    )
    gone = probe_gpu(ScriptedSource.without_gpu())
    assert not gone.found and gone.reason.endswith(NO_GPU.split(" — ")[1])
    assert "NVML library not found" in gone.detail
    lost = probe_gpu(ScriptedSource.gpus("h100", lost={0: 0}))
    assert not lost.found and "every GPU is lost" in lost.reason


def test_real_selection_here(model_file, tmp_path) -> None:
    """auto: NVML decides; cuda: the CUDA session is really tried and its failure named."""
    probe = probe_gpu()
    opened, auto = select_session(model_file, "auto", 1, 32)
    opened_cuda, forced = select_session(model_file, "cuda", 1, 32)
    if probe.found:  # a machine with a GPU: one exact outcome per state of its libraries
        problem = cuda_provider_problem()
        if problem is None:  # CUDA libraries load: the model must really run on this GPU
            assert (auto.provider, opened.provider, auto.gpu_name) == (CUDA, CUDA, probe.name)
            assert opened.session.get_providers()[0] == CUDA
            assert auto.reason == f"{probe.name} passed a CUDA test run"
            assert (forced.provider, opened_cuda.provider) == (CUDA, CUDA)
            _assert_cuda_embeds_like_cpu(tmp_path)
        else:  # the loader's own reason, not a silent fallback
            assert (auto.provider, opened.provider) == (CPU, CPU)
            assert auto.reason == f"CUDA provider failed: {problem} — using CPU"
        return
    assert (auto.provider, opened.provider, auto.requested) == (CPU, CPU, "auto")
    assert auto.reason == probe.reason and "no NVIDIA GPU found" in auto.reason
    assert forced.provider == CPU == opened_cuda.provider
    assert forced.reason.startswith(f"device = cuda, but no GPU via NVML ({probe.detail}); ")
    problem = cuda_provider_problem()
    assert problem and f"CUDA provider failed: {problem} — using CPU" in forced.reason


def test_gpu_found_but_cuda_libraries_missing(model_file) -> None:
    """NVML sees a GPU but the CUDA provider cannot load: CPU, and the loader's reason."""
    problem = cuda_provider_problem()
    opened, decision = select_session(model_file, "auto", 1, 32, probe=H100)
    if problem is None:  # a machine with CUDA libraries: the session must really run
        if probe_gpu().found:  # ...on the GPU that is there
            assert (decision.provider, opened.provider) == (CUDA, CUDA)
            assert opened.session.get_providers()[0] == CUDA
            assert decision.gpu_name == H100.name
            assert decision.reason == f"{H100.name} passed a CUDA test run"
        else:  # libraries but no device: the CUDA test run itself must fail, and say so
            assert (decision.provider, opened.provider) == (CPU, CPU)
            assert decision.reason.startswith("CUDA test run failed: ")
            assert decision.reason.endswith(" — using CPU")
        return
    assert decision.provider == CPU == opened.provider
    assert decision.reason == f"CUDA provider failed: {problem} — using CPU"


def _assert_cuda_embeds_like_cpu(tmp_path) -> None:
    """The same sentences embedded on CUDA and on CPU agree (fp32 kernels differ slightly)."""
    texts = ["The staging database listens on port 5433.", "We deploy on Thursdays."]
    on_gpu = load_embedder(load_settings(tmp_path / "gpu", embedding={"device": "cuda"}))
    on_cpu = load_embedder(load_settings(tmp_path / "cpu", embedding={"device": "cpu"}))
    assert (on_gpu.provider, on_cpu.provider) == (CUDA, CPU)
    a, b = on_gpu.embed_documents(texts), on_cpu.embed_documents(texts)
    assert a.shape == b.shape and a.shape[0] == 2 and a.shape[1] > 0
    cosine = (a * b).sum(axis=1)
    assert float(cosine.min()) > 0.999, cosine
    assert float(np.abs(a - b).max()) < 1e-2


def test_cpu_in_settings_skips_the_gpu(model_file) -> None:
    opened, decision = select_session(model_file, "cpu", 1, 48)
    assert (opened.provider, decision.provider, decision.batch_size) == (CPU, CPU, 48)
    assert decision.reason == "device = cpu in settings" and decision.label == "CPU"
    assert preflight("cpu") == (CPU, "device = cpu in settings")


def test_preflight_agrees_with_the_real_choice(model_file) -> None:
    provider, reason = preflight("auto")
    _, decision = select_session(model_file, "auto", 1, 32)
    assert provider == decision.provider
    if provider == CPU:
        assert reason == decision.reason


def test_embedder_reports_its_device(home) -> None:
    emb = load_embedder(load_settings(home, embedding={"device": "cpu", "batch_size": 16}))
    d = emb.device
    assert (d.provider, d.requested, d.batch_size, d.device) == (CPU, "cpu", 16, "cpu")
    assert emb.provider == CPU and emb.device_note == "device = cpu in settings"
    stats = emb.stats()["device"]
    assert stats["provider"] == CPU and stats["reason"] == "device = cpu in settings"


# ---- measuring the batch size ---------------------------------------------------------------
class CostClock:
    """A timer that advances by what a batch is said to cost: timings without jitter."""

    def __init__(self, cost) -> None:
        self.t, self.cost = 0.0, cost

    def __call__(self) -> float:
        return self.t

    def run(self, batch) -> None:
        self.t += self.cost(len(batch))


def test_measure_stops_where_bigger_batches_stop_paying() -> None:
    fixed = CostClock(lambda n: 0.01)  # per-batch overhead dominates: bigger is faster
    size, rates = measure_batch(fixed.run, [1, 2], 64, (8, 16, 32, 64, 128), timer=fixed)
    assert size == 64 and list(rates) == [8, 16, 32, 64]  # never past the cap
    assert rates[64] == pytest.approx(6400)
    linear = CostClock(lambda n: 0.001 * n)  # cost grows with the batch: no gain
    size, rates = measure_batch(linear.run, [1, 2], 256, (8, 16, 32), timer=linear)
    assert size == 8 and list(rates) == [8, 16]
    knee = CostClock(lambda n: 0.005 + 0.001 * n)  # gains shrink: 8→16 +24 %, 16→32 +14 %,
    size, _ = measure_batch(knee.run, [1], 256, (8, 16, 32, 64), timer=knee)  # 32→64 +7 %
    assert size == 32


def test_measure_keeps_the_last_size_that_fit() -> None:
    clock = CostClock(lambda n: 0.01)

    def out_of_memory_at_32(batch):
        if len(batch) >= 32:
            raise RuntimeError("CUDA out of memory")
        clock.run(batch)

    size, rates = measure_batch(out_of_memory_at_32, [1], 256, (8, 16, 32, 64), timer=clock)
    assert size == 16 and 32 not in rates


def test_gpu_batch_sizing_on_a_real_model(home) -> None:
    """The sizing step that runs on CUDA, run on the CPU model: 1 GB free caps it at 32."""
    emb = load_embedder(load_settings(home, embedding={"batch_size": 4}))
    _size_gpu_batch(emb, replace(emb.runner.decision, vram_free=1 * GB))
    assert emb.batch_size == 32 == emb.device.batch_size
    assert emb.device.batch_note.startswith("1.0 GB free → up to 32; measured 32: ")
    assert emb.stats()["batches_run"] == 0  # the measurement is not user work


# ---- run-time fallback ----------------------------------------------------------------------
class FlakyGpu:
    """Stands in for a CUDA session (no GPU here): the real CPU session underneath, with
    errors on demand, as a GPU gives them (out of memory, a lost device)."""

    def __init__(self, real) -> None:
        self.real, self.fail, self.calls = real, False, 0

    def run(self, *args):
        self.calls += 1
        if self.fail:
            raise RuntimeError("CUDA failure 999: unspecified launch failure\nmore detail")
        return self.real.run(*args)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def flaky(model_file, embedder):
    cpu = open_session(model_file, 1, CPU)
    gpu_session = FlakyGpu(open_session(model_file, 1, CPU).session)
    gpu = OpenSession(**{**cpu.__dict__, "session": gpu_session, "provider": CUDA})
    from magray_tui.ai.device import DeviceDecision, DeviceRunner

    clock = Clock()
    decision = DeviceDecision("auto", CUDA, "test GPU passed", 32, gpu_name="Test GPU")
    runner = DeviceRunner(gpu, decision, lambda: cpu, max_errors=3, cooldown_s=60, clock=clock)
    emb = Embedder(
        embedder.info,
        embedder.manifest,
        gpu,
        embedder.tokenizer,
        max_length=embedder.max_length,
        batch_size=8,
        cache_size=0,
        runner=runner,
    )
    return emb, gpu_session, clock


def test_gpu_errors_move_to_cpu_for_a_cooldown_then_retry(flaky, embedder) -> None:
    emb, gpu, clock = flaky
    texts = ["the GPU fell over", "vectors must not change", "third text"]
    want = embedder.embed_documents(texts)
    assert emb.device.label == "CUDA (Test GPU)"
    gpu.fail = True
    for errors in (1, 2):  # each failed batch is redone on CPU: same vectors, no exception
        np.testing.assert_allclose(emb.embed_documents(texts), want, atol=1e-5)
        assert emb.device.gpu_errors == errors and emb.provider == CUDA
    emb.embed_documents(texts)  # third error in a row: cool-down
    d = emb.device
    assert d.provider == CPU and d.cooldown_left_s == 60
    assert d.reason == (
        "3 GPU errors in a row (last: CUDA failure 999: unspecified launch failure) — "
        "on CPU, CUDA is retried in 60 s"
    )
    calls = gpu.calls
    clock.t += 30
    np.testing.assert_allclose(emb.embed_documents(texts), want, atol=1e-5)
    assert gpu.calls == calls  # the GPU is left alone during the cool-down
    assert emb.device.cooldown_left_s == 30
    gpu.fail = False
    clock.t += 31
    assert emb.provider == CUDA
    np.testing.assert_allclose(emb.embed_documents(texts), want, atol=1e-5)
    assert gpu.calls == calls + 1
    d = emb.device
    assert (d.provider, d.gpu_errors, d.cooldown_left_s, d.reason) == (
        CUDA,
        0,
        None,
        "test GPU passed",
    )


def test_one_gpu_error_then_success_resets_the_count(flaky) -> None:
    emb, gpu, _ = flaky
    gpu.fail = True
    emb.embed_documents(["a"])
    emb.embed_documents(["b"])
    gpu.fail = False
    emb.embed_documents(["c"])
    assert emb.device.gpu_errors == 0
    gpu.fail = True
    emb.embed_documents(["d"])
    assert emb.device.gpu_errors == 1 and emb.provider == CUDA
