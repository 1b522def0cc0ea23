"""Watch mode: keep the store in sync with folders as files change (watchfiles).

Events are grouped into debounced batches; each batch is one `Ingestor.sync` of the
changed paths, so a rename inside a batch moves records instead of re-embedding. A changed
`.gitignore` re-ingests its root (the rules changed). A watched folder that disappears has
its chunks purged and is dropped from this watch; when none is left the watcher stops.
After each batch that wrote, the database is checkpointed (the WAL stays small). Other
magray processes on the home see the change at once: they ask this one (magray_tui.host).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from magray_tui.ingest.ingestor import IngestOptions, Ingestor, ProgressCallback
from magray_tui.ingest.report import IngestReport
from magray_tui.ingest.walker import inside

if TYPE_CHECKING:
    from magray_tui.memory import MemoryService

log = logging.getLogger(__name__)

ReportCallback = Callable[[str, IngestReport], None]  # (what: "initial" | "batch", report)
MessageCallback = Callable[[str], None]


class Watcher:
    """`start()` runs it in a daemon thread; `run()` blocks; `stop()` ends either."""

    def __init__(
        self,
        memory: MemoryService,
        roots: Iterable[str | os.PathLike[str]],
        options: IngestOptions | None = None,
        *,
        debounce_ms: int = 1000,
        step_ms: int = 100,
        initial_sync: bool = True,
        on_report: ReportCallback | None = None,
        on_message: MessageCallback | None = None,
        progress: ProgressCallback | None = None,
        poll_ms: int = 500,
        force_polling: bool | None = None,
    ) -> None:
        self.memory = memory
        self.roots = [os.path.realpath(os.path.expanduser(os.fspath(r))) for r in roots]
        self.ingestor = Ingestor(memory, options, progress=progress)
        self.debounce_ms, self.step_ms, self.poll_ms = debounce_ms, step_ms, poll_ms
        self.initial_sync = initial_sync
        self.on_report = on_report
        self.on_message = on_message
        self.force_polling = force_polling
        self.ready = threading.Event()  # set once events are being watched
        self.batches = 0
        self.last_report: IngestReport | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- control -------------------------------------------------------------------------
    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._run_safely, name="magray-watch", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        self.ingestor.cancel()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _run_safely(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # reported to the owner, never a silent dead thread
            self.error = exc
            log.exception("watcher failed")
            self._say(f"watching stopped: {exc}")
            self.ready.set()

    def _say(self, message: str) -> None:
        log.info("%s", message)
        if self.on_message:
            self.on_message(message)

    def _reported(self, what: str, report: IngestReport) -> None:
        self.last_report = report
        if report.wrote:
            try:
                self.memory.store.checkpoint()
            except Exception as exc:
                log.warning("checkpoint after a watch batch failed: %s", exc)
        if self.on_report:
            self.on_report(what, report)

    # ---- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        import watchfiles

        initial = self.initial_sync
        while not self._stop.is_set():
            self._drop_gone_roots()
            if not self.roots:
                self._say("no watched folder exists any more; stopping")
                break
            watching = list(self.roots)
            restart = False
            try:
                for changes in watchfiles.watch(
                    *watching,
                    watch_filter=self._wanted,
                    debounce=self.debounce_ms,
                    step=self.step_ms,
                    stop_event=self._stop,
                    rust_timeout=self.poll_ms,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                    force_polling=self.force_polling,
                    ignore_permission_denied=True,
                ):
                    if initial:
                        # Only now: events during the initial sync are already collected.
                        initial = False
                        self._reported("initial", self.ingestor.ingest(watching))
                        self.ingestor.cancel_event.clear()
                    self.ready.set()
                    # A folder's own "modified" adds nothing: its entries have their events.
                    paths = {
                        path
                        for change, path in changes
                        if change != watchfiles.Change.modified or not os.path.isdir(path)
                    }
                    if paths:
                        self._batch(paths)
                    if any(not os.path.exists(r) for r in watching):
                        restart = True
                        break
            except (OSError, RuntimeError) as exc:
                if self.force_polling:
                    raise
                # e.g. the inotify watch limit on a very large tree: poll instead.
                self._say(f"file events unavailable ({exc}); polling instead")
                self.force_polling = True
                restart = True
            if not restart:
                break
        self.ready.set()

    def _root_of(self, path: str) -> str | None:
        return max((r for r in self.roots if inside(path, r)), key=len, default=None)

    def _wanted(self, change: object, path: str) -> bool:
        root = self._root_of(path)
        if root is None or self.ingestor.is_own(path):
            return False
        if os.path.basename(path) == ".gitignore":
            return True
        is_dir = os.path.isdir(path)
        return not self.ingestor.matcher(root).ignored_deep(path, is_dir)

    def _batch(self, paths: set[str]) -> None:
        resync = set()
        for path in paths:
            if os.path.basename(path) == ".gitignore":
                root = self._root_of(path)
                if root:
                    self.ingestor.matcher(root).invalidate()
                    resync.add(root)
        rest = {p for p in paths if not any(inside(p, r) for r in resync)}
        self.batches += 1
        if resync:
            self._reported("batch", self.ingestor.ingest(sorted(resync)))
        if rest and not self._stop.is_set():
            self._reported("batch", self.ingestor.sync(rest, self.roots))
        self.ingestor.cancel_event.clear()

    def _drop_gone_roots(self) -> None:
        gone = [r for r in self.roots if not os.path.exists(r)]
        if not gone:
            return
        self.roots = [r for r in self.roots if r not in gone]
        report = self.ingestor.sync(gone, gone)
        self._reported("batch", report)
        for root in gone:
            self._say(f"watched folder {root} is gone: its chunks were removed from memory")
