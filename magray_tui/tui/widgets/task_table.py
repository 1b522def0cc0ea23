"""The Tasks pane's list: one row per task in topological order, or as a parent/child tree.

Titles are user text: every cell is a `rich.text.Text`, never parsed as markup, with its
control characters made visible (`one_line`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from magray_tui.terminal_text import one_line
from magray_tui.todo.model import Priority, TaskState

if TYPE_CHECKING:
    from magray_tui.todo.model import Task

COLUMNS = (
    ("state", " "),
    ("priority", "pri"),
    ("title", "task"),
    ("deps", "needs"),
    ("due", "due"),
)
FIXED_WIDTH = 3 + 6 + 14 + 12 + 8  # everything but the title, with cell padding
# Content widths of the fixed columns. Set explicitly, never auto: an auto-width column is
# as wide as its header until the rows are measured, which drew "t2 W" for a frame.
WIDTHS = {"state": 1, "priority": 4, "deps": 11, "due": 10}
# Theme variables for each state and priority (looked up when drawn, so themes apply).
STATE_COLORS = {
    TaskState.PLANNED: "text-muted",
    TaskState.READY: "primary",
    TaskState.IN_PROGRESS: "accent",
    TaskState.BLOCKED: "warning",
    TaskState.DONE: "success",
    TaskState.FAILED: "error",
    TaskState.CANCELLED: "text-muted",
}
PRIORITY_LABELS = {
    Priority.CRITICAL: ("crit", "error"),
    Priority.HIGH: ("high", "warning"),
    Priority.MEDIUM: ("med", ""),
    Priority.LOW: ("low", "text-muted"),
}


def tree_order(tasks: Sequence[Task]) -> list[tuple[Task, int]]:
    """(task, depth) with each task under its parent when the parent is shown too;
    siblings keep the given (topological) order."""
    shown = {t.id for t in tasks}
    children: dict[str | None, list[Task]] = {}
    for t in tasks:
        parent = t.parent if t.parent in shown else None
        children.setdefault(parent, []).append(t)
    out: list[tuple[Task, int]] = []
    stack = [(t, 0) for t in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        task, depth = stack.pop()
        if task.id in seen:  # a parent loop (never stored) must not hang the pane
            continue
        seen.add(task.id)
        out.append((task, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(task.id, [])))
    out.extend((t, 0) for t in tasks if t.id not in seen)
    return out


def deps_cell(task: Task, tasks: Mapping[str, Task], width: int = 11) -> Text:
    """The ids a task waits for: unfinished ones in the warning colour, `+n` when cut."""
    text = Text()
    for n, dep in enumerate(task.deps):
        label = dep if n == 0 else f" {dep}"
        rest = len(task.deps) - n
        if len(text) + len(label) > width - (0 if rest == 1 else 3):
            text.append(f" +{rest}", style="dim")
            break
        other = tasks.get(dep)
        done = other is not None and other.state is TaskState.DONE
        text.append(label, style="dim" if done else "bold")
    return text


class TaskTable(DataTable):
    DEFAULT_CSS = """
    TaskTable { height: 1fr; }
    """

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.clock = clock
        self.tasks: dict[str, Task] = {}  # every task, for dependency states
        self.order: list[str] = []  # ids as shown
        self.tree_view = False
        self._shown: list[Task] = []
        self._drawn_width = 0

    def on_mount(self) -> None:
        self._add_columns(self._title_width())

    def _add_columns(self, title_width: int) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key, width=WIDTHS.get(key, title_width))

    def on_resize(self) -> None:
        if self._shown and self._title_width() != self._drawn_width:
            self.show(self._shown, self.tasks, keep=self.selected_id)

    def _title_width(self) -> int:
        return max(self.size.width - FIXED_WIDTH, 16)

    @property
    def selected_id(self) -> str | None:
        if not self.order or not 0 <= self.cursor_row < len(self.order):
            return None
        return self.order[self.cursor_row]

    @property
    def selected(self) -> Task | None:
        tid = self.selected_id
        return self.tasks.get(tid) if tid else None

    def show(
        self, shown: Sequence[Task], tasks: Mapping[str, Task], keep: str | None = None
    ) -> None:
        """Replace the rows; the cursor goes to `keep` (a task id) if shown, else the top."""
        self._shown = list(shown)
        self.tasks = dict(tasks)
        for t in shown:  # a filtered list may be fresher than the full one
            self.tasks[t.id] = t
        rows = tree_order(shown) if self.tree_view else [(t, 0) for t in shown]
        width = self._drawn_width = self._title_width()
        self.clear(columns=True)
        self._add_columns(width)
        self.order = [t.id for t, _ in rows]
        colors = self.app.theme_variables
        today = self.clock().date()
        for task, depth in rows:
            pri, pri_color = PRIORITY_LABELS[task.priority]
            indent = "  " * depth + ("└ " if depth else "")
            title = indent + one_line(f"{task.id} {task.title}", width - len(indent))
            due = Text(task.due_at.strftime("%Y-%m-%d") if task.due_at else "")
            if task.due_at and task.due_at.date() < today and task.state.open:
                due.stylize(colors.get("error", "red"))
            self.add_row(
                Text(task.glyph, style=colors.get(STATE_COLORS[task.state], "")),
                Text(pri, style=colors.get(pri_color, "")),
                Text(title, style="strike" if task.state is TaskState.CANCELLED else ""),
                deps_cell(task, self.tasks),
                due,
                key=task.id,
            )
        if keep in self.order:
            self.move_cursor(row=self.order.index(keep), animate=False)

    def neighbour_of(self, tid: str) -> str | None:
        if tid not in self.order:
            return None
        i = self.order.index(tid)
        if i + 1 < len(self.order):
            return self.order[i + 1]
        return self.order[i - 1] if i else None
