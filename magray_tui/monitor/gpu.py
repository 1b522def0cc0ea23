"""The GPU sampler: one thread polls a `GpuSource` on an interval and keeps history.

Readers (the GPU pane, the Health pane, `magray gpu`) call `snapshot()`, a cheap copy
taken under a lock, from any thread. Sampling runs only while someone wants it:
`resume(who)` / `pause(who)` keep a set of holders, so a hidden pane stops the polls
without stopping another reader's. No GPU is a state with its reason, not an error.

    monitor = monitor_for(services)      # one per process, closed with the services
    monitor.resume("gpu-pane")
    snap = monitor.snapshot()            # .state, .reason, .gpus[i].reading/.history
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from magray_tui.monitor.gpu_source import (
    GpuReadError,
    GpuReading,
    GpuSource,
    GpuUnavailable,
    NvmlSource,
    SystemInfo,
)

if TYPE_CHECKING:
    from magray_tui.config import Settings

log = logging.getLogger(__name__)

SERVICE_NAME = "gpu-monitor"  # the key in Services.shared
MIN_INTERVAL_S = 0.25
# Metrics with history, and how each is read off a reading.
HISTORY: dict[str, Callable[[GpuReading], float | None]] = {
    "util_sm": lambda r: r.util_sm,
    "vram_pct": lambda r: r.vram_pct,
    "util_mem": lambda r: r.util_mem,
    "temp_c": lambda r: r.temp_c,
    "power_w": lambda r: r.power_w,
}
# Failed polls in a row before the source is closed and opened again.
REOPEN_AFTER = 3

State = Literal["idle", "ok", "no_gpu", "error"]


@dataclass(frozen=True)
class GpuState:
    """One GPU in a snapshot: its latest reading and the history of each metric."""

    reading: GpuReading
    history: dict[str, tuple[float | None, ...]]  # oldest first, one value per sample


@dataclass(frozen=True)
class GpuSnapshot:
    state: State  # idle: not sampled yet; error: the last poll failed (gpus are stale)
    reason: str = ""  # why there is no GPU or what failed; empty when ok
    system: SystemInfo = field(default_factory=SystemInfo)
    gpus: tuple[GpuState, ...] = ()
    samples: int = 0  # polls that succeeded
    times: tuple[float, ...] = ()  # the clock at each sample in the history
    now: float = 0.0  # the clock when the snapshot was taken
    last_poll_ms: float | None = None
    interval_s: float = 1.0
    sampling: bool = False  # someone holds the sampler running

    @property
    def available(self) -> bool:
        return self.state in ("ok", "error") and bool(self.gpus)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`: latest readings, no history."""
        from dataclasses import asdict

        return {
            "state": self.state,
            "reason": self.reason,
            "driver_version": self.system.driver_version,
            "cuda_version": self.system.cuda_version,
            "last_poll_ms": self.last_poll_ms,
            "gpus": [asdict(g.reading) | {"vram_free": g.reading.vram_free} for g in self.gpus],
        }


@dataclass
class _Track:
    reading: GpuReading
    history: dict[str, deque[float | None]] = field(default_factory=dict)


class GpuMonitor:
    def __init__(
        self,
        source: GpuSource,
        *,
        interval_s: float = 1.0,
        history_points: int = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.interval_s = max(MIN_INTERVAL_S, interval_s)
        self.history_points = history_points
        self._clock = clock
        self._lock = threading.Lock()  # guards the state below
        self._poll_lock = threading.Lock()  # one poll at a time
        self._wake = threading.Event()
        self._holders: set[str] = set()
        self._listeners: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self._opened = False
        self._state: State = "idle"
        self._reason = ""
        self._system = SystemInfo()
        self._tracks: dict[int, _Track] = {}
        self._times: deque[float] = deque(maxlen=history_points)
        self._samples = 0
        self._failures = 0
        self._last_ms: float | None = None
        self._next_due = 0.0  # time.monotonic() of the next scheduled poll

    @classmethod
    def from_settings(cls, settings: Settings, source: GpuSource | None = None) -> GpuMonitor:
        cfg = settings.monitor
        return cls(
            source if source is not None else NvmlSource(),
            interval_s=cfg.gpu_interval_s,
            history_points=cfg.history_points,
        )

    # ---- control ---------------------------------------------------------------------------
    def resume(self, who: str = "default") -> None:
        """`who` wants fresh samples: start (or keep) polling."""
        with self._lock:
            if self._closed:
                return
            self._holders.add(who)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="gpu-monitor", daemon=True)
                self._thread.start()
        self._wake.set()

    def pause(self, who: str = "default") -> None:
        """`who` no longer needs samples; polling stops when nobody does."""
        with self._lock:
            self._holders.discard(who)
        self._wake.set()

    @property
    def sampling(self) -> bool:
        with self._lock:
            return bool(self._holders) and not self._closed

    def add_listener(self, callback: Callable[[], None]) -> None:
        """`callback()` runs on the sampler thread after each poll (post a message there)."""
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._holders.clear()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._poll_lock:
            if self._opened:
                self.source.close()
                self._opened = False

    # ---- sampling --------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                wanted = bool(self._holders) and self._state != "no_gpu"
            wait = self._next_due - time.monotonic()
            if not wanted or wait > 0:
                self._wake.wait(None if not wanted else wait)
                self._wake.clear()
                continue
            try:
                self.sample_now(force=True)
            except Exception:  # a bug in a source must not kill the thread silently
                log.exception("GPU poll failed unexpectedly")
                with self._lock:
                    self._state, self._reason = "error", "GPU sampling failed; see the log"

    def sample_now(self, *, force: bool = False) -> GpuSnapshot:
        """Poll once on this thread (the CLI, the health check) and return the snapshot.

        A sample younger than one interval is fresh enough: then no poll is made (unless
        `force`), so several readers never multiply the polling rate.
        """
        with self._poll_lock:
            if not force and time.monotonic() < self._next_due:
                return self.snapshot()
            started = time.perf_counter()
            self._next_due = time.monotonic() + self.interval_s
            if self._closed or self._state == "no_gpu":
                return self.snapshot()
            if not self._opened and not self._open():
                return self.snapshot()
            try:
                readings = self.source.read()
            except GpuReadError as exc:
                self._failed(str(exc))
            else:
                self._record(readings, (time.perf_counter() - started) * 1000)
        self._notify()
        return self.snapshot()

    def _open(self) -> bool:
        try:
            system = self.source.open()
        except GpuUnavailable as exc:
            log.info("GPU monitoring off: %s", exc)
            with self._lock:
                self._state, self._reason = "no_gpu", str(exc)
            self._notify()
            return False
        self._opened = True
        with self._lock:
            self._system = system
        return True

    def _failed(self, reason: str) -> None:
        log.warning("GPU poll failed: %s", reason)
        with self._lock:
            self._failures += 1
            self._state, self._reason = "error", f"GPU poll failed: {reason}"
            reopen = self._failures >= REOPEN_AFTER
        if reopen:  # NVML may need a fresh start after a driver hiccup
            self.source.close()
            self._opened = False
            self._failures = 0

    def _record(self, readings: list[GpuReading], ms: float) -> None:
        now = self._clock()
        with self._lock:
            self._failures = 0
            self._samples += 1
            self._last_ms = ms
            self._times.append(now)
            seen = set()
            for r in readings:
                seen.add(r.index)
                track = self._tracks.get(r.index)
                if track is None:
                    track = self._tracks[r.index] = _Track(r, self._padded_history())
                track.reading = r
                for name, read in HISTORY.items():
                    track.history[name].append(read(r))
            for index, track in self._tracks.items():
                if index not in seen:  # the driver no longer lists it
                    track.reading = GpuReading(
                        index, track.reading.name, track.reading.uuid, lost="GPU disappeared"
                    )
                    for values in track.history.values():
                        values.append(None)
            lost = [t for t in self._tracks.values() if t.reading.lost]
            if lost and len(lost) == len(self._tracks):
                self._state, self._reason = "error", "every GPU stopped answering"
            else:
                self._state, self._reason = "ok", ""

    def _padded_history(self) -> dict[str, deque[float | None]]:
        # A GPU that appears later starts with gaps, so all histories line up with times.
        pad = max(0, len(self._times) - 1)
        return {name: deque([None] * pad, maxlen=self.history_points) for name in HISTORY}

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback()
            except Exception:
                log.exception("GPU monitor listener failed")

    # ---- reading ---------------------------------------------------------------------------
    def snapshot(self) -> GpuSnapshot:
        with self._lock:
            gpus = tuple(
                GpuState(t.reading, {k: tuple(v) for k, v in t.history.items()})
                for _, t in sorted(self._tracks.items())
            )
            return GpuSnapshot(
                state=self._state,
                reason=self._reason,
                system=self._system,
                gpus=gpus,
                samples=self._samples,
                times=tuple(self._times),
                now=self._clock(),
                last_poll_ms=self._last_ms,
                interval_s=self.interval_s,
                sampling=bool(self._holders) and not self._closed,
            )


def monitor_for(services: Any) -> GpuMonitor:
    """The process's GPU monitor, built once and closed with the services."""
    return services.gpu
