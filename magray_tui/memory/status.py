"""What `stats()` and the health checks read about an open memory: counts, the
database file, and both indexes against the store (entries, watermarks, revision)."""

from __future__ import annotations

from typing import Any

from magray_tui.memory.core import MemoryCore
from magray_tui.memory.records import Layer


def index_status(core: MemoryCore, *, wait: float = 5.0) -> dict[str, Any]:
    """Both indexes' entries and watermarks with the store's live count and latest
    revision. A write commits to the store before the indexes follow, so a reading that
    disagrees is taken again under the writer lock (waiting at most `wait` seconds)."""

    def read() -> dict[str, Any]:
        status = core.indexes.status()
        status["live_records"] = core.repo.live_count()
        status["store_rev"] = core.repo.max_rev()
        return status

    first = read()
    agree = first["vector_entries"] == first["live_records"] == first["keyword_entries"]
    marks = min(first["vector_watermark"], first["keyword_watermark"])
    if agree and marks >= first["store_rev"]:
        return first
    lock = core.store.write_lock
    if not lock.acquire(timeout=wait):
        return first
    try:
        return read()
    finally:
        lock.release()


def stats(core: MemoryCore) -> dict[str, Any]:
    counts = core.repo.counts()
    store, embedder = core.store, core.embedder
    report = core.indexes.report
    status = index_status(core)
    return {
        "counts": counts,
        "total_live": sum(counts[layer.value] for layer in Layer),
        "database": {
            "path": str(store.path),
            "bytes": store.file_bytes(),
            "schema_version": store.schema_version(),
            "read_only": store.read_only,
            "note": store.note,
            "warning": store.warning,
        },
        "indexes": {
            **{k: v for k, v in status.items() if k not in ("live_records", "read_only")},
            "watermark": status["vector_watermark"],
            "last_open": {
                "vector_loaded": report.vector_loaded,
                "keyword_loaded": report.keyword_loaded,
                "vector_replayed": report.vector_replayed,
                "keyword_replayed": report.keyword_replayed,
                "rebuilt": report.rebuilt,
                "seconds": round(report.seconds, 3),
            },
        },
        "embedder": {
            "model": embedder.model_id,
            "dim": embedder.dim,
            "provider": getattr(embedder, "provider", "?"),
            "cache": embedder.cache_stats() if hasattr(embedder, "cache_stats") else {},
        },
    }
