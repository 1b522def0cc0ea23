"""A store's pending re-embed (the embedding model was changed, docs/model-migration.md),
run in the background once the services are open, its progress in the status bar.

The work runs in a thread worker at a lower CPU priority (`background.run_low_priority`;
onnxruntime's threads, created there, inherit it), so search and typing keep the CPU.
Search answers from the old model until the switch; then the header names the new one.
In a client TUI the host runs it (a second caller follows the first's progress).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.widgets.header import AppHeader

if TYPE_CHECKING:
    from magray_tui.tui.app import MagrayApp
    from magray_tui.tui.backend import Backend

JOB = "re-embedding memory"
GROUP = "reembed"


class BackgroundReembed:
    def __init__(self, app: MagrayApp) -> None:
        self.app = app

    def start(self, backend: Backend) -> None:
        if backend.read_only:
            return
        self.app.run_worker(
            lambda: self.run(backend),
            name=GROUP,
            group=GROUP,
            description="re-embed the memory with the configured model",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def run(self, backend: Backend) -> None:
        memory = backend.memory
        status = memory.reembed_status()
        if not status.pending:
            return
        with self.app.jobs.track(JOB, total=status.total or None, unit="memories") as job:
            report = run_low_priority(
                lambda: memory.reembed(progress=job.progress), "magray-reembed"
            )
        if report is not None and report.switched:
            self.app.call_from_thread(self.done, backend, report)

    def done(self, backend: Backend, report: Any) -> None:
        for header in self.app.query(AppHeader):
            header.model = backend.model_label()
        self.app.notify(
            f"re-embedded {report.total:,} memories with {report.model} ({report.dim}-d); "
            "search now uses it",
            title="Memory",
            markup=False,
        )
