"""The chat sessions list: resume, rename, delete, start a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from magray_tui.terminal_text import one_line

if TYPE_CHECKING:
    from magray_tui.agent.model import ChatSession


@dataclass(frozen=True)
class SessionChoice:
    action: str  # open | rename | delete | new
    session_id: str | None = None
    name: str | None = None


class ChatSessionsScreen(ModalScreen[SessionChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="sessions.close"),
        Binding("n", "new", "New session", id="sessions.new"),
        Binding("r", "rename", "Rename", id="sessions.rename"),
        Binding("delete,x", "delete", "Delete", id="sessions.delete"),
    ]
    DEFAULT_CSS = """
    ChatSessionsScreen { align: center middle; }
    ChatSessionsScreen > Vertical {
        width: 80%; max-width: 100; height: auto; max-height: 80%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ChatSessionsScreen #sessions-title { text-style: bold; margin-bottom: 1; }
    ChatSessionsScreen OptionList { height: auto; max-height: 24; }
    ChatSessionsScreen #sessions-rename { display: none; }
    ChatSessionsScreen.-renaming #sessions-rename { display: block; }
    ChatSessionsScreen #sessions-help { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, sessions: list[ChatSession], current: str | None) -> None:
        super().__init__()
        self.sessions = sessions
        self.current = current
        self._pending_delete: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Chat sessions", id="sessions-title", markup=False)
            yield OptionList(*(self._option(s) for s in self.sessions), id="sessions-list")
            yield Input(placeholder="New name, Enter to rename", id="sessions-rename")
            yield Static(
                "Enter opens · n new · r rename · x delete (twice) · Esc closes",
                id="sessions-help",
                markup=False,
            )

    def _option(self, s: ChatSession) -> Option:
        mark = "● " if s.id == self.current else "  "
        label = Text.assemble(
            mark,
            (one_line(s.name), "bold"),
            f"  {s.message_count} messages · {s.updated_at:%Y-%m-%d %H:%M}",
        )
        return Option(label, id=s.id)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        ids = [s.id for s in self.sessions]
        if self.current in ids:
            options.highlighted = ids.index(self.current)

    @property
    def highlighted_id(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    @on(OptionList.OptionSelected)
    def opened(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(SessionChoice("open", event.option.id))

    def action_new(self) -> None:
        self.dismiss(SessionChoice("new"))

    def action_rename(self) -> None:
        if self.highlighted_id is None:
            return
        self.add_class("-renaming")
        self.query_one("#sessions-rename", Input).focus()

    @on(Input.Submitted, "#sessions-rename")
    def renamed(self, event: Input.Submitted) -> None:
        if event.value.strip() and self.highlighted_id:
            self.dismiss(SessionChoice("rename", self.highlighted_id, event.value.strip()))

    def action_delete(self) -> None:
        sid = self.highlighted_id
        if sid is None:
            return
        if self._pending_delete != sid:
            self._pending_delete = sid
            self.notify("press x again to delete this session and its messages", timeout=4)
            return
        self.dismiss(SessionChoice("delete", sid))

    def action_close(self) -> None:
        if self.has_class("-renaming"):
            self.remove_class("-renaming")
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)
