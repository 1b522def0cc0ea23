"""The "Agents" screen: the MCP clients that used this home (`magray mcp`), their last calls
and what they wrote in the last hour, with "forget everything <client> wrote in the last
hour" (tombstones, undoable with `u`). Data: `magray_tui.mcp.activity`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from magray_tui.terminal_text import one_line
from magray_tui.tui.errors import report_failure
from magray_tui.tui.screens.confirm_action import ConfirmAction

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.mcp.activity import AgentRow

WINDOW = timedelta(hours=1)
COLUMNS = ("client", "last seen", "calls", "failed", "wrote (1 h)")


def _n(count: int) -> str:
    return f"{count:,} memor{'y' if count == 1 else 'ies'}"


class AgentsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "forget_recent", "Forget its last hour", id="agents.forget"),
        Binding("u", "undo", "Undo the forget", id="agents.undo"),
        Binding("r", "reload", "Reload", id="agents.reload"),
        Binding("escape", "close", "Close", id="agents.close"),
    ]
    DEFAULT_CSS = """
    AgentsScreen { align: center middle; }
    AgentsScreen > Vertical {
        width: 95%; max-width: 150; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    AgentsScreen #agents-title { text-style: bold; margin-bottom: 1; }
    AgentsScreen DataTable { height: auto; max-height: 12; }
    AgentsScreen #agents-detail-box { height: 1fr; background: $panel; margin-top: 1; }
    AgentsScreen #agents-help { color: $text-muted; }
    """

    class Loaded(Message):
        def __init__(self, rows: list[AgentRow]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(
        self, settings: Settings, memory: Callable[[], Any], clock: Callable[[], datetime]
    ) -> None:
        super().__init__()
        self.settings = settings
        self.memory = memory  # the open MemoryService, or None while it opens
        self.clock = clock
        self.rows: list[AgentRow] = []
        self.undo_ids: list[str] = []
        self.undo_client = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Agents: MCP clients of this home", id="agents-title", markup=False)
            yield DataTable(cursor_type="row", id="agents-table")
            with VerticalScroll(id="agents-detail-box"):
                yield Static("", id="agents-detail", markup=False)
            yield Static(
                "f forgets everything the selected client wrote in the last hour (undo: u) · "
                "r reloads · Esc closes",
                id="agents-help",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="agents-load", exit_on_error=False)
    def load(self) -> None:
        from magray_tui.mcp import activity

        try:
            entries = activity.read(activity.log_path(self.settings))
            rows = activity.overview(self.memory(), entries, now=self.clock(), within=WINDOW)
        except Exception as exc:
            self.app.call_from_thread(
                report_failure, self, "Loading agents", exc, self.settings.paths.log_file
            )
            return
        self.post_message(self.Loaded(rows))

    def on_agents_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        self.rows = message.rows
        table.clear()
        for row in self.rows:
            act = row.activity
            table.add_row(
                Text(one_line(row.client, 40)),
                Text(act.last_seen[:19].replace("T", " ") or "-"),
                Text(f"{act.calls:,}", justify="right"),
                Text(f"{act.failed:,}", justify="right"),
                Text(f"{len(row.recent):,}", justify="right"),
                key=row.client,
            )
        if not self.rows:
            table.add_row(Text("No MCP client has used this home yet."), "", "", "", "")
        elif 0 <= keep < len(self.rows):
            table.move_cursor(row=keep)
        self.show_detail()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    @property
    def selected(self) -> AgentRow | None:
        row = self.query_one(DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def show_detail(self) -> None:
        row = self.selected
        detail = self.query_one("#agents-detail", Static)
        if row is None:
            detail.update("")
            return
        lines = [f"Last calls of {row.client}:"]
        for call in row.activity.last_calls[:10]:
            when = str(call.get("ts", ""))[:19].replace("T", " ")
            what = "ok" if call.get("ok") else f"refused/failed: {call.get('error', '')}"
            target = f" {call['id']}" if call.get("id") else ""
            lines.append(one_line(f"  {when}  {call.get('tool', '?')}{target}  {what}", 140))
        if not row.activity.last_calls:
            lines.append("  (none in the activity log)")
        lines += ["", f"Memories it wrote in the last hour ({len(row.recent)}):"]
        for record in row.recent[:30]:
            lines.append(one_line(f"  {record.id}  [{record.layer.value}]  {record.text}", 140))
        detail.update(Text("\n".join(lines)))

    def action_forget_recent(self) -> None:
        row = self.selected
        if row is None or not row.recent:
            self.notify("Nothing written by this client in the last hour.", markup=False)
            return
        client, count = row.client, len(row.recent)

        def answered(yes: bool | None) -> None:
            if yes:
                self.forget(client)

        self.app.push_screen(
            ConfirmAction(
                f"Forget everything {client} wrote in the last hour?",
                f"{count} memor{'y moves' if count == 1 else 'ies move'} to the tombstones "
                "(restorable: u here, or `magray memory restore ID`).",
                approve="Forget (y)",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="agents-change", exit_on_error=False)
    def forget(self, client: str) -> None:
        from magray_tui.mcp import activity

        try:
            ids = activity.forget_written(self.memory(), client, within=WINDOW, now=self.clock())
        except Exception as exc:
            self.app.call_from_thread(
                report_failure, self, "Forgetting", exc, self.settings.paths.log_file
            )
            return
        self.undo_ids, self.undo_client = ids, client
        self.app.call_from_thread(
            self.notify, f"Forgot {_n(len(ids))} written by {client}. u undoes it.",
            markup=False,
        )  # fmt: skip
        self.app.call_from_thread(self.load)

    def action_undo(self) -> None:
        if not self.undo_ids:
            self.notify("Nothing to undo here.", markup=False)
            return
        ids, self.undo_ids = self.undo_ids, []
        self.restore(ids)

    @work(thread=True, exclusive=True, group="agents-change", exit_on_error=False)
    def restore(self, ids: list[str]) -> None:
        from magray_tui.mcp import activity

        try:
            n = activity.restore(self.memory(), ids)
        except Exception as exc:
            self.app.call_from_thread(
                report_failure, self, "Restoring", exc, self.settings.paths.log_file
            )
            return
        self.app.call_from_thread(self.notify, f"Restored {_n(n)}.", markup=False)
        self.app.call_from_thread(self.load)

    def action_close(self) -> None:
        self.dismiss(None)
