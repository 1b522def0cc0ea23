"""The Tasks pane's detail panel: every field of the selected task, what it waits for,
what waits for it, and the memories it links to (all plain text, never markup; control
characters in titles and notes made visible by `for_terminal`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from magray_tui.terminal_text import for_terminal, one_line
from magray_tui.tui.formatting import when

if TYPE_CHECKING:
    from magray_tui.todo.model import Task

SECTIONS = ("needs", "needed-by", "memories", "text")


class TaskDetail(VerticalScroll):
    DEFAULT_CSS = """
    TaskDetail { padding: 0 1; background: $surface; }
    TaskDetail .detail-heading { color: $primary; text-style: bold; margin-top: 1; }
    TaskDetail #task-title { text-style: bold; }
    TaskDetail.-empty .detail-heading { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="task-title", markup=False)
        yield Static(id="task-fields", markup=False)
        yield Static("Needs", classes="detail-heading", markup=False)
        yield Static(id="task-needs", markup=False)
        yield Static("Needed by", classes="detail-heading", markup=False)
        yield Static(id="task-needed-by", markup=False)
        yield Static("Linked memories (o opens)", classes="detail-heading", markup=False)
        yield Static(id="task-memories", markup=False)
        yield Static("Description and notes", classes="detail-heading", markup=False)
        yield Static(id="task-text", markup=False)

    def on_mount(self) -> None:
        self.show_task(None, {})

    def show_task(self, task: Task | None, tasks: Mapping[str, Task]) -> None:
        self.set_class(task is None, "-empty")
        title = self.query_one("#task-title", Static)
        if task is None:
            hint = (
                "No task selected."
                if tasks
                else "No tasks yet: a adds one; /plan GOAL in the chat drafts several."
            )
            title.update(Text(hint, style="dim"))
            for name in ("fields", *SECTIONS):
                self.query_one(f"#task-{name}", Static).update(Text(""))
            return
        title.update(Text(f"{task.glyph} {task.id}  {one_line(task.title)}"))
        fields = "\n".join(for_terminal(line, multiline=False) for line in field_lines(task, tasks))
        self.query_one("#task-fields", Static).update(Text(fields))
        dependents = [t for t in tasks.values() if task.id in t.deps]
        self.query_one("#task-needs", Static).update(_task_list(task.deps, tasks))
        self.query_one("#task-needed-by", Static).update(
            _task_list([t.id for t in dependents], tasks)
        )
        memories = "\n".join(map(one_line, task.memory_links)) if task.memory_links else "none"
        self.query_one("#task-memories", Static).update(Text(memories))
        parts = [p for p in (task.description, task.notes and f"notes: {task.notes}") if p]
        if task.artifacts:
            parts.append("artifacts: " + ", ".join(task.artifacts))
        text = for_terminal("\n\n".join(parts)) or "none"
        self.query_one("#task-text", Static).update(Text(text))


def field_lines(task: Task, tasks: Mapping[str, Task]) -> list[str]:
    parent = tasks.get(task.parent) if task.parent else None
    lines = [
        f"state      {task.state.value.replace('_', ' ')}",
        f"priority   {task.priority.value}",
        f"due        {task.due_at.strftime('%Y-%m-%d %H:%M') if task.due_at else '-'}",
        f"estimate   {f'{task.estimate_hours:g} h' if task.estimate_hours is not None else '-'}",
        f"tags       {', '.join(task.tags) if task.tags else '-'}",
        f"parent     {f'{task.parent} {parent.title}' if parent else task.parent or '-'}",
        f"created    {when(task.created_at)}",
        f"updated    {when(task.updated_at)}",
    ]
    if task.started_at:
        lines.append(f"started    {when(task.started_at)}")
    if task.completed_at:
        lines.append(f"closed     {when(task.completed_at)}")
    return lines


def _task_list(ids: object, tasks: Mapping[str, Task]) -> Text:
    lines = []
    for tid in ids:  # type: ignore[attr-defined]
        other = tasks.get(tid)
        line = f"{other.glyph} {tid} {other.title}" if other else f"? {tid} (not loaded)"
        lines.append(one_line(line))
    return Text("\n".join(lines) if lines else "none")
