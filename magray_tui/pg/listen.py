"""LISTEN for commits on the memory server: every magray on a namespace tells the others
(PgWrites.finish queues a NOTIFY in the commit's transaction, delivered when it commits).

The thread keeps a connection of its own; when the server goes away it reconnects with a
backoff and then reports a change (a commit in between may have been missed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from magray_tui.pg.url import mask_text

log = logging.getLogger(__name__)

# changed(own, rev): own is True for this process's own commits; rev the newest revision.
Changed = Callable[[bool, int], None]


class ServerListener:
    def __init__(
        self, url: str, namespace: str, channel: str, instance: str, changed: Changed
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.channel = channel
        self.instance = instance
        self.changed = changed
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="magray-pg-listen", daemon=True)

    def start(self, wait: float = 5.0) -> ServerListener:
        self._thread.start()
        self._ready.wait(wait)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    close = stop  # Services closes what it keeps

    def _run(self) -> None:
        delay, missed = 0.5, False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self._ready.set()
                    delay = 0.5
                    if missed:  # commits while we were away were not heard
                        self.changed(False, self._current_rev(conn))
                    missed = True
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(note.payload)
            except psycopg.Error as exc:
                log.info("memory server listener: %s", mask_text(str(exc).strip(), self.url))
                self._ready.set()
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _current_rev(self, conn: psycopg.Connection) -> int:
        row = conn.execute(f"SELECT last_value FROM {self.namespace}.change_rev").fetchone()
        return int(row[0]) if row else 0

    def _deliver(self, payload: str) -> None:
        instance, _, rev = payload.partition(":")
        try:
            self.changed(instance == self.instance, int(rev or 0))
        except Exception:
            log.exception("a memory server change listener failed")
