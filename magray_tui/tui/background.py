"""Bulk work (an ingest, a watched folder, a promotion cycle, a reindex) at a lower CPU
priority than the UI.

Measured on a 2-core machine with a competing busy process: the ingest's embedding thread
ran at the same priority as the UI thread, and a pane switch waited seconds for a time
slice. Linux schedules threads, and each thread has its own nice value, so the bulk work
runs in a thread of its own at nice +5: the UI thread (and a search's worker) gets the CPU
first and the ingest takes whatever is left, which on an idle machine is all of it.

The thread is a fresh one, not one of the workers' pool: an unprivileged process may
lower a thread's priority but never raise it back, so a pool thread would stay slow for
the interactive work it runs later.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
BACKGROUND_NICE = 5  # weight 335 vs 1024 at nice 0: the UI thread gets ~3x its share


def lower_this_thread(nice: int = BACKGROUND_NICE) -> bool:
    """Give the calling thread (only) a lower CPU priority; False where that is not possible."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None:
        return False
    try:
        tid = threading.get_native_id()
        setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
    except OSError as exc:
        log.debug("could not lower the priority of a background thread: %s", exc)
        return False
    return True


def run_low_priority(fn: Callable[[], T], name: str = "magray-background") -> T:
    """Run `fn` in a new thread at a lower CPU priority and wait for it; its result is
    returned and its exception raised here, in the calling (worker) thread."""
    outcome: dict[str, object] = {}

    def target() -> None:
        lower_this_thread()
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller, which reports it
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
