"""The "Watched folders" screen: each folder in watched.json with its watch toggle, whether
it is being watched now, and how many files and chunks of it are in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from magray_tui.terminal_text import one_line
from magray_tui.tui.errors import report_failure

if TYPE_CHECKING:
    from magray_tui.tui.panes.memory_watch import WatchController


@dataclass(frozen=True)
class WatchedRow:
    path: str
    enabled: bool
    exists: bool
    watching: bool  # a watcher runs for it now
    files: int
    chunks: int

    @property
    def status(self) -> str:
        if not self.exists:
            return "missing"
        if self.watching:
            return "watching"
        return "starting" if self.enabled else "off"


COLUMNS = ("watch", "folder", "status", "files", "chunks")


class WatchedFolders(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,enter", "toggle", "Watch on/off", id="watched.toggle"),
        Binding("a", "add", "Add folder", id="watched.add"),
        Binding("delete", "forget", "Remove from list", id="watched.remove"),
        Binding("escape", "close", "Close", id="watched.close"),
    ]
    DEFAULT_CSS = """
    WatchedFolders { align: center middle; }
    WatchedFolders > Vertical {
        width: 95%; max-width: 140; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    WatchedFolders #watched-title { text-style: bold; margin-bottom: 1; }
    WatchedFolders DataTable { height: auto; max-height: 20; }
    WatchedFolders #watched-help { color: $text-muted; margin-top: 1; }
    """

    class Loaded(Message):
        def __init__(self, rows: list[WatchedRow]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, source: WatchController) -> None:
        super().__init__()
        self.source = source
        self.rows: list[WatchedRow] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Watched folders", id="watched-title", markup=False)
            yield DataTable(cursor_type="row", id="watched-table")
            yield Static(
                "Space switches watching on or off · a adds a folder · Delete removes it "
                "from the list (its chunks stay) · Esc closes",
                id="watched-help",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        table.focus()
        self.reload()

    @work(thread=True, exclusive=True, group="watched-load", exit_on_error=False)
    def reload(self) -> None:
        self.post_message(self.Loaded(self.source.watched_rows()))

    def on_watched_folders_loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        self.rows = message.rows
        table.clear()
        for row in self.rows:
            table.add_row(
                Text("on" if row.enabled else "off", style="bold" if row.enabled else "dim"),
                Text(one_line(row.path)),
                Text(one_line(row.status), style="" if row.exists else "red"),
                Text(f"{row.files:,}", justify="right"),
                Text(f"{row.chunks:,}", justify="right"),
                key=row.path,
            )
        if not self.rows:
            table.add_row(Text("-"), Text("No watched folders yet: a adds one."), "", "", "")
        elif 0 <= keep < len(self.rows):
            table.move_cursor(row=keep)

    @property
    def selected(self) -> WatchedRow | None:
        row = self.query_one(DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def action_toggle(self) -> None:
        row = self.selected
        if row is None:
            return
        if not row.exists and not row.enabled:
            self.notify(
                f"{row.path} is missing: nothing to watch.", severity="warning", markup=False
            )
            return
        self.toggle(row.path, not row.enabled)

    @work(thread=True, group="watched-change", exit_on_error=False)
    def toggle(self, path: str, enabled: bool) -> None:
        self.source.persist_watching(path, enabled)
        self.app.call_from_thread(self.source.apply_watching, path, enabled)
        self.post_message(self.Loaded(self.source.watched_rows()))

    def action_forget(self) -> None:
        row = self.selected
        if row is not None:
            self.source.stop(row.path)
            self.forget(row.path)

    @work(thread=True, group="watched-change", exit_on_error=False)
    def forget(self, path: str) -> None:
        self.source.forget_watched(path)
        self.post_message(self.Loaded(self.source.watched_rows()))

    def action_add(self) -> None:
        self.dismiss(None)
        self.source.add_folder()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            log_file = self.source.settings.paths.log_file
            report_failure(self, "Watched folders", event.worker.error, log_file)
