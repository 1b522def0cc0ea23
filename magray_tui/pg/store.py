"""`PgStore`: the memory's database on a PostgreSQL server, with the surface the memory
service uses of the embedded `Store` (transactions, meta, schema version, reads by their
old names). Opening connects, creates the namespace's schema if missing and migrates it;
an unreachable server, a wrong password or a schema newer than this magray each give one
line naming the server (password masked)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from magray_tui.errors import DataError
from magray_tui.memory.records import MemoryError_
from magray_tui.pg import schema
from magray_tui.pg.connection import PgConnections, PgCursor
from magray_tui.pg.repository import PgRepository
from magray_tui.pg.url import mask_url, server_name
from magray_tui.pg.writes import PgWrites

log = logging.getLogger(__name__)

# Migrations of one namespace never run twice at once (two magray starting together).
_MIGRATE_LOCK = 0x6D61_6772  # "magr"


def default_author() -> str:
    """user@host: who wrote a record on a server shared by people and machines."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    return f"{user}@{socket.gethostname()}"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PgStore:
    """Construct with `PgStore.open(url, namespace)`."""

    read_only = False
    note: str | None = None
    warning: str | None = None

    def __init__(self, conns: PgConnections, hnsw: tuple[int, int, int] = (16, 200, 64)) -> None:
        self.conns = conns
        self.url = conns.url
        self.namespace = conns.namespace
        self.channel = f"magray_{conns.namespace}"
        self.path = f"{mask_url(conns.url)} (namespace {conns.namespace})"
        self.server = server_name(conns.url)
        self.hnsw = hnsw  # m, ef_construction, ef_search
        self.write_lock = threading.RLock()
        self.clock: Callable[[], datetime] = _utcnow
        self._local = threading.local()
        self._after_commit: list[Callable[[], None]] = []
        self.repo = PgRepository(self)
        self.author = default_author()
        self.instance = uuid.uuid4().hex[:12]  # names this process's commits in NOTIFYs

    def new_writes(self, cur: Any, now: datetime) -> PgWrites:
        """The commit's writes: records carry `author` (user@host), commits notify."""
        return PgWrites(cur, now, author=self.author, channel=self.channel, instance=self.instance)

    def listen(self, changed: Callable[[bool, int], None]) -> Any:
        """Start hearing commits on this namespace (`changed(own, rev)`); returns the
        listener (stop it before closing)."""
        from magray_tui.pg.listen import ServerListener

        listener = ServerListener(self.url, self.namespace, self.channel, self.instance, changed)
        return listener.start()

    @classmethod
    def from_settings(cls, settings: Any) -> PgStore:
        """The store `[store]` names, with `[memory]`'s HNSW parameters."""
        mem = settings.memory
        return cls.open(
            settings.store.url,
            settings.store.namespace,
            timeout_s=settings.store.connect_timeout_s,
            hnsw=(mem.hnsw_m, mem.hnsw_ef_construction, mem.hnsw_ef_search),
        )

    @classmethod
    def open(
        cls,
        url: str,
        namespace: str = "magray",
        *,
        timeout_s: float = 5.0,
        hnsw: tuple[int, int, int] = (16, 200, 64),
    ) -> PgStore:
        conns = PgConnections(url, namespace, timeout_s)
        conns.on_connect.append(lambda c: c.execute(f"SET hnsw.ef_search = {int(hnsw[2])}"))
        store = cls(conns, hnsw)
        try:
            store._prepare()
        except BaseException:
            conns.close_all()
            raise
        return store

    # ---- schema ----------------------------------------------------------------------------
    def _prepare(self) -> None:
        with self.conns.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATE_LOCK])
            for ext in ("vector",):
                have = cur.execute("SELECT 1 FROM pg_extension WHERE extname = ?", [ext])
                if not have.fetchall():
                    cur.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
            have = cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", [self.namespace])
            if not have.fetchall():
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.namespace}")
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMP NOT NULL, description TEXT)"
            )
            current = self._version(cur)
            if current > schema.LATEST:
                raise DataError(
                    f"the memory server {self.server} has schema version {current} in "
                    f"namespace {self.namespace}, newer than this magray knows "
                    f"({schema.LATEST}); upgrade magray"
                )
            for migration in schema.MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [migration.version, _utcnow(), migration.description],
                )
                log.info("server schema %s: migrated to %d", self.namespace, migration.version)
        self.conns.drop_broken()  # the type of `vector` may be new: reconnect to learn it

    @staticmethod
    def _version(cur: PgCursor) -> int:
        rows = cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
        return int(rows[0][0]) if rows else 0

    def schema_version(self) -> int:
        return self._version(self.cursor())

    def ensure_vector_table(self, model_id: str, dim: int) -> None:
        """One embedding model per namespace, like the embedded store's file."""
        have_model, have_dim = self.get_meta("embed_model"), self.get_meta("embed_dim")
        if have_model is not None:
            if have_model != model_id or int(have_dim or 0) != dim:
                raise MemoryError_(
                    f"the memory server {self.server} (namespace {self.namespace}) was "
                    f"embedded with {have_model} ({have_dim}-d) but the configured model is "
                    f"{model_id} ({dim}-d); set embedding.model to {have_model}"
                )
            return
        m, ef_construction, _ = self.hnsw
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATE_LOCK])
            for statement in schema.vector_statements(dim, m, ef_construction):
                cur.execute(statement)
            self._put_meta(cur, "embed_model", model_id)
            self._put_meta(cur, "embed_dim", str(dim))
        self.conns.drop_broken()

    # ---- cursors and transactions ----------------------------------------------------------
    def cursor(self) -> PgCursor:
        return self.conns.cursor()

    def stream_cursor(self) -> PgCursor:
        return self.conns.stream_cursor()

    def require_writable(self) -> None:
        return None

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "cur", None) is not None

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[PgCursor]:
        """One server transaction on this thread's connection; a nested call joins it."""
        current = getattr(self._local, "cur", None)
        if current is not None:
            yield current
            return
        lock = self.write_lock if write else threading.RLock()
        with lock:
            try:
                with self.conns.transaction() as cur:
                    self._local.cur = cur
                    yield cur
            finally:
                self._local.cur = None
            if write:
                for hook in self._after_commit:
                    hook()

    def on_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    # ---- bookkeeping -----------------------------------------------------------------------
    @staticmethod
    def _put_meta(cur: PgCursor, key: str, value: str) -> None:
        cur.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def get_meta(self, key: str) -> str | None:
        rows = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as cur:
            self._put_meta(cur, key, value)

    def checkpoint(self) -> None:
        return None  # the server checkpoints on its own

    def file_bytes(self) -> int:
        rows = self.cursor().execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? "
            "AND c.relkind = 'r'",
            [self.namespace],
        )
        return int(rows.fetchall()[0][0])

    def close(self) -> None:
        with self.write_lock:
            self.conns.close_all()

    def __getattr__(self, name: str) -> Any:
        # Reads by the embedded store's old names: counts, max_rev, get, ...
        if name.startswith("_") or name == "repo":
            raise AttributeError(name)
        return getattr(self.repo, name)
