"""Record writes (add, update, forget, restore, purge), each one commit through the one
write path: rows, history and revision in one transaction, then both indexes follow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, Protocol

import numpy as np

from magray_tui.memory import items as item_rules
from magray_tui.memory.commit import normalized
from magray_tui.memory.core import MemoryCore
from magray_tui.memory.records import Layer, MemoryError_, Record, State

EMBED_BATCH = 256
Progress = Any  # Callable[[int, int], None] | None


def prepare(core: MemoryCore, item: dict[str, Any], default_source: str = "manual") -> dict:
    """A user-supplied dict checked and turned into a row, or MemoryError_."""
    return item_rules.prepare(
        item,
        now=core.clock(),
        default_source=default_source,
        max_bytes=core.settings.memory.max_text_bytes,
    )


def embed_rows(core: MemoryCore, rows: list[dict[str, Any]], progress: Progress = None):
    parts = []
    for start in range(0, len(rows), EMBED_BATCH):
        chunk = rows[start : start + EMBED_BATCH]
        parts.append(core.embedder.embed_documents([r["text"] for r in chunk]))
        if progress:
            progress(start + len(chunk), len(rows))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def insert_rows(
    core: MemoryCore,
    rows: list[dict[str, Any]],
    progress: Progress = None,
    vectors: np.ndarray | None = None,
    vectors_model: str | None = None,
) -> list[str]:
    """Embed, then store all `rows` in one commit. Given `vectors` are from `vectors_model`
    (default: the store's model as this call starts)."""
    if not rows:
        return []
    core.require_writable()
    model = core.embedder.model_id if vectors_model is None or vectors is None else vectors_model
    if vectors is None:
        vectors = embed_rows(core, rows, progress)
    vectors = normalized(vectors)

    def write(w) -> None:
        # A re-embed may have switched the store's model while these were embedded (the
        # commit holds the lock the switch takes): embed them again with the new one.
        same = core.embedder.model_id == model and vectors.shape[1] == core.embedder.dim
        now = vectors if same else normalized(embed_rows(core, rows))
        w.insert(rows, now)

    core.commit(write)
    return [r["id"] for r in rows]


def add_many(
    core: MemoryCore,
    items: Iterable[dict[str, Any]],
    progress: Progress = None,
    batch_size: int = EMBED_BATCH,
    vectors: np.ndarray | None = None,
    vectors_model: str | None = None,
) -> list[str]:
    """Validate, embed and store memories; each batch is one commit."""
    core.require_writable()
    pending = items if isinstance(items, list) else list(items)
    total = len(pending)
    dim = core.embedder.dim
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (total, dim):
            raise MemoryError_(f"vectors must have shape ({total}, {dim}), not {vectors.shape}")
    ids: list[str] = []
    for start in range(0, total, batch_size):
        rows = []
        for n, item in enumerate(pending[start : start + batch_size], start + 1):
            try:
                rows.append(prepare(core, item))
            except MemoryError_ as exc:
                raise MemoryError_(f"memory #{n}: {exc}") from None
        given = None if vectors is None else vectors[start : start + batch_size]
        ids.extend(insert_rows(core, rows, vectors=given, vectors_model=vectors_model))
        if progress:
            progress(len(ids), total)
    return ids


def live(core: MemoryCore, ref: str) -> Record:
    record = core.repo.get(ref)
    if record.state is not State.LIVE:
        raise MemoryError_(f"memory {record.id} is {record.state.value}; restore it first")
    return record


def update(core: MemoryCore, ref: str, changes: dict[str, Any], actor: str = "user") -> Record:
    record = core.repo.get(ref)
    if record.state is not State.LIVE:
        raise MemoryError_(f"memory {record.id} is forgotten; restore it before editing")
    merged = {
        "text": record.text,
        "layer": record.layer,
        "kind": record.kind,
        "tags": list(record.tags),
        "importance": record.importance,
        "pinned": record.pinned,
        "metadata": record.metadata,
        "session": record.session,
        "source": record.source,
        "author": record.author,
        "created_at": record.created_at,
    }
    merged.update({k: v for k, v in changes.items() if v is not None})
    confirmed = record.metadata.get("confirmed") if isinstance(record.metadata, dict) else None
    if confirmed is not None and isinstance(merged["metadata"], dict):
        # New metadata from an edit does not undo the user's confirmation.
        merged["metadata"] = {**merged["metadata"], "confirmed": confirmed}
    if "tags" in changes and changes["tags"] is not None:
        merged["tags"] = list(changes["tags"])
    row = prepare(core, merged, default_source=record.source)
    keys = ("text", "kind", "tags", "importance", "pinned", "metadata", "content_hash")
    fields = {k: row[k] for k in keys}
    fields["updated_at"] = core.clock()
    changed = [k for k in fields if k != "updated_at" and fields[k] != getattr(record, k)]
    if not changed:
        return record
    core.require_writable()
    vector, model = None, core.embedder
    if "text" in changed:
        vector = normalized(model.embed_documents([row["text"]]))[0]

    def write(w) -> None:
        vec = vector
        if vec is not None and core.embedder is not model:  # switched meanwhile
            vec = normalized(core.embedder.embed_documents([row["text"]]))[0]
        w.update(record.seq, fields, vec)
        w.history(
            record.id,
            "edit",
            actor=actor,
            reason="changed " + ", ".join(changed),
            details={"previous_text": record.text} if "text" in changed else None,
        )

    core.commit(write)
    return core.repo.get(record.id)


def forget(
    core: MemoryCore,
    record: Record,
    *,
    reason: str = "",
    actor: str = "user",
    features: dict[str, Any] | None = None,
) -> Record:
    """Move a record to the tombstones: hidden from search, restorable until purged."""
    now = core.clock()

    def write(w) -> None:
        w.update(record.seq, {"state": State.FORGOTTEN, "forgotten_at": now})
        w.history(
            record.id,
            "forget",
            from_layer=record.layer.value,
            actor=actor,
            reason=reason or "forgotten",
            details={"features": features} if features else None,
        )

    core.commit(write, now=now)
    return core.repo.get(record.id)


def restore(core: MemoryCore, record: Record, *, actor: str = "user") -> Record:
    def write(w) -> None:
        w.update(record.seq, {"state": State.LIVE, "forgotten_at": None})
        w.history(
            record.id,
            "restore",
            to_layer=record.layer.value,
            actor=actor,
            reason="restored from tombstone",
        )

    core.commit(write)
    return core.repo.get(record.id)


def purge_targets(core: MemoryCore, ref: str | None, all_forgotten: bool) -> list[Record]:
    if ref is not None:
        record = core.repo.get(ref)
        if record.state is State.LIVE:
            raise MemoryError_(f"memory {record.id} is live; forget it before purging")
        return [record]
    grace = timedelta(days=core.settings.memory.tombstone_grace_days)
    cutoff = core.clock() if all_forgotten else core.clock() - grace
    seqs = core.repo.forgotten_before(cutoff + timedelta(microseconds=1))
    return list(core.repo.get_many(seqs).values())


class Purgeable(Protocol):
    """What a purge needs of a row: a `Record`, or ingest's lighter `SourceRef`."""

    seq: int
    id: str
    layer: Layer


def purge(
    core: MemoryCore,
    targets: Sequence[Purgeable],
    *,
    reason: str = "deleted for good",
    actor: str = "user",
) -> list[str]:
    """Delete for good, with one `purge` history row each (records, or ingest's source
    refs: anything with a seq, an id and a layer), in one commit."""
    core.require_writable()
    if not targets:
        return []

    def write(w) -> None:
        w.delete([r.seq for r in targets])
        w.add_history(
            [
                {
                    "record_id": r.id,
                    "action": "purge",
                    "from_layer": r.layer.value,
                    "actor": actor,
                    "reason": reason,
                }
                for r in targets
            ]
        )

    core.commit(write)
    return [r.id for r in targets]
