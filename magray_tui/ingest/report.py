"""What an ingest reports: progress while it runs, a summary when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magray_tui.ingest.walker import SKIP_REASONS

EXAMPLES = 5


@dataclass
class PathList:
    """A count and the first few paths, for reports that stay short."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, path: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(path)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": list(self.examples)}


@dataclass
class IngestProgress:
    """A snapshot handed to the progress callback (files and chunks done, rate, ETA)."""

    phase: str  # scanning | ingesting | removing | done | cancelled
    files_done: int = 0
    files_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0  # chunks planned so far (grows while files are read)
    bytes_done: int = 0
    bytes_total: int = 0  # bytes of the files that need work
    elapsed: float = 0.0
    work_elapsed: float = 0.0  # time since the ingesting phase began
    current: str | None = None

    @property
    def files_per_s(self) -> float:
        return self.files_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def chunks_per_s(self) -> float:
        return self.chunks_done / self.work_elapsed if self.work_elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left, from the byte rate of the files done so far (None: unknown)."""
        if self.phase != "ingesting" or self.bytes_done <= 0 or self.work_elapsed <= 0:
            return None
        rate = self.bytes_done / self.work_elapsed
        return max(0.0, (self.bytes_total - self.bytes_done) / rate)


@dataclass
class IngestReport:
    roots: list[str] = field(default_factory=list)
    files_seen: int = 0  # files the walk found (before reading)
    files_unchanged: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_touched: int = 0  # same content, new modification time
    files_removed: int = 0
    chunks_added: int = 0  # embedded and stored
    chunks_kept: int = 0  # unchanged records kept (ids, reads and vectors stay)
    chunks_reused: int = 0  # taken over from a renamed or moved file, not re-embedded
    chunks_removed: int = 0
    records_updated: int = 0  # metadata refreshed (line numbers, path, file hash)
    bytes_read: int = 0
    skipped: dict[str, PathList] = field(default_factory=dict)
    notes: dict[str, PathList] = field(default_factory=dict)
    cancelled: bool = False
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def skip(self, reason: str, path: str) -> None:
        self.skipped.setdefault(reason, PathList()).add(path)

    def note(self, message: str, path: str) -> None:
        self.notes.setdefault(message, PathList()).add(path)

    @property
    def wrote(self) -> bool:
        return bool(self.chunks_added or self.chunks_removed or self.records_updated)

    @property
    def problems(self) -> dict[str, PathList]:
        """Skips worth telling the user about (everything but ignore rules and empties)."""
        return {k: v for k, v in self.skipped.items() if k not in ("ignored", "empty")}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "roots",
                "files_seen",
                "files_unchanged",
                "files_new",
                "files_changed",
                "files_touched",
                "files_removed",
                "chunks_added",
                "chunks_kept",
                "chunks_reused",
                "chunks_removed",
                "records_updated",
                "bytes_read",
                "cancelled",
            )
        }
        out["seconds"] = round(self.seconds, 3)
        out["embed_seconds"] = round(self.embed_seconds, 3)
        out["skipped"] = {k: v.to_dict() for k, v in sorted(self.skipped.items())}
        out["notes"] = {k: v.to_dict() for k, v in sorted(self.notes.items())}
        return out

    def summary(self) -> str:
        parts = [
            f"{self.files_new:,} new",
            f"{self.files_changed:,} changed",
            f"{self.files_unchanged + self.files_touched:,} unchanged",
            f"{self.files_removed:,} removed",
        ]
        chunks = f"chunks: +{self.chunks_added:,} -{self.chunks_removed:,}"
        if self.chunks_reused:
            chunks += f", {self.chunks_reused:,} moved"
        line = f"files: {', '.join(parts)}; {chunks}; {self.seconds:.1f} s"
        if self.cancelled:
            line += " (cancelled: run it again to resume)"
        return line

    def skip_lines(self) -> list[str]:
        lines = []
        for reason, paths in sorted(self.problems.items()):
            what = SKIP_REASONS.get(reason, reason)
            lines.append(f"skipped {paths.count:,} ({what}): " + ", ".join(paths.examples))
        for message, paths in sorted(self.notes.items()):
            lines.append(f"note: {paths.count:,} file(s) {message}: " + ", ".join(paths.examples))
        return lines
