"""Watched folders in the memory browser: one `Watcher` (watchfiles) per enabled folder,
each in its own thread worker; the per-folder toggle persisted in watched.json; a toast
for each batch that changed something. Resumed when the store opens.

A controller owned by the pane's `IngestController` (`pane.ingest.watch`); it is also what
the Watched folders screen asks for its rows and toggles."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.panes.memory_ingest_state import IngestJob, RunOnPane, Watch, folder_name
from magray_tui.tui.screens.watched_folders import WatchedFolders, WatchedRow

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.ingest import IngestReport
    from magray_tui.tui.panes.memory_browser import MemoryBrowser
    from magray_tui.tui.panes.memory_ingest import IngestController


class WatchController:
    def __init__(self, pane: MemoryBrowser, ingest: IngestController) -> None:
        self.pane = pane
        self.ingest = ingest

    @property
    def watches(self) -> dict[str, Watch]:
        return self.ingest.state.watches

    @property
    def settings(self) -> Settings:
        return self.pane.env.settings

    def _later(self, fn: Callable[..., None], *args: Any) -> None:
        """From a worker: run `fn(*args)` on the UI thread."""
        self.pane.post_message(RunOnPane(lambda: fn(*args)))

    def _worker(self, fn: Callable[[], None], group: str, **kw: Any) -> None:
        self.pane.run_worker(fn, thread=True, group=group, exit_on_error=False, **kw)

    # ---- watching ------------------------------------------------------------------------
    def resume(self) -> None:
        """At start-up: watch again the folders watched.json has switched on."""

        def load() -> None:
            from magray_tui.ingest import load_watched

            folders = load_watched(self.settings)
            self._later(self._start_all, [f.path for f in folders if f.enabled])

        self._worker(load, "watched-io", exclusive=True)

    def _start_all(self, paths: list[str]) -> None:
        for path in paths:
            self.start(path)

    def start(self, path: str) -> None:
        """Start watching `path` (UI thread). A missing folder is reported, not watched."""
        pane = self.pane
        running = self.watches.get(path)
        if (running is not None and not running.watcher.stopped) or not self.ingest.can_ingest():
            return
        if not os.path.isdir(path):
            pane.notify(
                f"Not watching {path}: the folder is missing.", severity="warning", markup=False
            )
            return
        from magray_tui.ingest import IngestOptions, Watcher

        reporter = IngestJob(
            pane.env.jobs,
            f"syncing {folder_name(path)}",
            transient=True,
            on_written=lambda: pane.post_message(pane.MemoryChanged()),
        )
        watcher = Watcher(
            pane.memory,
            [path],
            IngestOptions(),
            on_report=lambda what, report: self._later(self._reported, path, report),
            on_message=lambda text: self._later(self._noted, path, text, None),
            progress=reporter,
        )
        watch = self.watches[path] = Watch(watcher, reporter)

        def run() -> None:
            try:
                run_low_priority(watch.watcher.run, "magray-watch")
            finally:
                watch.reporter.finish()
                watch.done.set()
                self._later(self._noted, path, "", watch)  # "" = it stopped

        self._worker(run, "watch", description="watch a folder")

    def stop(self, path: str) -> None:
        watch = self.watches.get(path)
        if watch is not None:
            watch.watcher.stop()

    def _reported(self, path: str, report: IngestReport) -> None:
        if not (report.wrote or report.problems or report.files_removed):
            return  # a batch that changed nothing (e.g. an editor's temp file) stays quiet
        lines = [f"{folder_name(path)}: {report.summary()}", *report.skip_lines()[:2]]
        self.pane.notify("\n".join(lines), title="Watched folder", markup=False)
        self.ingest.store_changed()

    def _noted(self, path: str, text: str, watch: Watch | None) -> None:
        if text:
            self.pane.notify(text, title=folder_name(path), markup=False)
            return
        if self.watches.get(path) is watch:  # not a newer watch of the same folder
            del self.watches[path]
        error = watch.watcher.error if watch else None
        if error is not None:
            self.pane.notify(f"Watching {path} stopped: {error}", severity="error", markup=False)

    def set_watching(self, path: str, enabled: bool) -> None:
        """The per-folder toggle (UI thread): persist it in a worker, then apply it."""

        def save() -> None:
            self.persist_watching(path, enabled)
            self._later(self.apply_watching, path, enabled)

        self._worker(save, "watched-io")

    def persist_watching(self, path: str, enabled: bool) -> None:
        """Write the toggle to watched.json (blocking: call it from a worker)."""
        from magray_tui.ingest import add_watched, set_watch_enabled

        if enabled:
            add_watched(self.settings, [path])
        else:
            set_watch_enabled(self.settings, path, False)

    def apply_watching(self, path: str, enabled: bool) -> None:
        if enabled:
            self.start(path)
        else:
            self.stop(path)

    # ---- the Watched folders screen ------------------------------------------------------
    def watched_rows(self) -> list[WatchedRow]:
        """For the Watched folders screen (runs in its worker): folders and their counts."""
        from magray_tui.ingest import load_watched
        from magray_tui.memory.sources import file_summary

        memory = self.pane.memory
        rows = []
        for folder in load_watched(self.settings):
            files = file_summary(memory, under=folder.path) if memory else {}
            watch = self.watches.get(folder.path)
            watching = watch is not None and not watch.watcher.stopped
            rows.append(
                WatchedRow(
                    folder.path,
                    folder.enabled,
                    folder.exists,
                    watching,
                    len(files),
                    sum(files.values()),
                )
            )
        return rows

    def forget_watched(self, path: str) -> None:
        """Drop a folder from the list (its chunks stay); runs in the screen's worker."""
        from magray_tui.ingest import remove_watched

        remove_watched(self.settings, [path])

    def add_folder(self) -> None:
        self.ingest.add_folder()

    def open_screen(self) -> None:
        if self.pane.memory is not None:
            self.pane.app.push_screen(WatchedFolders(self))
