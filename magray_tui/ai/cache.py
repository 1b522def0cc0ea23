"""A thread-safe LRU of embeddings keyed by (model id, sha1 of the prepared text).

Bounded both in entries and in bytes: a 1024-d model's vectors take 2.7x the memory of a
384-d one's, so a count alone would not say what the cache costs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

CacheKey = tuple[str, bytes]
# Bytes one entry costs besides its vector's data: the ndarray object, the key tuple and
# its sha1 bytes, the value tuple and the OrderedDict's node (~350 B measured with
# tracemalloc on CPython 3.11; tests/ai/test_cache_bytes.py keeps it an overestimate).
ENTRY_OVERHEAD = 400


class EmbeddingCache:
    def __init__(self, capacity: int, max_bytes: int | None = None) -> None:
        self.capacity = max(0, capacity)
        self.max_bytes = None if max_bytes is None else max(0, max_bytes)
        self.hits = 0
        self.misses = 0
        self.bytes = 0
        self._data: OrderedDict[CacheKey, tuple[np.ndarray, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> tuple[np.ndarray, bool] | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item

    @staticmethod
    def entry_bytes(vector: np.ndarray) -> int:
        return int(vector.nbytes) + ENTRY_OVERHEAD

    def put(self, key: CacheKey, vector: np.ndarray, truncated: bool) -> None:
        size = self.entry_bytes(vector)
        if not self.capacity or (self.max_bytes is not None and size > self.max_bytes):
            return
        # Stored read-only so a caller mutating a result cannot corrupt later hits.
        vector = vector.copy()
        vector.setflags(write=False)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= self.entry_bytes(old[0])
            self._data[key] = (vector, truncated)
            self.bytes += size
            while len(self._data) > self.capacity or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                _, (gone, _) = self._data.popitem(last=False)
                self.bytes -= self.entry_bytes(gone)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0
            self.hits = self.misses = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            total = self.hits + self.misses
            return {
                "hits": self.hits,
                "misses": self.misses,
                "size": len(self._data),
                "capacity": self.capacity,
                "bytes": self.bytes,
                "max_bytes": self.max_bytes,
                "hit_rate": self.hits / total if total else 0.0,
            }
