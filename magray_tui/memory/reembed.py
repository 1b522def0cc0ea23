"""Re-embedding a store when the embedding model changes (docs/model-migration.md).

While it runs, the store's own model answers queries against the old, complete index; the
new model embeds every record in batches by `seq`, each batch one commit into
`vectors_next`, and the vectors go into a new hnsw index beside the old one. A kill loses
at most the batch in flight: a restart rebuilds the new index from `vectors_next` and goes
on from there. When every record has a new vector, one transaction makes them the store's
vectors and the target its model, and under the same lock the search swaps to the new
index and embedder: a reader sees the old world or the new one, never a mix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from magray_tui.memory import reembed_rows as rows
from magray_tui.memory.commit import normalized
from magray_tui.memory.core import MemoryCore
from magray_tui.memory.protocols import Embedder
from magray_tui.memory.records import utcnow
from magray_tui.memory.vector_index import IndexParams, VectorIndex

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class Stop(Protocol):
    def is_set(self) -> bool: ...


BATCH = 256


@dataclass
class ReembedStatus:
    store_model: str | None
    store_dim: int | None
    target_model: str | None  # None: no re-embed pending
    target_dim: int | None
    done: int
    total: int
    started: str | None = None
    running: bool = False

    @property
    def pending(self) -> bool:
        return self.target_model is not None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pending": self.pending}


@dataclass
class ReembedReport:
    model: str
    dim: int
    embedded: int  # records embedded by this run
    resumed_from: int  # records already staged when it started
    total: int
    seconds: float
    switched: bool
    stopped: bool = False

    @property
    def records_per_s(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_s": round(self.records_per_s, 1)}


def status(core: MemoryCore, *, running: bool = False) -> ReembedStatus:
    cur = core.store.cursor()
    model, dim, started = rows.target(cur)
    done, total = rows.counts(cur) if model else (0, 0)
    stored_dim = core.store.get_meta("embed_dim")
    return ReembedStatus(
        store_model=core.store.get_meta("embed_model"),
        store_dim=int(stored_dim) if stored_dim else None,
        target_model=model,
        target_dim=dim,
        done=done,
        total=total,
        started=started,
        running=running,
    )


def begin(core: MemoryCore, model_id: str, dim: int) -> None:
    core.commit(lambda w: rows.begin(w, model_id, dim, utcnow().isoformat()))


def cancel(core: MemoryCore) -> None:
    core.commit(rows.cancel)


class Reembedder:
    """Runs one re-embed of `core`'s store to `target` (an open embedder of the new model)."""

    def __init__(self, core: MemoryCore, target: Embedder, batch_size: int = BATCH) -> None:
        self.core = core
        self.target = target
        self.batch_size = batch_size
        mem = core.settings.memory
        self.params = IndexParams(
            target.dim, mem.hnsw_m, mem.hnsw_ef_construction, mem.hnsw_ef_search
        )

    def run(self, progress: Progress | None = None, stop: Stop | None = None) -> ReembedReport:
        t0 = time.perf_counter()
        core, target = self.core, self.target
        begin(core, target.model_id, target.dim)
        index = self._staging_index()
        cur = core.store.cursor()
        already, total = rows.counts(cur)
        done, embedded = already, 0
        if progress:
            progress(done, total)
        while True:
            if stop is not None and stop.is_set():
                return self._report(embedded, already, total, t0, switched=False, stopped=True)
            batch = rows.pending(cur, self.batch_size)
            if not batch:
                with core.committer.lock:  # no write can slip in between check and switch
                    if not rows.pending(cur, 1):
                        self._switch(index)
                        break
                continue
            embedded += self._stage(batch, index)
            done, total = rows.counts(cur)
            if progress:
                progress(done, total)
        return self._report(embedded, already, total, t0, switched=True)

    def _report(self, embedded, already, total, t0, *, switched, stopped=False) -> ReembedReport:
        return ReembedReport(
            model=self.target.model_id,
            dim=self.target.dim,
            embedded=embedded,
            resumed_from=already,
            total=total,
            seconds=time.perf_counter() - t0,
            switched=switched,
            stopped=stopped,
        )

    def _staging_index(self) -> VectorIndex:
        """The new model's index, rebuilt from what is staged (a derived cache like the old)."""
        index = VectorIndex(self.core.indexes.vectors.dir, self.params, self.target.model_id)
        for seqs, mat in rows.staged(self.core.store.cursor()):
            index.add(seqs, mat)
        return index

    def _stage(self, batch: list[tuple[int, int, str]], index: VectorIndex) -> int:
        seqs = [s for s, _, _ in batch]
        revs = [r for _, r, _ in batch]
        vectors = normalized(self.target.embed_documents([t for _, _, t in batch]))
        written = set(self.core.commit(lambda w: rows.stage(w, seqs, revs, vectors)))
        keep = [i for i, s in enumerate(seqs) if s in written]
        if keep:
            index.add([seqs[i] for i in keep], vectors[keep])
        return len(keep)

    def _switch(self, index: VectorIndex) -> None:
        core, target = self.core, self.target
        with core.retriever.switching():
            moved = core.commit(lambda w: rows.switch(w, target.model_id, target.dim))
            live = rows.live_seqs(core.store.cursor())
            index.remove(sorted(index.labels() - live))
            core.indexes.replace_vectors(index)
            core.embedder = target
            core.retriever.embedder = target
        log.info("re-embedded %d records with %s (%d-d)", moved, target.model_id, target.dim)
