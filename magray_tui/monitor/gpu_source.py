"""Where GPU readings come from: NVML through pynvml (scripted readings for machines with
no GPU live in `magray_tui.testing.scripted_gpu`, which no user-facing code imports).

Sources implement `GpuSource`. A source never draws anything and never raises for a single
metric: a metric the card does not report is None ("N/A"). It raises `GpuUnavailable`
when there is nothing to monitor (no library, no driver, no GPU) and `GpuReadError` when
one poll failed as a whole; a GPU that stops answering comes back as a reading with
`lost` set, so the others keep being shown.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

NO_GPU = "no NVIDIA GPU found — embeddings run on CPU"


def no_gpu(detail: str) -> str:
    """'no NVIDIA GPU found (DETAIL) — embeddings run on CPU'."""
    return NO_GPU.replace(" — ", f" ({detail}) — ", 1)


NO_NVML = no_gpu("NVML library not found: is the NVIDIA driver installed?")
GIB = 1024**3


class GpuUnavailable(Exception):
    """Nothing to monitor; the message says why, in one line a user can act on.
    `detail` is the bare cause ('the NVIDIA driver is not loaded')."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class GpuReadError(Exception):
    """One poll failed as a whole (the next one may work)."""


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    name: str
    vram_bytes: int | None  # None: the driver does not say (e.g. no permission)
    kind: str = "compute"  # compute | graphics
    is_self: bool = False


@dataclass(frozen=True)
class GpuReading:
    """One GPU at one moment. Every metric is None where the GPU does not report it."""

    index: int
    name: str
    uuid: str = ""
    util_sm: float | None = None  # percent
    util_mem: float | None = None  # percent of time the memory controller was busy
    vram_used: int | None = None  # bytes
    vram_total: int | None = None  # bytes
    temp_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    clock_sm_mhz: int | None = None
    clock_mem_mhz: int | None = None
    fan_pct: float | None = None
    pstate: str | None = None  # "P0" (fastest) .. "P12"
    ecc_corrected: int | None = None  # volatile counts since the driver loaded
    ecc_uncorrected: int | None = None
    processes: tuple[GpuProcess, ...] = ()
    lost: str | None = None  # set when the GPU stopped answering; metrics are None then

    @property
    def vram_free(self) -> int | None:
        if self.vram_used is None or self.vram_total is None:
            return None
        return max(0, self.vram_total - self.vram_used)

    @property
    def vram_pct(self) -> float | None:
        if self.vram_used is None or not self.vram_total:
            return None
        return 100.0 * self.vram_used / self.vram_total


@dataclass(frozen=True)
class SystemInfo:
    driver_version: str | None = None
    cuda_version: str | None = None  # the highest CUDA the driver supports, e.g. "12.4"


class GpuSource(Protocol):
    def open(self) -> SystemInfo:
        """Start; raise GpuUnavailable when there is nothing to monitor."""
        ...

    def read(self) -> list[GpuReading]:
        """All GPUs now; raise GpuReadError when the poll failed as a whole."""
        ...

    def close(self) -> None: ...


# ---- NVML ------------------------------------------------------------------------------------
_NVML_DETAILS = {
    "NVMLError_LibraryNotFound": "NVML library not found: is the NVIDIA driver installed?",
    "NVMLError_DriverNotLoaded": "the NVIDIA driver is not loaded",
    "NVMLError_NoPermission": "no permission to read the GPU through NVML",
}


def _unavailable(detail: str) -> GpuUnavailable:
    return GpuUnavailable(no_gpu(detail), detail)


def _nvml_unavailable(exc: BaseException) -> GpuUnavailable:
    """A pynvml start-up error as a line that says what is missing."""
    return _unavailable(_NVML_DETAILS.get(type(exc).__name__, f"NVML: {exc}"))


class NvmlSource:
    """The real GPUs, via pynvml (package nvidia-ml-py), imported on `open()` only."""

    def __init__(self) -> None:
        self._nv: Any = None
        self._handles: list[Any] = []
        self._static: list[dict[str, Any]] = []
        self._names: dict[int, str] = {}
        self._pid = os.getpid()

    def open(self) -> SystemInfo:
        try:
            import pynvml
        except ImportError:
            raise _unavailable("the nvidia-ml-py package is missing") from None
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise _nvml_unavailable(exc) from None
        self._nv = pynvml
        try:
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except pynvml.NVMLError as exc:
            self.close()
            raise _nvml_unavailable(exc) from None
        if not self._handles:
            self.close()
            raise _unavailable("the driver sees no GPU")
        self._static = [self._read_static(h) for h in self._handles]
        cuda = self._metric(pynvml.nvmlSystemGetCudaDriverVersion)
        return SystemInfo(
            driver_version=self._metric(pynvml.nvmlSystemGetDriverVersion),
            cuda_version=f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None,
        )

    def close(self) -> None:
        if self._nv is not None:
            try:
                self._nv.nvmlShutdown()
            except Exception:  # shutting down must never fail the caller
                log.debug("nvmlShutdown failed", exc_info=True)
        self._nv, self._handles, self._static = None, [], []

    def _metric(self, fn: Callable[..., Any], *args: Any) -> Any:
        """One NVML call; None when the GPU does not support it (or we may not ask)."""
        try:
            value = fn(*args)
        except self._nv.NVMLError as exc:
            if type(exc).__name__ == "NVMLError_GpuIsLost":
                raise
            return None
        return value.decode() if isinstance(value, bytes) else value

    def _read_static(self, handle: Any) -> dict[str, Any]:
        nv = self._nv
        limit = self._metric(nv.nvmlDeviceGetEnforcedPowerLimit, handle)
        return {
            "name": self._metric(nv.nvmlDeviceGetName, handle) or "NVIDIA GPU",
            "uuid": self._metric(nv.nvmlDeviceGetUUID, handle) or "",
            "power_limit_w": limit / 1000 if limit is not None else None,
        }

    def read(self) -> list[GpuReading]:
        if self._nv is None:
            raise GpuReadError("NVML is not open")
        out = []
        for index, handle in enumerate(self._handles):
            static = self._static[index]
            try:
                out.append(self._read_one(index, handle, static))
            except self._nv.NVMLError as exc:  # only GpuIsLost gets here
                out.append(GpuReading(index, static["name"], static["uuid"], lost=str(exc)))
        return out

    def _read_one(self, index: int, h: Any, static: dict[str, Any]) -> GpuReading:
        nv, m = self._nv, self._metric
        util = m(nv.nvmlDeviceGetUtilizationRates, h)
        mem = m(nv.nvmlDeviceGetMemoryInfo, h)
        power = m(nv.nvmlDeviceGetPowerUsage, h)
        pstate = m(nv.nvmlDeviceGetPerformanceState, h)
        ecc = [
            m(nv.nvmlDeviceGetTotalEccErrors, h, kind, nv.NVML_VOLATILE_ECC)
            for kind in (nv.NVML_MEMORY_ERROR_TYPE_CORRECTED, nv.NVML_MEMORY_ERROR_TYPE_UNCORRECTED)
        ]
        return GpuReading(
            index=index,
            name=static["name"],
            uuid=static["uuid"],
            util_sm=float(util.gpu) if util is not None else None,
            util_mem=float(util.memory) if util is not None else None,
            vram_used=int(mem.used) if mem is not None else None,
            vram_total=int(mem.total) if mem is not None else None,
            temp_c=_num(m(nv.nvmlDeviceGetTemperature, h, nv.NVML_TEMPERATURE_GPU)),
            power_w=power / 1000 if power is not None else None,
            power_limit_w=static["power_limit_w"],
            clock_sm_mhz=m(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_SM),
            clock_mem_mhz=m(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_MEM),
            fan_pct=_num(m(nv.nvmlDeviceGetFanSpeed, h)),
            pstate=f"P{pstate}" if isinstance(pstate, int) and pstate < 32 else None,
            ecc_corrected=ecc[0],
            ecc_uncorrected=ecc[1],
            processes=self._processes(h),
        )

    def _processes(self, h: Any) -> tuple[GpuProcess, ...]:
        nv, found = self._nv, {}
        for kind, fn in (
            ("graphics", nv.nvmlDeviceGetGraphicsRunningProcesses),
            ("compute", nv.nvmlDeviceGetComputeRunningProcesses),
        ):
            for p in self._metric(fn, h) or ():
                used = getattr(p, "usedGpuMemory", None)
                found[p.pid] = GpuProcess(
                    pid=p.pid,
                    name=self._process_name(p.pid),
                    vram_bytes=int(used) if isinstance(used, int) else None,
                    kind=kind,
                    is_self=p.pid == self._pid,
                )
        return tuple(found.values())

    def _process_name(self, pid: int) -> str:
        # Names are cached per pid: asking the OS every second is most of a poll's cost.
        name = self._names.get(pid)
        if name is None:
            name = self._metric(self._nv.nvmlSystemGetProcessName, pid) or ""
            name = os.path.basename(name) or f"pid {pid}"
            if len(self._names) > 512:
                self._names.clear()
            self._names[pid] = name
        return name


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
