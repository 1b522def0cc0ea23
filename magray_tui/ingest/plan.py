"""What to do with one file: read it, chunk it, and diff the chunks against the store."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from magray_tui.ingest.chunker import chunk_text
from magray_tui.ingest.languages import detect_language, kind_of
from magray_tui.ingest.report import IngestReport
from magray_tui.ingest.textfile import NotText, read_text_file
from magray_tui.ingest.walker import FileEntry
from magray_tui.memory.sources import SourceRef

if TYPE_CHECKING:
    from magray_tui.ingest.ingestor import IngestOptions


@dataclass
class Plan:
    path: str
    size: int
    status: str = "new"  # new | changed | touched | skipped
    items: list[dict[str, Any]] = field(default_factory=list)  # records to embed and add
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # seq, metadata
    purges: list[SourceRef] = field(default_factory=list)
    purge_reason: str = "file changed"
    kept: int = 0
    reused: int = 0
    skip: str | None = None
    note: str | None = None
    bytes_read: int = 0

    def apply(self, report: IngestReport) -> None:
        """Count this file in the report, once its writes are committed."""
        if self.skip:
            report.skip(self.skip, self.path)
        if self.note:
            report.note(self.note, self.path)
        if self.status == "new":
            report.files_new += 1
        elif self.status == "changed":
            report.files_changed += 1
        elif self.status == "touched":
            report.files_touched += 1
        report.bytes_read += self.bytes_read
        report.chunks_added += len(self.items)
        report.chunks_kept += self.kept
        report.chunks_reused += self.reused
        report.chunks_removed += len(self.purges)
        report.records_updated += len(self.updates)


def _drop_all(plan: Plan, refs: list[SourceRef], reason: str, why: str) -> Plan:
    plan.status, plan.skip = "skipped", reason
    plan.purges, plan.purge_reason = list(refs), why
    return plan


def file_plan(
    entry: FileEntry,
    refs: list[SourceRef],
    orphans: dict[str, list[SourceRef]],
    opts: IngestOptions,
) -> Plan:
    path = entry.path
    plan = Plan(path, entry.size)
    try:
        tf = read_text_file(path, opts.max_file_bytes)
    except NotText:
        return _drop_all(plan, refs, "binary", "file is now binary")
    except FileNotFoundError:
        return _drop_all(plan, refs, "vanished", "file deleted")
    except ValueError:
        return _drop_all(plan, refs, "too_large", "file is now too large")
    except OSError:  # unreadable: keep what is stored, it may be readable again
        plan.status, plan.skip = "skipped", "unreadable"
        return plan
    plan.bytes_read, plan.note = tf.size, tf.note
    base = {
        "path": path,
        "file_hash": tf.file_hash,
        "file_size": entry.size,
        "file_mtime_ns": entry.mtime_ns,
        "chunker": opts.chunker_id,
    }
    if tf.encoding not in ("utf-8", "utf-8-sig"):
        base["encoding"] = tf.encoding
    if refs and _same_content(refs, tf.file_hash, opts.chunker_id):
        plan.status, plan.kept = "touched", len(refs)
        for r in refs:
            fresh = {**r.metadata, **base}
            if fresh != r.metadata:
                plan.updates.append((r.seq, fresh))
        return plan
    first_line = tf.text[:200].split("\n", 1)[0]
    language = detect_language(path, first_line)
    base["language"] = language
    chunks = chunk_text(
        tf.text, language, max_chars=opts.chunk_chars, overlap_chars=opts.overlap_chars
    )
    if not chunks:
        return _drop_all(plan, refs, "empty", "file is empty")
    plan.status = "changed" if refs else "new"
    pool: dict[str, list[SourceRef]] = defaultdict(list)
    for ref in refs:
        pool[ref.metadata.get("chunk_hash", "")].append(ref)
    kind = kind_of(language)
    for c in chunks:
        meta = {
            **base,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "chunk_hash": c.hash,
            "chunk_count": len(chunks),
        }
        if c.section:
            meta["section"] = c.section
        if pool.get(c.hash):
            ref = pool[c.hash].pop()
            plan.kept += 1
        elif orphans.get(c.hash):
            ref = orphans[c.hash].pop()
            plan.reused += 1
        else:
            plan.items.append(
                {
                    "text": c.text,
                    "layer": opts.layer,
                    "kind": kind,
                    "tags": ["file", language],
                    "source": "file",
                    "metadata": meta,
                }
            )
            continue
        if ref.metadata != meta:
            plan.updates.append((ref.seq, meta))
    plan.purges = [r for rs in pool.values() for r in rs]
    return plan


def _same_content(refs: list[SourceRef], file_hash: str, chunker: str) -> bool:
    """The stored chunks are all there and were made from these very bytes."""
    if refs[0].metadata.get("chunk_count") != len(refs):
        return False
    return all(
        r.metadata.get("file_hash") == file_hash and r.metadata.get("chunker") == chunker
        for r in refs
    )
