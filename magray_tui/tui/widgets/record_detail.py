"""The detail panel of the memory browser: full text, fields, why it matched, the versions
of a fact that changed (what supersedes it, what it supersedes), history.

Record text is user or model content: it is always shown as plain `Text`, never parsed
as markup, so `[bold]` or `[link]` in a memory shows as typed, and its control characters
are made visible (`for_terminal`) so an escape sequence in a memory cannot reach the terminal.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from magray_tui.terminal_text import for_terminal
from magray_tui.tui.formatting import score_lines, snippet, when

if TYPE_CHECKING:
    from magray_tui.tui.widgets.record_table import ResultRow


class RecordDetail(VerticalScroll):
    DEFAULT_CSS = """
    RecordDetail { padding: 0 1; background: $surface; }
    RecordDetail .detail-heading { color: $primary; text-style: bold; margin-top: 1; }
    RecordDetail #detail-title { color: $text-muted; }
    RecordDetail #detail-text { margin-top: 1; }
    RecordDetail.-empty .detail-heading { display: none; }
    RecordDetail.-one-version .versions { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title", markup=False)
        yield Static(id="detail-text", markup=False)
        yield Static("Fields", classes="detail-heading", markup=False)
        yield Static(id="detail-fields", markup=False)
        yield Static("Why it matched", classes="detail-heading", markup=False)
        yield Static(id="detail-score", markup=False)
        yield Static("Versions", classes="detail-heading versions", markup=False)
        yield Static(id="detail-chain", classes="versions", markup=False)
        yield Static("History", classes="detail-heading", markup=False)
        yield Static(id="detail-history", markup=False)

    def on_mount(self) -> None:
        self.show_row(None)

    def show_row(self, row: ResultRow | None) -> None:
        title = self.query_one("#detail-title", Static)
        body = self.query_one("#detail-text", Static)
        self.set_class(row is None, "-empty")
        if row is None:
            title.update(Text("No memory selected."))
            for name in ("text", "fields", "score", "chain", "history"):
                self.query_one(f"#detail-{name}", Static).update(Text(""))
            return
        rec = row.record
        kind = f"{rec.layer.value} · {rec.kind}" + (
            " · forgotten" if rec.state == "forgotten" else ""
        )
        if getattr(rec, "superseded_by", None):
            kind += " · superseded"
        title.update(Text(for_terminal(f"{rec.id}  {kind}", multiline=False)))
        body.update(Text(for_terminal(rec.text)))
        fields = "\n".join(for_terminal(line, multiline=False) for line in _field_lines(rec))
        self.query_one("#detail-fields", Static).update(Text(fields))
        self.query_one("#detail-score", Static).update(
            Text("\n".join(score_lines(row.parts, row.score)))
        )
        self.set_class(True, "-one-version")  # until the chain is read
        self.query_one("#detail-chain", Static).update(Text(""))
        self.query_one("#detail-history", Static).update(Text("loading…"))

    def show_history(self, events: list[dict[str, Any]], chain: dict[str, Any]) -> None:
        lines = [for_terminal(_history_line(e), multiline=False) for e in events]
        lines = lines or ["no changes recorded"]
        self.query_one("#detail-history", Static).update(Text("\n".join(lines)))
        versions = [for_terminal(line, multiline=False) for line in chain_lines(chain)]
        self.query_one("#detail-chain", Static).update(Text("\n".join(versions)))
        self.set_class(not (chain.get("newer") or chain.get("older")), "-one-version")


def _field_lines(rec: Any) -> list[str]:
    lines = [
        f"author     {_author_line(rec)}",
        f"tags       {', '.join(rec.tags) if rec.tags else '-'}",
        f"source     {rec.source}" + (f"  session {rec.session}" if rec.session else ""),
        f"created    {when(rec.created_at)}",
        f"updated    {when(rec.updated_at)}",
        f"read       {rec.access_count} times, last {when(rec.last_access)}",
        f"in layer   since {when(rec.layer_since)}",
        f"importance {rec.importance:.2f} · "
        + ("pinned (never expires)" if rec.pinned else "not pinned"),
    ]
    location = getattr(rec, "location", None)
    if location:  # a chunk of a file: where to open it (o copies path:line)
        section = rec.metadata.get("section") if isinstance(rec.metadata, dict) else None
        lines.insert(0, f"file       {location}" + (f"  ({section})" if section else ""))
    if rec.forgotten_at:
        lines.append(f"forgotten  {when(rec.forgotten_at)}")
    if getattr(rec, "superseded_by", None):
        lines.append(f"superseded by {rec.superseded_by}, valid until {when(rec.valid_until)}")
    if rec.metadata:
        lines.append("metadata   " + json.dumps(rec.metadata, ensure_ascii=False, sort_keys=True))
    return lines


def _author_line(rec: Any) -> str:
    author = getattr(rec, "author", "user")
    if getattr(rec, "needs_confirmation", False):
        return f"{author} · unconfirmed: grounds no answer until you pin or promote it"
    mark = rec.metadata.get("confirmed") if isinstance(rec.metadata, dict) else None
    if isinstance(mark, dict):
        return f"{author} · confirmed by {mark.get('by', 'user')} ({mark.get('how', '?')})"
    return author


def _history_line(event: dict[str, Any]) -> str:
    """`2026-01-15 12:00  promote interact→insights by policy: score 0.62 ≥ 0.50 (…)`."""
    ts = event.get("ts")
    stamp = ts.strftime("%Y-%m-%d %H:%M") if isinstance(ts, datetime) else str(ts or "")
    action, actor = event.get("action") or "?", event.get("actor") or "?"
    move = ""
    if event.get("from_layer") or event.get("to_layer"):
        move = f" {event.get('from_layer') or '·'}→{event.get('to_layer') or 'tombstone'}"
    reason = event.get("reason") or ""
    if reason == f"{action}d by the {actor}":  # a manual move: "by user" says it already
        reason = ""
    return f"{stamp}  {action}{move} by {actor}" + (f": {reason}" if reason else "")


def chain_lines(chain: dict[str, Any]) -> list[str]:
    """The record's versions, newest first: `newer` ones, this one, `older` ones."""
    newer, older = chain.get("newer") or [], chain.get("older") or []
    if not newer and not older:
        return []  # the section is hidden
    lines = []
    for i, rec in enumerate(reversed(newer)):
        lines.append(f"{'current' if i == 0 else 'newer':<8} {rec['id']}")
        lines.append(f"         {snippet(rec['text'], 70)}")
    lines.append(f"{'this' if newer else 'current':<8} {chain.get('id', '')}")
    for rec in older:
        until = (rec.get("valid_until") or "")[:16].replace("T", " ")
        lines.append(f"older    {rec['id']}  valid until {until} UTC")
        lines.append(f"         {snippet(rec['text'], 70)}")
    return lines
