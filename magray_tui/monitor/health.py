"""Health of everything magray depends on: one check per component, one report.

A check answers ok / degraded / failing with one readable line and a dict of details;
`skipped` marks a check that was not run (the LLM check runs only on demand: a provider
call on every refresh would cost money and time). The overall status is the worst of the
checks that ran. The checks themselves live in `health_checks` (the store, indexes and
embedder) and `health_system` (LLM, GPU, disk, RAM, this process); `magray health` and the
Health pane both call `run_checks`.

A check never raises: an unexpected error becomes a failing check that says so.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.services import Services

log = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # works, but something needs attention
    FAILING = "failing"  # does not work
    SKIPPED = "skipped"  # not checked (on-demand checks, or nothing to check)


SEVERITY = {Status.SKIPPED: -1, Status.OK: 0, Status.DEGRADED: 1, Status.FAILING: 2}

# Component ids, in the order they are shown, with their titles.
COMPONENTS: dict[str, str] = {
    "database": "Database",
    "memory_server": "Memory server",
    "vector_index": "Vector index",
    "keyword_index": "Keyword index",
    "embedder": "Embedder",
    "llm": "LLM provider",
    "gpu": "GPU",
    "disk": "Disk",
    "ram": "RAM",
    "process": "magray process",
}


@dataclass(frozen=True)
class CheckResult:
    name: str  # a key of COMPONENTS
    status: Status
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return COMPONENTS.get(self.name, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status.value,
            "message": self.message,
            "details": self.details,
            "seconds": round(self.seconds, 4),
        }


def ok(name: str, message: str, /, **details: Any) -> CheckResult:
    return CheckResult(name, Status.OK, message, details)


def degraded(name: str, message: str, /, **details: Any) -> CheckResult:
    return CheckResult(name, Status.DEGRADED, message, details)


def failing(name: str, message: str, /, **details: Any) -> CheckResult:
    return CheckResult(name, Status.FAILING, message, details)


def skipped(name: str, message: str, /, **details: Any) -> CheckResult:
    return CheckResult(name, Status.SKIPPED, message, details)


def worst(statuses: list[Status]) -> Status:
    ran = [s for s in statuses if s is not Status.SKIPPED]
    return max(ran, key=SEVERITY.__getitem__) if ran else Status.OK


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[CheckResult, ...]
    checked_at: datetime

    @property
    def overall(self) -> Status:
        return worst([c.status for c in self.checks])

    def get(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    def with_check(self, result: CheckResult) -> HealthReport:
        """This report with `result` in place of the check of the same name."""
        if self.get(result.name) is None:
            return dataclasses.replace(self, checks=(*self.checks, result))
        checks = tuple(result if c.name == result.name else c for c in self.checks)
        return dataclasses.replace(self, checks=checks)

    def changes_since(self, before: HealthReport) -> list[tuple[CheckResult, CheckResult]]:
        """(old, new) for each component whose status changed; skipped checks don't count."""
        out = []
        for new in self.checks:
            old = before.get(new.name)
            if old is None or Status.SKIPPED in (old.status, new.status):
                continue
            if old.status is not new.status:
                out.append((old, new))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.value,
            "checked_at": self.checked_at.isoformat() + "Z",
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class Thresholds:
    """Where a reading turns degraded or failing. Defaults here; a `[monitor]` setting of the
    same name overrides one (see `from_settings`)."""

    disk_warn_free_gb: float = 2.0
    disk_fail_free_gb: float = 0.5
    ram_warn_available_pct: float = 10.0
    ram_fail_available_pct: float = 3.0
    gpu_warn_temp_c: float = 85.0  # shared with the GPU pane's colours ([monitor])
    gpu_crit_pct: float = 95.0  # VRAM this full is degraded (OOM is near)
    process_rss_warn_mb: float = 1024.0  # this process holding more is degraded; 0: never

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        names = {f.name for f in dataclasses.fields(cls)}
        given = {k: v for k, v in settings.monitor.model_dump().items() if k in names}
        return cls(**given)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def guarded(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """Run one check, timed; a bug in it becomes a failing result, never an exception."""
    t0 = time.perf_counter()
    try:
        result = check()
    except Exception as exc:
        log.exception("health check %s raised", name)
        result = failing(name, f"check failed unexpectedly: {type(exc).__name__}: {exc}")
    return dataclasses.replace(result, seconds=time.perf_counter() - t0)


def run_checks(
    settings: Settings,
    services: Services | None,
    *,
    memory_error: str | None = None,
    llm: bool = False,
    probe: bool = False,
    gpu: Any = None,
    thresholds: Thresholds | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> HealthReport:
    """Check every component.

    `services` are the services (None when they could not be built); `memory_error`, when
    given, says why the memory service did not open (it is not tried again). `llm` runs the
    provider check (a network call); `probe` embeds one text to time the embedder now;
    `gpu` is a GpuMonitor (default: the services' shared one).
    """
    from magray_tui.monitor import health_checks as hc
    from magray_tui.monitor import health_system as hs

    limits = thresholds or Thresholds.from_settings(settings)
    remote = _host_client(services)
    if remote is not None and memory_error is None and gpu is None:
        # Another magray hosts the home: its store, indexes and model are the ones to check.
        report, _live = remote.call("host.health", llm=llm)
        return report
    memory = None
    if services is not None and memory_error is None:
        try:
            memory = services.memory
        except Exception as exc:
            memory_error = _one_line(exc)
            log.warning("memory service did not open for the health check: %s", memory_error)
    checks = [
        guarded("database", lambda: hc.check_database(services, memory_error)),
        guarded("vector_index", lambda: hc.check_vector_index(memory, memory_error)),
        guarded("keyword_index", lambda: hc.check_keyword_index(memory, memory_error)),
        guarded("embedder", lambda: hc.check_embedder(memory, memory_error, settings, probe)),
        guarded("llm", lambda: hs.check_llm(settings, services) if llm else hs.llm_not_checked()),
        guarded("gpu", lambda: _check_gpu(settings, services, gpu, limits)),
        guarded("disk", lambda: hs.check_disk(settings.paths.data, limits)),
        guarded("ram", lambda: hs.check_ram(limits)),
        guarded("process", lambda: hs.check_process(limits)),
    ]
    if settings.store.url:  # the memory lives on a PostgreSQL server
        checks.insert(
            1,
            guarded(
                "memory_server", lambda: hc.check_memory_server(settings, memory, memory_error)
            ),
        )
    if any(e.enabled for e in settings.mcp.servers.values()):  # only where configured
        from magray_tui.mcp.health import check_mcp_servers

        checks.append(guarded("mcp_servers", lambda: check_mcp_servers(settings)))
    return HealthReport(tuple(checks), clock())


def _check_gpu(settings: Settings, services: Any, gpu: Any, limits: Thresholds) -> CheckResult:
    from magray_tui.monitor import health_system as hs
    from magray_tui.monitor.gpu import GpuMonitor, monitor_for

    if gpu is not None:
        return hs.check_gpu(settings, gpu, limits)
    if services is not None:
        return hs.check_gpu(settings, monitor_for(services), limits)
    once = GpuMonitor.from_settings(settings)  # no services to keep one: poll once
    try:
        return hs.check_gpu(settings, once, limits)
    finally:
        once.close()


def _host_client(services: Any) -> Any:
    """The client of the magray process hosting the home, when `services` are a client."""
    membership = getattr(services, "membership", None)
    if services is None or not callable(membership):
        return None
    current = membership()
    return current.client if current.remote else None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
