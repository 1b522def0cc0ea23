"""A yes/no modal showing exactly what will happen (a tool's argv or diff, a plan)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from magray_tui.terminal_text import for_terminal


class ConfirmAction(ModalScreen[bool]):
    """Dismisses with True (approve) or False (deny, Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Approve", id="confirm.approve"),
        Binding("n,escape", "answer(False)", "Deny", id="confirm.deny"),
    ]
    DEFAULT_CSS = """
    ConfirmAction { align: center middle; }
    ConfirmAction > Vertical {
        width: 90%; max-width: 120; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmAction #confirm-title { text-style: bold; margin-bottom: 1; }
    ConfirmAction #confirm-detail-box { height: auto; max-height: 30; background: $panel; }
    ConfirmAction #confirm-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmAction Button { margin-left: 2; }
    """

    def __init__(self, title: str, detail: str, approve: str = "Approve (y)") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.approve_label = approve

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(for_terminal(self.title_text)), id="confirm-title")
            with VerticalScroll(id="confirm-detail-box"):
                yield Static(Text(for_terminal(self.detail)), id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.approve_label, variant="warning", id="confirm-yes")
                yield Button("Deny (n / Esc)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
