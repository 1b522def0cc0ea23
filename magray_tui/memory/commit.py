"""The one write path of the memory: every mutation (add, update, forget, restore, purge,
move, pin, importance, merge, undo, import, expiry, a whole promotion cycle) runs as

    committer.commit(lambda w: ...)   # w: repository_writes.Writes

which writes the rows, their history and the revisions in ONE transaction and then brings
both indexes to the revision it committed. There is no other way to write a memory, so a
new mutation cannot forget the indexes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import numpy as np

from magray_tui.db import Database
from magray_tui.memory.indexes import Indexes
from magray_tui.memory.repository import MemoryRepository
from magray_tui.memory.repository_writes import Touched, Writes
from magray_tui.monitor.metrics import metrics

T = TypeVar("T")


class Committer:
    def __init__(
        self,
        db: Database,
        repo: MemoryRepository,
        indexes: Indexes,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.repo = repo
        self.indexes = indexes
        self.clock = clock
        self._local = threading.local()

    @property
    def lock(self):
        """Held for the transaction and the index follow-up (an RLock: re-entrant)."""
        return self.db.write_lock

    def commit(self, write: Callable[[Writes], T], *, now: datetime | None = None) -> T:
        """Run `write` in one transaction, then bring the indexes to the committed revision.
        A commit inside another on the same thread joins it (one transaction, one follow)."""
        current = getattr(self._local, "writes", None)
        if current is not None:
            return write(current)
        with self.lock, metrics.timer("db.write"):
            with self.db.transaction() as cur:
                writes = self.db.new_writes(cur, now or self.clock())
                self._local.writes = writes
                try:
                    result = write(writes)
                    writes.finish()
                finally:
                    self._local.writes = None
            self.follow(writes.touched)
        return result

    def follow(self, t: Touched) -> None:
        """Bring both indexes to `t.rev` for the records the transaction touched."""
        if not t.rev and not t.purged:
            return
        gone = t.purged
        seqs = [s for s in t.seqs if s not in gone]
        known = [t.known[s] for s in seqs if s in t.known]
        unknown = [s for s in seqs if s not in t.known]
        records = known + (list(self.repo.get_many(unknown).values()) if unknown else [])
        wanted = [r.seq for r in records if r.seq in t.vectors or r.seq in t.reembed]
        missing = [s for s in wanted if s not in t.vectors]
        fresh = dict(zip(missing, self.repo.vectors_for(missing), strict=True)) if missing else {}
        vecs = {**fresh, **{s: v for s, v in t.vectors.items()}}
        self.indexes.follow(records, vecs, sorted(gone), t.rev)


def normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
