"""How the Health pane draws a report and the live metrics: plain `Text` cells and lines,
coloured from the theme (no markup, so a message with brackets shows as it is)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text

from magray_tui.terminal_text import for_terminal, one_line

if TYPE_CHECKING:
    from magray_tui.monitor.health import CheckResult, HealthReport
    from magray_tui.monitor.health_live import LiveMetrics
    from magray_tui.monitor.metrics import LatencyStats

GLYPHS = {"ok": "✔", "degraded": "▲", "failing": "✖", "skipped": "·"}
# Theme variables each status is drawn in (theme colours, so every theme stays legible).
STATUS_COLORS = {
    "ok": "success",
    "degraded": "warning",
    "failing": "error",
}
CHECK_COLUMNS = ("", "component", "status", "message")
LATENCY_COLUMNS = ("metric", "count", "p50 ms", "p95 ms", "p99 ms", "last ms", "/min", "errors")
LATENCY_LABELS = {
    "embed": "embed (batch)",
    "search": "search",
    "llm.first_token": "LLM first token",
    "llm.total": "LLM total",
    "db.write": "DB write",
    "promotion.cycle": "promotion cycle",
}


def _style(status: str, colors: Mapping[str, str]) -> str:
    # Theme colours for the three states; a check that did not run is just dim.
    return colors.get(STATUS_COLORS.get(status, ""), "") or "dim"


def check_cells(check: CheckResult, colors: Mapping[str, str], width: int = 60) -> tuple[Text, ...]:
    """The row of one check; the message is cut to `width` (the detail shows it whole)."""
    status = check.status.value
    style = _style(status, colors)
    message = one_line(check.message, width)
    return (
        Text(GLYPHS.get(status, "?"), style=style),
        Text(one_line(check.title)),
        Text(status, style=style),
        Text(message),
    )


def summary_text(report: HealthReport, colors: Mapping[str, str], refresh_s: float) -> Text:
    overall = report.overall.value
    text = Text()
    text.append(f"{GLYPHS[overall]} overall {overall}", style=_style(overall, colors) + " bold")
    counts: dict[str, int] = {}
    for check in report.checks:
        counts[check.status.value] = counts.get(check.status.value, 0) + 1
    parts = [f"{counts[s]} {s}" for s in ("ok", "degraded", "failing", "skipped") if counts.get(s)]
    text.append(f"  ·  {', '.join(parts)}  ·  checked {report.checked_at:%H:%M:%S}")
    text.append(f"  ·  every {refresh_s:g} s while shown", style="dim")
    return text


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, int) and key.endswith("bytes"):
        return _bytes(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(k, v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return f"{len(value)} items"
    return str(value)


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"


def _cache_bytes(cache: Mapping[str, Any]) -> str:
    """' · 1.2 MiB of 32.0 MiB' where the cache says what it holds and may hold."""
    held, bound = cache.get("bytes"), cache.get("max_bytes")
    if held is None:
        return ""
    return f" · {_bytes(held)}" + (f" of {_bytes(bound)}" if bound is not None else "")


def detail_text(check: CheckResult | None) -> Text:
    """The selected check: its title, full message and every detail, one per line."""
    if check is None:
        return Text("No check selected.", style="dim")
    text = Text()
    text.append(f"{one_line(check.title)}\n", style="bold")
    text.append(f"{for_terminal(check.message)}\n\n")
    width = max((len(k) for k in check.details), default=0)
    for key, value in check.details.items():
        text.append(f"{key:<{width}}  ", style="dim")
        text.append(f"{for_terminal(str(_value(key, value)))}\n")
    text.rstrip()
    return text


def latency_cells(name: str, stats: LatencyStats | None) -> tuple[Text, ...]:
    label = Text(LATENCY_LABELS.get(name, name))
    if stats is None:
        return (label, *(Text("-", justify="right") for _ in LATENCY_COLUMNS[1:]))
    values = (
        f"{stats.count:,}",
        f"{stats.p50_ms:,.1f}",
        f"{stats.p95_ms:,.1f}",
        f"{stats.p99_ms:,.1f}",
        f"{stats.last_ms:,.1f}",
        f"{stats.per_min:,}",
        f"{stats.errors:,}",
    )
    cells = [Text(v, justify="right") for v in values]
    if stats.errors:
        cells[-1].stylize("bold")
    return (label, *cells)


def stats_text(live: LiveMetrics) -> Text:
    """Cache, throughput, memory per layer, promotion activity and errors, one line each."""
    lines: list[tuple[str, str]] = []
    cache = live.cache
    if cache:
        total = cache.get("hits", 0) + cache.get("misses", 0)
        rate = f"{cache.get('hit_rate', 0.0):.1%}" if total else "-"
        lines.append(
            (
                "embedding cache",
                f"hit rate {rate} ({cache.get('hits', 0):,} hits, {cache.get('misses', 0):,} "
                f"misses) · {cache.get('size', 0):,} of {cache.get('capacity', 0):,} entries"
                + _cache_bytes(cache),
            )
        )
    speed = live.embed_texts_per_s
    texts = live.counters.get("embed.texts", 0)
    lines.append(
        (
            "embedding speed",
            f"{speed:,.0f} texts/s of model time ({texts:,} texts)" if speed else "no texts yet",
        )
    )
    if live.layer_counts:
        lines.append(("memories", " · ".join(f"{k} {v:,}" for k, v in live.layer_counts.items())))
    promo = live.promotion
    last = f"{live.last_cycle_at:%Y-%m-%d %H:%M} UTC" if live.last_cycle_at else "never"
    lines.append(
        (
            "promotion",
            f"{promo['cycles']:,} cycles here · {promo['promote']:,} promoted · "
            f"{promo['merge']:,} merged · {promo['expire']:,} expired · last cycle {last}",
        )
    )
    errors = live.errors
    lines.append(("errors", " · ".join(f"{k} {v:,}" for k, v in sorted(errors.items())) or "none"))
    width = max(len(k) for k, _ in lines)
    text = Text()
    for n, (key, value) in enumerate(lines):
        text.append(f"{key:<{width}}  ", style="bold")
        text.append(value + ("\n" if n < len(lines) - 1 else ""))
    return text
