"""`magray health`: check every component once, print the report, exit 1 if one fails.

The store is opened read-write; if another magray holds it, a read-only snapshot is
checked instead (the database check then says degraded, naming the holder). The LLM
provider is asked whether it answers unless `--no-llm`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import dump_json, echo, print_table

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.monitor.health import HealthReport
    from magray_tui.monitor.health_live import LiveMetrics
    from magray_tui.services import Services

GLYPHS = {"ok": "✔", "degraded": "▲", "failing": "✖", "skipped": "·"}
STYLES = {"ok": "green", "degraded": "yellow", "failing": "bold red", "skipped": "dim"}


def _open(settings: Settings) -> tuple[Services, str | None]:
    """The services with the memory service open (read-only if another magray writes), or
    fresh ones and why it did not open."""
    from magray_tui.errors import StoreLocked
    from magray_tui.services import Services

    try:
        return Services.open(settings, write=False, need="memory"), None
    except StoreLocked:
        return Services(settings, read_only=True), "the memory store is locked"
    except Exception as exc:  # a model or store error: check what still works
        lines = str(exc).strip().splitlines()
        return Services(settings), lines[0] if lines else repr(exc)


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--no-llm", is_flag=True, help="Do not ask the LLM provider (a network call).")
@click.option("--strict", is_flag=True, help="Exit 1 when something is degraded, too.")
@pass_app
def command(app: AppContext, as_json: bool, no_llm: bool, strict: bool) -> None:
    """Check the database, indexes, embedder, LLM, GPU, disk and RAM. Exit 1 if one fails."""
    from magray_tui.monitor.health import Status, run_checks
    from magray_tui.monitor.health_live import collect_live, counts_of

    settings = app.settings()
    services, memory_error = _open(settings)
    try:
        report = run_checks(
            settings, services, memory_error=memory_error, llm=not no_llm, probe=True
        )
        memory = services.memory if memory_error is None else None
        live = collect_live(memory, counts=counts_of(report))
    finally:
        services.close()
    if as_json:
        dump_json({**report.to_dict(), "metrics": live.to_dict()})
    else:
        _print(report, live)
    bad = {Status.FAILING} | ({Status.DEGRADED} if strict else set())
    if report.overall in bad:
        raise click.exceptions.Exit(1)


def _print(report: HealthReport, live: LiveMetrics) -> None:
    from rich.text import Text

    rows = [
        (
            Text(GLYPHS[c.status.value], style=STYLES[c.status.value]),
            c.title,
            Text(c.status.value, style=STYLES[c.status.value]),
            c.message,
        )
        for c in report.checks
    ]
    overall = report.overall.value
    print_table(("", "component", "status", "message"), rows, title=f"magray health: {overall}")
    latency = [_latency_row(name, s) for name, s in live.latency_rows() if s is not None]
    if latency:
        header = ("latency", "count", "p50 ms", "p95 ms", "p99 ms", "last ms", "errors")
        print_table(header, latency, title="measured in this run")
    if live.layer_counts:
        counts = " · ".join(f"{k} {v:,}" for k, v in live.layer_counts.items())
        echo(f"memories: {counts}")


def _latency_row(name: str, s: Any) -> tuple[str, ...]:
    return (
        name,
        f"{s.count:,}",
        f"{s.p50_ms:,.1f}",
        f"{s.p95_ms:,.1f}",
        f"{s.p99_ms:,.1f}",
        f"{s.last_ms:,.1f}",
        f"{s.errors:,}",
    )
