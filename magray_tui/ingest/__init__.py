"""Workspace ingestion: files and folders into the Assets layer, kept in sync.

`Ingestor(memory).ingest([path])` walks, chunks, embeds and stores; run it again and only
what changed is touched. `Watcher(memory, [path]).start()` keeps folders in sync.
Both take a progress callback and can be cancelled from another thread.
"""

from __future__ import annotations

from typing import Any

from magray_tui.ingest.ingestor import IngestOptions, Ingestor
from magray_tui.ingest.report import IngestProgress, IngestReport, PathList
from magray_tui.ingest.watched import (
    WatchedError,
    WatchedFolder,
    add_watched,
    load_watched,
    remove_watched,
    set_watch_enabled,
)
from magray_tui.ingest.watcher import Watcher


def source_label(record: Any) -> str | None:
    """'path:start-end' for a record that came from a file, else None (for hit lists)."""
    return getattr(record, "location", None)


__all__ = [
    "IngestOptions",
    "IngestProgress",
    "IngestReport",
    "Ingestor",
    "PathList",
    "WatchedError",
    "WatchedFolder",
    "Watcher",
    "add_watched",
    "load_watched",
    "remove_watched",
    "set_watch_enabled",
    "source_label",
]
