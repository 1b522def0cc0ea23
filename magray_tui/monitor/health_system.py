"""Checks of what magray runs on: the LLM provider, the GPU, disk space, RAM, and the memory
magray's own process holds.

The LLM check is a network call (or loads a local model), so it only runs on demand:
`magray health` runs it unless told not to, the Health pane on a key press.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.monitor.health import (
    CheckResult,
    Status,
    Thresholds,
    degraded,
    failing,
    ok,
    skipped,
)

if TYPE_CHECKING:
    from magray_tui.config import Settings

GB = 1e9
GIB = 1024**3
LLM_CLIENT_MODULE = "magray_tui.llm.client"


# ---- LLM -----------------------------------------------------------------------------------
def llm_not_checked() -> CheckResult:
    return skipped("llm", "not checked on refresh: run the LLM check on demand")


def check_llm(settings: Settings, services: Any = None) -> CheckResult:
    """Ask the providers `LLMClient.status()` knows whether they answer, and judge the one
    in use (the active model, else the first configured in resolution order: explicit
    [llm] model, a provider key, a local server, the offline model). With `services`, the
    process's shared client is asked (its active model and paused breakers show)."""
    try:
        module = importlib.import_module(LLM_CLIENT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in (LLM_CLIENT_MODULE, "magray_tui.llm"):
            return skipped("llm", "not configured: this build has no LLM client")
        raise
    client = services.llm if services is not None else module.LLMClient(settings)
    try:
        rows = list(client.status())
    except Exception as exc:
        return failing("llm", f"provider check failed: {_first_line(exc)}")
    finally:
        if services is None:
            client.close()
    return _judge_providers(rows)


def _judge_providers(rows: list[Any]) -> CheckResult:
    details = {r.name: _provider_line(r) for r in rows}
    chosen = next((r for r in rows if r.active), None) or next(
        (r for r in rows if r.configured), None
    )
    if chosen is None:
        offline = next((r for r in rows if r.name == "offline"), None)
        why = f"; offline model: {offline.message}" if offline and offline.message else ""
        return failing(
            "llm", f"no LLM available: no [llm] model, provider key or local server{why}", **details
        )
    label = " · ".join(x for x in (chosen.name, chosen.model) if x)
    details["judged"] = chosen.name
    if chosen.reachable is False:
        return failing("llm", f"{label}: {chosen.message or 'not reachable'}", **details)
    if chosen.name == "offline":
        return ok(
            "llm",
            f"{label}: the offline fallback ({chosen.message}); "
            "set [llm] model or a provider key for a real assistant",
            **details,
        )
    if chosen.reachable:
        return ok("llm", f"{label} answered in {chosen.latency_ms:,.0f} ms", **details)
    return ok("llm", f"{label}: {chosen.message or 'configured'} (not probed)", **details)


def _provider_line(row: Any) -> str:
    state = {True: "reachable", False: "not reachable", None: "not probed"}[row.reachable]
    if row.reachable and row.latency_ms is not None:
        state += f" ({row.latency_ms:,.0f} ms)"
    parts = [row.model or "-", state, "active" if row.active else ""]
    if not row.configured:
        parts.append("not configured")
    if row.message:
        parts.append(row.message)
    return " · ".join(p for p in parts if p)


# ---- GPU -----------------------------------------------------------------------------------
def check_gpu(settings: Settings, monitor: Any, limits: Thresholds) -> CheckResult:
    """The GPUs as the sampling monitor (`monitor.gpu.GpuMonitor`) last saw them; when it
    is not sampling (the GPU pane is hidden), one poll now (a few ms)."""
    snap = monitor.snapshot()
    if not snap.sampling or snap.state == "idle":
        snap = monitor.sample_now()
    if snap.state == "no_gpu" or (snap.state == "idle" and not snap.gpus):
        reason = snap.reason or "no GPU found"
        if settings.embedding.device == "cuda":
            return degraded("gpu", f"{reason}; embedding.device = cuda cannot be honoured")
        return ok("gpu", reason, gpus=0)
    if snap.state == "error" and not snap.gpus:
        return degraded("gpu", snap.reason or "GPU reading failed")
    result = _gpu_result([g.reading for g in snap.gpus], limits)
    if snap.state == "error" and result.status is Status.OK:
        return degraded("gpu", snap.reason or "the last GPU poll failed", **result.details)
    return result


def _gpu_result(readings: list[Any], limits: Thresholds) -> CheckResult:
    problems: list[str] = []
    lost = False
    per_gpu = []
    for r in readings:
        per_gpu.append(
            {
                "index": r.index,
                "name": r.name,
                "util_sm": r.util_sm,
                "vram_used": r.vram_used,
                "vram_total": r.vram_total,
                "temp_c": r.temp_c,
                "lost": r.lost,
            }
        )
        if r.lost:
            lost = True
            problems.append(f"GPU {r.index} stopped answering ({r.lost})")
            continue
        if r.temp_c is not None and r.temp_c >= limits.gpu_warn_temp_c:
            problems.append(f"GPU {r.index} at {r.temp_c:.0f} °C")
        if r.vram_pct is not None and r.vram_pct >= limits.gpu_crit_pct:
            problems.append(f"GPU {r.index} VRAM {r.vram_pct:.0f}% full")
        if r.ecc_uncorrected:
            problems.append(f"GPU {r.index}: {r.ecc_uncorrected} uncorrected ECC errors")
    details = {"gpus": len(readings), "readings": per_gpu}
    if not readings:
        return ok("gpu", "no GPU readings", **details)
    if problems:
        make = failing if lost and len(problems) == len(readings) else degraded
        return make("gpu", "; ".join(problems), **details)
    return ok("gpu", "; ".join(_gpu_line(r) for r in readings), **details)


def _gpu_line(r: Any) -> str:
    parts = [f"GPU {r.index} {r.name}"]
    if r.util_sm is not None:
        parts.append(f"{r.util_sm:.0f}% busy")
    if r.vram_used is not None and r.vram_total:
        parts.append(f"VRAM {r.vram_used / GIB:.1f}/{r.vram_total / GIB:.1f} GiB")
    if r.temp_c is not None:
        parts.append(f"{r.temp_c:.0f} °C")
    return " · ".join(parts)


# ---- disk and RAM --------------------------------------------------------------------------
disk_usage = shutil.disk_usage  # module attributes, so a snapshot test can fix the readings


def _existing(path: Path) -> Path:
    """The folder itself or, before first use, its nearest existing parent."""
    path = Path(path)
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_disk(path: Path, limits: Thresholds) -> CheckResult:
    """Free space where the database lives."""
    usage = disk_usage(_existing(path))
    free_gb, total_gb = usage.free / GB, usage.total / GB
    details = {
        "path": str(path),
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "used_pct": round(100 * usage.used / usage.total, 1) if usage.total else None,
        "warn_free_gb": limits.disk_warn_free_gb,
        "fail_free_gb": limits.disk_fail_free_gb,
    }
    used_pct = details["used_pct"]
    text = f"{free_gb:,.1f} GB free of {total_gb:,.1f} GB ({used_pct}% used) for the data folder"
    if free_gb < limits.disk_fail_free_gb:
        return failing(
            "disk", f"{text}: below {limits.disk_fail_free_gb:g} GB, writes may fail", **details
        )
    if free_gb < limits.disk_warn_free_gb:
        return degraded("disk", f"{text}: below {limits.disk_warn_free_gb:g} GB", **details)
    return ok("disk", text, **details)


def memory_reading() -> tuple[Any, int]:
    """(psutil's virtual_memory(), this process's resident bytes)."""
    import psutil

    return psutil.virtual_memory(), psutil.Process().memory_info().rss


def check_ram(limits: Thresholds) -> CheckResult:
    vm, rss = memory_reading()
    available_pct = 100 * vm.available / vm.total if vm.total else 0.0
    details = {
        "total_bytes": vm.total,
        "available_bytes": vm.available,
        "available_pct": round(available_pct, 1),
        "process_rss_bytes": rss,
    }
    text = (
        f"{vm.available / GIB:,.1f} GiB available of {vm.total / GIB:,.1f} GiB "
        f"({available_pct:.0f}%)"
    )
    if available_pct < limits.ram_fail_available_pct:
        return failing("ram", text, **details)
    if available_pct < limits.ram_warn_available_pct:
        return degraded("ram", text, **details)
    return ok("ram", text, **details)


def process_reading() -> tuple[int, int | None]:
    """(this process's resident bytes now, the most it has held since it started or None)."""
    import psutil

    rss = psutil.Process().memory_info().rss
    peak = peak_rss()
    return rss, max(peak, rss) if peak else None


def peak_rss() -> int | None:
    """The process's RSS high-water mark in bytes, where the system says (Linux: VmHWM;
    getrusage's ru_maxrss would survive exec and report a parent's peak)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError):
        pass
    try:
        import resource  # macOS: bytes

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except (ImportError, OSError):  # no `resource` on Windows
        return None


def check_process(limits: Thresholds) -> CheckResult:
    """The memory magray itself holds (resident set), against `process_rss_warn_mb`."""
    rss, peak = process_reading()
    warn_mb = limits.process_rss_warn_mb
    details = {"rss_bytes": rss, "peak_rss_bytes": peak, "warn_mb": warn_mb or None}
    text = f"{rss / 2**20:,.0f} MiB resident"
    if peak is not None:
        text += f" (peak {peak / 2**20:,.0f} MiB)"
    if warn_mb and rss > warn_mb * 2**20:
        return degraded(
            "process",
            f"{text}: above {warn_mb:,.0f} MiB (monitor.process_rss_warn_mb); "
            "see docs/memory-footprint.md",
            **details,
        )
    if warn_mb:
        text += f" · warns above {warn_mb:,.0f} MiB"
    return ok("process", text, **details)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
