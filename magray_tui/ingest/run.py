"""One ingest run: scan the paths, plan each file, write in batches, then purge the
chunks of files that are gone. Used by `Ingestor`; not an API of its own."""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.ingest.plan import Plan, file_plan
from magray_tui.ingest.report import IngestProgress, IngestReport
from magray_tui.ingest.walker import Walker, classify_symlink, inside
from magray_tui.memory import sources
from magray_tui.memory.sources import SourceRef

if TYPE_CHECKING:
    from magray_tui.ingest.ingestor import Ingestor

log = logging.getLogger(__name__)


@dataclass
class Scan:
    """What one run looks at: files found, their stored chunks, paths not to touch."""

    entries: dict[str, Any] = field(default_factory=dict)
    existing: dict[str, list[SourceRef]] = field(default_factory=lambda: defaultdict(list))
    keep: set[str] = field(default_factory=set)  # unreadable: keep what is stored
    seqs: set[int] = field(default_factory=set)

    def add_refs(self, refs: Iterable[SourceRef]) -> None:
        for ref in refs:
            if ref.seq not in self.seqs:
                self.seqs.add(ref.seq)
                self.existing[ref.path].append(ref)

    def kept(self, path: str) -> bool:
        return any(inside(path, k) for k in self.keep)


class Run:
    """One ingest run: scan, plan per file, write in batches."""

    def __init__(self, ing: Ingestor, report: IngestReport) -> None:
        self.ing = ing
        self.memory = ing.memory
        self.opts = ing.options
        self.report = report
        self.scan = Scan()
        self.t0 = time.perf_counter()
        self.t_work: float | None = None
        self.last_emit = 0.0
        self.state = IngestProgress("scanning")
        self.pending: list[Plan] = []
        self.pending_chunks = 0
        self.flushed_bytes = 0

    # ---- scanning ------------------------------------------------------------------------
    def _on_skip(self, reason: str, path: str) -> None:
        self.report.skip(reason, path)
        if reason == "unreadable":
            self.scan.keep.add(path)

    def _walker(self, root: str) -> Walker:
        return Walker(
            root, self.ing.matcher(root), self.opts.max_file_bytes, self._on_skip, self.ing.own_dirs
        )

    def scan_tree(self, root: str, start: str) -> None:
        for entry in self._walker(root).walk(start):
            self.scan.entries[entry.path] = entry
            self.state.files_total = len(self.scan.entries)
            self.emit(entry.path)
        self.scan.add_refs(sources.file_records(self.memory, under=start))

    def scan_path(self, root: str, path: str) -> None:
        matcher = self.ing.matcher(root)
        if not os.path.lexists(path):
            self.scan.add_refs(sources.file_records(self.memory, under=path))
            return
        is_dir = os.path.isdir(path) and not os.path.islink(path)
        if path != root and matcher.ignored_deep(path, is_dir):
            return
        if is_dir:
            self.scan_tree(root, path)
            return
        self.scan.add_refs(sources.file_records(self.memory, paths=[path]))
        if os.path.islink(path) and path != root:
            self._on_skip(classify_symlink(path, root), path)
            return
        try:
            st = os.stat(path)
        except OSError:
            self._on_skip("unreadable", path)
            return
        entry = self._walker(root).check_file(path, st)
        if entry:
            self.scan.entries[path] = entry

    # ---- planning and writing ------------------------------------------------------------
    def execute(self) -> None:
        scan, report = self.scan, self.report
        report.files_seen = len(scan.entries)
        deleted = [p for p in scan.existing if p not in scan.entries and not scan.kept(p)]
        orphans: dict[str, list[SourceRef]] = defaultdict(list)
        for path in deleted:
            for ref in scan.existing[path]:
                orphans[ref.metadata.get("chunk_hash", "")].append(ref)
        work = []
        for path, entry in scan.entries.items():
            refs = scan.existing.get(path, [])
            if refs and self._unchanged(refs, entry):
                report.files_unchanged += 1
            else:
                work.append((entry, refs))
        self.state = IngestProgress(
            "ingesting",
            files_done=report.files_unchanged,
            files_total=len(scan.entries),
            bytes_total=sum(e.size for e, _ in work),
        )
        self.t_work = time.perf_counter()
        self.emit(None, force=True)
        for entry, refs in work:
            if self.ing.cancelled:
                break
            plan = file_plan(entry, refs, orphans, self.opts)
            self.state.chunks_total += len(plan.items) + plan.kept + plan.reused
            self.pending.append(plan)
            self.pending_chunks += len(plan.items)
            if self.pending_chunks >= self.opts.batch_chunks:
                self.flush()
            self.emit(entry.path)
        self.flush()
        if not self.ing.cancelled and deleted:
            self.state.phase = "removing"
            self.emit(None, force=True)
            leftovers = [r for refs in orphans.values() for r in refs]
            report.chunks_removed += sources.drop(self.memory, leftovers, reason="file deleted")
            report.files_removed += len(deleted)
        report.cancelled = self.ing.cancelled
        self.state.phase = "cancelled" if report.cancelled else "done"
        report.seconds = time.perf_counter() - self.t0
        self.emit(None, force=True)

    def _unchanged(self, refs: list[SourceRef], entry: Any) -> bool:
        first = refs[0].metadata
        if first.get("chunk_count") != len(refs):
            return False
        want = (first.get("file_hash"), entry.size, entry.mtime_ns, self.opts.chunker_id)
        return all(
            (m.get("file_hash"), m.get("file_size"), m.get("file_mtime_ns"), m.get("chunker"))
            == want
            for m in (r.metadata for r in refs)
        )

    def flush(self) -> None:
        plans, self.pending, self.pending_chunks = self.pending, [], 0
        if not plans:
            return
        items = [item for p in plans for item in p.items]
        if items:
            batch_bytes = sum(p.size for p in plans)
            model = self.memory.embedder.model_id
            vectors = self._embed([it["text"] for it in items], batch_bytes)
            if vectors is None:  # cancelled: nothing of this batch is written
                return
            self.memory.add_many(items, vectors=vectors, vectors_model=model)
        sources.set_metadata(self.memory, [u for p in plans for u in p.updates])
        by_reason: dict[str, list[SourceRef]] = defaultdict(list)
        for p in plans:
            for ref in p.purges:
                by_reason[p.purge_reason].append(ref)
        for reason, refs in by_reason.items():
            sources.drop(self.memory, refs, reason=reason)
        for p in plans:
            p.apply(self.report)
            self.state.files_done += 1
            self.flushed_bytes += p.size
        self.state.bytes_done = self.flushed_bytes

    def _embed(self, texts: list[str], batch_bytes: int) -> np.ndarray | None:
        """Embed in slices of similar length, checking for cancellation between them.
        Progress counts the batch's bytes as done in proportion to its chunks embedded."""
        embedder = self.memory.embedder
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), embedder.dim), dtype=np.float32)
        step = max(8, int(getattr(embedder, "batch_size", 32)))
        for start in range(0, len(order), step):
            if self.ing.cancelled:
                return None
            idx = order[start : start + step]
            t0 = time.perf_counter()
            out[idx] = embedder.embed_documents([texts[i] for i in idx])
            self.report.embed_seconds += time.perf_counter() - t0
            self.state.chunks_done += len(idx)
            done = min(start + step, len(order)) / len(order)
            self.state.bytes_done = self.flushed_bytes + int(batch_bytes * done)
            self.emit(None)
        return out

    def emit(self, current: str | None, *, force: bool = False) -> None:
        cb = self.ing.progress
        if cb is None:
            return
        now = time.perf_counter()
        if not force and now - self.last_emit < 0.1:
            return
        self.last_emit = now
        self.state.elapsed = now - self.t0
        self.state.work_elapsed = now - self.t_work if self.t_work else 0.0
        self.state.current = current
        try:
            cb(IngestProgress(**vars(self.state)))
        except Exception:  # a broken progress display must not break the ingest
            log.exception("progress callback failed")
