"""Reads are counted in memory and written in batches, off the search path (through the
one commit path; they take no revision, since nothing an index holds changes)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from magray_tui.memory.core import MemoryCore

log = logging.getLogger(__name__)
FLUSH_AT = 256


class AccessLog:
    def __init__(self, core: MemoryCore) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._pending: list[tuple[int, datetime, str | None, float, int]] = []
        self._flusher: threading.Thread | None = None

    def note(self, hits: Sequence[tuple[int, float, int]], session: str | None) -> None:
        """(seq, score, rank) of records just read."""
        if self.core.read_only:
            return
        now = self.core.clock()
        with self._lock:
            self._pending.extend((seq, now, session, float(s), r) for seq, s, r in hits)
            if len(self._pending) >= FLUSH_AT and self._flusher is None:
                # Written by a short-lived thread: the search that crosses the mark returns
                # at once instead of waiting for the database write.
                self._flusher = threading.Thread(
                    target=self._flush_in_background, name="magray-access-flush", daemon=True
                )
                self._flusher.start()

    def _flush_in_background(self) -> None:
        try:
            self.flush()
        finally:
            with self._lock:
                self._flusher = None

    def flush(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        if events and not self.core.read_only:
            try:
                self.core.committer.commit(lambda w: w.record_accesses(events))
            except Exception as exc:  # counting reads must never break a read
                log.warning("could not record %d accesses: %s", len(events), exc)

    def wait(self, timeout: float = 30) -> None:
        flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout=timeout)
