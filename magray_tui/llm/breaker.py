"""A circuit breaker per provider endpoint: after N failures in a row, stop calling it for
a cool-down, so a dead server costs one fast "skipped" instead of a timeout per turn.

closed → (N failures) → open → (cool-down passed) → half-open: one trial call; its success
closes the breaker, its failure opens it again for another cool-down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BreakerState:
    state: str  # closed | open | half_open
    failures: int
    retry_in_s: float  # seconds until an open breaker lets a trial call through

    def describe(self) -> str:
        if self.state == "open":
            return f"paused after {self.failures} failures; retrying in {self.retry_in_s:.0f} s"
        if self.state == "half_open":
            return "recovering: the next call is a trial"
        return ""


class CircuitBreaker:
    def __init__(
        self, threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = max(1, threshold)
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is in flight

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self.clock() - self._opened_at < self.cooldown_s or self._trial:
                return False
            self._trial = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.threshold:
                self._opened_at = self.clock()
            self._trial = False

    def release(self) -> None:
        """A call that ended without a verdict (cancelled): let the next trial through."""
        with self._lock:
            self._trial = False

    def state(self) -> BreakerState:
        with self._lock:
            if self._opened_at is None:
                return BreakerState("closed", self._failures, 0.0)
            left = self.cooldown_s - (self.clock() - self._opened_at)
            if left > 0:
                return BreakerState("open", self._failures, left)
            return BreakerState("half_open", self._failures, 0.0)
