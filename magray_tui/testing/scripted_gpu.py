"""Scripted GPU readings for tests, benchmarks and screenshots on machines with no GPU.

They stand behind the same `GpuSource` interface as NVML. Nothing a user runs imports this
module: an import-linter contract forbids it outside `magray_tui.testing`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from magray_tui.monitor.gpu_source import (
    GIB,
    NO_NVML,
    GpuProcess,
    GpuReadError,
    GpuReading,
    GpuUnavailable,
    SystemInfo,
)


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
    system: SystemInfo = field(default_factory=lambda: SystemInfo("550.54.15", "12.4"))
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
