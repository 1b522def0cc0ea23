"""What the memory browser keeps about ingest work, and the bridge from an ingest's
progress callbacks to a job in the status bar (files and chunks done, rate, ETA)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magray_tui.ingest import Ingestor, IngestProgress, Watcher
    from magray_tui.tui.jobs import Job, JobRegistry


def folder_name(path: str) -> str:
    return os.path.basename(path.rstrip(os.sep)) or path


class IngestJob:
    """Turns an ingest's progress callbacks into a job in the status bar. A watcher's
    job exists only while a batch runs (`transient`): an idle watch shows nothing."""

    def __init__(self, jobs: JobRegistry, label: str, *, transient: bool = False) -> None:
        self.jobs, self.label, self.transient = jobs, label, transient
        self.job: Job | None = None if transient else jobs.start(label, unit="files")

    def __call__(self, p: IngestProgress) -> None:
        ended = p.phase in ("done", "cancelled")
        if self.job is None:
            if ended:
                return
            self.job = self.jobs.start(self.label, unit="files")
        if ended and self.transient:
            self.finish()
            return
        detail = f"{p.chunks_done:,} chunks"
        if p.chunks_per_s:
            detail += f" · {p.chunks_per_s:,.1f} chunks/s"
        if p.phase != "ingesting":
            detail = f"{p.phase} · {detail}"
        self.job.progress(p.files_done, p.files_total or None, detail=detail, eta_s=p.eta_s)

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
