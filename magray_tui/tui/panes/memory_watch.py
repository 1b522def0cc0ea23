"""Watched folders in the memory browser: one `Watcher` (watchfiles) per enabled folder,
each in its own thread worker; the per-folder toggle persisted in watched.json; a toast
for each batch that changed something. Resumed when the store opens."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.panes.memory_ingest_state import IngestJob, Watch, folder_name
from magray_tui.tui.screens.watched_folders import WatchedFolders, WatchedRow

if TYPE_CHECKING:
    from magray_tui.ingest import IngestReport
    from magray_tui.tui.panes.memory_browser import MemoryBrowser

    _Base = MemoryBrowser
else:
    _Base = object


class MemoryWatch(_Base):
    """Mixed into `MemoryBrowser` (after `MemoryIngest`, which owns the state)."""

    class WatchReport(Message):
        def __init__(self, path: str, what: str, report: IngestReport) -> None:
            super().__init__()
            self.path, self.what, self.report = path, what, report

    class WatchNote(Message):
        def __init__(self, path: str, text: str, watch: Watch | None = None) -> None:
            super().__init__()
            self.path, self.text, self.watch = path, text, watch

    class WatchedLoaded(Message):
        def __init__(self, paths: list[str]) -> None:
            super().__init__()
            self.paths = paths

    # ---- state ---------------------------------------------------------------------------

    @property
    def watches(self) -> dict[str, Watch]:
        return self.ingest_state.watches

    @work(thread=True, exclusive=True, group="watched-io", exit_on_error=False)
    def resume_watching(self) -> None:
        """At start-up: watch again the folders watched.json has switched on."""
        from magray_tui.ingest import load_watched

        folders = load_watched(self.env.settings)
        self.post_message(self.WatchedLoaded([f.path for f in folders if f.enabled]))

    def on_memory_watch_watched_loaded(self, message: WatchedLoaded) -> None:
        for path in message.paths:
            self.start_watch(path)

    def start_watch(self, path: str) -> None:
        """Start watching `path` (UI thread). A missing folder is reported, not watched."""
        running = self.watches.get(path)
        if (running is not None and not running.watcher.stopped) or not self.can_ingest():
            return
        if not os.path.isdir(path):
            self.notify(
                f"Not watching {path}: the folder is missing.", severity="warning", markup=False
            )
            return
        from magray_tui.ingest import IngestOptions, Watcher

        reporter = IngestJob(
            self.env.jobs,
            f"syncing {folder_name(path)}",
            transient=True,
            on_written=lambda: self.post_message(self.MemoryChanged()),
        )
        watcher = Watcher(
            self.memory,
            [path],
            IngestOptions(),
            on_report=lambda what, report: self.post_message(self.WatchReport(path, what, report)),
            on_message=lambda text: self.post_message(self.WatchNote(path, text)),
            progress=reporter,
        )
        watch = self.watches[path] = Watch(watcher, reporter)
        self.run_watch(path, watch)

    @work(thread=True, group="watch", exit_on_error=False, description="watch a folder")
    def run_watch(self, path: str, watch: Watch) -> None:
        try:
            run_low_priority(watch.watcher.run, "magray-watch")
        finally:
            watch.reporter.finish()
            watch.done.set()
            self.post_message(self.WatchNote(path, "", watch))  # "" = it stopped

    def stop_watch(self, path: str) -> None:
        watch = self.watches.get(path)
        if watch is not None:
            watch.watcher.stop()

    def on_memory_watch_watch_report(self, message: WatchReport) -> None:
        report = message.report
        if not (report.wrote or report.problems or report.files_removed):
            return  # a batch that changed nothing (e.g. an editor's temp file) stays quiet
        lines = [f"{folder_name(message.path)}: {report.summary()}", *report.skip_lines()[:2]]
        self.notify("\n".join(lines), title="Watched folder", markup=False)
        self._store_changed()

    def on_memory_watch_watch_note(self, message: WatchNote) -> None:
        if message.text:
            self.notify(message.text, title=folder_name(message.path), markup=False)
            return
        watch = message.watch
        if self.watches.get(message.path) is watch:  # not a newer watch of the same folder
            del self.watches[message.path]
        error = watch.watcher.error if watch else None
        if error is not None:
            text = f"Watching {message.path} stopped: {error}"
            self.notify(text, severity="error", markup=False)

    def set_watching(self, path: str, enabled: bool) -> None:
        """The per-folder toggle (UI thread): persist it in a worker, then apply it."""
        self.save_watching(path, enabled)

    @work(thread=True, group="watched-io", exit_on_error=False)
    def save_watching(self, path: str, enabled: bool) -> None:
        self.persist_watching(path, enabled)
        self.app.call_from_thread(self.apply_watching, path, enabled)

    def persist_watching(self, path: str, enabled: bool) -> None:
        """Write the toggle to watched.json (blocking: call it from a worker)."""
        from magray_tui.ingest import add_watched, set_watch_enabled

        if enabled:
            add_watched(self.env.settings, [path])
        else:
            set_watch_enabled(self.env.settings, path, False)

    def apply_watching(self, path: str, enabled: bool) -> None:
        if enabled:
            self.start_watch(path)
        else:
            self.stop_watch(path)

    def watched_rows(self) -> list[WatchedRow]:
        """For the Watched folders screen (runs in its worker): folders and their counts."""
        from magray_tui.ingest import load_watched
        from magray_tui.memory.sources import file_summary

        rows = []
        for folder in load_watched(self.env.settings):
            files = file_summary(self.memory, under=folder.path) if self.memory else {}
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

        remove_watched(self.env.settings, [path])

    def action_watched_folders(self) -> None:
        if self.memory is not None:
            self.app.push_screen(WatchedFolders(self))
