"""The GPU pane: a card per GPU (meters, history), the processes on them, and where our
own embedding model runs and why.

The readings come from the process's `GpuMonitor` (`monitor_for(services)`), shared with
the Health pane; tests put a `ScriptedSource` behind it through `Services.shared`. The
pane holds the sampler only while it is shown (Show / Hide events), so a hidden pane costs
no polls. The sampler thread only posts `GpuPane.Sampled`; drawing happens here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from magray_tui.tui.panes.base import PaletteCommand, Pane, PaneEnv
from magray_tui.tui.widgets.gpu_card import GpuCard
from magray_tui.tui.widgets.gpu_processes import GpuProcessTable

if TYPE_CHECKING:
    from magray_tui.monitor.gpu import GpuMonitor, GpuSnapshot
    from magray_tui.tui.backend import Backend

HOLDER = "gpu-pane"  # our name in the monitor's set of holders
NO_GPU_HINT = (
    "GPU monitoring reads NVIDIA's NVML library, which comes with the NVIDIA driver. "
    "magray works fine without it: embeddings run on the CPU."
)


class GpuPane(Pane):
    PANE_ID = "gpu"
    TITLE = "GPU"
    SUMMARY = (
        "GPU use by the embedding model and local LLMs, read through NVML: utilisation, "
        "VRAM, temperature, power and the processes on each GPU; N/A where a card does "
        "not report a metric. Sampling pauses while this pane is hidden."
    )
    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "next_sort", "Sort processes", id="gpu.sort"),
        Binding("p", "toggle_pause", "Pause/resume", id="gpu.pause"),
    ]
    DEFAULT_CSS = """
    GpuPane #gpu-scroll { padding: 0 1; }
    GpuPane #gpu-device { margin: 1 0; height: auto; }
    GpuPane #gpu-notice { display: none; color: $warning; margin-bottom: 1; height: auto; }
    GpuPane.-notice #gpu-notice { display: block; }
    GpuPane #gpu-cards { height: auto; }
    GpuPane .gpu-heading { text-style: bold; color: $primary; height: 1; }
    GpuPane #gpu-status { color: $text-muted; height: 1; margin-top: 1; }
    """

    class Sampled(Message):
        """The monitor took a sample (posted from its thread)."""

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(env)
        self.add_class("-notice")
        self.monitor: GpuMonitor | None = None
        self._own_monitor = False  # built here because the services failed to open
        self._shown = False
        self.user_paused = False
        self._pending = threading.Event()
        self._failure: str | None = None
        self.cards: dict[int, GpuCard] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="gpu-scroll"):
            yield Static(id="gpu-device", markup=False)
            yield Static("Starting the GPU monitor…", id="gpu-notice", markup=False)
            yield Vertical(id="gpu-cards")
            yield Static("Processes on the GPUs", classes="gpu-heading", id="gpu-proc-title")
            yield GpuProcessTable(id="gpu-processes")
            yield Static(id="gpu-status", markup=False)

    def on_mount(self) -> None:
        self.show_device()
        self.query_one("#gpu-proc-title").display = False
        self.query_one(GpuProcessTable).display = False

    # ---- the monitor -----------------------------------------------------------------------
    def attach_backend(self, backend: Backend) -> None:
        super().attach_backend(backend)
        from magray_tui.monitor.gpu import monitor_for

        self._use(monitor_for(backend.services))

    def backend_failed(self, message: str) -> None:
        # The GPUs do not need the memory store: watch them with a monitor of our own.
        from magray_tui.monitor.gpu import GpuMonitor

        self._failure = message
        self._own_monitor = True
        self._use(GpuMonitor.from_settings(self.env.settings))

    def _use(self, monitor: GpuMonitor) -> None:
        self.monitor = monitor
        monitor.add_listener(self._sampled_in_thread)
        self._update_sampling()
        self.show_device()
        self.call_later(self.refresh_view)

    def _sampled_in_thread(self) -> None:
        if not self._pending.is_set():  # one message in flight at most: no backlog
            self._pending.set()
            self.post_message(self.Sampled())

    def _update_sampling(self) -> None:
        if self.monitor is None:
            return
        if self._shown and not self.user_paused:
            self.monitor.resume(HOLDER)
        else:
            self.monitor.pause(HOLDER)
        self._show_status(self.monitor.snapshot())

    def on_show(self) -> None:
        self._shown = True
        self._update_sampling()

    def on_hide(self) -> None:
        self._shown = False
        self._update_sampling()

    def on_resize(self) -> None:
        # Tall plots need room: decide again at the new size.
        if self.monitor is not None:
            self.call_later(self.refresh_view)

    def on_unmount(self) -> None:
        if self.monitor is not None:
            self.monitor.remove_listener(self._sampled_in_thread)
            self.monitor.pause(HOLDER)
            if self._own_monitor:
                self.monitor.close()

    async def on_gpu_pane_sampled(self) -> None:
        self._pending.clear()
        await self.refresh_view()

    # ---- drawing ---------------------------------------------------------------------------
    async def refresh_view(self) -> None:
        if self.monitor is None:
            return
        snap = self.monitor.snapshot()
        self._show_notice(snap)
        await self._show_cards(snap)
        table = self.query_one(GpuProcessTable)
        has_procs = any(g.reading.processes for g in snap.gpus)
        table.display = has_procs
        self.query_one("#gpu-proc-title").display = bool(snap.gpus)
        title = "Processes on the GPUs" if has_procs else "No processes on the GPUs"
        self.query_one("#gpu-proc-title", Static).update(title)
        table.show(snap.gpus)
        self._show_status(snap)
        self.show_device()

    def _show_notice(self, snap: GpuSnapshot) -> None:
        text = ""
        if snap.state == "idle":
            text = "Reading the GPUs…" if snap.sampling else "GPU sampling is paused."
        elif snap.state == "no_gpu":
            # The embeddings line above often gives the same reason: say it once.
            said = self.backend is not None and snap.reason in self._device_reason()
            text = NO_GPU_HINT if said else f"{snap.reason}\n\n{NO_GPU_HINT}"
        elif snap.state == "error":
            stale = " (showing the last good reading)" if snap.gpus else ""
            text = f"⚠ {snap.reason}{stale}"
        self.query_one("#gpu-notice", Static).update(text)
        self.set_class(bool(text), "-notice")

    async def _show_cards(self, snap: GpuSnapshot) -> None:
        box = self.query_one("#gpu-cards", Vertical)
        new = [GpuCard(g.reading.index, self.env.settings.monitor) for g in snap.gpus]
        new = [c for c in new if c.index not in self.cards]
        if new:
            await box.mount_all(new)
            self.cards.update((c.index, c) for c in new)
        ages = [snap.now - t for t in snap.times]
        tall = self.size.height >= 26 * max(1, len(snap.gpus)) + 12
        for state in snap.gpus:
            card = self.cards[state.reading.index]
            card.set_class(tall, "-tall")
            card.show(state, ages)

    def _show_status(self, snap: GpuSnapshot) -> None:
        if snap.state == "no_gpu":
            text = "not sampling: nothing to read"
        elif self.user_paused:
            text = "sampling paused (p resumes)"
        elif not snap.sampling:
            text = "sampling paused while the pane is hidden"
        else:
            text = f"sampling every {snap.interval_s:g} s · {snap.samples} samples"
        if snap.system.driver_version:
            text += f" · driver {snap.system.driver_version}"
            text += f", CUDA {snap.system.cuda_version or 'N/A'}"
        self.query_one("#gpu-status", Static).update(text)

    def _device_reason(self) -> str:
        return self.backend.memory.embedder.device.reason if self.backend is not None else ""

    def show_device(self) -> None:
        """Where our own embedding model runs, why, and its batch size."""
        line = Text("Embeddings  ", style="bold")
        if self.backend is None:
            detail = self._failure or "loading the model…"
            line.append("not loaded" if self._failure else "…", style="bold")
            line.append(f"\n  {detail}")
        else:
            d = self.backend.memory.embedder.device
            line.append(d.label, style="bold")
            line.append(f" · batch {d.batch_size} · device = {d.requested} in settings")
            line.append(f"\n  why: {d.reason}")
            if d.batch_note and d.batch_note != "from settings":
                line.append(f"\n  batch: {d.batch_note}")
        self.query_one("#gpu-device", Static).update(line)

    # ---- keys ------------------------------------------------------------------------------
    def action_next_sort(self) -> None:
        table = self.query_one(GpuProcessTable)
        table.next_sort()
        self.call_later(self.refresh_view)

    @on(DataTable.HeaderSelected, "#gpu-processes")
    def sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        self.query_one(GpuProcessTable).sort_on(str(event.column_key.value))
        self.call_later(self.refresh_view)

    def action_toggle_pause(self) -> None:
        self.user_paused = not self.user_paused
        self._update_sampling()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        if self.monitor is None:
            return ()
        title = "GPU: resume sampling" if self.user_paused else "GPU: pause sampling"
        return (PaletteCommand(title, "Stop or restart the NVML polls", self.action_toggle_pause),)
