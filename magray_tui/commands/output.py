"""How the CLI prints: rich tables for people, JSON for scripts. User and model text is
always passed as plain `Text`, never parsed as markup."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click


def dump_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    return str(value)


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]] | None = None, title: str | None = None
) -> None:
    from rich.table import Table
    from rich.text import Text

    if rows is None:  # a prepared (header, rows) pair
        header, rows = header  # type: ignore[misc]
    table = Table(title=title, show_header=any(header), header_style="bold", expand=False)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(c)) if not isinstance(c, Text) else c for c in row))
    _console().print(table)


def snippet(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


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
                ", ".join(why),
                _with_location(h.record, 70),
            )
        )
    return ("id", "layer", "score", "why", "text"), rows


def _with_location(record: Any, width: int) -> str:
    """Text snippet, led by `path:lines` for memories ingested from files."""
    where = record.location
    return f"{where}  {snippet(record.text, width)}" if where else snippet(record.text, width)


def records_table(records: Sequence[Any]) -> tuple[Sequence[str], list[Sequence[Any]]]:
    rows = [
        (
            r.id,
            r.layer.value,
            r.kind,
            ", ".join(r.tags),
            age(r.created_at),
            r.access_count,
            snippet(r.text, 60),
        )
        for r in records
    ]
    return ("id", "layer", "kind", "tags", "age", "reads", "text"), rows


def show_record(record: Any, history: Sequence[dict[str, Any]]) -> None:
    from rich.text import Text

    console = _console()
    fields = [
        ("id", record.id),
        ("layer", record.layer.value),
        ("state", record.state.value),
        ("kind", record.kind),
        ("tags", ", ".join(record.tags) or "-"),
        ("source", record.source),
        ("session", record.session or "-"),
        ("created", f"{record.created_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("reads", str(record.access_count)),
        ("importance", f"{record.importance:g}"),
        ("pinned", "yes" if record.pinned else "no"),
    ]
    if record.metadata:
        fields.append(("metadata", json.dumps(record.metadata, ensure_ascii=False)))
    for name, value in fields:
        console.print(Text(f"{name:>10}  ", style="bold"), Text(value), sep="")
    console.print()
    console.print(Text(record.text))
    if history:
        console.print()
        print_table(*_history_rows(history), title="history")


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
