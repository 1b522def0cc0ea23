"""A modal to add a task or edit one: title, description, priority, due date, tags,
estimate and parent. It checks what it can (a title, a readable date, a number); the
service checks the rest and its refusal comes back as a toast."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from magray_tui.todo.model import Priority, TaskError, parse_due

PRIORITIES = [(p.value, p.value) for p in Priority]


@dataclass
class TaskDraft:
    title: str = ""
    description: str = ""
    priority: str = Priority.MEDIUM.value
    due: str = ""  # YYYY-MM-DD or ISO, "" for none
    tags: list[str] = field(default_factory=list)
    estimate_hours: float | None = None
    parent: str = ""  # a task id, "" for none

    def fields(self) -> dict[str, object]:
        """The keyword arguments for `TodoService.create` / `edit`."""
        return {
            "title": self.title,
            "description": self.description,
            "priority": self.priority,
            "due_at": self.due or None,
            "tags": self.tags,
            "estimate_hours": self.estimate_hours,
            "parent": self.parent or None,
        }


class TaskEditor(ModalScreen[TaskDraft | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="task_editor.save"),
        Binding("escape", "cancel", "Cancel", id="task_editor.cancel"),
    ]
    DEFAULT_CSS = """
    TaskEditor { align: center middle; }
    TaskEditor > Vertical {
        width: 90%; max-width: 96; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    TaskEditor #task-editor-title { text-style: bold; margin-bottom: 1; }
    TaskEditor TextArea { height: 5; }
    TaskEditor .editor-row { height: auto; }
    TaskEditor .editor-row > * { width: 1fr; }
    TaskEditor #task-editor-error { color: $error; height: auto; }
    TaskEditor #task-editor-buttons { height: auto; align-horizontal: right; }
    TaskEditor Button { margin-left: 1; }
    TaskEditor #task-editor-buttons Label {
        width: 1fr; height: 3; content-align: left middle; color: $text-muted;
    }
    """

    def __init__(self, heading: str, draft: TaskDraft) -> None:
        super().__init__()
        self.heading = heading
        self.draft = draft

    def compose(self) -> ComposeResult:
        d = self.draft
        with Vertical():
            yield Static(self.heading, id="task-editor-title", markup=False)
            yield Input(d.title, placeholder="title", id="task-title-input")
            yield TextArea(d.description, id="task-description", soft_wrap=True)
            with Horizontal(classes="editor-row"):
                yield Select(PRIORITIES, value=d.priority, allow_blank=False, id="task-priority")
                yield Input(
                    d.due, placeholder="due: YYYY-MM-DD, tomorrow, friday, +3d", id="task-due"
                )
                estimate = "" if d.estimate_hours is None else f"{d.estimate_hours:g}"
                yield Input(estimate, placeholder="estimate (hours)", id="task-estimate")
            with Horizontal(classes="editor-row"):
                yield Input(", ".join(d.tags), placeholder="tags, comma-separated", id="task-tags")
                yield Input(d.parent, placeholder="parent task id (t3)", id="task-parent")
            yield Static(id="task-editor-error", markup=False)
            with Horizontal(id="task-editor-buttons"):
                yield Label("Ctrl+S saves · Esc cancels")
                yield Button("Save", variant="primary", id="task-editor-save")
                yield Button("Cancel", id="task-editor-cancel")

    def on_mount(self) -> None:
        self.query_one("#task-title-input", Input).focus()

    def _value(self, name: str) -> str:
        return self.query_one(f"#task-{name}", Input).value.strip()

    @on(Input.Submitted)
    @on(Button.Pressed, "#task-editor-save")
    def action_save(self) -> None:
        error = self.query_one("#task-editor-error", Static)
        title = self._value("title-input")
        if not title:
            error.update("A task needs a title.")
            return
        due = self._value("due")
        try:
            parse_due(due or None)
        except TaskError as exc:
            error.update(str(exc))
            return
        estimate_text = self._value("estimate")
        try:
            estimate = float(estimate_text) if estimate_text else None
        except ValueError:
            error.update(f"The estimate must be a number of hours, not {estimate_text!r}.")
            return
        if estimate is not None and estimate < 0:
            error.update("The estimate cannot be negative.")
            return
        tags = [t.strip() for t in self._value("tags").split(",") if t.strip()]
        self.dismiss(
            TaskDraft(
                title=title,
                description=self.query_one(TextArea).text.strip(),
                priority=str(self.query_one("#task-priority", Select).value),
                due=due,
                tags=tags,
                estimate_hours=estimate,
                parent=self._value("parent"),
            )
        )

    @on(Button.Pressed, "#task-editor-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
