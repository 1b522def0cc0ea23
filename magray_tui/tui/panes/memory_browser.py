"""The memory browser: search-as-you-type over the layered memory, with a detail panel.

Curation keys (forget, restore, edit, add, copy) and maintenance live in `memory_actions`;
promote, demote, pin, importance and undo in `memory_lifecycle`; the filter pickers in
`memory_filters`. "Add folder", watched folders and file locations are a controller the
pane owns, `self.ingest` (`memory_ingest`, `memory_watch`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import get_current_worker

from magray_tui.tui.debounce import Debounce
from magray_tui.tui.key_routing import LeavingInput
from magray_tui.tui.panes.base import PaletteCommand, Pane, PaneEnv
from magray_tui.tui.panes.memory_actions import MemoryActions
from magray_tui.tui.panes.memory_filters import MemoryFilters
from magray_tui.tui.panes.memory_ingest import (
    INGEST_ACTIONS,
    INGEST_BINDINGS,
    IngestController,
    line_location,
)
from magray_tui.tui.panes.memory_ingest_state import RunOnPane, Watch
from magray_tui.tui.panes.memory_lifecycle import (
    LIFECYCLE_ACTIONS,
    LIFECYCLE_BINDINGS,
    MemoryLifecycle,
)
from magray_tui.tui.panes.memory_queries import QueryRequest, fetch_rows, summary
from magray_tui.tui.screens.ingest_folder import AddFolderScreen, PathInput
from magray_tui.tui.screens.layer_picker import LayerPicker
from magray_tui.tui.screens.memory_editor import MemoryEditor
from magray_tui.tui.screens.promotion_preview import PromotionPreview
from magray_tui.tui.screens.watched_folders import WatchedFolders
from magray_tui.tui.widgets.record_detail import RecordDetail
from magray_tui.tui.widgets.record_table import RecordTable, ResultRow

if TYPE_CHECKING:
    from textual.timer import Timer

    from magray_tui.memory import MemoryService, Record
    from magray_tui.tui.backend import Backend

RELOAD_EVERY_S = 2.0  # changes written elsewhere reload what is shown at most this often
DEBOUNCE_S = 0.06  # a pause between keys of a fast typist is ~60 ms or more
AUTHOR_PICKER_WIDTH = 140  # narrower, the search box would shrink under ~30 cells
AGE_TICK_S = 30.0  # the age column is redrawn this often, without a new query


class MemoryBrowser(MemoryFilters, MemoryLifecycle, MemoryActions, Pane):
    PANE_ID = "memory"
    TITLE = "Memory"
    SUMMARY = (
        "Search, read and curate the layered memory (Interact, Insights, Assets). "
        "Type to search (hybrid: vectors + BM25); an empty query lists recent memories."
    )
    KEYMAP_EXTRA = (
        MemoryEditor,
        LayerPicker,
        PromotionPreview,
        AddFolderScreen,
        PathInput,
        WatchedFolders,
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", id="memory.search"),
        Binding("f", "forget", "Forget", id="memory.forget"),
        Binding("u", "undo_forget", "Undo forget", id="memory.undo"),
        Binding("t", "toggle_tombstones", "Tombstones", id="memory.tombstones"),
        Binding("r", "restore", "Restore", id="memory.restore"),
        Binding("e", "edit", "Edit", id="memory.edit"),
        Binding("a", "add", "Add", id="memory.add"),
        Binding("c", "copy", "Copy", show=False, id="memory.copy"),
        *LIFECYCLE_BINDINGS,
        *INGEST_BINDINGS,
        Binding("l", "cycle('layer')", "Next layer filter", show=False, id="memory.layer"),
        Binding("k", "cycle('kind')", "Next kind filter", show=False, id="memory.kind"),
        Binding("g", "cycle('tag')", "Next tag filter", show=False, id="memory.tag"),
        Binding("h", "cycle('author')", "Next author filter", show=False, id="memory.author"),
        Binding("m", "cycle('mode')", "Next search mode", show=False, id="memory.mode"),
        Binding("s", "cycle('sort')", "Next sort order", show=False, id="memory.sort"),
        Binding("down,escape", "focus_results", "To results", show=False, id="memory.results"),
    ]
    LOADING_NOTICE = "Opening the memory store (loading the embedding model)…"
    WORKER_NAMES: ClassVar[dict[str, str]] = {
        "memory-query": "Memory search",
        "memory-detail": "Loading history",
        "memory-facets": "Loading kinds and tags",
        "memory-revision": "Checking for changes",
        "ingest": "Ingest",
        "watch": "Watching a folder",
        "watched-io": "Watched folders",
    }
    WORKER_DEFAULT = "Memory change"
    SCOPED_CSS = False  # the narrow layout keys off the screen's breakpoint class
    DEFAULT_CSS = """
    MemoryBrowser #memory-toolbar { height: 3; }
    MemoryBrowser #memory-query { width: 1fr; }
    MemoryBrowser #memory-toolbar Select { width: 18; }
    MemoryBrowser #memory-toolbar #memory-kind, MemoryBrowser #memory-toolbar #memory-tag,
    MemoryBrowser #memory-toolbar #memory-author {
        width: 17;
    }
    MemoryBrowser #memory-toolbar #memory-author { display: none; }
    MemoryBrowser.-roomy #memory-toolbar #memory-author { display: block; }
    .-narrow MemoryBrowser #memory-toolbar #memory-mode,
    .-narrow MemoryBrowser #memory-toolbar #memory-sort { display: none; }
    MemoryBrowser #memory-body { height: 1fr; }
    MemoryBrowser #memory-results { width: 3fr; }
    MemoryBrowser #memory-detail { width: 2fr; }
    MemoryBrowser #memory-summary { height: 1; padding: 0 1; color: $text-muted; }
    MemoryBrowser.-tombstones #memory-summary { color: $warning; }
    .-narrow MemoryBrowser #memory-body { layout: vertical; }
    .-narrow MemoryBrowser #memory-results { width: 1fr; height: 1fr; }
    .-narrow MemoryBrowser #memory-detail { width: 1fr; height: 1fr; }
    """

    class ResultsLoaded(Message):
        def __init__(
            self, request: QueryRequest, rows: list[ResultRow], seconds: float, note: str = ""
        ) -> None:
            super().__init__()
            self.request, self.rows, self.seconds = request, rows, seconds
            self.note = note  # replaces the summary line (one record shown by id)

    class HistoryLoaded(Message):
        def __init__(
            self, record_id: str, events: list[dict[str, Any]], chain: dict[str, Any]
        ) -> None:
            super().__init__()
            self.record_id, self.events, self.chain = record_id, events, chain

    class RecordChanged(Message):
        """A write finished: `action` is forgot, restored, edited or added."""

        def __init__(self, action: str, record: Record) -> None:
            super().__init__()
            self.action, self.record = action, record

    class Reindexed(Message):
        def __init__(self, seconds: float) -> None:
            super().__init__()
            self.seconds = seconds

    class MemoryChanged(Message):
        """The store changed, so counts shown elsewhere (the header) are stale."""

    class RevisionChecked(Message):
        def __init__(self, revision: int) -> None:
            super().__init__()
            self.revision = revision

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(env)
        self.workspace_ready = False
        self.tombstones = False
        self._generation = 0
        self.shown_query: str | None = None  # the query the results on screen answer
        self._undo: list[Record] = []  # this session's forgets, for `u`
        self._changed: list[str] = []  # records changed by lifecycle keys, for `z`
        self._search_soon = Debounce(self, DEBOUNCE_S, self.refresh_results)
        self._pending_record: str | None = None  # show_record before the workspace is up
        self._linked: str | None = None  # the linked memory shown alone (show_record)
        self.ingest = IngestController(self)
        self._key_state: tuple[bool, ...] | None = None  # what the footer last showed
        self._revision: int | None = None  # the store revision last checked
        self._reloaded_at = 0.0  # when a change from elsewhere last reloaded the results
        self._reload_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self.notice()

    def on_mount(self) -> None:
        # The workspace is hidden until the store is open: build it after the first frame.
        self.call_after_refresh(self._build_workspace)
        self.app.theme_changed_signal.subscribe(self, lambda _: self._redraw_rows())
        self.set_interval(AGE_TICK_S, self.tick_ages, name="memory-ages")

    def on_resize(self) -> None:
        # The author picker only where the search box keeps room; h cycles it anyway.
        self.set_class(self.size.width >= AUTHOR_PICKER_WIDTH, "-roomy")

    def on_unmount(self) -> None:
        self.ingest.stop_all()

    async def _build_workspace(self) -> None:
        await self.mount(
            Vertical(
                Horizontal(
                    LeavingInput(
                        leave=self.action_focus_results,
                        placeholder="Search memories (/)",
                        id="memory-query",
                    ),
                    *self.filter_selects(),
                    id="memory-toolbar",
                ),
                Horizontal(
                    RecordTable(self.env.clock, id="memory-results"),
                    RecordDetail(id="memory-detail"),
                    id="memory-body",
                ),
                Static(id="memory-summary", markup=False),
                id="memory-main",
                classes="pane-main",
            )
        )
        self.workspace_ready = True
        if self.backend is not None:
            self._open_workspace()

    # ---- services ------------------------------------------------------------------------
    def attach_backend(self, backend: Backend) -> None:
        super().attach_backend(backend)
        if self.workspace_ready:
            self._open_workspace()

    def _open_workspace(self) -> None:
        self.show_ready()
        if self._pending_record is not None:
            self.show_record(self._pending_record)
        else:
            self.refresh_results()
        self.load_facets()
        self.data_may_have_changed()  # learn the revision the results answer
        if self.can_ingest():
            self.ingest.watch.resume()
        self.refresh_keys()
        focused = self.screen.focused
        shown = self.screen is self.app.screen and self.app.active_pane_id == self.PANE_ID  # type: ignore[attr-defined]
        if shown and (focused is None or self not in focused.ancestors_with_self):
            self.focus_default()

    def backend_failed(self, message: str) -> None:
        self.show_failed("The memory store", message)

    def focus_default(self) -> None:
        if self.workspace_ready and self.backend is not None:
            self.focus_now(self.table)
        else:
            self.focus_now(self)

    @property
    def table(self) -> RecordTable:
        return self.query_one(RecordTable)

    @property
    def memory(self) -> MemoryService | None:
        return self.backend.memory if self.backend else None

    # ---- queries -------------------------------------------------------------------------
    def refresh_results(self, keep: str | None = None) -> None:
        if self.memory is None or not self.workspace_ready:
            return
        self._linked = None
        self._generation += 1
        request = QueryRequest(
            self._generation,
            self.query_one("#memory-query", Input).value,
            **self.filter_values(),
            tombstones=self.tombstones,
            keep=keep,
        )
        self.run_query(request)

    @work(thread=True, exclusive=True, group="memory-query", exit_on_error=False)
    def run_query(self, request: QueryRequest) -> None:
        started = time.perf_counter()
        with self.env.jobs.track("searching" if request.searching else "listing"):
            rows = fetch_rows(self.memory, request)
        if not get_current_worker().is_cancelled:
            self.post_message(self.ResultsLoaded(request, rows, time.perf_counter() - started))

    def on_memory_browser_results_loaded(self, message: ResultsLoaded) -> None:
        if message.request.generation != self._generation:
            return  # a newer query is on its way: never show stale results
        self.table.show_rows(message.rows, keep=message.request.keep)
        self.shown_query = message.request.query
        text = message.note or summary(message.request, len(message.rows), message.seconds)
        self.query_one("#memory-summary", Static).update(text)
        self.show_selected()

    def show_record(self, record_id: str) -> None:
        """Show the one memory `record_id` (other panes link to memories: a task's linked
        memory opens here). Searching or a filter goes back to browsing."""
        if self.memory is None or not self.workspace_ready:
            self._pending_record = record_id
            return
        self._pending_record = None
        self._linked = record_id
        self._generation += 1
        self.load_record(QueryRequest(self._generation, keep=record_id))

    @work(thread=True, exclusive=True, group="memory-query", exit_on_error=False)
    def load_record(self, request: QueryRequest) -> None:
        record = self.memory.get(request.keep, count_access=False)
        note = f"Memory {record.id} (linked) · / to search all memories"
        self.post_message(self.ResultsLoaded(request, [ResultRow(record)], 0.0, note))

    @on(Input.Changed, "#memory-query")
    def schedule_search(self) -> None:
        self._search_soon.schedule()

    @on(Input.Submitted, "#memory-query")
    def search_now(self) -> None:
        self._search_soon.now()
        self.action_focus_results()

    @on(Select.Changed)
    def filters_changed(self) -> None:
        self.refresh_results()

    def data_may_have_changed(self) -> None:
        """Memories may have changed elsewhere (another pane, another magray process, a
        tool): check the store revision in a worker; a moved one reloads what is shown."""
        if self.memory is not None and self.workspace_ready:
            self.check_revision()

    @work(thread=True, exclusive=True, group="memory-revision", exit_on_error=False)
    def check_revision(self) -> None:
        revision = self.memory.stats()["indexes"]["store_rev"]
        self.post_message(self.RevisionChecked(revision))

    def on_memory_browser_revision_checked(self, message: RevisionChecked) -> None:
        known, self._revision = self._revision, message.revision
        if known is None or known == message.revision or not self.query(RecordTable):
            return  # the first check sets the baseline; an unchanged store needs no query
        # Written elsewhere (the chat, a distillation, a tool, another magray process). A
        # burst of writes (an ingest's batches, several a second on an idle machine) reloads
        # at most every RELOAD_EVERY_S: each reload redraws the table, the detail and its
        # history on the UI thread, between the keys of someone typing.
        if self._reload_timer is None:
            wait = self._reloaded_at + RELOAD_EVERY_S - time.monotonic()
            if wait > 0:
                self._reload_timer = self.set_timer(wait, self._reload_changed)
            else:
                self._reload_changed()

    def _reload_changed(self) -> None:
        self._reload_timer = None
        self._reloaded_at = time.monotonic()
        if self._linked is not None:
            self.show_record(self._linked)
        else:
            self.reload_keeping_selection()
        self.load_facets()

    def on_memory_browser_memory_changed(self) -> None:
        # New kinds or tags may have come with the change (this message bubbles on to
        # the app, which recounts the header).
        if self.memory is not None:
            self.load_facets()

    def tick_ages(self) -> None:
        if self.workspace_ready:
            self.table.refresh_ages()

    def refresh_keys(self) -> None:
        """`refresh_bindings`, only when a key's state can have changed: the footer
        rebuilds all its keys on every call (mounting widgets, ~10-20 ms), which every
        cursor move and every search result would otherwise pay."""
        row = self.table.selected if self.workspace_ready else None
        state = (
            self.workspace_ready,
            self.memory is None,
            self.backend is not None and self.backend.read_only,
            row is None,
            row is not None and line_location(row.record) is None,
            self.tombstones,
            self.ingesting,
            bool(self._undo),
        )
        if state != self._key_state:
            self._key_state = state
            self.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def show_selected(self) -> None:
        row = self.table.selected
        self.query_one(RecordDetail).show_row(row)
        self.refresh_keys()
        if row is not None and self.memory is not None:
            self.load_history(row.record.id)

    @work(thread=True, exclusive=True, group="memory-detail", exit_on_error=False)
    def load_history(self, record_id: str) -> None:
        events = self.memory.history(record_id)
        chain = self.memory.chain(record_id)  # newer and older versions of a changed fact
        if not get_current_worker().is_cancelled:
            self.post_message(self.HistoryLoaded(record_id, events, chain))

    def on_memory_browser_history_loaded(self, message: HistoryLoaded) -> None:
        row = self.table.selected
        if row is not None and row.record.id == message.record_id:
            self.query_one(RecordDetail).show_history(message.events, message.chain)

    def _redraw_rows(self) -> None:
        if self.workspace_ready:
            selected = self.table.selected
            keep = selected.record.id if selected else None
            self.table.show_rows(list(self.table.rows_by_id.values()), keep=keep)

    def worker_failed(self, group: str, message: str) -> None:
        self.refresh_keys()  # e.g. a failed ingest no longer offers "Cancel ingest"
        if group == "memory-query":
            self.query_one("#memory-summary", Static).update(message)

    # ---- folders (the ingest controller) -------------------------------------------------
    @property
    def ingesting(self) -> bool:
        return self.ingest.ingesting

    @property
    def watches(self) -> dict[str, Watch]:
        return self.ingest.watch.watches

    def can_ingest(self) -> bool:
        return self.ingest.can_ingest()

    def action_add_folder(self) -> None:
        self.ingest.add_folder()

    def action_watched_folders(self) -> None:
        self.ingest.watch.open_screen()

    def action_cancel_ingest(self) -> None:
        self.ingest.cancel()

    def action_copy_location(self) -> None:
        self.ingest.copy_location()

    @on(RunOnPane)
    def _run_on_pane(self, message: RunOnPane) -> None:
        message.fn()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Whose keys are whose, said here (not by the order of the base classes): False
        hides a key that means nothing here; None shows it greyed out."""
        if action in INGEST_ACTIONS:
            return self.ingest.check(action)
        if action in LIFECYCLE_ACTIONS:
            return MemoryLifecycle.check_action(self, action, parameters)
        return MemoryActions.check_action(self, action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        yield from self.ingest.palette_commands()

    # ---- navigation ----------------------------------------------------------------------
    def action_focus_search(self) -> None:
        # At once: the keys typed right after `/` must find the search box focused.
        self.focus_now(self.query_one("#memory-query", Input))

    def action_focus_results(self) -> None:
        self.focus_now(self.table)
