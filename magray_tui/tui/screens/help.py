"""F1 help: the keys of the focused pane (remaps applied, binding ids shown) and the
keys that work everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from magray_tui.tui.backend import describe_error
from magray_tui.tui.panes.base import HelpInfo, HelpKey


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close help", id="help.close")
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 96; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 2;
    }
    HelpScreen .help-heading { text-style: bold; color: $primary; margin-top: 1; }
    HelpScreen #help-footer { color: $text-muted; margin-top: 1; }
    HelpScreen #help-pane-status { color: $text-muted; margin-top: 1; }
    """

    class StatusLoaded(Message):
        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    def __init__(self, pane: HelpInfo, everywhere: tuple[HelpKey, ...]) -> None:
        super().__init__()
        self.pane = pane
        self.everywhere = everywhere

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"{self.pane.title} — keys", classes="help-heading", markup=False)
            yield Static(self.pane.summary, markup=False)
            if self.pane.status is not None:
                yield Static("loading…", id="help-pane-status", markup=False)
            yield Static(_key_table(self.pane.keys), id="help-pane-keys")
            yield Static("Everywhere", classes="help-heading", markup=False)
            yield Static(_key_table(self.everywhere), id="help-global-keys")
            yield Static(
                'Remap keys in config.toml with a [keys] table, e.g. "memory.forget" = "x"\n'
                '(palette: "Show config file path"). Esc closes this help.',
                id="help-footer",
                markup=False,
            )

    def on_mount(self) -> None:
        if self.pane.status is not None:
            self.load_status(self.pane.status)

    @work(thread=True, exclusive=True, group="help-status", exit_on_error=False)
    def load_status(self, status: Callable[[], str]) -> None:
        self.post_message(self.StatusLoaded(status()))

    def on_help_screen_status_loaded(self, message: StatusLoaded) -> None:
        self.query_one("#help-pane-status", Static).update(message.line)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            log_file = self.app.settings.paths.log_file  # type: ignore[attr-defined]
            message = describe_error(event.worker.error, log_file)
            self.post_message(self.StatusLoaded(f"status unavailable: {message}"))


def _key_table(keys: tuple[HelpKey, ...]) -> Text:
    if not keys:
        return Text("(no keys of its own)", style="dim")
    width = max(len(k.key) for k in keys) + 2
    text = Text()
    for n, key in enumerate(keys):
        if n:
            text.append("\n")
        text.append(key.key.ljust(width), style="bold")
        text.append(key.description.ljust(22))
        text.append(f"  {key.binding_id}", style="dim")
    return text
