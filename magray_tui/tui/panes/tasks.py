"""The Tasks pane: the task DAG as a table in topological order (or a parent/child tree),
a detail panel, a filter line and a graph view.

Reads and writes go through `TodoService` in thread workers; changes (add, edit,
dependencies, states, undo, ...) live in `tasks_actions`. Loads carry a generation number
so a late answer to an older filter is dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from magray_tui.terminal_text import one_line
from magray_tui.todo.model import TaskError, TaskState
from magray_tui.tui.debounce import Debounce
from magray_tui.tui.panes.base import Pane, PaneEnv
from magray_tui.tui.panes.tasks_actions import TASK_BINDINGS, TaskActions
from magray_tui.tui.panes.tasks_filter import TaskFilter, parse_filter
from magray_tui.tui.screens.task_editor import TaskEditor
from magray_tui.tui.screens.task_picker import ChoicePicker, TaskPicker
from magray_tui.tui.widgets.settling_input import SettlingInput
from magray_tui.tui.widgets.task_detail import TaskDetail
from magray_tui.tui.widgets.task_graph import TaskGraph
from magray_tui.tui.widgets.task_table import TaskTable

if TYPE_CHECKING:
    from magray_tui.todo.graph_layout import GraphLayout
    from magray_tui.todo.model import Task
    from magray_tui.todo.service import TodoService
    from magray_tui.tui.backend import Backend

DEBOUNCE_S = 0.15
DETAIL_DELAY_S = 0.05
GRAPH_BOX_WIDTH = 22
# Laying out takes ~1 s per 1,000 tasks on a busy core (pure Python): past this the graph
# shows the first tasks in topological order and the summary says so; a filter narrows it.
GRAPH_LIMIT = 1500


@dataclass(frozen=True)
class LoadRequest:
    generation: int
    filter: TaskFilter
    full: bool  # reload every task too (after a change), not only the filtered ones
    keep: str | None = None


class TasksPane(TaskActions, Pane):
    PANE_ID = "tasks"
    TITLE = "Tasks"
    SUMMARY = (
        "The task graph: what is to do, blocked, running or done, in dependency order. "
        "Filter with words, state:ready,blocked (or state:open) and tag:NAME."
    )
    KEYMAP_EXTRA = (TaskEditor, TaskPicker, ChoicePicker, TaskGraph)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "move(1)", "Down", show=False, id="tasks.down"),
        Binding("k", "move(-1)", "Up", show=False, id="tasks.up"),
        Binding("enter", "details", "Details", show=False, id="tasks.details"),
        *TASK_BINDINGS,
        Binding("slash", "focus_filter", "Filter", id="tasks.filter"),
        Binding("t", "toggle_tree", "Tree", id="tasks.tree"),
        Binding("g", "toggle_graph", "Graph", id="tasks.graph"),
        Binding("escape", "back", "Back to the list", show=False, id="tasks.back"),
    ]
    LOADING_NOTICE = "Opening the task store…"
    WORKER_NAMES: ClassVar[dict[str, str]] = {
        "tasks-load": "Loading tasks",
        "tasks-graph": "Drawing the graph",
    }
    WORKER_DEFAULT = "Task change"
    SCOPED_CSS = False  # the narrow layout keys off the screen's breakpoint class
    DEFAULT_CSS = """
    TasksPane #tasks-filter { height: 3; }
    TasksPane #tasks-body { height: 1fr; }
    TasksPane #tasks-table, TasksPane #tasks-graph { width: 3fr; }
    TasksPane #tasks-detail { width: 2fr; }
    TasksPane #tasks-graph { display: none; }
    TasksPane.-graph #tasks-graph { display: block; }
    TasksPane.-graph #tasks-table { display: none; }
    TasksPane #tasks-summary { height: 1; padding: 0 1; color: $text-muted; }
    .-narrow TasksPane #tasks-body { layout: vertical; }
    .-narrow TasksPane #tasks-table, .-narrow TasksPane #tasks-graph { width: 1fr; height: 1fr; }
    .-narrow TasksPane #tasks-detail { width: 1fr; height: 9; }
    .-narrow TasksPane.-graph #tasks-detail { height: 5; }
    """

    class TasksLoaded(Message):
        def __init__(
            self, request: LoadRequest, every: list[Task] | None, shown: list[Task], s: float
        ) -> None:
            super().__init__()
            self.request, self.every, self.shown, self.seconds = request, every, shown, s

    class GraphReady(Message):
        def __init__(self, generation: int, graph: GraphLayout, seconds: float) -> None:
            super().__init__()
            self.generation, self.graph, self.seconds = generation, graph, seconds

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(env)
        self._loaded_rev: int | None = None  # the task revision last loaded
        self.all_tasks: dict[str, Task] = {}
        self.shown: list[Task] = []
        self.filter = TaskFilter()
        self.graph_mode = False
        self.last_load_s = 0.0
        self.last_graph_s = 0.0
        self._graph_fit: int | None = None  # the width the graph was last laid out for
        self._generation = 0
        self._stale = True  # all_tasks needs a full reload
        # Holding j down must not re-lay the detail panel out for every row it passes.
        self._detail_soon = Debounce(self, DETAIL_DELAY_S, self.show_selected)
        self._keys_state: tuple[bool, bool] | None = None

    def compose(self) -> ComposeResult:
        yield self.notice()
        with Vertical(id="tasks-main", classes="pane-main"):
            yield SettlingInput(
                DEBOUNCE_S,
                placeholder="Filter tasks (/): words, state:open, state:ready,blocked, tag:NAME",
                id="tasks-filter",
            )
            with Horizontal(id="tasks-body"):
                yield TaskTable(self.env.clock, id="tasks-table")
                yield TaskGraph(id="tasks-graph")
                yield TaskDetail(id="tasks-detail")
            yield Static(id="tasks-summary", markup=False)

    # ---- services ------------------------------------------------------------------------
    def attach_backend(self, backend: Backend) -> None:
        super().attach_backend(backend)
        if self.is_mounted:  # a hidden pane is built later: on_mount opens it then
            self._open()

    def on_mount(self) -> None:
        if self.backend is not None:
            self._open()

    def data_may_have_changed(self) -> None:
        """Another pane may have changed tasks (/task, /plan, the agent's add_task tool):
        reload if the task revision moved."""
        if self.backend is not None and self._loaded_rev is not None:
            self.check_for_changes()

    @work(thread=True, exclusive=True, group="tasks-check", exit_on_error=False)
    def check_for_changes(self) -> None:
        todo = self.todo
        if todo is not None and todo.revision() != self._loaded_rev:
            self.app.call_from_thread(lambda: self.refresh_tasks(changed=True))

    def _open(self) -> None:
        self.show_ready()
        self.refresh_tasks()
        self.refresh_bindings()
        if self.app.active_pane_id == self.PANE_ID:  # type: ignore[attr-defined]
            self.focus_default()

    def backend_failed(self, message: str) -> None:
        self.show_failed("The task store", message)

    @property
    def todo(self) -> TodoService | None:
        return self.backend.services.todo if self.backend else None

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    @property
    def graph(self) -> TaskGraph:
        return self.query_one(TaskGraph)

    @property
    def selected(self) -> Task | None:
        if self.graph_mode:
            return self.all_tasks.get(self.graph.selected or "")
        return self.table.selected

    def focus_default(self) -> None:
        if self.backend is None:
            self.focus_now(self)
        else:
            self.focus_now(self.graph if self.graph_mode else self.table)

    # ---- loading -------------------------------------------------------------------------
    def refresh_tasks(self, keep: str | None = None, *, changed: bool = False) -> None:
        if self.backend is None:
            return
        self._stale = self._stale or changed
        self._generation += 1
        selected = self.selected
        keep = keep or (selected.id if selected else None)
        self.load_tasks(LoadRequest(self._generation, self.filter, self._stale, keep))

    @work(thread=True, exclusive=True, group="tasks-load", exit_on_error=False)
    def load_tasks(self, request: LoadRequest) -> None:
        started = time.perf_counter()
        todo = self.todo
        with self.env.jobs.track("loading tasks"):
            self._loaded_rev = todo.revision()
            every = todo.list() if request.full else None
            f = request.filter
            if f.empty and every is not None:
                shown = every
            else:
                shown = todo.list(states=f.states, tag=f.tag, text=f.text or None)
        if not get_current_worker().is_cancelled:
            self.post_message(
                self.TasksLoaded(request, every, shown, time.perf_counter() - started)
            )

    def on_tasks_pane_tasks_loaded(self, message: TasksLoaded) -> None:
        if message.request.generation != self._generation:
            return  # a newer load is on its way
        if message.every is not None:
            self.all_tasks = {t.id: t for t in message.every}
            self._stale = False
        self.shown = message.shown
        self.last_load_s = message.seconds
        if not any(t.parent for t in self.all_tasks.values()):
            self.table.tree_view = False  # the last subtask went: back to the list
        self.table.show(self.shown, self.all_tasks, keep=message.request.keep)
        self.show_selected()
        self._update_summary()
        if self.graph_mode:
            self.build_graph(self._generation, self.shown, self.graph_width())
        self.refresh_bindings()

    def _update_summary(self, extra: str = "") -> None:
        f = self.filter
        total = len(self.all_tasks)
        if not total:
            text = "No tasks yet · a adds one (or `magray tasks add TITLE` from a shell)"
        else:
            counts: dict[TaskState, int] = {}
            for t in self.shown:
                counts[t.state] = counts.get(t.state, 0) + 1
            states = ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in counts.items())
            shown = f"{len(self.shown)} of {total} tasks" if not f.empty else f"{total} tasks"
            text = f"{shown}" + (f" ({states})" if states else "")
            if not f.empty:
                text += f" · {f.describe()}"
            text += (
                f" · {'graph' if self.graph_mode else 'tree' if self.table.tree_view else 'list'}"
            )
        if f.problem:
            text += f" · {f.problem}"
        self.query_one("#tasks-summary", Static).update(text + extra)

    @on(DataTable.RowHighlighted, "#tasks-table")
    def schedule_detail(self) -> None:
        self._detail_soon.schedule()

    def show_selected(self) -> None:
        task = self.selected
        self.query_one(TaskDetail).show_task(task, self.all_tasks)
        # The footer redraws on every refresh_bindings: only when a key's state changes.
        keys_state = (task is not None, bool(task and task.memory_links))
        if keys_state != self._keys_state:
            self._keys_state = keys_state
            self.refresh_bindings()

    # ---- filter --------------------------------------------------------------------------
    @on(SettlingInput.Settled, "#tasks-filter")
    def apply_filter(self, event: SettlingInput.Settled) -> None:
        self.filter = parse_filter(event.value)
        self.refresh_tasks()
        if event.submitted:
            self.focus_default()

    def action_focus_filter(self) -> None:
        self.query_one("#tasks-filter", Input).focus()

    # ---- views ---------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        if self.graph_mode:
            self.graph.action_step(delta)
        elif delta > 0:
            self.table.action_cursor_down()
        else:
            self.table.action_cursor_up()

    def action_details(self) -> None:
        self.query_one(TaskDetail).focus()

    @on(DataTable.RowSelected, "#tasks-table")
    def row_chosen(self) -> None:
        self.action_details()

    def action_back(self) -> None:
        self.focus_default()

    def graph_width(self) -> int:
        """The columns the graph has (the table's while the graph is not shown yet)."""
        return max(self.graph.size.width, self.table.size.width)

    def on_resize(self) -> None:
        """The boxes follow the width the graph has."""
        if self.graph_mode and self.graph_width() != self._graph_fit:
            self.build_graph(self._generation, self.shown, self.graph_width())

    def action_toggle_tree(self) -> None:
        if not self.check_action("toggle_tree", ()):
            return
        self.table.tree_view = not self.table.tree_view
        self.table.show(self.shown, self.all_tasks, keep=self.table.selected_id)
        self._update_summary()

    def action_toggle_graph(self) -> None:
        keep = self.selected.id if self.selected else None
        self.graph_mode = not self.graph_mode
        self.set_class(self.graph_mode, "-graph")
        if self.graph_mode:
            self.graph.selected = keep
            self.build_graph(self._generation, self.shown, self.graph_width())
        elif keep in self.table.order:
            self.table.move_cursor(row=self.table.order.index(keep), animate=False)
        self.focus_default()
        self._update_summary()

    @work(thread=True, exclusive=True, group="tasks-graph", exit_on_error=False)
    def build_graph(self, generation: int, tasks: list[Task], width: int | None = None) -> None:
        from magray_tui.todo.graph_layout import layout

        started = time.perf_counter()
        self._graph_fit = width
        with self.env.jobs.track("drawing the graph"):
            tasks = tasks[:GRAPH_LIMIT]
            nodes = [(t.id, one_line(f"{t.glyph} {t.id} {t.title}")) for t in tasks]
            edges = [(dep, t.id) for t in tasks for dep in t.deps]
            graph = layout(nodes, edges, box_width=GRAPH_BOX_WIDTH, fit_width=width)
        if not get_current_worker().is_cancelled:
            self.post_message(self.GraphReady(generation, graph, time.perf_counter() - started))

    def on_tasks_pane_graph_ready(self, message: GraphReady) -> None:
        if message.generation != self._generation or not self.graph_mode:
            return
        self.last_graph_s = message.seconds
        selected = self.graph.selected or (self.shown[0].id if self.shown else None)
        self.graph.show_graph(message.graph, selected)
        self.show_selected()
        cut = len(self.shown) - len(message.graph.boxes)
        note = f" · first {len(message.graph.boxes)} drawn (filter to see the rest)" if cut else ""
        self._update_summary(note or " · lit: what it needs and what needs it")

    @on(TaskGraph.Selected)
    def graph_selected(self, event: TaskGraph.Selected) -> None:
        if event.task_id in self.table.order:
            self.table.move_cursor(row=self.table.order.index(event.task_id), animate=False)
        self.show_selected()

    # ---- failures ------------------------------------------------------------------------
    def worker_error_handled(self, group: str, error: BaseException) -> bool:
        if isinstance(error, TaskError):  # the user's mistake: say it, nothing more
            self.notify(str(error), title="Not done", severity="warning", markup=False)
            return True
        return False

    def worker_failed(self, group: str, message: str) -> None:
        if group == "tasks-load":
            self.query_one("#tasks-summary", Static).update(message)
