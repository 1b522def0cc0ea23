"""The hnswlib vector index: a derived cache of the vectors in DuckDB.

Labels are the records' integer `seq`. The file is saved atomically (temp file, then
rename) together with a small JSON sidecar holding the watermark: the highest change
revision of the store that the saved index contains. At open, changes after the watermark
are replayed from DuckDB, so a crash never loses a committed record and never forces a
full rebuild.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np

log = logging.getLogger(__name__)

_GROW = 1.5
_MIN_CAPACITY = 1024


@dataclass
class IndexParams:
    dim: int
    m: int = 16
    ef_construction: int = 200
    ef_search: int = 64


class VectorIndex:
    def __init__(self, directory: Path, params: IndexParams, model_id: str) -> None:
        self.dir = Path(directory)
        self.params = params
        self.model_id = model_id
        self.watermark = 0
        self._lock = threading.RLock()
        self._index = self._new(_MIN_CAPACITY)
        self._live: set[int] = set()

    # ---- lifecycle -----------------------------------------------------------------------
    def _new(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="cosine", dim=self.params.dim)
        index.init_index(
            max_elements=capacity,
            M=self.params.m,
            ef_construction=self.params.ef_construction,
            allow_replace_deleted=False,
        )
        index.set_ef(self.params.ef_search)
        index.set_num_threads(1)
        return index

    @property
    def _meta_path(self) -> Path:
        return self.dir / "vectors.json"

    def load(self) -> bool:
        """Load the saved index if it fits this model and parameters; False means rebuild."""
        try:
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            if (
                meta.get("model") != self.model_id
                or meta.get("dim") != self.params.dim
                or meta.get("m") != self.params.m
            ):
                log.info("vector index parameters changed; rebuilding")
                return False
            path = self.dir / meta["file"]
            index = hnswlib.Index(space="cosine", dim=self.params.dim)
            index.load_index(str(path), max_elements=int(meta["capacity"]))
            index.set_ef(self.params.ef_search)
            index.set_num_threads(1)
            live = set(map(int, np.asarray(index.get_ids_list(), dtype=np.int64)))
            live -= set(map(int, meta.get("deleted", [])))
        except FileNotFoundError:
            return False
        except Exception as exc:  # a damaged cache is rebuilt, never trusted
            log.warning("vector index unreadable (%s); rebuilding", exc)
            return False
        with self._lock:
            self._index, self._live = index, live
            self.watermark = int(meta["watermark"])
        return True

    def save(self, watermark: int) -> None:
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            generation = f"vectors-{os.getpid()}-{threading.get_ident()}-{watermark}.bin"
            tmp = self.dir / (generation + ".tmp")
            self._index.save_index(str(tmp))
            _fsync(tmp)
            os.replace(tmp, self.dir / generation)
            all_ids = set(map(int, self._index.get_ids_list()))
            meta = {
                "file": generation,
                "watermark": int(watermark),
                "model": self.model_id,
                "dim": self.params.dim,
                "m": self.params.m,
                "capacity": int(self._index.get_max_elements()),
                "count": len(self._live),
                "deleted": sorted(all_ids - self._live),
            }
            meta_tmp = self._meta_path.with_suffix(".json.tmp")
            meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
            _fsync(meta_tmp)
            os.replace(meta_tmp, self._meta_path)
            self.watermark = int(watermark)
            for old in self.dir.glob("vectors-*.bin"):
                if old.name != generation:
                    old.unlink(missing_ok=True)

    def reset(self) -> None:
        with self._lock:
            self._index = self._new(_MIN_CAPACITY)
            self._live = set()
            self.watermark = 0

    # ---- writes --------------------------------------------------------------------------
    def add(self, labels: Sequence[int], vectors: np.ndarray) -> None:
        """Insert or replace vectors (a replaced or forgotten label comes back live)."""
        if len(labels) == 0:
            return
        labels_arr = np.asarray(labels, dtype=np.int64)
        with self._lock:
            need = self._index.get_current_count() + len(labels_arr)
            capacity = self._index.get_max_elements()
            if need > capacity:
                # Resizing is not thread-safe in hnswlib: done under the lock.
                self._index.resize_index(max(int(capacity * _GROW), need, _MIN_CAPACITY))
            self._index.add_items(np.asarray(vectors, dtype=np.float32), labels_arr)
            self._live.update(map(int, labels_arr))

    def remove(self, labels: Sequence[int]) -> None:
        with self._lock:
            for label in map(int, labels):
                if label in self._live:
                    self._index.mark_deleted(label)
                    self._live.discard(label)

    # ---- reads ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._live)

    def labels(self) -> set[int]:
        with self._lock:
            return set(self._live)

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: Callable[[int], bool] | None = None,
        allowed_count: int | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (label, cosine similarity), best first."""
        with self._lock:
            live = len(self._live)
            k = min(k, live if allowed_count is None else min(live, allowed_count))
            if k <= 0:
                return []
            ef = max(self.params.ef_search, k)
            self._index.set_ef(ef)
            query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
            while k > 0:
                try:
                    labels, dists = self._index.knn_query(query, k=k, filter=allowed)
                    break
                except RuntimeError:
                    # Fewer reachable matches than k (heavy filtering): ask for fewer.
                    k //= 2
            else:
                return []
        return [(int(label), float(1.0 - d)) for label, d in zip(labels[0], dists[0], strict=True)]

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Unfiltered top-k for a batch: (labels, cosine similarities), each (n, k')."""
        with self._lock:
            k = min(k, len(self._live))
            if k <= 0 or len(vectors) == 0:
                empty = np.zeros((len(vectors), 0))
                return empty.astype(np.int64), empty
            self._index.set_ef(max(self.params.ef_search, k))
            labels, dists = self._index.knn_query(np.asarray(vectors, dtype=np.float32), k=k)
        return labels.astype(np.int64), 1.0 - dists


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
