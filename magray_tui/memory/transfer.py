"""Export and import of memories as JSON Lines, one memory per line.

An import is all or nothing: every line is checked before anything is written, and the
records go into the store in one transaction, so a failed import leaves the store as it was.

Importing the same file twice stores it once. A line with an `id` is already present when
that id is; a line without one when a record (not forgotten) in the same layer holds the
same text (content hash), or an earlier line of the file does. `allow_duplicates` stores
such lines anyway (ids still count).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.memory import mutations as ops
from magray_tui.memory.indexes import Progress
from magray_tui.memory.records import Filters, MemoryError_, State
from magray_tui.regular_file import open_regular

if TYPE_CHECKING:
    from magray_tui.memory.core import HasCore

MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass
class ImportReport:
    imported: int = 0
    skipped_existing: int = 0  # already present: same id, or (no id) same text and layer
    skipped_same_text: int = 0  # of those, found by the text (lines without an id)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped_existing": self.skipped_existing,
            "skipped_same_text": self.skipped_same_text,
            "bad_lines": [{"line": n, "error": e} for n, e in self.bad_lines],
        }


def export_jsonl(svc: HasCore, path: Path, *, include_forgotten: bool = False) -> int:
    """Write every live memory (and tombstones if asked) with access stats; atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    filters = Filters(state=None if include_forgotten else State.LIVE)
    n = 0
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for record in svc.core.repo.iter_records(filters):
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
        handle = open_regular(path)  # a FIFO or /dev/zero is refused, not waited on
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


def _parse_line(svc: HasCore, line: str) -> tuple[dict[str, Any], bool]:
    """One line as a store row, and whether the line named its id; MemoryError_ if bad."""
    if line == "\0too-long":
        raise MemoryError_(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise MemoryError_(f"not JSON ({exc.msg})") from None
    except RecursionError:
        raise MemoryError_("JSON nested too deeply") from None
    row = ops.prepare(svc.core, item, default_source="import")
    return row, bool(item.get("id"))


def import_jsonl(
    svc: HasCore,
    path: Path,
    *,
    skip_bad: bool = False,
    allow_duplicates: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    svc.core.require_writable()
    report = ImportReport()
    rows: list[tuple[dict[str, Any], bool]] = []
    seen: set[str] = set()
    for n, line in _read_lines(path):
        if not line.strip():
            continue
        try:
            row, named = _parse_line(svc, line)
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
        rows.append((row, named))
    existing = svc.core.repo.existing_ids([r["id"] for r, _ in rows])
    fresh = [(r, named) for r, named in rows if r["id"] not in existing]
    if not allow_duplicates:
        fresh, report.skipped_same_text = _drop_same_text(svc, fresh)
    report.skipped_existing = len(rows) - len(fresh)
    if fresh:
        ops.insert_rows(svc.core, [r for r, _ in fresh], progress=progress)
    report.imported = len(fresh)
    return report


def _drop_same_text(
    svc: HasCore, rows: list[tuple[dict[str, Any], bool]]
) -> tuple[list[tuple[dict[str, Any], bool]], int]:
    """Lines without an id whose text the same layer already holds (in the store or
    earlier in the file) are already present."""
    key = lambda row: (row["content_hash"], row["layer"].value)  # noqa: E731
    present = svc.core.repo.existing_hashes([key(r) for r, named in rows if not named])
    kept, dropped = [], 0
    for row, named in rows:
        if not named:
            if key(row) in present:
                dropped += 1
                continue
            present.add(key(row))
        kept.append((row, named))
    return kept, dropped
