"""Workspace folders in the memory browser: "Add folder" (one ingest, cancellable, with
progress and a toast that sums it up), the file location of ingested chunks, and the
keys and palette commands of ingesting and watching (watching itself: `memory_watch`).

The TUI calls the same `magray_tui.ingest` code as `magray ingest`: `Ingestor.ingest`
for a one-off ingest, `Watcher.run` for watching, `watched.json` for what is watched.
Nothing here blocks the UI thread: the walk, the embedding and the file I/O all run in
workers, which report through the job registry (status bar) and posted messages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding
from textual.message import Message

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.panes.base import PaletteCommand
from magray_tui.tui.panes.memory_ingest_state import IngestJob, folder_name
from magray_tui.tui.screens.ingest_folder import AddFolderScreen, FolderRequest

if TYPE_CHECKING:
    from magray_tui.ingest import IngestReport
    from magray_tui.tui.panes.memory_browser import MemoryBrowser

    _Base = MemoryBrowser
else:
    _Base = object

INGEST_BINDINGS = [
    Binding("A", "add_folder", "Add folder", show=False, id="memory.add_folder"),
    Binding("w", "watched_folders", "Watched folders", show=False, id="memory.watched"),
    Binding("x", "cancel_ingest", "Cancel ingest", id="memory.cancel_ingest"),
    Binding("o", "copy_location", "Copy path:line", show=False, id="memory.copy_location"),
]
STOP_WAIT_S = 5.0  # at exit: how long to wait for a worker to reach a clean stop


class MemoryIngest(_Base):
    """Mixed into `MemoryBrowser`, which lists `INGEST_BINDINGS`."""

    class IngestDone(Message):
        def __init__(self, path: str, report: IngestReport) -> None:
            super().__init__()
            self.path, self.report = path, report

    # ---- state ---------------------------------------------------------------------------
    @property
    def ingesting(self) -> bool:
        state = self.ingest_state
        return state.starting or state.ingestor is not None

    def can_ingest(self) -> bool:
        # A TUI that is a client of another magray leaves ingesting and watching to the
        # process hosting the home (`magray ingest` beside it runs there too).
        memory = self.memory
        return memory is not None and not memory.read_only and not getattr(memory, "remote", False)

    # ---- add folder ----------------------------------------------------------------------
    def action_add_folder(self) -> None:
        if not self.can_ingest():
            return

        def chosen(request: FolderRequest | None) -> None:
            if request is not None:
                self.ingest_folder(request)

        self.app.push_screen(AddFolderScreen(), chosen)

    def ingest_folder(self, request: FolderRequest) -> None:
        if request.watch:
            self.set_watching(request.path, True)  # the watcher's first sync ingests it
            self.notify(f"Watching {request.path}: ingesting it now.", markup=False)
        elif self.ingesting:
            self.notify(
                "An ingest is already running: x cancels it.", severity="warning", markup=False
            )
        else:
            self.ingest_state.starting = True
            self.run_ingest(request.path)
            self.refresh_keys()

    @work(thread=True, group="ingest", exit_on_error=False, description="ingest a folder")
    def run_ingest(self, path: str) -> None:
        from magray_tui.ingest import IngestOptions, Ingestor

        state = self.ingest_state
        reporter = IngestJob(
            self.env.jobs,
            f"ingesting {folder_name(path)}",
            on_written=lambda: self.post_message(self.MemoryChanged()),
        )
        ingestor = Ingestor(self.memory, IngestOptions(), progress=reporter)
        done = threading.Event()
        state.ingestor, state.done = ingestor, done
        try:
            report = run_low_priority(lambda: ingestor.ingest([path]), "magray-ingest")
        finally:
            reporter.finish()
            state.ingestor, state.starting = None, False
            done.set()
        self.post_message(self.IngestDone(path, report))

    def on_memory_ingest_ingest_done(self, message: IngestDone) -> None:
        report = message.report
        name = folder_name(message.path)
        if report.cancelled:
            text = f"Ingest of {name} cancelled: what was stored stays; add it again to resume."
            self.notify(text, severity="warning", markup=False, timeout=8)
        else:
            lines = [f"Ingested {name}: {report.summary()}", *report.skip_lines()[:3]]
            self.notify("\n".join(lines), title="Add folder", markup=False, timeout=10)
        self._store_changed()
        self.refresh_keys()

    def action_cancel_ingest(self) -> None:
        ingestor = self.ingest_state.ingestor
        if ingestor is not None:
            ingestor.cancel()
            self.notify("Cancelling the ingest (at the next batch)…", markup=False)

    def _store_changed(self) -> None:
        selected = self.table.selected if self.workspace_ready else None
        self.refresh_results(keep=selected.record.id if selected else None)
        self.post_message(self.MemoryChanged())

    # ---- watching ------------------------------------------------------------------------

    def stop_ingest_work(self) -> None:
        """At exit: cancel the ingest and stop the watchers, and wait (briefly) for them
        to stop writing before the services close."""
        state = self.ingest_state
        if state.ingestor is not None:
            state.ingestor.cancel()
        watches = list(self.watches.values())
        for watch in watches:
            watch.watcher.stop(timeout=0)
        waits = [w.done for w in watches] + ([state.done] if state.done else [])
        for done in waits:
            done.wait(STOP_WAIT_S)

    # ---- file locations ------------------------------------------------------------------
    def action_copy_location(self) -> None:
        row = self.table.selected
        location = line_location(row.record) if row else None
        if location:
            self.app.copy_to_clipboard(location)
            self.notify(f"Copied {location}", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """This mixin's keys (None: greyed out, False: hidden); the rest go up the chain."""
        if action == "add_folder":
            return self.can_ingest() or None
        if action == "watched_folders":
            return self.memory is not None or None
        if action == "cancel_ingest":
            return self.ingesting
        if action == "copy_location":
            row = self.table.selected if self.workspace_ready else None
            return (row is not None and line_location(row.record) is not None) or None
        return super().check_action(action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        if self.memory is None or not self.workspace_ready:
            return
        if self.ingesting:
            yield PaletteCommand(
                "Cancel ingest",
                "Stop the running ingest (what is stored stays)",
                self.action_cancel_ingest,
            )
        if self.can_ingest():
            yield PaletteCommand(
                "Add folder",
                "Ingest a folder into Assets (and optionally watch it)",
                self.action_add_folder,
            )
        yield PaletteCommand(
            "Watched folders",
            "List watched folders; switch watching on or off",
            self.action_watched_folders,
        )


def line_location(record: Any) -> str | None:
    """`path:start` of a chunk ingested from a file (what an editor opens), else None."""
    meta = record.metadata if isinstance(record.metadata, dict) else {}
    if record.source != "file" or not meta.get("path"):
        return None
    start = meta.get("start_line")
    return f"{meta['path']}:{start}" if start is not None else str(meta["path"])
