"""The "Add folder" dialog: a folder path (checked before anything starts) and whether
to keep watching it. The ingest itself runs in the memory browser's worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static


@dataclass(frozen=True)
class FolderRequest:
    path: str  # absolute, symlinks resolved
    watch: bool


def check_folder(text: str) -> tuple[str | None, str | None]:
    """(the folder's real path, None) or (None, one line saying what is wrong)."""
    raw = text.strip()
    if not raw:
        return None, "Type the path of a folder to ingest."
    path = os.path.expanduser(os.path.expandvars(raw))
    if not os.path.exists(path):
        return None, f"No such folder: {raw}"
    if not os.path.isdir(path):
        return None, f"{raw} is a file, not a folder (`magray ingest FILE` takes files)."
    if not os.access(path, os.R_OK | os.X_OK):
        return None, f"Cannot read {raw} (permission denied)."
    return os.path.realpath(path), None


class Tick(Checkbox):
    """A checkbox that draws nothing inside when unticked: Textual's draws its "X" in a
    dim colour, which on dark themes read as ticked."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "X" if self.value else " "


class AddFolderScreen(ModalScreen[FolderRequest | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        # Enter ingests from anywhere in the dialog (the checkbox would take it as a toggle;
        # space toggles it).
        Binding("enter", "submit", "Ingest", priority=True, id="add_folder.ingest"),
        Binding("escape", "cancel", "Cancel", id="add_folder.cancel"),
    ]
    DEFAULT_CSS = """
    AddFolderScreen { align: center middle; }
    AddFolderScreen > Vertical {
        width: 90%; max-width: 90; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    AddFolderScreen #add-folder-title { text-style: bold; }
    AddFolderScreen #add-folder-help { color: $text-muted; margin-bottom: 1; }
    AddFolderScreen #add-folder-error { color: $error; height: auto; }
    AddFolderScreen #add-folder-buttons { height: auto; align-horizontal: right; }
    AddFolderScreen Button { margin-left: 1; }
    AddFolderScreen #add-folder-buttons Label {
        width: 1fr; height: 3; content-align: left middle; color: $text-muted;
    }
    """

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.initial = path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a folder to memory (Assets)", id="add-folder-title", markup=False)
            yield Static(
                "Its text files are split into chunks and embedded; .gitignore and "
                "git's global excludes are honoured; binary and large files are skipped.",
                id="add-folder-help",
                markup=False,
            )
            yield Input(
                self.initial, placeholder="~/notes or /path/to/project", id="add-folder-path"
            )
            yield Tick("Keep watching it (changes are ingested live)", id="add-folder-watch")
            yield Static(id="add-folder-error", markup=False)
            with Horizontal(id="add-folder-buttons"):
                yield Label("Enter ingests · Space (un)ticks · Esc cancels")
                yield Button("Ingest", variant="primary", id="add-folder-ok")
                yield Button("Cancel", id="add-folder-cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_submit(self) -> None:
        if self.focused is not None and self.focused.id == "add-folder-cancel":
            self.dismiss(None)
        else:
            self.submit()

    @on(Button.Pressed, "#add-folder-ok")
    def submit(self) -> None:
        path, problem = check_folder(self.query_one(Input).value)
        if problem is not None:
            self.query_one("#add-folder-error", Static).update(problem)
            self.query_one(Input).focus()
            return
        self.dismiss(FolderRequest(path, self.query_one(Tick).value))

    @on(Input.Changed)
    def clear_error(self) -> None:
        self.query_one("#add-folder-error", Static).update("")

    @on(Button.Pressed, "#add-folder-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
