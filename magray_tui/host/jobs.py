"""Long jobs a client hands to the host: ingesting files runs where the store and the warm
embedder are, and its progress streams back to the client that asked."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

_RUNNING: dict[str, threading.Event] = {}  # job name -> its cancel event
_RUNNING_LOCK = threading.Lock()


class IngestJobs:
    def __init__(self, services: Any) -> None:
        self.services = services

    def ingest(
        self,
        paths: Sequence[str],
        options: Any = None,
        progress: Callable[[Any], None] | None = None,
        job: str | None = None,
    ) -> Any:
        """Ingest on the host; `job` names it so the client can `cancel(job)` (Ctrl-C)."""
        from magray_tui.ingest import Ingestor

        cancel = threading.Event()
        if job:
            with _RUNNING_LOCK:
                _RUNNING[job] = cancel
        try:
            ingestor = Ingestor(
                self.services.memory,
                options,
                progress=_cancel_on_hangup(progress, cancel),
                cancel_event=cancel,
            )
            return ingestor.ingest(paths)
        finally:
            if job:
                with _RUNNING_LOCK:
                    _RUNNING.pop(job, None)

    def cancel(self, job: str) -> bool:
        with _RUNNING_LOCK:
            event = _RUNNING.get(job)
        if event is not None:
            event.set()
        return event is not None

    def file_summary(self, under: str | None = None) -> dict[str, int]:
        from magray_tui.memory.sources import file_summary

        return file_summary(self.services.memory, under=under)

    def remove(self, paths: Sequence[str]) -> Any:
        from magray_tui.ingest import Ingestor

        return Ingestor(self.services.memory).remove(paths)


def _cancel_on_hangup(
    progress: Callable[[Any], None] | None, cancel: threading.Event
) -> Callable[[Any], None] | None:
    """A client that went away (Ctrl-C, killed) cancels its ingest at the next batch."""
    if progress is None:
        return None

    def report(snapshot: Any) -> None:
        if cancel.is_set():
            return
        try:
            progress(snapshot)
        except OSError:
            cancel.set()

    return report
