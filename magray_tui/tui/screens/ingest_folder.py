"""The "Add folder" dialog: a folder path (checked before anything starts) and whether
to keep watching it. The ingest itself runs in the memory browser's worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from magray_tui.terminal_text import one_line

SHOWN_CHOICES = 8  # folder names listed when Tab finds several


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


def complete_folder(text: str) -> tuple[str, list[str]]:
    """Tab completion of a folder path, as a shell does it: (the text completed as far as
    it is unambiguous, the folder names it could still become). Only folders; hidden ones
    only when the typed name starts with a dot; `~` and `$VAR` are expanded to look, and
    kept as typed."""
    head, _, name = text.rpartition("/")
    shown_head = head + "/" if _ else ""
    look_in = os.path.expanduser(os.path.expandvars(shown_head or "."))
    try:
        entries = list(os.scandir(look_in))
    except OSError:
        return text, []
    names = sorted(
        e.name
        for e in entries
        if e.name.startswith(name)
        and (name.startswith(".") or not e.name.startswith("."))
        and _is_dir(e)
    )
    if not names:
        return text, []
    if len(names) == 1:
        return shown_head + names[0] + "/", []
    common = os.path.commonprefix(names)  # noqa: RUF071 (names, not paths: by character)
    return shown_head + common, names


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks: a link to a folder is offered
    except OSError:
        return False


class PathInput(Input):
    """The path field: Tab completes folder names (and moves on when there is nothing to
    complete)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, id="add_folder.complete"),
    ]

    class Completed(Message):
        def __init__(self, typed: str, text: str, choices: list[str]) -> None:
            super().__init__()
            self.typed, self.text, self.choices = typed, text, choices

    def action_complete(self) -> None:
        self.run_completion(self.value)

    @work(thread=True, exclusive=True, group="path-complete", exit_on_error=False)
    def run_completion(self, typed: str) -> None:
        text, choices = complete_folder(typed)  # a directory listing: off the UI thread
        self.post_message(self.Completed(typed, text, choices))


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
        self._completed_to: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a folder to memory (Assets)", id="add-folder-title", markup=False)
            yield Static(
                "Its text files are split into chunks and embedded; .gitignore and "
                "git's global excludes are honoured; binary and large files are skipped.",
                id="add-folder-help",
                markup=False,
            )
            yield PathInput(
                self.initial, placeholder="~/notes or /path/to/project", id="add-folder-path"
            )
            yield Tick("Keep watching it (changes are ingested live)", id="add-folder-watch")
            yield Static(id="add-folder-error", markup=False)
            with Horizontal(id="add-folder-buttons"):
                yield Label("Tab completes · Enter ingests · Space (un)ticks · Esc cancels")
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
    def clear_error(self, event: Input.Changed) -> None:
        if event.value != self._completed_to:  # not the change a completion made
            self.query_one("#add-folder-error", Static).update("")

    @on(PathInput.Completed)
    def completed(self, event: PathInput.Completed) -> None:
        field = self.query_one(PathInput)
        if field.value != event.typed:
            return  # typed on meanwhile
        self._completed_to = event.text
        if event.text != event.typed:
            field.value = event.text
            field.cursor_position = len(event.text)
        if event.choices:
            more = len(event.choices) - SHOWN_CHOICES
            names = "  ".join(one_line(n) for n in event.choices[:SHOWN_CHOICES])
            names += f"  (+{more} more)" if more > 0 else ""
            self.query_one("#add-folder-error", Static).update(names)
        elif event.text == event.typed:
            self.focus_next()  # nothing to complete: Tab moves on as usual

    @on(Button.Pressed, "#add-folder-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
