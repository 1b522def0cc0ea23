"""Copy a whole memory from one store to another (`magray memory copy --to/--from URL`):
records in every state with their access counts and times, their history with its
original times, and their vectors as stored (both sides use one embedding model, so
nothing is re-embedded).

Idempotent and resumable: records are matched by id, and each batch (records, their
history, their vectors) is one commit on the target, so an interrupted copy run again
carries on where it stopped and a record is never copied twice nor half."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from magray_tui.memory.records import Filters, MemoryError_, Record, State

if TYPE_CHECKING:
    from magray_tui.memory.core import HasCore
    from magray_tui.memory.repository_writes import Writes

Progress = Callable[[int, int], None]
BATCH = 500


@dataclass
class CopyReport:
    copied: int = 0
    skipped_existing: int = 0  # already in the target (by id): an earlier or resumed copy
    history: int = 0
    total: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _batches(records: Iterator[Record], n: int) -> Iterator[list[Record]]:
    while chunk := list(islice(records, n)):
        yield chunk


def _row(r: Record) -> dict[str, Any]:
    return {
        "id": r.id,
        "layer": r.layer,
        "text": r.text,
        "kind": r.kind,
        "tags": tuple(r.tags),
        "source": r.source,
        "session": r.session,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "layer_since": r.layer_since,
        "importance": r.importance,
        "pinned": r.pinned,
        "content_hash": r.content_hash,
        "metadata": r.metadata,
        "author": r.author,
    }


def _after_insert(r: Record) -> dict[str, Any]:
    """What `Writes.insert` does not set: state, reads, the merge and supersede links."""
    fields: dict[str, Any] = {}
    if r.superseded_by:
        fields.update(valid_until=r.valid_until, superseded_by=r.superseded_by)
    if r.state is not State.LIVE:
        fields.update(state=r.state, forgotten_at=r.forgotten_at, merged_into=r.merged_into)
    if r.access_count or r.last_access:
        fields.update(access_count=r.access_count, last_access=r.last_access)
    return fields


def copy_memories(
    source: HasCore, target: HasCore, *, batch: int = BATCH, progress: Progress | None = None
) -> CopyReport:
    src, dst = source.core, target.core
    dst.require_writable()
    if (src.embedder.model_id, src.embedder.dim) != (dst.embedder.model_id, dst.embedder.dim):
        raise MemoryError_(
            f"the two stores use different embedding models ({src.embedder.model_id}, "
            f"{dst.embedder.model_id}); copy needs one model on both sides — use "
            "`magray memory export` and `import` to re-embed"
        )
    counts = src.repo.counts()
    report = CopyReport(total=sum(counts.values()))
    done = 0
    for chunk in _batches(iter(src.repo.iter_records(Filters(state=None))), batch):
        done += len(chunk)
        have = dst.repo.existing_ids([r.id for r in chunk])
        fresh = [r for r in chunk if r.id not in have]
        report.skipped_existing += len(chunk) - len(fresh)
        if fresh:
            vectors = src.repo.vectors_for([r.seq for r in fresh])
            history = [{**h, "record_id": r.id} for r in fresh for h in src.repo.history(r.id)]
            for h in history:
                h.pop("hid", None)
                h["details"] = json.loads(h["details"] or "{}")

            def write(
                w: Writes, fresh: list[Record] = fresh, vectors: Any = vectors, history=history
            ) -> None:
                seqs = w.insert([_row(r) for r in fresh], vectors)
                for seq, r in zip(seqs, fresh, strict=True):
                    if fields := _after_insert(r):
                        w.update(seq, fields)
                w.add_history(history)

            dst.commit(write)
            report.copied += len(fresh)
            report.history += len(history)
        if progress:
            progress(done, report.total)
    return report


def copy_with(
    svc: Any, url: str, namespace: str, *, to: bool, progress: Progress | None = None
) -> CopyReport:
    """Open the memory at `url` (namespace) beside `svc`, sharing its embedder, and copy
    `svc` to it (`to`) or it into `svc`."""
    from magray_tui.config import StoreSettings

    settings = svc.settings.model_copy(deep=True)
    settings.store = StoreSettings(url=url, namespace=namespace)
    with type(svc).open(settings=settings, embedder=svc.embedder) as other:
        source, target = (svc, other) if to else (other, svc)
        return copy_memories(source, target, progress=progress)
