"""Two small modals of the Tasks pane: pick a task by fuzzy search (the `d` key: which
task the selected one depends on), and pick one of a few fixed choices (which dependency
to remove, what to do with dependents of a cancelled task, which memory to open)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from magray_tui.terminal_text import for_terminal, one_line

if TYPE_CHECKING:
    from magray_tui.todo.model import Task

PICKER_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 90; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .picker-title {{ text-style: bold; margin-bottom: 1; }}
{name} OptionList {{ height: auto; max-height: 14; }}
{name} .picker-help {{ color: $text-muted; margin-top: 1; }}
"""


def task_option(task: Task) -> Option:
    return Option(Text(f"{task.glyph} {task.id}  {one_line(task.title)}"), id=task.id)


class TaskPicker(ModalScreen[str | None]):
    """Type to search (the service's fuzzy search runs in a worker); Enter picks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="task_picker.cancel"),
        Binding("down", "to_list", "To the list", show=False, id="task_picker.list"),
    ]
    DEFAULT_CSS = PICKER_CSS.format(name="TaskPicker")

    class Found(Message):
        def __init__(self, query: str, tasks: list[Task]) -> None:
            super().__init__()
            self.query, self.tasks = query, tasks

    def __init__(self, heading: str, search: Callable[[str], list[Task]], exclude: str) -> None:
        super().__init__()
        self.heading = heading
        self.search = search
        self.exclude = exclude

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(for_terminal(self.heading), classes="picker-title", markup=False)
            yield Input(placeholder="type part of a title, a tag or an id", id="picker-query")
            yield OptionList(id="picker-options")
            yield Static("Enter picks · ↓ to the list · Esc cancels", classes="picker-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.run_search("")

    @on(Input.Changed)
    def query_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @work(thread=True, exclusive=True, group="task-picker", exit_on_error=False)
    def run_search(self, query: str) -> None:
        found = self.search(query)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Found(query, found))

    def on_task_picker_found(self, message: Found) -> None:
        if message.query != self.query_one(Input).value:
            return  # an older answer
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([task_option(t) for t in message.tasks if t.id != self.exclude])
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted)
    def pick_first(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePicker(ModalScreen[str | None]):
    """One of a few fixed choices: (id, label) pairs; Enter picks, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="task_choice.cancel"),
    ]
    DEFAULT_CSS = PICKER_CSS.format(name="ChoicePicker")

    def __init__(self, heading: str, choices: Sequence[tuple[str, str]], help: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.choices = list(choices)
        self.help = help or "Enter picks · Esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(for_terminal(self.heading), classes="picker-title", markup=False)
            options = (Option(Text(one_line(label)), id=cid) for cid, label in self.choices)
            yield OptionList(*options)
            yield Static(self.help, classes="picker-help", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
