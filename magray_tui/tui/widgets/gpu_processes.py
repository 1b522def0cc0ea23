"""The processes on the GPUs, sortable (key or header click); magray's own is marked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from magray_tui.monitor.gpu import GpuState
    from magray_tui.monitor.gpu_source import GpuProcess


@dataclass(frozen=True)
class ProcRow:
    gpu: int
    proc: GpuProcess

    @property
    def key(self) -> str:
        return f"{self.gpu}:{self.proc.pid}"


# column key -> (title, sort key, biggest first?)
COLUMNS: dict[str, tuple[str, Callable[[ProcRow], Any], bool]] = {
    "vram": ("VRAM", lambda r: r.proc.vram_bytes or -1, True),
    "pid": ("PID", lambda r: r.proc.pid, False),
    "name": ("Process", lambda r: r.proc.name.lower(), False),
    "gpu": ("GPU", lambda r: (r.gpu, -(r.proc.vram_bytes or -1)), False),
    "kind": ("Kind", lambda r: r.proc.kind, False),
}
SORT_ORDER = tuple(COLUMNS)


class GpuProcessTable(DataTable):
    DEFAULT_CSS = "GpuProcessTable { height: auto; max-height: 16; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.sort_by = "vram"
        self.reverse = False
        self.rows_shown: list[ProcRow] = []

    def on_mount(self) -> None:
        for key in ("gpu", "pid", "name", "kind", "vram"):
            self.add_column(COLUMNS[key][0], key=key)

    def show(self, gpus: Sequence[GpuState]) -> None:
        rows = [ProcRow(g.reading.index, p) for g in gpus for p in g.reading.processes]
        _, key, biggest_first = COLUMNS[self.sort_by]
        rows.sort(key=key, reverse=biggest_first != self.reverse)
        selected = self.rows_shown[self.cursor_row].key if self._has_cursor() else None
        self.rows_shown = rows
        for column in COLUMNS:  # before clear(): it drops the cached header too
            self.columns[_key(self, column)].label = Text(self._title(column))
        self.clear()
        for row in rows:
            p = row.proc
            mark = "bold" if p.is_self else ""
            name = Text(("★ " if p.is_self else "  ") + p.name, style=mark)
            if p.is_self:
                name.append("  (magray)", style="italic")
            vram = "N/A" if p.vram_bytes is None else f"{p.vram_bytes / 1024**2:,.0f} MiB"
            cells = (str(row.gpu), str(p.pid), name, p.kind, vram)
            self.add_row(
                *(c if isinstance(c, Text) else Text(c, style=mark) for c in cells), key=row.key
            )
        keys = [r.key for r in rows]
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)

    def _has_cursor(self) -> bool:
        return bool(self.rows_shown) and 0 <= self.cursor_row < len(self.rows_shown)

    def _title(self, column: str) -> str:
        title = COLUMNS[column][0]
        if column != self.sort_by:
            return title
        down = COLUMNS[column][2] != self.reverse
        return f"{title} {'▼' if down else '▲'}"

    def sort_on(self, column: str) -> None:
        """Sort by `column`; the same column again reverses the order."""
        if column == self.sort_by:
            self.reverse = not self.reverse
        else:
            self.sort_by, self.reverse = column, False

    def next_sort(self) -> str:
        self.sort_on(SORT_ORDER[(SORT_ORDER.index(self.sort_by) + 1) % len(SORT_ORDER)])
        return self.sort_by


def _key(table: DataTable, column: str) -> Any:
    return next(k for k in table.columns if k.value == column)
