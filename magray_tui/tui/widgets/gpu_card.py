"""One GPU as a card: meters for the latest reading, history plots, the other metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from magray_tui.tui.widgets.gpu_plot import GpuMeter, HistoryPlot, Limits

if TYPE_CHECKING:
    from magray_tui.config import MonitorSettings
    from magray_tui.monitor.gpu import GpuState

GIB = 1024**3


def na(value: object, fmt: str = "{}") -> str:
    return "N/A" if value is None else fmt.format(value)


def gib(n: int | None) -> str:
    return na(None if n is None else n / GIB, "{:.1f}")


def _pct(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else 100.0 * part / whole


class GpuCard(Vertical):
    DEFAULT_CSS = """
    GpuCard {
        height: auto; border: round $primary 50%; padding: 0 1; margin: 0 0 1 0;
        border-title-color: $text; border-title-style: bold;
    }
    GpuCard.-lost { border: round $error; }
    GpuCard .gpu-details { color: $text-muted; height: 1; }
    GpuCard.-lost .gpu-details { color: $error; }
    GpuCard HistoryPlot { margin-top: 0; }
    GpuCard.-tall HistoryPlot { height: 6; margin-top: 1; }
    GpuCard.-lost GpuMeter, GpuCard.-lost HistoryPlot { display: none; }
    """

    def __init__(self, index: int, limits: MonitorSettings, **kw: object) -> None:
        super().__init__(id=f"gpu-card-{index}", **kw)  # type: ignore[arg-type]
        self.index = index
        pct = Limits(limits.gpu_warn_pct, limits.gpu_crit_pct)
        self.temp_limits = Limits(limits.gpu_warn_temp_c, limits.gpu_crit_temp_c)
        self.meters = {
            "util_sm": GpuMeter("SM", pct),
            "util_mem": GpuMeter("mem bw", pct),
            "vram": GpuMeter("VRAM", pct),
            "power": GpuMeter("power", pct),
            "temp": GpuMeter("temp", self.temp_limits),
        }
        self.plots = {"util_sm": HistoryPlot("util", pct), "vram_pct": HistoryPlot("VRAM", pct)}

    def compose(self) -> ComposeResult:
        yield Static(classes="gpu-details", markup=False)
        yield from self.meters.values()
        yield from self.plots.values()

    def show(self, state: GpuState, ages: Sequence[float]) -> None:
        r = state.reading
        self.border_title = f"GPU {r.index} · {r.name}"
        self.set_class(bool(r.lost), "-lost")
        details = self.query_one(".gpu-details", Static)
        if r.lost:
            details.update(f"not answering: {r.lost}")
            return
        ecc = (
            "ECC N/A"
            if r.ecc_uncorrected is None
            else f"ECC {r.ecc_corrected} corrected / {r.ecc_uncorrected} uncorrected"
        )
        details.update(
            f"{na(r.pstate)} · clocks {na(r.clock_sm_mhz)} / {na(r.clock_mem_mhz)} MHz · "
            f"fan {na(r.fan_pct, '{:.0f}%')} · {ecc}"
        )
        m = self.meters
        m["util_sm"].show(_frac(r.util_sm), na(r.util_sm, "{:.0f}%"), r.util_sm)
        m["util_mem"].show(_frac(r.util_mem), na(r.util_mem, "{:.0f}%"), r.util_mem)
        vram = r.vram_pct
        vram_text = f"{gib(r.vram_used)} / {gib(r.vram_total)} GiB"
        m["vram"].show(_frac(vram), vram_text if vram is not None else "N/A", vram)
        power = _pct(r.power_w, r.power_limit_w)
        power_text = f"{na(r.power_w, '{:.0f}')} / {na(r.power_limit_w, '{:.0f}')} W"
        m["power"].show(_frac(power), power_text if r.power_w is not None else "N/A", power)
        # Temperature fills against 100 °C; its colour follows the temperature limits.
        m["temp"].show(_frac(r.temp_c), na(r.temp_c, "{:.0f} °C"), r.temp_c)
        for name, plot in self.plots.items():
            plot.show(state.history.get(name, ()), ages)


def _frac(pct: float | None) -> float | None:
    return None if pct is None else pct / 100
