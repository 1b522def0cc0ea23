"""The Ingestor: files and folders into the Assets layer, incrementally.

State lives in the records (see `memory/sources.py`): a file whose size, modification time
and chunker match its stored chunks (all present) is skipped without reading; a changed
file is chunked again and diffed by chunk hash: unchanged chunks keep their records, new
ones are embedded, old ones purged. Chunks of deleted files are offered to new files
first, so a rename moves records instead of re-embedding them.

Writes per batch go: add new chunks, then refresh metadata, then purge; a run killed at
any point leaves a store that the next run completes without duplicates.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from magray_tui.ingest.chunker import CHUNKER_VERSION, DEFAULT_MAX_CHARS, DEFAULT_OVERLAP_CHARS
from magray_tui.ingest.ignore import DEFAULT_IGNORES, IgnoreMatcher
from magray_tui.ingest.report import IngestProgress, IngestReport
from magray_tui.ingest.run import Run
from magray_tui.ingest.walker import inside
from magray_tui.memory import sources

if TYPE_CHECKING:
    from magray_tui.memory import MemoryService

log = logging.getLogger(__name__)

ProgressCallback = Callable[[IngestProgress], None]
_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


@dataclass
class IngestOptions:
    max_file_bytes: int = 1_000_000
    chunk_chars: int = DEFAULT_MAX_CHARS
    overlap_chars: int = DEFAULT_OVERLAP_CHARS
    ignore: tuple[str, ...] = ()  # gitignore-style patterns that win over .gitignore
    default_ignores: bool = True
    gitignore: bool = True
    batch_chunks: int = 128  # new chunks embedded and stored per batch
    layer: str = "assets"

    @property
    def chunker_id(self) -> str:
        return f"v{CHUNKER_VERSION}/{self.chunk_chars}/{self.overlap_chars}"


def _memory_lock(memory: Any) -> threading.Lock:
    """One ingest at a time per store (a watcher and an "Add folder" may overlap)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(memory)
        if lock is None:
            lock = _LOCKS[memory] = threading.Lock()
        return lock


class Ingestor:
    """Ingest paths into `memory`. Thread-safe to cancel from another thread."""

    def __init__(
        self,
        memory: MemoryService,
        options: IngestOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
    ) -> None:
        self.memory = memory
        self.options = options or IngestOptions()
        self.progress = progress
        self.cancel_event = cancel_event or threading.Event()
        self._matchers: dict[str, IgnoreMatcher] = {}
        paths = memory.settings.paths
        # Never ingest magray's own files (a watched home folder would feed on itself).
        self.own_dirs = tuple(
            os.path.realpath(p) for p in (paths.data, paths.cache, paths.state, paths.config)
        )

    # ---- control -------------------------------------------------------------------------
    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def matcher(self, root: str) -> IgnoreMatcher:
        m = self._matchers.get(root)
        if m is None:
            o = self.options
            m = IgnoreMatcher(
                root,
                o.ignore,
                defaults=DEFAULT_IGNORES if o.default_ignores else (),
                use_gitignore=o.gitignore,
            )
            self._matchers[root] = m
        return m

    def is_own(self, path: str) -> bool:
        return any(inside(path, d) for d in self.own_dirs)

    # ---- entry points --------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike[str]]) -> IngestReport:
        """Bring the store in line with these files and folders (full comparison)."""
        paths = list(paths)
        roots = [os.path.realpath(os.path.expanduser(os.fspath(p))) for p in paths]
        report = IngestReport(roots=roots)
        run = Run(self, report)
        with _memory_lock(self.memory):
            for given, root in zip(paths, roots, strict=False):
                if not os.path.lexists(root):
                    report.skip("missing", os.fspath(given))
                    continue
                run.scan_tree(root, root)
            run.execute()
        return report

    def sync(self, changed: Iterable[str], roots: Sequence[str]) -> IngestReport:
        """Update only the given paths (files or folders, present or gone), each inside
        one of `roots`: what a watcher calls with a batch of events."""
        roots = [os.path.realpath(r) for r in roots]
        report = IngestReport(roots=roots)
        run = Run(self, report)
        with _memory_lock(self.memory):
            for path in sorted(set(changed)):
                root = max((r for r in roots if inside(path, r)), key=len, default=None)
                if root is None or self.is_own(path):
                    continue
                run.scan_path(root, path)
            run.execute()
        return report

    def remove(self, paths: Iterable[str | os.PathLike[str]]) -> IngestReport:
        """Purge every chunk ingested from these files or folders."""
        roots = [os.path.realpath(os.path.expanduser(os.fspath(p))) for p in paths]
        report = IngestReport(roots=roots)
        t0 = time.perf_counter()
        with _memory_lock(self.memory):
            for root in roots:
                refs = sources.file_records(self.memory, under=root)
                report.files_removed += len({r.path for r in refs})
                report.chunks_removed += sources.drop(self.memory, refs, reason="removed")
        report.seconds = time.perf_counter() - t0
        return report
