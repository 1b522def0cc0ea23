"""Promotion cycles in the app: a timer that runs one every `promotion.cycle_minutes`, the
palette commands to run one now or preview one (dry run), and what happens after.

A cycle runs in a thread worker (group "promotion"), never on the UI thread, never two at
once (a lock; `exclusive` alone would only mark a running thread cancelled) and never in a
read-only store. Mixed into `MagrayApp`, which creates `_cycle_lock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.timer import Timer

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.formatting import cycle_counts
from magray_tui.tui.panes.base import PaletteCommand
from magray_tui.tui.screens.promotion_preview import PromotionPreview

if TYPE_CHECKING:
    from magray_tui.tui.app import MagrayApp
    from magray_tui.tui.backend import Backend

    _Base = MagrayApp
else:
    _Base = object

CYCLE_JOB = "promotion cycle"
WORKER_NAMES = {
    "promotion": "Promotion cycle",
    "promotion-preview": "Promotion preview",
}


class PromotionCycles(_Base):
    promotion_timer: Timer | None = None

    class CycleDone(Message):
        def __init__(self, report: Any, *, manual: bool) -> None:
            super().__init__()
            self.report, self.manual = report, manual

    class PreviewReady(Message):
        def __init__(self, report: Any) -> None:
            super().__init__()
            self.report = report

    def start_promotion_timer(self) -> None:
        """Called once the services are open; a read-only store gets no cycles."""
        if self.backend is None or self.backend.read_only or self.promotion_timer is not None:
            return
        seconds = self.settings.promotion.cycle_minutes * 60
        self.promotion_timer = self.set_interval(seconds, self.promotion_tick, name="promotion")

    def promotion_tick(self) -> None:
        if self.cycle_allowed():
            self.run_promotion_cycle(self.backend, manual=False)

    def cycle_allowed(self) -> bool:
        backend = self.backend
        return backend is not None and not backend.read_only and not self._cycle_lock.locked()

    @work(thread=True, exclusive=True, group="promotion", exit_on_error=False)
    def run_promotion_cycle(self, backend: Backend, *, manual: bool) -> None:
        if not self._cycle_lock.acquire(blocking=False):
            return  # one is running: this one is not needed
        try:
            with self.jobs.track(CYCLE_JOB):
                report = run_low_priority(backend.memory.run_cycle, "magray-promotion")
        finally:
            self._cycle_lock.release()
        self.post_message(self.CycleDone(report, manual=manual))

    def on_promotion_cycles_cycle_done(self, message: CycleDone) -> None:
        report = message.report
        counts = cycle_counts(report.counts())
        if report.actions:
            self.notify(f"promotion cycle: {counts}", title="Memory", markup=False)
            self.refresh_counts()
            self.pane("memory").reload_keeping_selection()  # type: ignore[attr-defined]
        elif message.manual:
            self.notify(
                f"promotion cycle: nothing to do ({report.considered:,} memories considered)",
                title="Memory",
                markup=False,
            )

    @work(thread=True, exclusive=True, group="promotion-preview", exit_on_error=False)
    def preview_promotion_cycle(self, backend: Backend) -> None:
        with self.jobs.track("previewing promotion"):
            report = backend.memory.run_cycle(dry_run=True)
        self.post_message(self.PreviewReady(report))

    def on_promotion_cycles_preview_ready(self, message: PreviewReady) -> None:
        self.push_screen(PromotionPreview(message.report))

    def promotion_commands(self) -> Iterator[PaletteCommand]:
        backend = self.backend
        if backend is None:
            return
        if self.cycle_allowed():
            yield PaletteCommand(
                "Run promotion cycle",
                "Promote, merge, supersede and expire memories by the active policy, now",
                lambda: self.run_promotion_cycle(backend, manual=True),
            )
        yield PaletteCommand(
            "Preview promotion cycle (dry run)",
            "List what a cycle would promote, merge, supersede and expire, changing nothing",
            lambda: self.preview_promotion_cycle(backend),
        )
