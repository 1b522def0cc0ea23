"""The Health pane: a check per component, and the latencies the services measure.

Checks run in a thread worker every `REFRESH_S` while the pane is shown (and every
`BACKGROUND_S` while hidden, so a component that changes state still raises a toast).
The LLM provider is asked only when the user presses `l`: it is a network call, or loads
the offline model. The live metrics come from the process-wide registry the services
record into (`magray_tui.monitor.metrics`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from magray_tui.tui.panes.base import PaletteCommand, Pane, PaneEnv
from magray_tui.tui.panes.health_view import (
    CHECK_COLUMNS,
    LATENCY_COLUMNS,
    check_cells,
    detail_text,
    latency_cells,
    stats_text,
    summary_text,
)

if TYPE_CHECKING:
    from magray_tui.monitor.health import CheckResult, HealthReport
    from magray_tui.monitor.health_live import LiveMetrics
    from magray_tui.tui.backend import Backend

REFRESH_S = 2.0
BACKGROUND_S = 30.0
MESSAGE_MARGIN = 34  # glyph, component and status columns with their padding, + scrollbar
SEVERITY = {"failing": "error", "degraded": "warning", "ok": "information"}


class HealthPane(Pane):
    PANE_ID = "health"
    TITLE = "Health"
    SUMMARY = (
        "A check per component (database, indexes, embedder, LLM, GPU, disk, RAM) and the "
        "latencies the services measure. Refreshes while shown; a change of state raises a "
        "toast. The LLM provider is checked only when you ask (l)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="health.refresh"),
        Binding("l", "check_llm", "LLM check", id="health.llm_check"),
    ]
    can_focus = True
    DEFAULT_CSS = """
    HealthPane #health-summary { height: 1; padding: 0 1; }
    HealthPane #health-top { height: auto; }
    HealthPane #health-checks { width: 3fr; height: auto; }
    HealthPane #health-detail { width: 2fr; height: auto; min-height: 10; padding: 0 1;
        background: $surface; }
    HealthPane .health-heading { color: $primary; text-style: bold; padding: 0 1;
        margin-top: 1; }
    HealthPane #health-latency { height: auto; }
    HealthPane #health-stats { padding: 0 1; margin-bottom: 1; }
    .-narrow HealthPane #health-top { layout: vertical; }
    .-narrow HealthPane #health-checks, .-narrow HealthPane #health-detail { width: 1fr; }
    """

    class Refreshed(Message):
        def __init__(self, report: HealthReport, live: LiveMetrics) -> None:
            super().__init__()
            self.report, self.live = report, live

    class LlmChecked(Message):
        def __init__(self, result: CheckResult) -> None:
            super().__init__()
            self.result = result

    # Until the first report (the checks run even when the services failed to open).
    LOADING_NOTICE = "Waiting for the services to open…"
    WORKER_NAMES: ClassVar[dict[str, str]] = {
        "health-refresh": "Health check",
        "health-llm": "LLM check",
    }
    WORKER_DEFAULT = "Health"

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(env)
        self.report: HealthReport | None = None
        self.live: LiveMetrics | None = None
        self.refreshes = 0  # reports shown so far (tests wait on it)
        self._failure: str | None = None  # why the services did not open
        self._llm: CheckResult | None = None  # the last on-demand LLM check
        self._llm_running = False
        self._refreshing = False
        self._last_refresh = float("-inf")
        self._message_width = 0

    def compose(self) -> ComposeResult:
        yield self.notice()
        with VerticalScroll(id="health-main", classes="pane-main"):
            yield Static(id="health-summary", markup=False)
            with Horizontal(id="health-top"):
                yield DataTable(id="health-checks", cursor_type="row", zebra_stripes=True)
                yield Static(id="health-detail", markup=False)
            yield Static("Latency (this process)", classes="health-heading", markup=False)
            yield DataTable(id="health-latency", cursor_type="none", zebra_stripes=True)
            yield Static("Activity", classes="health-heading", markup=False)
            yield Static(id="health-stats", markup=False)

    def on_mount(self) -> None:
        for name in LATENCY_COLUMNS:
            self.query_one("#health-latency", DataTable).add_column(name, key=name)
        self.set_interval(REFRESH_S, self._tick, name="health-refresh")
        if self.backend is not None or self._failure is not None:
            self.refresh_now()

    @property
    def checks_table(self) -> DataTable:
        return self.query_one("#health-checks", DataTable)

    # ---- services ------------------------------------------------------------------------
    def attach_backend(self, backend: Backend) -> None:
        super().attach_backend(backend)
        if self.is_mounted:
            self.refresh_now()

    def backend_failed(self, message: str) -> None:
        # The checks still run: the database row says why, disk/RAM/GPU are still useful.
        self._failure = message
        if self.is_mounted:
            self.refresh_now()

    def focus_default(self) -> None:
        if not self.has_class("-loading"):
            self.focus_now(self.checks_table)
        else:
            self.focus_now(self)

    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand(
                "Health: check the LLM provider",
                "Ask the configured provider whether it answers",
                self.action_check_llm,
            )
        ]
        if self.backend is not None or self._failure is not None:
            commands.append(
                PaletteCommand("Health: refresh checks", "Run every check now", self.action_refresh)
            )
        return commands

    # ---- refreshing ----------------------------------------------------------------------
    @property
    def shown(self) -> bool:
        return getattr(self.app, "active_pane_id", None) == self.PANE_ID

    def _tick(self) -> None:
        due = self.shown or time.monotonic() - self._last_refresh >= BACKGROUND_S
        if due:
            self.refresh_now()

    def on_show(self) -> None:
        if time.monotonic() - self._last_refresh >= REFRESH_S / 2:
            self.refresh_now()

    def refresh_now(self) -> None:
        if self._refreshing or (self.backend is None and self._failure is None):
            return
        self._refreshing = True
        self._last_refresh = time.monotonic()
        self.run_refresh(self.backend, self._failure)

    @work(thread=True, exclusive=True, group="health-refresh", exit_on_error=False)
    def run_refresh(self, backend: Backend | None, failure: str | None) -> None:
        from magray_tui.monitor.health import run_checks
        from magray_tui.monitor.health_live import collect_live, counts_of

        try:
            services = backend.services if backend is not None else None
            report = run_checks(
                self.env.settings, services, memory_error=failure, clock=self.env.clock
            )
            memory = backend.memory if backend is not None else None
            live = collect_live(memory, counts=counts_of(report))
        finally:
            self._refreshing = False
        self.post_message(self.Refreshed(report, live))

    def on_health_pane_refreshed(self, message: Refreshed) -> None:
        from magray_tui.monitor.health import skipped

        report = message.report
        if self._llm_running:
            report = report.with_check(skipped("llm", "checking…"))
        elif self._llm is not None:
            report = report.with_check(self._llm)
        previous, self.report, self.live = self.report, report, message.live
        self._draw()
        self.refreshes += 1
        if previous is not None:
            for old, new in report.changes_since(previous):
                self._alert(old, new)

    def _alert(self, old: CheckResult, new: CheckResult) -> None:
        self.notify(
            f"{old.status.value} → {new.status.value}: {new.message}",
            title=new.title,
            severity=SEVERITY.get(new.status.value, "information"),  # type: ignore[arg-type]
            timeout=8,
            markup=False,
        )

    # ---- drawing -------------------------------------------------------------------------
    def _draw(self) -> None:
        report, live = self.report, self.live
        if report is None:
            return
        first = self.has_class("-loading")
        self.show_ready()
        colors = self.app.theme_variables
        self.query_one("#health-summary", Static).update(summary_text(report, colors, REFRESH_S))
        table = self.checks_table
        width = max(table.size.width - MESSAGE_MARGIN, 20)
        keys = [c.name for c in report.checks]
        if [str(k.value) for k in table.rows] != keys or width != self._message_width:
            # New rows or a new width (columns only grow): rebuild, keeping the cursor.
            row = table.cursor_row
            table.clear(columns=True)
            for name in CHECK_COLUMNS:
                table.add_column(name, key=name or "glyph")
            for check in report.checks:
                table.add_row(*check_cells(check, colors, width), key=check.name)
            table.move_cursor(row=min(max(row, 0), len(keys) - 1))
        else:  # in place: no flicker, the cursor stays
            for check in report.checks:
                cells = check_cells(check, colors, width)
                for column, cell in zip(table.columns, cells, strict=True):
                    table.update_cell(check.name, column, cell)
        self._message_width = width
        self._show_detail()
        latency = self.query_one("#health-latency", DataTable)
        latency.clear()
        if live is not None:
            for name, stats in live.latency_rows():
                latency.add_row(*latency_cells(name, stats), key=name)
            self.query_one("#health-stats", Static).update(stats_text(live))
        if first:
            # The table had no width while hidden: cut the messages again once laid out.
            self.call_after_refresh(self._redraw_if_resized)
            if self.shown:
                self.focus_default()

    def on_resize(self) -> None:
        self.call_after_refresh(self._redraw_if_resized)

    def _redraw_if_resized(self) -> None:
        # The message column takes the width there is: redraw when that changes.
        width = max(self.checks_table.size.width - MESSAGE_MARGIN, 20)
        if (
            self.report is not None
            and self.checks_table.size.width
            and width != self._message_width
        ):
            self._draw()

    @on(DataTable.RowHighlighted, "#health-checks")
    def _show_detail(self) -> None:
        table = self.checks_table
        check = None
        if self.report is not None and 0 <= table.cursor_row < len(self.report.checks):
            check = self.report.checks[table.cursor_row]
        self.query_one("#health-detail", Static).update(detail_text(check))

    # ---- actions -------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.refresh_now()

    def action_check_llm(self) -> None:
        from magray_tui.monitor.health import skipped

        if self._llm_running:
            return
        self._llm_running = True
        if self.report is not None:
            self.report = self.report.with_check(skipped("llm", "checking…"))
            self._draw()
        self.run_llm_check()

    @work(thread=True, exclusive=True, group="health-llm", exit_on_error=False)
    def run_llm_check(self) -> None:
        from magray_tui.monitor.health import guarded
        from magray_tui.monitor.health_system import check_llm

        try:
            with self.env.jobs.track("checking the LLM provider"):
                services = self.backend.services if self.backend is not None else None
                result = guarded("llm", lambda: check_llm(self.env.settings, services))
        finally:
            self._llm_running = False
        self.post_message(self.LlmChecked(result))

    def on_health_pane_llm_checked(self, message: LlmChecked) -> None:
        result = message.result
        self._llm = result
        if self.report is not None:
            self.report = self.report.with_check(result)
            self._draw()
        self.notify(
            f"{result.status.value}: {result.message}",
            title="LLM provider",
            severity=SEVERITY.get(result.status.value, "information"),  # type: ignore[arg-type]
            markup=False,
        )
