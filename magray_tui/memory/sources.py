"""Records that came from files: the ingest's state, kept in the records themselves.

A file chunk is an ordinary record (`source="file"`) whose metadata holds `path`,
`start_line`, `end_line`, `language`, `chunk_hash`, `file_hash`, `file_size`,
`file_mtime_ns`, `chunk_count` and `chunker`. These functions are the queries and batch
writes the ingest needs on top of MemoryService (SQL in the repository, writes through the
one commit path).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from magray_tui.memory import mutations
from magray_tui.memory.records import Layer, State

if TYPE_CHECKING:
    from magray_tui.memory.core import HasCore


@dataclass(frozen=True)
class SourceRef:
    """A file chunk record, without its text: enough to diff a file against the store."""

    id: str
    seq: int
    layer: Layer
    state: State
    metadata: dict[str, Any]

    @property
    def path(self) -> str:
        return str(self.metadata.get("path", ""))


def file_records(
    svc: HasCore,
    *,
    paths: Sequence[str] | None = None,
    under: str | None = None,
) -> list[SourceRef]:
    """File chunk records (live and forgotten) whose metadata.path is one of `paths`,
    or is `under` a folder (or is that path itself)."""
    if paths is not None and not paths:
        return []
    out = []
    for id_, seq, layer, state, meta in svc.core.repo.file_rows(paths=paths, under=under):
        try:
            data = json.loads(meta) if meta else {}
        except json.JSONDecodeError:
            data = {}
        out.append(SourceRef(id_, int(seq), Layer(layer), State(state), data))
    return out


def file_summary(svc: HasCore, *, under: str | None = None) -> dict[str, int]:
    """Live chunk count per ingested file path (optionally under a folder)."""
    return svc.core.repo.file_summary(under=under)


def set_metadata(svc: HasCore, changes: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """Replace the metadata of many records (by seq) in one commit.

    Text, tags, layer and vectors are untouched, so the indexes need no new entries: only
    their watermark moves past the new revisions. No history rows (bookkeeping, such as
    line numbers that moved, not an edit by anyone)."""
    if not changes:
        return 0
    svc.core.commit(lambda w: w.set_metadata(changes))
    return len(changes)


def drop(svc: HasCore, refs: Sequence[SourceRef], *, reason: str, actor: str = "ingest") -> int:
    """Delete file chunk records for good (no tombstone: they are derived from a file,
    not knowledge anyone wrote), with one `purge` history row each, in one commit."""
    if not refs:
        return 0
    return len(mutations.purge(svc.core, list(refs), reason=reason, actor=actor))
