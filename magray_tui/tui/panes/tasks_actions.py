"""The Tasks pane's changes: add, edit, dependencies, state, priority, done, cancel (with
the dependents question), undo, and opening a linked memory in the memory browser.

Every change runs `TodoService` in a thread worker (group `tasks-write`) and posts
`TaskChanged`; a `TaskError` (a cycle, a state the dependencies forbid) becomes a toast
(the pane's `worker_error_handled`, asked by the pane base), and nothing is half-applied
(the service changes in one transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.message import Message

from magray_tui.terminal_text import one_line
from magray_tui.todo.model import PRIORITY_ORDER, DependentsExist, TaskState
from magray_tui.tui.screens.task_editor import TaskDraft, TaskEditor
from magray_tui.tui.screens.task_picker import ChoicePicker, TaskPicker

if TYPE_CHECKING:
    from magray_tui.todo.model import Task
    from magray_tui.todo.service import TodoService
    from magray_tui.tui.panes.tasks import TasksPane

    _Base = TasksPane
else:
    _Base = object

TASK_BINDINGS = [
    Binding("a", "add", "Add", id="tasks.add"),
    Binding("e", "edit", "Edit", id="tasks.edit"),
    Binding("d", "add_dep", "Add dependency", id="tasks.dep"),
    Binding("D", "remove_dep", "Remove dependency", show=False, id="tasks.undep"),
    Binding("space", "cycle_state", "Next state", id="tasks.state"),
    Binding("p", "cycle_priority", "Priority", show=False, id="tasks.priority"),
    Binding("x", "done", "Done", id="tasks.done"),
    Binding("c", "cancel_task", "Cancel task", show=False, id="tasks.cancel"),
    Binding("u", "undo", "Undo", id="tasks.undo"),
    Binding("o", "open_memory", "Open linked memory", show=False, id="tasks.memory"),
]

# `space` walks the states a user sets; ready/blocked are derived from dependencies.
NEXT_STATE = {
    TaskState.PLANNED: TaskState.READY,
    TaskState.READY: TaskState.IN_PROGRESS,
    TaskState.BLOCKED: TaskState.PLANNED,
    TaskState.IN_PROGRESS: TaskState.DONE,
    TaskState.DONE: TaskState.READY,
    TaskState.FAILED: TaskState.READY,
    TaskState.CANCELLED: TaskState.READY,
}
DEPENDENTS_CHOICES = [
    ("cancel", "Cancel them too"),
    ("unlink", "Unlink them (they no longer wait for it)"),
    ("keep", "Keep them (they stay blocked)"),
]
WRITES = {"add", "edit", "add_dep", "remove_dep", "cycle_state", "cycle_priority", "done"}


class TaskActions(_Base):
    """Mixed into `TasksPane`, which declares the bindings' screens and loads the rows."""

    class TaskChanged(Message):
        def __init__(self, note: str, keep: str | None) -> None:
            super().__init__()
            self.note, self.keep = note, keep

    class DependentsQuestion(Message):
        def __init__(self, task_id: str, question: str) -> None:
            super().__init__()
            self.task_id, self.question = task_id, question

    @work(thread=True, group="tasks-write", exit_on_error=False)
    def run_change(self, label: str, change: Callable[[TodoService], tuple[str, str | None]]):
        with self.env.jobs.track(label):
            note, keep = change(self.todo)
        self.post_message(self.TaskChanged(note, keep))

    def on_task_actions_task_changed(self, message: TaskChanged) -> None:
        self.notify(message.note, markup=False)
        self.refresh_tasks(keep=message.keep, changed=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """False hides a key that means nothing here; None shows it greyed out."""
        writable = self.backend is not None and not self.backend.read_only
        task = self.selected if self.backend is not None else None
        if action in ("add", "undo"):
            return writable or None
        if action in WRITES or action == "cancel_task":
            return (writable and task is not None) or None
        if action == "open_memory":
            return (task is not None and bool(task.memory_links)) or None
        if action == "toggle_tree":  # a tree of tasks without subtasks is the list again
            return any(t.parent for t in self.all_tasks.values())
        return True

    # ---- the keys ------------------------------------------------------------------------
    def action_add(self) -> None:
        def save(draft: TaskDraft | None) -> None:
            if draft is not None:
                self.run_change("adding a task", lambda s: _created(s.create(**draft.fields())))

        self.app.push_screen(TaskEditor("Add a task", TaskDraft()), save)

    def action_edit(self) -> None:
        task = self.selected
        if task is None:
            return
        draft = TaskDraft(
            title=task.title,
            description=task.description,
            priority=task.priority.value,
            due=task.due_at.strftime("%Y-%m-%d") if task.due_at else "",
            tags=list(task.tags),
            estimate_hours=task.estimate_hours,
            parent=task.parent or "",
        )

        def save(result: TaskDraft | None) -> None:
            if result is not None:
                self.run_change(
                    "saving the task",
                    lambda s: (f"Saved {s.edit(task.id, **result.fields()).id}.", task.id),
                )

        self.app.push_screen(TaskEditor(f"Edit {task.id}", draft), save)

    def action_add_dep(self) -> None:
        task = self.selected
        todo = self.todo
        if task is None or todo is None:
            return

        def picked(other: str | None) -> None:
            if other is not None:
                self.run_change(
                    "linking tasks",
                    lambda s: (f"{s.add_dep(task.id, other).id} now depends on {other}.", task.id),
                )

        search = lambda text: todo.search(text, limit=30)  # noqa: E731
        heading = f"{task.id} {task.title} depends on…"
        self.app.push_screen(TaskPicker(heading, search, exclude=task.id), picked)

    def action_remove_dep(self) -> None:
        task = self.selected
        if task is None:
            return
        if not task.deps:
            self.notify(f"{task.id} depends on nothing.", markup=False)
            return

        def picked(other: str | None) -> None:
            if other is not None:
                self.run_change(
                    "unlinking tasks",
                    lambda s: (
                        f"{s.remove_dep(task.id, other).id} no longer needs {other}.",
                        task.id,
                    ),
                )

        choices = [(d, _label(d, self.all_tasks)) for d in task.deps]
        self.app.push_screen(ChoicePicker(f"{task.id} no longer depends on…", choices), picked)

    def action_cycle_state(self) -> None:
        if task := self.selected:
            state = NEXT_STATE[task.state]
            self.run_change(
                "changing the state",
                lambda s: (_moved(s.set_state(task.id, state)), task.id),
            )

    def action_cycle_priority(self) -> None:
        if task := self.selected:
            order = list(reversed(PRIORITY_ORDER))  # low … critical, then around
            nxt = order[(order.index(task.priority) + 1) % len(order)]
            self.run_change(
                "changing the priority",
                lambda s: (f"{s.edit(task.id, priority=nxt).id} is now {nxt.value}.", task.id),
            )

    def action_done(self) -> None:
        if task := self.selected:
            self.run_change("finishing the task", lambda s: (_finished(s, task.id), task.id))

    def action_cancel_task(self, dependents: str = "ask") -> None:
        if (task := self.selected) is None:
            return
        self.run_cancel(task.id, dependents)

    @work(thread=True, group="tasks-write", exit_on_error=False)
    def run_cancel(self, task_id: str, dependents: str) -> None:
        try:
            with self.env.jobs.track("cancelling the task"):
                task = self.todo.cancel(task_id, dependents=dependents)  # type: ignore[arg-type]
        except DependentsExist as exc:
            self.post_message(self.DependentsQuestion(task_id, str(exc)))
            return
        self.post_message(self.TaskChanged(_moved(task), task_id))

    def on_task_actions_dependents_question(self, message: DependentsQuestion) -> None:
        def answered(choice: str | None) -> None:
            if choice is not None:
                self.run_cancel(message.task_id, choice)

        heading = message.question[0].upper() + message.question[1:] + "."
        self.app.push_screen(ChoicePicker(heading, DEPENDENTS_CHOICES), answered)

    def action_undo(self) -> None:
        def undo(s: TodoService) -> tuple[str, str | None]:
            what = s.undo()
            return (f"Undid: {what}." if what else "Nothing to undo."), None

        self.run_change("undoing", undo)

    def action_open_memory(self) -> None:
        task = self.selected
        if task is None or not task.memory_links:
            self.notify("This task links no memories.", markup=False)
            return
        if len(task.memory_links) == 1:
            self.open_memory(task.memory_links[0])
            return
        choices = [(m, m) for m in task.memory_links]
        heading = f"Open which memory of {task.id}?"
        self.app.push_screen(
            ChoicePicker(heading, choices), lambda m: m is not None and self.open_memory(m)
        )

    def open_memory(self, record_id: str) -> None:
        """Switch to the memory browser, showing the record."""
        self.app.action_show_pane("memory")  # type: ignore[attr-defined]
        self.app.pane("memory").show_record(record_id)  # type: ignore[attr-defined]


def _created(task: Task) -> tuple[str, str | None]:
    return f"Added {task.id} ({task.state.value.replace('_', ' ')}).", task.id


def _finished(todo: TodoService, ref: str) -> str:
    """Mark `ref` done and say so, naming the tasks that became ready by it."""
    waiting = {t.id for t in todo.dependents(ref) if t.state is TaskState.BLOCKED}
    task = todo.done(ref)
    ready = [t for t in todo.dependents(ref) if t.id in waiting and t.state is TaskState.READY]
    if not ready:
        return _moved(task)
    names = ", ".join(f"{t.id} {one_line(t.title, 30)}" for t in ready[:3])
    more = f" and {len(ready) - 3} more" if len(ready) > 3 else ""
    return f"{_moved(task)} Now ready: {names}{more}."


def _moved(task: Task) -> str:
    return f"{task.id} is now {task.state.value.replace('_', ' ')}."


def _label(tid: str, tasks: dict[str, Task]) -> str:
    task = tasks.get(tid)
    return f"{task.glyph} {tid}  {task.title}" if task else tid
