"""The process-wide database: one DuckDB file shared by memory, tasks and chat.

Opening (lock conflicts, damaged files, migrations), one cursor per
thread, and the one `transaction()` every write goes through. One writer lock serialises
writes inside the process; DuckDB's file lock keeps other processes out (they get
`StoreLocked` naming the holder). No module outside `magray_tui.db` touches a connection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from magray_tui.db import commit_counter, snapshots, wal_guard
from magray_tui.db import migrations as mig
from magray_tui.db.tx import atomic
from magray_tui.errors import DataError, StoreDamaged, StoreLocked

log = logging.getLogger(__name__)

Cursor = duckdb.DuckDBPyConnection


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _damaged(path: Path, text: str) -> StoreDamaged:
    """One line naming the damaged file and the way back, never a DuckDB traceback."""
    first = text.strip().splitlines()[0][:200] if text.strip() else "unreadable"
    wal = wal_guard.wal_path(path)
    if wal.exists() and any(w in text for w in ("WAL", "wal", "replay", "Replay")):
        return StoreDamaged(
            f"the write-ahead log {wal} is damaged ({first}); nothing was deleted",
            wal_guard.damaged_wal_hint(path),
        )
    return StoreDamaged(
        f"{path} is not a DuckDB database or is damaged ({first}); it was left untouched",
        "move it aside to start a new store, then `magray memory import` your last export",
    )


class Database:
    """Construct with `Database.open`."""

    def __init__(self, conn: Cursor, path: Path, read_only: bool, note: str | None = None) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self.note = note  # why it is read-only, when it is
        self.write_lock = threading.RLock()
        self.clock: Callable[[], datetime] = _utcnow
        self._local = threading.local()
        self._cursors: list[Cursor] = []
        self._cursors_lock = threading.Lock()
        self._after_commit: list[Callable[[], None]] = []
        self._counting = False  # counts commits (commit_counter) and records the WAL after them
        self.warning: str | None = None  # e.g. writes lost with a missing WAL (see wal_guard)

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        *,
        read_only: bool = False,
        migrations: Sequence[mig.Migration] | None = None,
        config: dict[str, Any] | None = None,
    ) -> Database:
        from magray_tui.db.catalog import ALL, LATEST

        migrations = ALL if migrations is None else migrations
        latest = max(m.version for m in migrations) if migrations else LATEST
        path = Path(path)
        if read_only and not path.exists():
            raise DataError(f"no memory database yet at {path} (add a memory first)")
        before = wal_guard.BeforeOpen()
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            before = wal_guard.check_before_open(path)
        try:
            conn = duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            text = str(exc)
            if "Could not set lock" in text or "Conflicting lock" in text:
                holder = snapshots.lock_holder(text) or "another process"
                # magray processes on one home never get here: they share it through its
                # host (magray_tui.host). This is a process outside that: say who.
                raise StoreLocked(
                    f"the memory database {path} is in use by {holder}, which opened it "
                    "directly (an older magray or another tool); close it first",
                    holder,
                ) from None
            raise _damaged(path, text) from None
        except duckdb.Error as exc:
            raise _damaged(path, str(exc)) from None
        db = cls(conn, path, read_only)
        try:
            db._check_schema(migrations, latest)
            if not read_only:
                db._start_counting(before)
        except duckdb.Error as exc:
            conn.close()
            raise _damaged(path, str(exc)) from None
        except BaseException:
            conn.close()
            raise
        return db

    def _start_counting(self, before: wal_guard.BeforeOpen) -> None:
        """Compare the commit counter with the sidecar (lost writes?), then keep both."""
        if not commit_counter.exists(self._conn):
            return  # opened with a migration list that has no counter (some tests)
        commits = commit_counter.current(self._conn)
        lost = wal_guard.lost_commits(self.path, commits)
        if before.note or lost:
            what = f"{lost:,} committed change(s) are lost" if lost else "no commit was lost"
            kept = f" (the log as it was is kept in {before.copy.name})" if before.copy else ""
            self.warning = f"{before.note or 'the write-ahead log was damaged'}: {what}" + (
                f"{kept}; {wal_guard.RECOVER}" if lost else kept
            )
            log.warning("%s", self.warning)
        elif before.copy is not None:
            before.copy.unlink(missing_ok=True)  # replayed in full: our copy is not needed
        self._counting = True
        wal_guard.write(self.path, commits)

    def _check_schema(self, migrations: Sequence[mig.Migration], latest: int) -> None:
        if not self.read_only:
            try:
                applied = mig.migrate(self._conn, migrations)
            except duckdb.IOException:
                raise  # the file cannot be read: damaged (said by `open`), not a bad migration
            except duckdb.Error as exc:
                raise DataError(f"cannot migrate {self.path}: {exc}") from None
            if applied:
                log.info("migrated %s to schema versions %s", self.path, applied)
            return
        have = mig.current_version(self._conn)
        if have > latest:
            raise DataError(
                f"this database has schema version {have}, newer than this magray knows "
                f"({latest}); upgrade magray"
            )
        if have < latest:
            raise DataError(
                f"{self.path} has an older schema ({have}); open it once read-write to migrate"
            )

    def close(self) -> None:
        with self.write_lock:
            try:
                # A cursor with an unread result holds a transaction open: close them all so
                # the checkpoint can fold the WAL into the file.
                with self._cursors_lock:
                    for cur in self._cursors:
                        cur.close()
                    self._cursors.clear()
                if not self.read_only:
                    self._conn.execute("CHECKPOINT")
                    if self._counting:
                        wal_guard.write(self.path, commit_counter.current(self._conn))
            except duckdb.Error as exc:
                log.warning("checkpoint at close failed: %s", exc)
            self._conn.close()
            if self._counting:
                wal_guard.forget(self.path)

    # ---- cursors and transactions --------------------------------------------------------
    def cursor(self) -> Cursor:
        """This thread's cursor: one DuckDB connection object is not safe across threads."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def stream_cursor(self) -> Cursor:
        """A cursor of its own, for a long read fetched in batches (the caller closes it)."""
        return self._conn.cursor()

    def require_writable(self) -> None:
        if self.read_only:
            raise DataError(self.note or "the memory database is open read-only")

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Cursor]:
        """One transaction on this thread's cursor; a nested call joins the outer one.

        A write transaction holds the writer lock and requires a writable database; a read
        (`write=False`) gives a consistent view of several queries."""
        if write:
            self.require_writable()
        cur = self.cursor()
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield cur
            finally:
                self._local.depth = depth
            return
        lock = self.write_lock if write else _NO_LOCK
        commits = None
        with lock:
            self._local.depth = 1
            try:
                with atomic(cur):
                    yield cur
                    if write and self._counting:
                        commits = commit_counter.take(cur)
            finally:
                self._local.depth = 0
            if commits is not None:
                wal_guard.write(self.path, commits)
            if write:
                for hook in self._after_commit:
                    hook()

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call `hook` after each committed write transaction (under the writer lock)."""
        self._after_commit.append(hook)

    # ---- shared bookkeeping --------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def schema_version(self) -> int:
        return mig.current_version(self.cursor())

    def checkpoint(self) -> None:
        if not self.read_only:
            with self.write_lock:
                self.cursor().execute("CHECKPOINT")
                if self._counting:
                    wal_guard.write(self.path, commit_counter.current(self.cursor()))

    def file_bytes(self) -> int:
        wal = self.path.with_name(self.path.name + ".wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


_NO_LOCK = _NoLock()
