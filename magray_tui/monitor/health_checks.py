"""Checks of the memory stack: the DuckDB store, the two derived indexes and the embedder.

The indexes are caches of the store, so their health is agreement with it: as many live
entries as the store has live records, and a watermark at the store's latest change. A
mismatch is `degraded` (search misses or shows stale records; `magray memory reindex`
fixes it), never `failing`, since the database itself is intact.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from magray_tui.monitor.health import CheckResult, degraded, failing, ok
from magray_tui.monitor.metrics import metrics

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory import MemoryService
    from magray_tui.services import Services

REINDEX_HINT = "run `magray memory reindex` to rebuild it"
LOCK_WAIT_S = 5.0


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _size(path: Any) -> int:
    wal = path.with_name(path.name + ".wal")
    return sum(p.stat().st_size for p in (path, wal) if p.exists())


def check_database(services: Services | None, memory_error: str | None) -> CheckResult:
    """Opens, schema current (migrations applied), readable counts."""
    from magray_tui.memory import schema

    if services is None:
        return failing("database", f"not open: {memory_error or 'the services are not open'}")
    try:
        store = services.store
    except Exception as exc:  # StoreLocked, damaged file, permissions: the message says which
        return failing("database", str(exc).splitlines()[0])
    version = store.schema_version()
    counts = store.counts()
    live = sum(v for k, v in counts.items() if k not in ("forgotten", "merged"))
    details = {
        "path": str(store.path),
        "bytes": _size(store.path),
        "schema_version": version,
        "schema_latest": schema.LATEST,
        "read_only": store.read_only,
        "note": store.note,
        "warning": store.warning,
        "counts": counts,
        "live": live,
    }
    if version > schema.LATEST:
        return failing(
            "database",
            f"schema version {version} is newer than this magray ({schema.LATEST}); upgrade magray",
            **details,
        )
    if version < schema.LATEST:
        return degraded(
            "database",
            f"schema version {version} of {schema.LATEST}: open it read-write once to migrate",
            **details,
        )
    if store.warning:  # writes lost with a damaged or missing WAL (db/wal_guard.py)
        return degraded("database", store.warning, **details)
    if store.read_only:
        return degraded("database", store.note or "open read-only", **details)
    if services.settings.store.url:  # the memory is on its server (its own row)
        return ok("database", f"schema v{version} (current) · tasks and chat", **details)
    return ok(
        "database",
        f"schema v{version} (current) · {plural(live, 'live memory', 'live memories')}",
        **details,
    )


def _index_counts(memory: MemoryService, which: str) -> tuple[int, int, int, int]:
    """(entries, live records, watermark, store rev) of one index, read consistently."""
    status = memory.index_status(wait=LOCK_WAIT_S)
    prefix = "vector" if which == "vectors" else "keyword"
    return (
        status[f"{prefix}_entries"],
        status["live_records"],
        status[f"{prefix}_watermark"],
        status["store_rev"],
    )


def _check_index(
    name: str, which: str, memory: MemoryService | None, memory_error: str | None
) -> CheckResult:
    if memory is None:
        return failing(name, f"not open: {memory_error or 'the memory service is not open'}")
    entries, live, watermark, rev = _index_counts(memory, which)
    details: dict[str, Any] = {
        "entries": entries,
        "live_records": live,
        "watermark": watermark,
        "store_rev": rev,
    }
    read_only = memory.read_only
    if which == "vectors":
        params = memory.indexes.vectors.params
        details.update(dim=params.dim, m=params.m, ef_search=params.ef_search)
    if entries != live:
        what = "more" if entries > live else "fewer"
        return degraded(
            name,
            f"{plural(entries, 'entry', 'entries')} for "
            f"{plural(live, 'live memory', 'live memories')} ({what} than the database); "
            + ("opened read-only, so it was not caught up" if read_only else REINDEX_HINT),
            **details,
        )
    if watermark < rev:
        return degraded(
            name,
            f"behind the database (change {watermark:,} of {rev:,}); {REINDEX_HINT}",
            **details,
        )
    return ok(name, f"{plural(entries, 'entry', 'entries')}, in step with the database", **details)


def check_vector_index(memory: MemoryService | None, memory_error: str | None) -> CheckResult:
    return _check_index("vector_index", "vectors", memory, memory_error)


def check_keyword_index(memory: MemoryService | None, memory_error: str | None) -> CheckResult:
    return _check_index("keyword_index", "keywords", memory, memory_error)


def _short_provider(provider: str) -> str:
    return provider.replace("ExecutionProvider", "") or "?"


def check_embedder(
    memory: MemoryService | None, memory_error: str | None, settings: Settings, probe: bool
) -> CheckResult:
    """Loaded, on which device (and why: `embedder.device`, the device selection), how fast
    it answered last. On CPU after repeated GPU errors (a cool-down) is degraded."""
    if memory is None:
        return failing(
            "embedder", f"not loaded: {memory_error or 'the memory service is not open'}"
        )
    embedder = memory.embedder
    stats: dict[str, Any] = embedder.stats() if hasattr(embedder, "stats") else {}
    device = getattr(embedder, "device", None)  # ai.device.DeviceDecision
    provider = device.provider if device is not None else str(getattr(embedder, "provider", ""))
    reason = device.reason if device is not None else str(getattr(embedder, "device_note", ""))
    details: dict[str, Any] = {
        "model": embedder.model_id,
        "dim": embedder.dim,
        "provider": provider,
        "device_note": reason,
        "device_setting": settings.embedding.device,
        "batch_size": getattr(embedder, "batch_size", None),
    }
    skip = ("model_id", "provider", "device_note", "device")
    details.update({k: v for k, v in stats.items() if k not in skip})
    if probe:
        # A text no cache holds, so the model really runs.
        t0 = time.perf_counter()
        embedder.embed_documents([f"magray health probe {uuid.uuid4().hex}"])
        details["probe_ms"] = round((time.perf_counter() - t0) * 1000, 2)
    latest = metrics.latency("embed")
    if latest is not None:
        details.update(last_batch_ms=round(latest.last_ms, 2), p95_ms=round(latest.p95_ms, 2))
        speed = f"last batch {latest.last_ms:,.1f} ms (p95 {latest.p95_ms:,.1f} ms)"
    elif "probe_ms" in details:
        speed = f"probe {details['probe_ms']:,.1f} ms"
    else:
        speed = "nothing embedded yet in this process"
    label = device.label if device is not None else _short_provider(provider)
    where = f"{embedder.model_id} on {label}"
    errors = metrics.counter("embed.errors")
    details["errors"] = errors
    if device is not None and device.cooldown_left_s is not None:
        return degraded("embedder", f"{where} · {reason} · {speed}", **details)
    if settings.embedding.device == "cuda" and "CUDA" not in provider:
        return degraded(
            "embedder", f"{where}: {reason or 'CUDA was asked for'} · {speed}", **details
        )
    if errors:
        return degraded(
            "embedder", f"{where} · {errors:,} batches failed since start · {speed}", **details
        )
    message = f"{where} · {speed}"
    if reason:
        message += f" · {reason}"
    return ok("embedder", message, **details)


def check_memory_server(
    settings: Settings, memory: MemoryService | None, memory_error: str | None
) -> CheckResult:
    """The PostgreSQL server holding the memory (`[store] url`): reachable, schema, size.
    Its URL is shown with the password masked."""
    from magray_tui.pg.url import mask_url

    details: dict[str, Any] = {
        "url": mask_url(settings.store.url),
        "namespace": settings.store.namespace,
    }
    if memory is None:
        return failing("memory_server", memory_error or "not open", **details)
    from magray_tui.errors import MagrayError

    store = memory.store
    started = time.perf_counter()
    try:
        live = memory.core.repo.live_count()
        details.update(
            schema_version=store.schema_version(),
            ms=round((time.perf_counter() - started) * 1000, 1),
            bm25_extension=memory.indexes.bm25_extension() or "none (Postgres full text)",
        )
    except MagrayError as exc:  # lost mid-session: one line, the next check reconnects
        return failing("memory_server", str(exc), **details)
    return ok(
        "memory_server",
        f"{store.server} · namespace {settings.store.namespace} · "
        f"{plural(live, 'live memory', 'live memories')}",
        **details,
    )
