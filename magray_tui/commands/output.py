"""How the CLI prints: rich tables for people, JSON for scripts.

Everything a command writes for people goes through `echo`, `print_table` or
`print_fields`: stored and model text may hold terminal escapes (a memory whose text sets
the window title, a task title that clears the screen), so control characters are made
visible (magray_tui.terminal_text) and text is never parsed as markup. JSON goes through
`dump_json` / `json_line`, which escape C1 controls and bidi overrides as well (the JSON
encoder itself escapes only C0), so even a raw JSON dump on a terminal is inert.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from magray_tui.terminal_text import for_terminal, one_line

# What json.dumps(ensure_ascii=False) leaves raw but a terminal may act on: DEL, C1 controls
# (U+009B is CSI on terminals that honour 8-bit controls) and the bidi overrides.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def dump_json(data: Any) -> None:
    click.echo(json_text(data, indent=2))


def json_line(data: Any) -> None:
    """One compact JSON document on one line (JSON Lines output)."""
    click.echo(json_text(data))


def json_text(data: Any, indent: int | None = None) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=_json_default)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    return str(value)


def echo(message: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo for people: control characters made visible (newlines and tabs kept).

    Safe on streamed text too: each character is judged on its own, so a reply cut into
    chunks is cleaned the same as the whole."""
    click.echo(for_terminal(str(message)), err=err, nl=nl)


def echo_err(message: Any) -> None:
    echo(message, err=True)


def cell(value: Any) -> Any:
    """A table cell: one display line, controls visible; a styled `Text` keeps its style."""
    from rich.text import Text

    if isinstance(value, Text):
        plain = value.plain
        safe = for_terminal(plain, multiline=False)
        if safe == plain:
            return value
        return Text(safe, style=value.style)
    return Text(for_terminal(str(value), multiline=False))


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


NO_WRAP_COLUMNS = frozenset({"id", "by"})


def print_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]] | None = None, title: str | None = None
) -> None:
    from rich.table import Table
    from rich.text import Text

    if rows is None:  # a prepared (header, rows) pair
        header, rows = header  # type: ignore[misc]
    safe_title = Text(for_terminal(title, multiline=False)) if title else None
    table = Table(title=safe_title, show_header=any(header), header_style="bold", expand=False)
    for name in header:
        # An id is copied from the table into the next command: never folded.
        whole = name in NO_WRAP_COLUMNS
        table.add_column(for_terminal(str(name), multiline=False), overflow="fold", no_wrap=whole)
    for row in rows:
        table.add_row(*(cell(c) for c in row))
    _console().print(table)


def print_fields(fields: Iterable[tuple[str, Any]]) -> None:
    """`name  value` lines (a record or a task shown in full)."""
    from rich.text import Text

    console = _console()
    for name, value in fields:
        console.print(Text(f"{name:>10}  ", style="bold"), cell(value), sep="")


def print_block(text: str, heading: str | None = None) -> None:
    """A multi-line body (a memory's text, a task's notes): newlines and tabs kept."""
    from rich.text import Text

    console = _console()
    if heading:
        console.print(Text(f"\n{heading}:", style="bold"))
    console.print(Text(for_terminal(text)))


def snippet(text: str, width: int = 80) -> str:
    return one_line(text, width)


def age(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "-"
    now = now or datetime.now(UTC).replace(tzinfo=None)
    secs = max(0.0, (now - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs / size:.0f}{unit}"
    return f"{secs:.0f}s"


def hits_table(hits: Sequence[Any]) -> tuple[Sequence[str], list[Sequence[Any]]]:
    rows = []
    for h in hits:
        p = h.parts
        why = []
        if p.get("vector_rank"):
            why.append(f"vec #{p['vector_rank']} {p['vector']:.2f}")
        if p.get("keyword_rank"):
            why.append(f"bm25 #{p['keyword_rank']} {p['keyword']:.1f}")
        rows.append(
            (
                h.record.id,
                h.record.layer.value,
                f"{h.score:.3f}",
                author_label(h.record),
                ", ".join(why),
                _with_location(h.record, 70),
            )
        )
    return ("id", "layer", "score", "by", "why", "text"), rows


def author_label(record: Any) -> str:
    """Who wrote it, marked `?` while it is model text nobody confirmed."""
    return f"{record.author}?" if record.needs_confirmation else record.author


def _with_location(record: Any, width: int) -> str:
    """Text snippet, led by `path:lines` for memories ingested from files and by a mark for
    a superseded memory."""
    where = record.location
    text = f"{where}  {snippet(record.text, width)}" if where else snippet(record.text, width)
    return superseded_mark(record) + text


def superseded_mark(record: Any) -> str:
    """`[superseded by ID] ` for a record a newer one superseded, else ''."""
    by = getattr(record, "superseded_by", None)
    return f"[superseded by {by}] " if by else ""


def records_table(records: Sequence[Any]) -> tuple[Sequence[str], list[Sequence[Any]]]:
    rows = [
        (
            r.id,
            r.layer.value,
            r.kind,
            author_label(r),
            ", ".join(r.tags),
            age(r.created_at),
            r.access_count,
            superseded_mark(r) + snippet(r.text, 60),
        )
        for r in records
    ]
    return ("id", "layer", "kind", "by", "tags", "age", "reads", "text"), rows


def show_record(record: Any, history: Sequence[dict[str, Any]]) -> None:
    fields = [
        ("id", record.id),
        ("layer", record.layer.value),
        ("state", record.state.value),
        ("kind", record.kind),
        ("tags", ", ".join(record.tags) or "-"),
        ("source", record.source),
        ("author", author_detail(record)),
        ("session", record.session or "-"),
        ("created", f"{record.created_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("reads", str(record.access_count)),
        ("importance", f"{record.importance:g}"),
        ("pinned", "yes" if record.pinned else "no"),
    ]
    if getattr(record, "superseded_by", None):
        until = f"{record.valid_until:%Y-%m-%d %H:%M:%S} UTC" if record.valid_until else "-"
        fields.append(("superseded", f"by {record.superseded_by} (valid until {until})"))
    if record.metadata:
        fields.append(("metadata", json.dumps(record.metadata, ensure_ascii=False)))
    print_fields(fields)
    print_block("\n" + record.text)
    if history:
        click.echo()
        print_table(*_history_rows(history), title="history")


def author_detail(record: Any) -> str:
    if record.needs_confirmation:
        return f"{record.author} (unconfirmed: grounds no answer until you confirm it)"
    mark = record.metadata.get("confirmed") if isinstance(record.metadata, dict) else None
    if isinstance(mark, dict):
        return f"{record.author} (confirmed by {mark.get('by', 'user')}: {mark.get('how', '')})"
    return record.author


def _history_rows(history: Sequence[dict[str, Any]]):
    rows = [
        (
            f"{h['ts']:%Y-%m-%d %H:%M}",
            h["action"],
            h.get("from_layer") or "",
            h.get("to_layer") or "",
            h["actor"],
            h.get("reason") or "",
        )
        for h in history
    ]
    return ("when", "action", "from", "to", "by", "reason"), rows


def progress_printer(label: str) -> Callable[[int, int], None] | None:
    """A (done, total) callback that redraws one status line on a terminal's stderr."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - start, 1e-6)
        eta = (total - done) / rate if rate > 0 else 0
        sys.stderr.write(f"\r{label}: {done:,}/{total:,} ({rate:,.0f}/s, ETA {eta:,.0f}s)  ")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show
