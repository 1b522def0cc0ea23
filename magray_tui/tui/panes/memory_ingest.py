"""Workspace folders in the memory browser: "Add folder" (one ingest, cancellable, with
progress and a toast that sums it up), the file location of ingested chunks, and the
keys and palette commands of ingesting and watching (watching itself: `memory_watch`).

A controller the Memory pane owns (`pane.ingest`), not a mixin: its state is its own, its
workers run on the pane (the pane's `WORKER_NAMES` reports their failures), and what they
learn comes back to the UI thread as a `RunOnPane` message.

The TUI calls the same `magray_tui.ingest` code as `magray ingest`: `Ingestor.ingest`
for a one-off ingest, `Watcher.run` for watching, `watched.json` for what is watched.
Nothing here blocks the UI thread: the walk, the embedding and the file I/O all run in
workers, which report through the job registry (status bar) and posted messages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.panes.base import PaletteCommand
from magray_tui.tui.panes.memory_ingest_state import IngestJob, IngestState, RunOnPane, folder_name
from magray_tui.tui.panes.memory_watch import WatchController
from magray_tui.tui.screens.ingest_folder import AddFolderScreen, FolderRequest

if TYPE_CHECKING:
    from magray_tui.ingest import IngestReport
    from magray_tui.tui.panes.memory_browser import MemoryBrowser

INGEST_BINDINGS = [
    Binding("A", "add_folder", "Add folder", show=False, id="memory.add_folder"),
    Binding("w", "watched_folders", "Watched folders", show=False, id="memory.watched"),
    Binding("x", "cancel_ingest", "Cancel ingest", id="memory.cancel_ingest"),
    Binding("o", "copy_location", "Copy path:line", show=False, id="memory.copy_location"),
]
INGEST_ACTIONS = frozenset({"add_folder", "watched_folders", "cancel_ingest", "copy_location"})
STOP_WAIT_S = 5.0  # at exit: how long to wait for a worker to reach a clean stop


class IngestController:
    """Add folder, cancel, copy `path:line`, and the watched folders (`self.watch`)."""

    def __init__(self, pane: MemoryBrowser) -> None:
        self.pane = pane
        self.state = IngestState()
        self.watch = WatchController(pane, self)

    # ---- state ---------------------------------------------------------------------------
    @property
    def ingesting(self) -> bool:
        return self.state.starting or self.state.ingestor is not None

    def can_ingest(self) -> bool:
        # A TUI that is a client of another magray leaves ingesting and watching to the
        # process hosting the home (`magray ingest` beside it runs there too).
        memory = self.pane.memory
        return memory is not None and not memory.read_only and not getattr(memory, "remote", False)

    # ---- add folder ----------------------------------------------------------------------
    def add_folder(self) -> None:
        if not self.can_ingest():
            return

        def chosen(request: FolderRequest | None) -> None:
            if request is not None:
                self.ingest_folder(request)

        self.pane.app.push_screen(AddFolderScreen(), chosen)

    def ingest_folder(self, request: FolderRequest) -> None:
        pane = self.pane
        if request.watch:
            self.watch.set_watching(request.path, True)  # the watcher's first sync ingests it
            pane.notify(f"Watching {request.path}: ingesting it now.", markup=False)
        elif self.ingesting:
            pane.notify(
                "An ingest is already running: x cancels it.", severity="warning", markup=False
            )
        else:
            self.state.starting = True
            pane.run_worker(
                lambda: self._run(request.path),
                thread=True,
                group="ingest",
                exit_on_error=False,
                description="ingest a folder",
            )
            pane.refresh_keys()

    def _run(self, path: str) -> None:
        """In a worker: one ingest of `path`, at a lower CPU priority than the UI."""
        from magray_tui.ingest import IngestOptions, Ingestor

        pane, state = self.pane, self.state
        reporter = IngestJob(
            pane.env.jobs,
            f"ingesting {folder_name(path)}",
            on_written=lambda: pane.post_message(pane.MemoryChanged()),
        )
        ingestor = Ingestor(pane.memory, IngestOptions(), progress=reporter)
        done = threading.Event()
        state.ingestor, state.done = ingestor, done
        try:
            report = run_low_priority(lambda: ingestor.ingest([path]), "magray-ingest")
        finally:
            reporter.finish()
            state.ingestor, state.starting = None, False
            done.set()
        pane.post_message(RunOnPane(lambda: self._done(path, report)))

    def _done(self, path: str, report: IngestReport) -> None:
        name = folder_name(path)
        if report.cancelled:
            text = f"Ingest of {name} cancelled: what was stored stays; add it again to resume."
            self.pane.notify(text, severity="warning", markup=False, timeout=8)
        else:
            lines = [f"Ingested {name}: {report.summary()}", *report.skip_lines()[:3]]
            self.pane.notify("\n".join(lines), title="Add folder", markup=False, timeout=10)
        self.store_changed()
        self.pane.refresh_keys()

    def cancel(self) -> None:
        ingestor = self.state.ingestor
        if ingestor is not None:
            ingestor.cancel()
            self.pane.notify("Cancelling the ingest (at the next batch)…", markup=False)

    def store_changed(self) -> None:
        pane = self.pane
        selected = pane.table.selected if pane.workspace_ready else None
        pane.refresh_results(keep=selected.record.id if selected else None)
        pane.post_message(pane.MemoryChanged())

    def stop_all(self) -> None:
        """At exit: cancel the ingest and stop the watchers, and wait (briefly) for them
        to stop writing before the services close."""
        state = self.state
        if state.ingestor is not None:
            state.ingestor.cancel()
        watches = list(state.watches.values())
        for watch in watches:
            watch.watcher.stop(timeout=0)
        waits = [w.done for w in watches] + ([state.done] if state.done else [])
        for done in waits:
            done.wait(STOP_WAIT_S)

    # ---- file locations ------------------------------------------------------------------
    def copy_location(self) -> None:
        row = self.pane.table.selected
        location = line_location(row.record) if row else None
        if location:
            self.pane.app.copy_to_clipboard(location)
            self.pane.notify(f"Copied {location}", markup=False)

    # ---- keys and commands ---------------------------------------------------------------
    def check(self, action: str) -> bool | None:
        """The state of one of `INGEST_ACTIONS` (None: greyed out, False: hidden)."""
        pane = self.pane
        if action == "add_folder":
            return self.can_ingest() or None
        if action == "watched_folders":
            return pane.memory is not None or None
        if action == "cancel_ingest":
            return self.ingesting
        row = pane.table.selected if pane.workspace_ready else None
        return (row is not None and line_location(row.record) is not None) or None

    def palette_commands(self) -> Iterable[PaletteCommand]:
        if self.pane.memory is None or not self.pane.workspace_ready:
            return
        if self.ingesting:
            yield PaletteCommand(
                "Cancel ingest", "Stop the running ingest (what is stored stays)", self.cancel
            )
        if self.can_ingest():
            yield PaletteCommand(
                "Add folder",
                "Ingest a folder into Assets (and optionally watch it)",
                self.add_folder,
            )
        yield PaletteCommand(
            "Watched folders",
            "List watched folders; switch watching on or off",
            self.watch.open_screen,
        )


def line_location(record: Any) -> str | None:
    """`path:start` of a chunk ingested from a file (what an editor opens), else None."""
    meta = record.metadata if isinstance(record.metadata, dict) else {}
    if record.source != "file" or not meta.get("path"):
        return None
    start = meta.get("start_line")
    return f"{meta['path']}:{start}" if start is not None else str(meta["path"])
