"""Connections to the memory server: one per thread (like the embedded store's cursors),
re-made on the next use after the server went away, and every driver error that a user
can act on turned into one line naming the server with its password masked.

`PgCursor` speaks the DB-API subset the repository uses (`?` placeholders, `fetchall`,
`fetchmany`, `fetchnumpy`), so the repository's portable SQL runs unchanged on both."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from magray_tui.errors import DataError, StoreUnreachable
from magray_tui.pg import vectors
from magray_tui.pg.url import mask_text, server_name

_PLACEHOLDER = "?"


def to_pg(sql: str) -> str:
    """DuckDB-style `?` placeholders to psycopg's `%s` (our SQL has no literal ? or %)."""
    return sql.replace("%", "%%").replace(_PLACEHOLDER, "%s")


def user_error(exc: BaseException, url: str) -> DataError:
    """One line for a driver error: unreachable, refused or not allowed."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    first = first.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
    text = mask_text(first, url)[:300]
    where = server_name(url)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return DataError(
            f"the memory server {where} refused: {text}",
            "see README 'Team memory' for the grants a team database needs",
        )
    return StoreUnreachable(f"memory server {where} unavailable: {text}")


def _column_array(values: list[Any]) -> np.ndarray:
    """A NumPy column like DuckDB's `fetchnumpy`: NULLs masked, timestamps datetime64."""
    present = next((v for v in values if v is not None), None)
    mask = np.array([v is None for v in values], dtype=bool)
    if isinstance(present, datetime):
        filled = [v if v is not None else datetime(1970, 1, 1) for v in values]
        arr = np.array(filled, dtype="datetime64[us]")
    elif isinstance(present, bool):
        arr = np.array([bool(v) for v in values], dtype=bool)
    elif isinstance(present, int):
        arr = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
    elif isinstance(present, float):
        arr = np.array([v if v is not None else 0.0 for v in values], dtype=np.float64)
    else:
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    return np.ma.masked_array(arr, mask=mask) if mask.any() else arr


class PgCursor:
    def __init__(self, cur: psycopg.Cursor, owner: PgConnections) -> None:
        self._cur = cur
        self._owner = owner

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        try:
            self._cur.execute(to_pg(sql), params)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            self._owner.drop_broken()
            raise user_error(exc, self._owner.url) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise user_error(exc, self._owner.url) from None
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._cur.executemany(to_pg(sql), rows)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            self._owner.drop_broken()
            raise user_error(exc, self._owner.url) from None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall() if self._cur.description else []

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone()

    def fetchmany(self, n: int) -> list[tuple[Any, ...]]:
        return self._cur.fetchmany(n)

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        names = [d.name for d in self._cur.description or []]
        rows = self._cur.fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return {name: _column_array(list(col)) for name, col in zip(names, cols, strict=True)}

    def close(self) -> None:
        self._cur.close()


class PgConnections:
    """One connection per thread to `url`, with `search_path` set to the namespace."""

    def __init__(self, url: str, namespace: str, timeout_s: float) -> None:
        self.url = url
        self.namespace = namespace
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._all: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self.on_connect: list[Callable[[psycopg.Connection], None]] = []

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection:
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=autocommit,
                connect_timeout=max(1, int(self.timeout_s)),
                application_name="magray",
            )
        except psycopg.Error as exc:
            raise user_error(exc, self.url) from None
        try:
            conn.execute(f"SET search_path TO {self.namespace}, public")
            conn.execute("SET hnsw.iterative_scan = relaxed_order")
            vectors.register(conn)
            for hook in self.on_connect:
                hook(conn)
            if not autocommit:
                conn.commit()
        except psycopg.OperationalError as exc:
            conn.close()
            raise user_error(exc, self.url) from None
        return conn

    def conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self.connect()
            self._local.conn = conn
            with self._lock:
                self._all = [c for c in self._all if not c.closed] + [conn]
        return conn

    def cursor(self) -> PgCursor:
        return PgCursor(self.conn().cursor(), self)

    def drop_broken(self) -> None:
        """Forget this thread's connection after a lost server: the next use reconnects."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with suppress(Exception):  # it is gone either way
                conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[PgCursor]:
        conn = self.conn()
        try:
            with conn.transaction():
                yield PgCursor(conn.cursor(), self)
        except psycopg.OperationalError as exc:
            self.drop_broken()
            raise user_error(exc, self.url) from None

    def stream_cursor(self) -> PgCursor:
        """A server-side cursor on a connection of its own, for a long read fetched in
        batches; closing it closes that connection."""
        conn = self.connect(autocommit=False)
        return _StreamCursor(conn.cursor(name="magray_stream"), self, conn)

    def close_all(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(Exception):
                    conn.close()
            self._all.clear()


class _StreamCursor(PgCursor):
    def __init__(self, cur: Any, owner: PgConnections, conn: psycopg.Connection) -> None:
        super().__init__(cur, owner)
        self._conn = conn

    def close(self) -> None:
        try:
            self._cur.close()
            self._conn.rollback()  # a read: nothing to keep
        except psycopg.Error:
            pass
        finally:
            self._conn.close()
