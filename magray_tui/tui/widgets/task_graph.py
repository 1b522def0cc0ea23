"""The Tasks pane's graph view: the DAG drawn by `todo.graph_layout`, scrollable both
ways, with the selected task, what it waits for and what waits for it in theme colours.

It draws only the visible lines (Textual's line API), so a graph of thousands of tasks
scrolls as fast as a small one; the layout itself is computed in a worker by the pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from magray_tui.todo.graph_layout import related

if TYPE_CHECKING:
    from magray_tui.todo.graph_layout import GraphLayout


class TaskGraph(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "step(1)", "Next task", show=False, id="tasks.graph_next"),
        Binding("k,up", "step(-1)", "Previous task", show=False, id="tasks.graph_prev"),
        Binding("h,left", "scroll_left", "Scroll left", show=False, id="tasks.graph_left"),
        Binding("l,right", "scroll_right", "Scroll right", show=False, id="tasks.graph_right"),
    ]
    DEFAULT_CSS = """
    TaskGraph { height: 1fr; background: $surface; }
    """

    class Selected(Message):
        """The user moved the selection in the graph (keys or a click)."""

        def __init__(self, task_id: str) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.graph: GraphLayout | None = None
        self.selected: str | None = None
        self.upstream: set[str] = set()
        self.downstream: set[str] = set()
        self._lit_edges: set[int] = set()
        self._order: list[str] = []  # for j/k: by column, then top to bottom
        self._style_cache: tuple[object, dict[str, Style]] | None = None  # per theme

    def show_graph(self, graph: GraphLayout, selected: str | None) -> None:
        self.graph = graph
        self._order = [n for layer in graph.layers for n in layer]
        self.virtual_size = Size(graph.width, graph.height)
        self.select(selected if selected in graph.boxes else None)

    def select(self, task_id: str | None, *, scroll: bool = True) -> None:
        self.selected = task_id
        graph = self.graph
        if graph is None or task_id is None:
            self.upstream, self.downstream, self._lit_edges = set(), set(), set()
        else:
            self.upstream, self.downstream = related(graph.edges, task_id)
            up, down = self.upstream | {task_id}, self.downstream | {task_id}
            self._lit_edges = {
                n
                for n, (a, b) in enumerate(graph.edges)
                if (a in up and b in up) or (a in down and b in down)
            }
            if scroll:
                box = graph.boxes[task_id]
                region = Region(box.x, box.y, box.width, box.height)
                self.scroll_to_region(region, animate=False, spacing=None, force=True)
        self.refresh()

    def action_step(self, delta: int) -> None:
        if not self._order:
            return
        at = self._order.index(self.selected) if self.selected in self._order else -delta
        nxt = self._order[max(0, min(len(self._order) - 1, at + delta))]
        self.select(nxt)
        self.post_message(self.Selected(nxt))

    def on_click(self, event: Click) -> None:
        if self.graph is None:
            return
        x, y = event.x + int(self.scroll_x), event.y + int(self.scroll_y)
        node = self.graph.box_at(x, y)
        if node is not None:
            self.select(node, scroll=False)
            self.post_message(self.Selected(node))

    # ---- drawing -------------------------------------------------------------------------
    def _styles(self) -> dict[str, Style]:
        key = (self.app.theme, self.rich_style)
        if self._style_cache is None or self._style_cache[0] != key:
            self._style_cache = (key, self._make_styles())
        return self._style_cache[1]

    def _make_styles(self) -> dict[str, Style]:
        colors = self.app.theme_variables
        base = self.rich_style

        def style(name: str, bold: bool = False) -> Style:
            return base + Style.parse(colors.get(name, "default")) + Style(bold=bold)

        return {
            "box": base,
            "edge": base + Style(dim=True),
            "selected": style("accent", bold=True),
            "ancestor": style("warning"),
            "descendant": style("success"),
            "lit": style("primary", bold=True),
        }

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = y + scroll_y
        width = self.scrollable_content_region.width
        graph = self.graph
        if graph is None or row >= graph.height:
            return Strip.blank(width, self.rich_style)
        styles = self._styles()
        line = graph.lines[row]
        kinds = ["box"] * len(line)
        for x, edges in graph.edge_cells.get(row, {}).items():
            kinds[x] = "lit" if edges & self._lit_edges else "edge"
        for box in graph.row_boxes.get(row, ()):
            kind = self._box_kind(box.node)
            if kind != "box":
                kinds[box.x : box.x + box.width] = [kind] * box.width
        segments = []
        start = 0
        for x in range(1, len(line) + 1):
            if x == len(line) or kinds[x] != kinds[start]:
                segments.append(Segment(line[start:x], styles[kinds[start]]))
                start = x
        strip = Strip(segments, len(line))
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _box_kind(self, node: str) -> str:
        if node == self.selected:
            return "selected"
        if node in self.upstream:
            return "ancestor"
        if node in self.downstream:
            return "descendant"
        return "box"
