"""A registry of running background jobs, read by the status bar's progress indicator.

Workers report here from any thread; the registry holds plain data and calls `on_change`
(which must be thread-safe, e.g. `Widget.post_message`) whenever a job starts, moves or
ends. No Textual import: it is just bookkeeping.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Job:
    id: int
    label: str
    started: float
    done: int = 0
    total: int | None = None
    unit: str = ""  # what `done` counts ("files"), shown after the counts
    # Set by jobs that know more than done/total: shown after the counts (e.g. "1,204
    # chunks · 7.4 chunks/s", which then replaces the generic rate), and an ETA of
    # their own (an ingest estimates it from bytes, not files).
    detail: str = ""
    eta_s: float | None = None
    _registry: JobRegistry | None = field(default=None, repr=False, compare=False)

    def progress(
        self,
        done: int,
        total: int | None = None,
        *,
        detail: str | None = None,
        eta_s: float | None = None,
    ) -> None:
        """Report `done` of `total` units; safe to call from the worker's thread."""
        if self._registry is not None:
            self._registry._update(self, done, total, detail, eta_s)

    def rate(self, now: float) -> float | None:
        """Units per second since the job started."""
        if self.done <= 0:
            return None
        elapsed = now - self.started
        return self.done / elapsed if elapsed > 0 else None

    def eta(self, now: float) -> float | None:
        if self.eta_s is not None:
            return self.eta_s
        rate = self.rate(now)
        if rate is None or not self.total:
            return None
        return max(self.total - self.done, 0) / rate


class JobRegistry:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_change = on_change
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, label: str, total: int | None = None, unit: str = "") -> Job:
        with self._lock:
            job = Job(next(self._ids), label, self.clock(), total=total, unit=unit, _registry=self)
            self._jobs[job.id] = job
        self._changed()
        return job

    def finish(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        self._changed()

    @contextmanager
    def track(self, label: str, total: int | None = None, unit: str = "") -> Iterator[Job]:
        """Register a job for the duration of a block, also when the block raises."""
        job = self.start(label, total, unit)
        try:
            yield job
        finally:
            self.finish(job)

    def snapshot(self) -> list[Job]:
        """Copies of the running jobs, oldest first."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.started)
            return [
                Job(j.id, j.label, j.started, j.done, j.total, j.unit, j.detail, j.eta_s)
                for j in jobs
            ]

    def running(self, label: str) -> bool:
        with self._lock:
            return any(j.label == label for j in self._jobs.values())

    def _update(
        self, job: Job, done: int, total: int | None, detail: str | None, eta_s: float | None
    ) -> None:
        with self._lock:
            job.done = done
            if total is not None:
                job.total = total
            if detail is not None:
                job.detail = detail
            job.eta_s = eta_s
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
