"""Which device runs the embedding model, why, and with what batch size.

onnxruntime-gpu lists CUDA among its providers on any machine, so that list is no GPU
detector. The order here: settings (`embedding.device`) → NVML (is there a GPU, how much
VRAM is free) → a CUDA session that must run a tiny batch → CUDA with a batch size from
free VRAM, capped by a quick measurement; any failure → CPU with the reason recorded.
At run time `DeviceRunner` moves to CPU for a cool-down after repeated GPU errors.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from magray_tui.ai.runtime import CPU, CUDA, OpenSession, first_line, open_session
from magray_tui.monitor.gpu_source import GpuSource, GpuUnavailable, NvmlSource, no_gpu

log = logging.getLogger(__name__)

GB = 1000**3
# (free VRAM at least, batch size): the first row that fits wins.
VRAM_BATCHES = ((16 * GB, 256), (8 * GB, 128), (4 * GB, 64), (0, 32))
BATCH_CANDIDATES = (32, 64, 128, 256)
MEASURE_TOKENS = 128  # sequence length of the measurement batches
MIN_GAIN = 1.10  # a bigger batch must be this much faster per text to be worth it
MAX_GPU_ERRORS = 3  # GPU errors in a row before the cool-down on CPU
COOLDOWN_S = 300.0


@dataclass(frozen=True)
class DeviceDecision:
    """What runs the model now and why (shown by the GPU and Health panes, `magray gpu`)."""

    requested: str  # auto | cpu | cuda
    provider: str  # CUDAExecutionProvider | CPUExecutionProvider
    reason: str  # one line: why this device
    batch_size: int
    batch_note: str = ""  # where the batch size came from
    gpu_name: str | None = None
    gpu_index: int | None = None
    vram_free: int | None = None  # bytes, when the decision was made
    vram_total: int | None = None
    gpu_errors: int = 0  # GPU run errors in a row
    cooldown_left_s: float | None = None  # on CPU after GPU errors; CUDA is retried after

    @property
    def device(self) -> str:
        return "cuda" if self.provider == CUDA else "cpu"

    @property
    def label(self) -> str:
        """Short: 'CUDA (NVIDIA H100 80GB HBM3)' or 'CPU'."""
        if self.provider == CUDA:
            return f"CUDA ({self.gpu_name})" if self.gpu_name else "CUDA"
        return "CPU"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"device": self.device}


@dataclass(frozen=True)
class GpuProbe:
    """What NVML says before we try CUDA: a GPU (index, name, VRAM) or why there is none."""

    reason: str = ""  # empty when a GPU was found
    detail: str = ""  # the bare cause, e.g. "the NVIDIA driver is not loaded"
    index: int | None = None
    name: str | None = None
    vram_free: int | None = None
    vram_total: int | None = None

    @property
    def found(self) -> bool:
        return self.index is not None


def probe_gpu(source: GpuSource | None = None) -> GpuProbe:
    """GPU 0 as NVML sees it (onnxruntime uses CUDA device 0)."""
    source = source if source is not None else NvmlSource()
    try:
        source.open()
        readings = [r for r in source.read() if not r.lost]
    except GpuUnavailable as exc:
        return GpuProbe(reason=str(exc), detail=exc.detail)
    except Exception as exc:  # a driver in a bad state: say so and use the CPU
        detail = f"NVML failed: {first_line(exc)}"
        return GpuProbe(reason=no_gpu(detail), detail=detail)
    finally:
        source.close()
    if not readings:
        return GpuProbe(reason=no_gpu("every GPU is lost"), detail="every GPU is lost")
    gpu = readings[0]
    return GpuProbe(
        index=gpu.index, name=gpu.name, vram_free=gpu.vram_free, vram_total=gpu.vram_total
    )


def cuda_provider_problem() -> str | None:
    """Why onnxruntime's CUDA provider cannot load here (a missing library), or None.

    onnxruntime falls back to CPU silently; loading its provider library ourselves gives
    the loader's own message, e.g. 'libcublasLt.so.13: cannot open shared object file'.
    """
    import onnxruntime as ort

    capi = Path(ort.__file__).parent / "capi"
    libs = sorted(capi.glob("libonnxruntime_providers_cuda.*"))
    if not libs:
        return "this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
    try:
        ctypes.CDLL(str(capi / "libonnxruntime_providers_shared.so"), mode=ctypes.RTLD_GLOBAL)
        ctypes.CDLL(str(libs[0]))
    except OSError as exc:
        detail = str(exc)
        missing = detail.split(": cannot open shared object file", 1)
        if len(missing) == 2:
            return f"{Path(missing[0]).name} not found"
        return first_line(exc)
    return None


def vram_batch(free_bytes: int | None) -> int:
    """Batch size for the free VRAM: ≥16 GB → 256, ≥8 → 128, ≥4 → 64, else 32."""
    free = free_bytes or 0
    return next(batch for floor, batch in VRAM_BATCHES if free >= floor)


def measure_batch(
    run: Callable[[list[list[int]]], Any],
    seq: Sequence[int],
    cap: int,
    candidates: Sequence[int] = BATCH_CANDIDATES,
    timer: Callable[[], float] = time.perf_counter,
) -> tuple[int, dict[int, float]]:
    """Grow the batch while it pays: returns (batch size, texts/s per size tried).

    Each size runs once to warm up and twice timed. Growth stops at `cap`, at the first
    size that is not MIN_GAIN faster per text, or at a size that fails (out of memory).
    """
    rates: dict[int, float] = {}
    best = None
    for size in (c for c in candidates if c <= cap):
        batch = [list(seq)] * size
        try:
            run(batch)
            started = timer()
            run(batch)
            run(batch)
            rate = 2 * size / max(timer() - started, 1e-9)
        except Exception as exc:
            log.info("batch %d failed while measuring (%s); keeping %s", size, exc, best)
            break
        rates[size] = rate
        if best is not None and rate < rates[best] * MIN_GAIN:
            break
        best = size
    return (best or min(cap, candidates[0])), rates


def _tiny_feeds(opened: OpenSession) -> dict[str, np.ndarray]:
    ids = np.array([[1, 2]], dtype=np.int64)
    feeds = {}
    for name, dtype in opened.inputs.items():
        value = np.zeros_like(ids) if name == "token_type_ids" else ids
        if name == "attention_mask":
            value = np.ones_like(ids)
        elif name == "position_ids":
            value = np.arange(2, dtype=np.int64)[None, :]
        feeds[name] = value.astype(dtype)
    return feeds


def select_session(
    path: Path, requested: str, threads: int, batch_size: int, *, probe: GpuProbe | None = None
) -> tuple[OpenSession, DeviceDecision]:
    """Open the model on the best device allowed; say why in the decision."""
    cpu = DeviceDecision(requested, CPU, "", batch_size, "from settings")
    if requested == "cpu":
        return open_session(path, threads, CPU), replace(cpu, reason="device = cpu in settings")
    probe = probe if probe is not None else probe_gpu()
    if not probe.found and requested == "auto":
        log.info("embeddings on CPU: %s", probe.reason)
        return open_session(path, threads, CPU), replace(cpu, reason=probe.reason)
    prefix = "" if probe.found else f"device = cuda, but no GPU via NVML ({probe.detail}); "
    opened = open_session(path, threads, CUDA)
    if opened.provider != CUDA:
        problem = cuda_provider_problem() or "onnxruntime could not start it"
        reason = f"{prefix}CUDA provider failed: {problem} — using CPU"
        log.warning("embeddings on CPU: %s", reason)
        return opened, replace(cpu, reason=reason)
    try:  # a session can open on a GPU it then cannot run on (arch, driver, memory)
        opened.session.run([opened.output], _tiny_feeds(opened), opened.run_options)
    except Exception as exc:
        reason = f"{prefix}CUDA test run failed: {first_line(exc)} — using CPU"
        log.warning("embeddings on CPU: %s", reason)
        return open_session(path, threads, CPU), replace(cpu, reason=reason)
    decision = DeviceDecision(
        requested,
        CUDA,
        f"{probe.name or 'NVIDIA GPU'} passed a CUDA test run"
        if probe.found
        else "CUDA test run passed (NVML unavailable)",
        batch_size,
        "from settings",
        probe.name,
        probe.index,
        probe.vram_free,
        probe.vram_total,
    )
    log.info("embeddings on CUDA: %s", decision.reason)
    return opened, decision


class DeviceRunner:
    """Runs the graph on the chosen session; after MAX_GPU_ERRORS GPU errors in a row it
    runs on CPU for `cooldown_s`, then tries the GPU again. A failed GPU batch is redone
    on CPU at once, so a GPU error never loses the caller's work."""

    def __init__(
        self,
        opened: OpenSession,
        decision: DeviceDecision,
        open_cpu: Callable[[], OpenSession],
        *,
        max_errors: int = MAX_GPU_ERRORS,
        cooldown_s: float = COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = opened
        self.decision = decision
        self._open_cpu = open_cpu
        self._cpu: OpenSession | None = opened if opened.provider == CPU else None
        self.max_errors, self.cooldown_s, self._clock = max_errors, cooldown_s, clock
        self._lock = threading.Lock()
        self._errors = 0
        self._cpu_until: float | None = None
        self._last_error = ""

    @property
    def on_gpu(self) -> bool:
        with self._lock:
            return self.primary.provider == CUDA and not self._cooling()

    @property
    def provider(self) -> str:
        return CUDA if self.on_gpu else CPU

    def _cooling(self) -> bool:
        return self._cpu_until is not None and self._clock() < self._cpu_until

    def _cpu_session(self) -> OpenSession:
        if self._cpu is None:
            self._cpu = self._open_cpu()
        return self._cpu

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        if not self.on_gpu:
            return _run(self._cpu_session(), feeds)
        try:
            out = _run(self.primary, feeds)
        except Exception as exc:
            self._gpu_failed(exc)
            return _run(self._cpu_session(), feeds)
        with self._lock:
            self._errors, self._cpu_until = 0, None
        return out

    def _gpu_failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors += 1
            self._last_error = first_line(exc)
            log.warning("GPU run failed (%d in a row): %s", self._errors, self._last_error)
            if self._errors >= self.max_errors:
                self._cpu_until = self._clock() + self.cooldown_s
                self._errors = 0
                log.warning("embeddings on CPU for %.0f s after GPU errors", self.cooldown_s)

    def status(self) -> DeviceDecision:
        """The decision as it stands now (a cool-down changes provider and reason)."""
        with self._lock:
            if self.primary.provider != CUDA or not self._cooling():
                return replace(self.decision, gpu_errors=self._errors)
            left = max(0.0, (self._cpu_until or 0.0) - self._clock())
            return replace(
                self.decision,
                provider=CPU,
                reason=(
                    f"{self.max_errors} GPU errors in a row (last: {self._last_error}) — "
                    f"on CPU, CUDA is retried in {left:.0f} s"
                ),
                gpu_errors=self._errors,
                cooldown_left_s=left,
            )


def _run(opened: OpenSession, feeds: dict[str, np.ndarray]) -> np.ndarray:
    return opened.session.run([opened.output], feeds, opened.run_options)[0]


def preflight(requested: str, probe: GpuProbe | None = None) -> tuple[str, str]:
    """Where embeddings would run, without loading a model: (provider, reason).

    The full choice also runs a test batch on CUDA (`select_session`); this checks what
    can be checked cheaply (settings, NVML, the CUDA provider's libraries).
    """
    if requested == "cpu":
        return CPU, "device = cpu in settings"
    probe = probe if probe is not None else probe_gpu()
    if not probe.found and requested == "auto":
        return CPU, probe.reason
    prefix = "" if probe.found else f"device = cuda, but no GPU via NVML ({probe.detail}); "
    problem = cuda_provider_problem()
    if problem:
        return CPU, f"{prefix}CUDA provider failed: {problem} — using CPU"
    return CUDA, f"{prefix}{probe.name or 'a GPU'} found and the CUDA provider loads"
