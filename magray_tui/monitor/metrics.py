"""Metrics the services record about themselves: latencies, counts, errors.

Any module records with the process-wide registry, from any thread, at a cost of a lock and
a list append:

    from magray_tui.monitor.metrics import metrics
    with metrics.timer("search"):
        ...
    metrics.observe("llm.first_token", seconds)
    metrics.count("embed.errors")

The Health pane and `magray health` read `metrics.snapshot()`. Latencies keep a bounded
window of recent samples per name (percentiles over the window) plus lifetime totals.
Names in use (`KNOWN_LATENCIES`): embed (one ONNX batch), search, db.write, promotion.cycle,
llm.first_token, llm.total; a failing `timer` block also counts `<name>.errors`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

WINDOW = 2048  # recent samples kept per latency name
RECENT_S = 60.0  # "per minute" throughput looks this far back

# Latencies the services record, in the order the Health pane and `magray health` list them.
KNOWN_LATENCIES = (
    "embed",
    "search",
    "llm.first_token",
    "llm.total",
    "db.write",
    "promotion.cycle",
)


@dataclass(frozen=True)
class LatencyStats:
    name: str
    count: int  # lifetime
    window: int  # samples the percentiles are over
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    total_s: float  # lifetime
    last_ms: float
    rate_per_s: float  # samples per second over the window's time span
    per_min: int = 0  # samples in the last RECENT_S seconds (throughput now, not ever)
    errors: int = 0  # lifetime count of `<name>.errors`

    def to_dict(self) -> dict[str, float | int | str]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in vars(self).items()}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    # nearest-rank on the sorted window
    k = max(0, min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


class Metrics:
    def __init__(self, window: int = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self.clock = clock  # replaceable so tests can seed samples at known times
        self._lock = threading.Lock()
        self._samples: dict[str, deque[tuple[float, float]]] = {}  # name -> (t, seconds)
        self._totals: dict[str, tuple[int, float]] = {}  # name -> (count, seconds)
        self._counters: dict[str, int] = {}

    def observe(self, name: str, seconds: float) -> None:
        now = self.clock()
        with self._lock:
            window = self._samples.get(name)
            if window is None:
                window = self._samples[name] = deque(maxlen=self._window)
            window.append((now, seconds))
            count, total = self._totals.get(name, (0, 0.0))
            self._totals[name] = (count + 1, total + seconds)

    @contextmanager
    def timer(self, name: str) -> Iterator[None]:
        """Time the block; an exception also counts `<name>.errors`."""
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.count(f"{name}.errors")
            raise
        finally:
            self.observe(name, time.perf_counter() - start)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + n

    def counter(self, name: str) -> int:
        with self._lock:
            return self._counters.get(name, 0)

    def latency(self, name: str) -> LatencyStats | None:
        with self._lock:
            window = list(self._samples.get(name, ()))
            count, total = self._totals.get(name, (0, 0.0))
            errors = self._counters.get(f"{name}.errors", 0)
        if not window:
            return None
        values = sorted(s for _, s in window)
        span = window[-1][0] - window[0][0]
        since = self.clock() - RECENT_S
        return LatencyStats(
            name=name,
            count=count,
            window=len(values),
            p50_ms=_percentile(values, 0.50) * 1000,
            p95_ms=_percentile(values, 0.95) * 1000,
            p99_ms=_percentile(values, 0.99) * 1000,
            max_ms=values[-1] * 1000,
            total_s=total,
            last_ms=window[-1][1] * 1000,
            rate_per_s=(len(values) - 1) / span if span > 0 else 0.0,
            per_min=sum(1 for t, _ in window if t >= since),
            errors=errors,
        )

    def snapshot(self) -> tuple[dict[str, LatencyStats], dict[str, int]]:
        with self._lock:
            names = list(self._samples)
            counters = dict(self._counters)
        latencies = {n: s for n in names if (s := self.latency(n)) is not None}
        return latencies, counters

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as plain data, for `--json`."""
        latencies, counters = self.snapshot()
        return {
            "latencies": {n: s.to_dict() for n, s in latencies.items()},
            "counters": counters,
        }

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()
            self._totals.clear()
            self._counters.clear()


metrics = Metrics()
