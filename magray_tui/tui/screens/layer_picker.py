"""A small modal to pick the layer a memory moves to (P / D in the memory browser)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class LayerPicker(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
    ]
    DEFAULT_CSS = """
    LayerPicker { align: center middle; }
    LayerPicker > Vertical {
        width: auto; min-width: 36; max-width: 80; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    LayerPicker #picker-title { text-style: bold; margin-bottom: 1; }
    LayerPicker OptionList { height: auto; max-height: 8; }
    LayerPicker #picker-help { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, layers: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.targets = layers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="picker-title", markup=False)
            yield OptionList(*(Option(name, id=name) for name in self.targets), id="picker-layers")
            yield Static("Enter moves it · Esc cancels", id="picker-help", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
