"""What the memory browser keeps about ingest work, and the bridge from an ingest's
progress callbacks to a job in the status bar (files and chunks done, rate, ETA)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from magray_tui.ingest import Ingestor, IngestProgress, Watcher
    from magray_tui.tui.jobs import Job, JobRegistry


def folder_name(path: str) -> str:
    return os.path.basename(path.rstrip(os.sep)) or path


WRITTEN_EVERY_S = 2.0  # how often stored batches refresh the counts shown elsewhere


class IngestJob:
    """Turns an ingest's progress callbacks into a job in the status bar. A watcher's
    job exists only while a batch runs (`transient`): an idle watch shows nothing.

    The bar follows the bytes embedded (files finish in batches of chunks: a small folder
    would read `0/7 files` until the end); files and chunks are counted in the detail.
    `on_written` is called (from the worker's thread, at most every 2 s) when batches
    were stored, so the header's counts follow the ingest."""

    def __init__(
        self,
        jobs: JobRegistry,
        label: str,
        *,
        transient: bool = False,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        self.jobs, self.label, self.transient = jobs, label, transient
        self.on_written = on_written
        self._written = (0, 0.0)  # files done, when last reported
        self.job: Job | None = None if transient else jobs.start(label, unit="bytes")

    def __call__(self, p: IngestProgress) -> None:
        ended = p.phase in ("done", "cancelled")
        if self.job is None:
            if ended:
                return
            self.job = self.jobs.start(self.label, unit="bytes")
        self._report_written(p.files_done)
        if ended and self.transient:
            self.finish()
            return
        detail = f"{p.chunks_done:,} chunks · {p.files_done:,}/{p.files_total:,} files"
        if p.chunks_per_s:
            detail += f" · {p.chunks_per_s:,.1f} chunks/s"
        if p.phase != "ingesting":
            detail = f"{p.phase} · {detail}"
        self.job.progress(p.bytes_done, p.bytes_total or None, detail=detail, eta_s=p.eta_s)

    def _report_written(self, files_done: int) -> None:
        files, at = self._written
        now = time.monotonic()
        if self.on_written is not None and files_done > files and now - at >= WRITTEN_EVERY_S:
            self._written = (files_done, now)
            self.on_written()

    def finish(self) -> None:
        if self.job is not None:
            self.jobs.finish(self.job)
            self.job = None


@dataclass
class Watch:
    watcher: Watcher
    reporter: IngestJob
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class IngestState:
    """What the pane keeps about its ingest work (the pane creates one)."""

    starting: bool = False  # an "Add folder" ingest was asked for (its worker may not run yet)
    ingestor: Ingestor | None = None  # the running "Add folder" ingest
    done: threading.Event | None = None  # set when that ingest's worker ends
    watches: dict[str, Watch] = field(default_factory=dict)  # by folder path


class RunOnPane(Message):
    """Run `fn` on the UI thread, in the pane's turn (posted from an ingest or watch
    worker; after the app has stopped it is simply dropped)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.fn = fn
