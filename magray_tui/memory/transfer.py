"""Export and import of memories as JSON Lines, one memory per line.

An import is all or nothing: every line is checked before anything is written, and the
records go into the store in one transaction, so a failed import leaves the store as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.memory.indexes import Progress
from magray_tui.memory.records import MemoryError_, State

if TYPE_CHECKING:
    from magray_tui.memory.service import MemoryService

MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass
class ImportReport:
    imported: int = 0
    skipped_existing: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped_existing": self.skipped_existing,
            "bad_lines": [{"line": n, "error": e} for n, e in self.bad_lines],
        }


def export_jsonl(svc: MemoryService, path: Path, *, include_forgotten: bool = False) -> int:
    """Write every live memory (and tombstones if asked) with access stats; atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    filters = svc.filters(state=None if include_forgotten else State.LIVE)
    n = 0
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for record in svc.store.iter_records(filters):
                out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
                n += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _read_lines(path: Path) -> list[tuple[int, str]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise MemoryError_(f"cannot read {path}: {exc.strerror}") from None
    lines: list[tuple[int, str]] = []
    with handle:
        for n, raw in enumerate(handle, 1):
            if len(raw) > MAX_LINE_BYTES:
                lines.append((n, "\0too-long"))
                continue
            lines.append((n, raw.decode("utf-8", errors="replace")))
    return lines


def import_jsonl(
    svc: MemoryService, path: Path, *, skip_bad: bool = False, progress: Progress | None = None
) -> ImportReport:
    if svc.read_only:
        raise MemoryError_(svc.store.note or "the memory database is open read-only")
    report = ImportReport()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, line in _read_lines(path):
        if not line.strip():
            continue
        try:
            if line == "\0too-long":
                raise MemoryError_(f"line longer than {MAX_LINE_BYTES} bytes")
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MemoryError_(f"not JSON ({exc.msg})") from None
            row = svc._prepare(item, default_source="import")
            if row["id"] in seen:
                raise MemoryError_(f"id {row['id']} appears twice in the file")
        except MemoryError_ as exc:
            if not skip_bad:
                raise MemoryError_(
                    f"{path}, line {n}: {exc} — nothing was imported "
                    "(fix the line or use --skip-bad)"
                ) from None
            report.bad_lines.append((n, str(exc)))
            continue
        seen.add(row["id"])
        rows.append(row)
    existing = svc.store.existing_ids([r["id"] for r in rows])
    fresh = [r for r in rows if r["id"] not in existing]
    report.skipped_existing = len(rows) - len(fresh)
    if fresh:
        svc._insert(fresh, progress=progress)
    report.imported = len(fresh)
    return report
