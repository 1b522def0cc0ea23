"""The result list of the memory browser: one row per record, keyed by record id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable

from magray_tui.terminal_text import one_line
from magray_tui.tui.formatting import age, match_cell, snippet

if TYPE_CHECKING:
    from magray_tui.memory import Record

COLUMNS = ("layer", "by", "memory", "match", "age", "reads")
# Fixed widths (the memory column takes the rest): a column sized from its cells was
# sometimes sized from its label alone when rows were replaced right after start
# (`inter`, `Who ow`), and fixed columns keep match/age/reads in place as rows change.
# "by": the author ("mcp:claude-code" is cut; the detail shows it whole).
WIDTHS = {"layer": 8, "by": 10, "match": 8, "age": 4, "reads": 5}
CELL_PADDING = 2  # DataTable pads each cell by one on both sides
# The author column is shown where the memory column keeps this many cells (80 columns:
# yes; the wide layout's 3/5 from 110 to ~130 columns: no); the detail always shows it.
MIN_SNIPPET_WITH_BY = 28
LAYER_COLORS = {"interact": "secondary", "insights": "primary", "assets": "accent"}


@dataclass
class ResultRow:
    record: Record
    score: float | None = None
    parts: dict[str, Any] = field(default_factory=dict)


class RecordTable(DataTable):
    DEFAULT_CSS = """
    RecordTable { height: 1fr; }
    """

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.clock = clock
        self.rows_by_id: dict[str, ResultRow] = {}
        self._order: list[str] = []
        self._drawn: tuple[tuple[str, ...], int] = ((), 0)
        self._ages: dict[str, str] = {}  # as drawn, so a tick only touches what changed

    def on_mount(self) -> None:
        self._add_columns(*self._layout())

    def _add_columns(self, columns: tuple[str, ...], snippet_width: int) -> None:
        for name in columns:
            self.add_column(name, key=name, width=WIDTHS.get(name, snippet_width))

    def on_resize(self) -> None:
        # The snippet column takes the width there is: redraw when it changes.
        if self._order and self._layout() != self._drawn:
            selected = self.selected
            self.show_rows(list(self.rows_by_id.values()), selected.record.id if selected else None)

    def _layout(self) -> tuple[tuple[str, ...], int]:
        """The columns shown and the memory column's width."""

        def room(columns: tuple[str, ...]) -> int:
            fixed = sum(WIDTHS.get(c, 0) for c in columns) + CELL_PADDING * len(columns) + 2
            return self.size.width - fixed  # the 2: the scrollbar

        if room(COLUMNS) >= MIN_SNIPPET_WITH_BY:
            return COLUMNS, room(COLUMNS)
        narrow = tuple(c for c in COLUMNS if c != "by")
        return narrow, max(room(narrow), 20)

    @property
    def selected(self) -> ResultRow | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self.rows_by_id.get(self._order[self.cursor_row])

    def neighbour_of(self, record_id: str) -> str | None:
        """The id of the row after `record_id` (or before it, at the end)."""
        if record_id not in self._order:
            return None
        i = self._order.index(record_id)
        if i + 1 < len(self._order):
            return self._order[i + 1]
        return self._order[i - 1] if i > 0 else None

    def show_rows(self, rows: Sequence[ResultRow], keep: str | None = None) -> None:
        """Replace the rows; the cursor goes to `keep` (a record id) if shown, else the top."""
        # Columns too: a column keeps the width of its widest cell ever, so after the
        # terminal shrinks, old wide snippets would push score, age and reads off screen.
        self.clear(columns=True)
        columns, width = self._drawn = self._layout()
        self._add_columns(columns, width)
        self.rows_by_id = {r.record.id: r for r in rows}
        self._order = [r.record.id for r in rows]
        now = self.clock()
        colors = self.app.theme_variables
        self._ages = {}
        for row in rows:
            rec = row.record
            layer = rec.layer.value
            self._ages[rec.id] = shown_age = age(rec.created_at, now)
            cells = {
                "layer": Text(layer, style=colors.get(LAYER_COLORS.get(layer, ""), "")),
                "by": author_cell(rec, colors.get("warning", "")),
                "memory": _memory_cell(rec, width, colors.get("warning", "")),
                "match": Text(match_cell(row.parts), justify="right"),
                "age": Text(shown_age, justify="right"),
                "reads": Text(str(rec.access_count), justify="right"),
            }
            self.add_row(*(cells[name] for name in columns), key=rec.id)
        if keep in self.rows_by_id:
            self.move_cursor(row=self._order.index(keep))

    def refresh_ages(self) -> int:
        """Redraw the age column against the clock (no query); returns the cells changed."""
        now = self.clock()
        changed = 0
        for record_id in self._order:
            shown = age(self.rows_by_id[record_id].record.created_at, now)
            if self._ages.get(record_id) != shown:
                self._ages[record_id] = shown
                self.update_cell(record_id, "age", Text(shown, justify="right"))
                changed += 1
        return changed


def _memory_cell(rec: Record, width: int, mark_style: str) -> Text:
    """The snippet; a superseded record's starts with a mark (its successor ranks above)."""
    if not getattr(rec, "superseded_by", None):
        return Text(snippet(rec.text, width))
    mark = "superseded · "
    return Text.assemble((mark, mark_style), snippet(rec.text, max(width - len(mark), 10)))


def author_cell(rec: Record, warning: str) -> Text:
    """Who wrote it; model text nobody confirmed is marked `?` (it grounds no answer)."""
    author = getattr(rec, "author", "user")
    if getattr(rec, "needs_confirmation", False):
        return Text(one_line(author, WIDTHS["by"] - 1) + "?", style=f"italic {warning}".strip())
    return Text(one_line(author, WIDTHS["by"]))
