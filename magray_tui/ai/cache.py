"""A thread-safe LRU of embeddings keyed by (model id, sha1 of the prepared text)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

CacheKey = tuple[str, bytes]


class EmbeddingCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, capacity)
        self.hits = 0
        self.misses = 0
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

    def put(self, key: CacheKey, vector: np.ndarray, truncated: bool) -> None:
        if not self.capacity:
            return
        # Stored read-only so a caller mutating a result cannot corrupt later hits.
        vector = vector.copy()
        vector.setflags(write=False)
        with self._lock:
            self._data[key] = (vector, truncated)
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            total = self.hits + self.misses
            return {
                "hits": self.hits,
                "misses": self.misses,
                "size": len(self._data),
                "capacity": self.capacity,
                "hit_rate": self.hits / total if total else 0.0,
            }
