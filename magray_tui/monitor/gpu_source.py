"""Where GPU readings come from: NVML through pynvml, or a script (tests, demos).

Both implement `GpuSource`. A source never draws anything and never raises for a single
metric: a metric the card does not report is None ("N/A"). It raises `GpuUnavailable`
when there is nothing to monitor (no library, no driver, no GPU) and `GpuReadError` when
one poll failed as a whole; a GPU that stops answering comes back as a reading with
`lost` set, so the others keep being shown.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


# ---- scripted readings -----------------------------------------------------------------------
def demo_reading(
    index: int, tick: int, *, model: str = "h100", self_pid: int | None = None
) -> GpuReading:
    """A plausible reading of a busy GPU at `tick`: smooth, deterministic waves.

    "h100" is a data-centre card (no fan: N/A; ECC on); "rtx4090" a desktop card
    (fan, no ECC: N/A), so both kinds of missing metric are exercised.
    """
    wave = (math.sin((tick + 3 * index) / 4) + 1) / 2  # 0..1
    slow = (math.sin((tick + 5 * index) / 11) + 1) / 2
    if model == "h100":
        total, name, limit, fan, ecc = 80 * GIB, "NVIDIA H100 80GB HBM3", 700.0, None, (0, 0)
    else:
        total, name, limit, fan, ecc = (
            24 * GIB,
            "NVIDIA GeForce RTX 4090",
            450.0,
            30 + 40 * wave,
            None,
        )
    used = int(total * (0.12 + 0.6 * slow))
    own = int(1.4 * GIB)
    return GpuReading(
        index=index,
        name=name,
        uuid=f"GPU-{index:08d}-scripted",
        util_sm=round(15 + 80 * wave, 1),
        util_mem=round(5 + 50 * wave * slow, 1),
        vram_used=used,
        vram_total=total,
        temp_c=round(38 + 40 * wave, 1),
        power_w=round(limit * (0.15 + 0.7 * wave), 1),
        power_limit_w=limit,
        clock_sm_mhz=int(1100 + 800 * wave),
        clock_mem_mhz=2619 if model == "h100" else 10501,
        fan_pct=round(fan, 1) if fan is not None else None,
        pstate="P0" if wave > 0.2 else "P2",
        ecc_corrected=ecc[0] if ecc else None,
        ecc_uncorrected=ecc[1] if ecc else None,
        processes=(
            GpuProcess(4242, "python3", used - own - 300 * 1024**2),
            GpuProcess(self_pid or os.getpid(), "magray", own, is_self=True),
            GpuProcess(1312, "Xorg", 300 * 1024**2, kind="graphics"),
        )[: 3 if index == 0 else 1],
    )


@dataclass
class ScriptedSource:
    """Readings from a script, behind the same interface as NVML (where no GPU exists).

    `frame(tick)` gives the GPUs of poll number `tick` (0, 1, ...). `open_error` makes
    `open()` fail as NVML does without a driver; `errors` maps ticks to a whole-poll
    failure; `lost` maps a GPU index to the tick from which it stops answering.
    """

    frame: Callable[[int], Sequence[GpuReading]] = field(
        default=lambda tick: [demo_reading(0, tick)]
    )
    system: SystemInfo = SystemInfo("550.54.15", "12.4")
    open_error: str | None = None
    errors: dict[int, str] = field(default_factory=dict)
    lost: dict[int, int] = field(default_factory=dict)
    tick: int = 0
    opened: int = 0  # how many times open() was called
    is_open: bool = False

    @classmethod
    def gpus(cls, *models: str, self_pid: int | None = None, **kw: Any) -> ScriptedSource:
        """GPUs of the given models ("h100", "rtx4090"), e.g. `gpus("h100", "rtx4090")`."""

        def frame(tick: int) -> list[GpuReading]:
            return [demo_reading(i, tick, model=m, self_pid=self_pid) for i, m in enumerate(models)]

        return cls(frame=frame, **kw)

    @classmethod
    def without_gpu(cls, reason: str = NO_NVML) -> ScriptedSource:
        return cls(open_error=reason)

    def open(self) -> SystemInfo:
        self.opened += 1
        if self.open_error:
            raise GpuUnavailable(self.open_error)
        self.is_open = True
        return self.system

    def read(self) -> list[GpuReading]:
        if not self.is_open:
            raise GpuReadError("the source is not open")
        tick, self.tick = self.tick, self.tick + 1
        if tick in self.errors:
            raise GpuReadError(self.errors[tick])
        out = []
        for reading in self.frame(tick):
            since = self.lost.get(reading.index)
            if since is not None and tick >= since:
                reading = GpuReading(
                    reading.index, reading.name, reading.uuid, lost="GPU is lost (fell off the bus)"
                )
            out.append(reading)
        return out

    def close(self) -> None:
        self.is_open = False
