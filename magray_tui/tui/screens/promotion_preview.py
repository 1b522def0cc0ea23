"""What a promotion cycle would do (a dry run), in a modal table; nothing is changed.

Record text is user content: every cell is a plain `Text`, never parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from magray_tui.terminal_text import for_terminal, one_line
from magray_tui.tui.formatting import cycle_counts, snippet

if TYPE_CHECKING:
    from magray_tui.memory.lifecycle import Action, CycleReport

COLUMNS = ("record", "memory", "action", "from→to", "score", "reason")
SHOWN_LIMIT = 500


class PromotionPreview(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="preview.close"),
    ]
    DEFAULT_CSS = """
    PromotionPreview { align: center middle; }
    PromotionPreview > Vertical {
        width: 95%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PromotionPreview #preview-title { text-style: bold; }
    PromotionPreview #preview-policy { color: $text-muted; }
    PromotionPreview DataTable { height: 1fr; margin-top: 1; }
    PromotionPreview #preview-empty { height: 1fr; margin-top: 1; }
    PromotionPreview #preview-detail {
        height: auto; max-height: 8; margin-top: 1; padding: 0 1; background: $panel;
    }
    PromotionPreview #preview-help { color: $text-muted; }
    """

    def __init__(self, report: CycleReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        report = self.report
        counts = cycle_counts(report.counts())
        shown = len(report.actions)
        more = f" (first {SHOWN_LIMIT} shown)" if shown > SHOWN_LIMIT else ""
        with Vertical():
            yield Static(
                f"Promotion cycle preview (dry run): {counts} among {report.considered:,} "
                f"memories{more}. Nothing was changed.",
                id="preview-title",
                markup=False,
            )
            yield Static(
                f"{report.policy} policy — {report.policy_why}", id="preview-policy", markup=False
            )
            if report.actions:
                yield DataTable(cursor_type="row", zebra_stripes=True, id="preview-actions")
                yield Static(id="preview-detail", markup=False)
            else:
                yield Static(_nothing_to_do(report), id="preview-empty")
            yield Static(
                'Esc closes · palette "Run promotion cycle" applies a cycle now',
                id="preview-help",
                markup=False,
            )

    def on_mount(self) -> None:
        if not self.report.actions:
            return
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        for n, action in enumerate(self.report.actions[:SHOWN_LIMIT]):
            table.add_row(*_cells(action), key=str(n))
        table.focus()

    @on(DataTable.RowHighlighted)
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted action in full: its memory's text and the reason."""
        a = self.report.actions[int(event.row_key.value or 0)]
        detail = Text()
        detail.append(f"{a.record_id} · {_cells(a)[2]}\n", style="bold")
        detail.append(for_terminal(f"{a.text}\nwhy: {a.reason}"))
        self.query_one("#preview-detail", Static).update(detail)


def _cells(a: Action) -> tuple[Text, ...]:
    if a.action == "merge":
        what, move = f"merge into {a.merge_into}", f"{a.from_layer}→{a.to_layer}"
    elif a.action == "expire":
        what, move = "expire", f"{a.from_layer}→tombstone"
    elif a.action == "supersede" and a.supersede:
        other = a.supersede["older"] if a.supersede["newer"] == a.record_id else None
        what = f"supersede {other}" if other else f"superseded by {a.supersede['newer']}"
        move = f"{a.from_layer}→{a.to_layer}"
    else:
        what, move = a.action, f"{a.from_layer}→{a.to_layer}"
    return (
        Text(snippet(a.record_id, 40)),
        Text(snippet(a.text or "", 36)),
        Text(what),
        Text(move),
        Text(f"{a.score:.2f}", justify="right"),
        Text(snippet(a.reason, 60)),
    )


def _nothing_to_do(report: CycleReport) -> Text:
    """The empty preview names the memories nearest to moving and what holds them back."""
    text = Text("Nothing to promote, merge, supersede or expire right now.")
    if report.nearest:
        text.append("\n\nNearest to moving (score / threshold · what holds it back):\n")
        for c in report.nearest:
            text.append(f"\n{c.record_id}  {c.layer} → {c.to_layer}  ", style="bold")
            text.append(f"{c.score:.2f} / {c.threshold:.2f} · {c.blocked_by}  ")
            text.append(one_line(c.text, 60), style="dim")
    return text
