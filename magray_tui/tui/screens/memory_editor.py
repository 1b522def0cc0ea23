"""A modal to write a new memory or edit one: text, tags and (for a new one) layer, kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

LAYERS = ("interact", "insights", "assets")


@dataclass
class MemoryDraft:
    text: str = ""
    tags: list[str] = field(default_factory=list)
    layer: str = "insights"
    kind: str = "note"


class MemoryEditor(ModalScreen[MemoryDraft | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="editor.save"),
        Binding("escape", "cancel", "Cancel", id="editor.cancel"),
    ]
    DEFAULT_CSS = """
    MemoryEditor { align: center middle; }
    MemoryEditor > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    MemoryEditor #editor-title { text-style: bold; margin-bottom: 1; }
    MemoryEditor TextArea { height: 10; }
    MemoryEditor .editor-row { height: auto; }
    MemoryEditor .editor-row > * { width: 1fr; }
    MemoryEditor #editor-error { color: $error; height: auto; }
    MemoryEditor #editor-buttons { height: auto; align-horizontal: right; }
    MemoryEditor Button { margin-left: 1; }
    MemoryEditor #editor-buttons Label {
        width: 1fr; height: 3; content-align: left middle; color: $text-muted;
    }
    """

    def __init__(self, title: str, draft: MemoryDraft, *, new: bool) -> None:
        super().__init__()
        self.title_text = title
        self.draft = draft
        self.new = new

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="editor-title", markup=False)
            yield TextArea(self.draft.text, id="editor-text", soft_wrap=True)
            yield Input(
                ", ".join(self.draft.tags), placeholder="tags, comma-separated", id="editor-tags"
            )
            if self.new:
                with Horizontal(classes="editor-row"):
                    yield Select(
                        [(f"layer: {name}", name) for name in LAYERS],
                        value=self.draft.layer,
                        allow_blank=False,
                        id="editor-layer",
                    )
                    yield Input(
                        self.draft.kind,
                        placeholder="kind (note, fact, decision, …)",
                        id="editor-kind",
                    )
            yield Static(id="editor-error", markup=False)
            with Horizontal(id="editor-buttons"):
                yield Label("Ctrl+S saves (a changed text is re-embedded) · Esc cancels")
                yield Button("Save", variant="primary", id="editor-save")
                yield Button("Cancel", id="editor-cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#editor-save")
    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.query_one("#editor-error", Static).update("A memory needs some text.")
            return
        tags = [t.strip() for t in self.query_one("#editor-tags", Input).value.split(",")]
        draft = MemoryDraft(text, [t for t in tags if t], self.draft.layer, self.draft.kind)
        if self.new:
            draft.layer = str(self.query_one("#editor-layer", Select).value)
            draft.kind = self.query_one("#editor-kind", Input).value.strip() or "note"
        self.dismiss(draft)

    @on(Button.Pressed, "#editor-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
