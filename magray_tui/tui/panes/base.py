"""What every pane is: a widget with an id, a title, a help text and a hook for services.

A pane is added by writing its module and listing its class in `registry.PANES`; the app
builds tabs, number keys, palette entries and F1 help from these attributes alone.

What panes share lives here too, instead of a copy in each: the notice shown while the
services open and when they failed (`LOADING_NOTICE`, `notice()`, `show_ready()`,
`show_failed()`) and the report of a failed worker (`WORKER_NAMES`, `worker_failed`). Work
that waits until the typing stops: `tui/debounce.py`, `widgets/settling_input.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from magray_tui.tui.errors import report_failure
from magray_tui.tui.keymap import key_display

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.tui.backend import Backend
    from magray_tui.tui.jobs import JobRegistry


@dataclass(frozen=True)
class HelpKey:
    key: str  # as displayed, remaps applied
    description: str
    binding_id: str


@dataclass(frozen=True)
class HelpInfo:
    title: str
    summary: str
    keys: tuple[HelpKey, ...]
    # A slow one-line status (e.g. the active promotion policy), run in a worker by F1.
    status: Callable[[], str] | None = None


class HelpProvider(Protocol):
    """Anything F1 can explain: it lists its keys, with the user's remaps applied."""

    def help_info(self, keymap: dict[str, str]) -> HelpInfo: ...


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    callback: Callable[[], Any]


@dataclass
class PaneEnv:
    """What the app lends every pane: settings, the job registry and the clock."""

    settings: Settings
    jobs: JobRegistry
    clock: Callable[[], datetime]


class Pane(Widget):
    PANE_ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    SUMMARY: ClassVar[str] = ""
    # Other classes whose bindings this pane brings (its modal screens): their ids are
    # valid in the user's [keys] table.
    KEYMAP_EXTRA: ClassVar[tuple[type, ...]] = ()
    # Shown until the services are open, in place of the container of class "pane-main";
    # "" for a pane that shows itself at once.
    LOADING_NOTICE: ClassVar[str] = ""
    # What each of the pane's worker groups does, for the toast when one fails.
    WORKER_NAMES: ClassVar[dict[str, str]] = {}
    WORKER_DEFAULT: ClassVar[str] = "A background job"

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    Pane .pane-notice { display: none; padding: 1 2; color: $text-muted; }
    Pane.-loading .pane-notice, Pane.-failed .pane-notice { display: block; }
    Pane.-failed .pane-notice { color: $error; }
    Pane.-loading .pane-main, Pane.-failed .pane-main { display: none; }
    """

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(id=f"pane-{self.PANE_ID}")
        self.env = env
        self.backend: Backend | None = None
        if self.LOADING_NOTICE:
            self.add_class("-loading")  # before mount: toggling later restyles the subtree

    # ---- loading / failed ----------------------------------------------------------------
    def notice(self) -> Static:
        """The loading / failed notice, for `compose` (id `<pane>-notice`)."""
        return Static(
            self.LOADING_NOTICE, id=f"{self.PANE_ID}-notice", classes="pane-notice", markup=False
        )

    def show_ready(self) -> None:
        self.set_class(False, "-loading")

    def show_failed(self, what: str, message: str) -> None:
        """`what` ("The memory store") could not be opened: say why, hide the rest."""
        self.query_one(f"#{self.PANE_ID}-notice", Static).update(
            f"{what} could not be opened.\n\n{message}\n\n"
            f"Details are in the log: {self.env.settings.paths.log_file}"
        )
        self.set_class(True, "-failed")

    # ---- failed workers ------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        worker = event.worker
        group, error = worker.group or "", worker.error
        if error is None or self.worker_error_handled(group, error):
            return
        what = self.WORKER_NAMES.get(group, self.WORKER_DEFAULT)
        message = report_failure(self, what, error, self.env.settings.paths.log_file)
        self.worker_failed(group, message)

    def worker_error_handled(self, group: str, error: BaseException) -> bool:
        """Handle an expected error of worker `group` here (True) instead of the toast."""
        return False

    def worker_failed(self, group: str, message: str) -> None:
        """After the failure toast: e.g. show `message` where the result would have been."""

    def attach_backend(self, backend: Backend) -> None:
        """The services are open (called on the UI thread)."""
        self.backend = backend

    def backend_failed(self, message: str) -> None:
        """The services could not be opened; `message` says why."""

    def data_may_have_changed(self) -> None:
        """Something outside this pane may have written (a chat turn, a background job,
        another process), or the pane is being shown: reload if what it shows is stale.
        Called on the UI thread; a pane checks cheaply (a revision) in a worker."""

    def focus_default(self) -> None:
        """Put the focus where a user of this pane starts."""
        self.focus_now(self)

    def focus_now(self, widget: Widget) -> None:
        """Focus `widget` at once. (`Widget.focus` waits a turn of the message loop, and
        keys read in between would still go to the old focus.)"""
        if widget.is_attached and widget.focusable:
            widget.screen.set_focus(widget)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Commands this pane offers in the palette right now (only valid ones)."""
        return ()

    def help_info(self, keymap: dict[str, str]) -> HelpInfo:
        keys: list[HelpKey] = []
        seen: set[str] = set()
        for node in [self, *self.query("*")]:
            for binding in getattr(type(node), "BINDINGS", []):
                if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                    seen.add(binding.id)
                    shown = key_display(self.app, binding, keymap)
                    keys.append(HelpKey(shown, binding.description, binding.id))
        return HelpInfo(self.TITLE, self.SUMMARY, tuple(keys))


class PlannedPane(Pane):
    """A pane whose feature is not built yet: it says what it will hold, and no more."""

    PLANNED: ClassVar[str] = ""
    can_focus = True

    DEFAULT_CSS = """
    PlannedPane > VerticalScroll { padding: 1 2; }
    PlannedPane .planned-title { text-style: bold; color: $primary; }
    PlannedPane .planned-state { color: $warning; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.TITLE, classes="planned-title", markup=False)
            yield Static(self.SUMMARY, markup=False)
            yield Static(self.PLANNED, markup=False)
            yield Static("Not built yet.", classes="planned-state", markup=False)
