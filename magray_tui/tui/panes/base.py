"""What every pane is: a widget with an id, a title, a help text and a hook for services.

A pane is added by writing its module and listing its class in `registry.PANES`; the app
builds tabs, number keys, palette entries and F1 help from these attributes alone.
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

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    """

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(id=f"pane-{self.PANE_ID}")
        self.env = env
        self.backend: Backend | None = None

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
