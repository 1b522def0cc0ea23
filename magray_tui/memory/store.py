"""The DuckDB store: the single source of truth for memories and their vectors.

All SQL about memories lives here. One writer lock serialises writes inside the process;
DuckDB's file lock keeps other processes out (they get `StoreLocked` naming the holder).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from magray_tui.memory import schema
from magray_tui.memory.records import (
    Layer,
    MemoryError_,
    Record,
    RecordNotFound,
    State,
    StoreLocked,
    utcnow,
)

log = logging.getLogger(__name__)

RECORD_COLUMNS = (
    "seq, id, layer, text, kind, tags, source, session, created_at, updated_at, layer_since, "
    "last_access, access_count, importance, pinned, content_hash, metadata, state, forgotten_at, "
    "merged_into"
)
N_RECORD_COLUMNS = RECORD_COLUMNS.count(",") + 1


def row_to_record(row: Sequence[Any]) -> Record:
    (
        seq,
        id_,
        layer,
        text,
        kind,
        tags,
        source,
        session,
        created,
        updated,
        since,
        last_access,
        access_count,
        importance,
        pinned,
        content_hash,
        metadata,
        state,
        forgotten_at,
        merged_into,
    ) = row
    try:
        meta = json.loads(metadata) if metadata else {}
    except json.JSONDecodeError:
        meta = {"_unparsed": metadata}
    return Record(
        id=id_,
        layer=Layer(layer),
        text=text,
        kind=kind,
        tags=tuple(tags or ()),
        source=source,
        session=session,
        created_at=created,
        updated_at=updated,
        layer_since=since,
        last_access=last_access,
        access_count=int(access_count or 0),
        importance=float(importance),
        pinned=bool(pinned),
        content_hash=content_hash,
        metadata=meta,
        state=State(state),
        forgotten_at=forgotten_at,
        merged_into=merged_into,
        seq=int(seq),
    )


@dataclass
class Filters:
    """Conditions shared by search, list and the indexes' filter masks."""

    layers: tuple[Layer, ...] | None = None
    kinds: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None  # a record matches if it has all of them
    session: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    state: State | None = State.LIVE

    @property
    def empty(self) -> bool:
        return not (
            self.layers or self.kinds or self.tags or self.session or self.since or self.until
        )

    def sql(self) -> tuple[str, list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if self.state is not None:
            where.append("state = ?")
            args.append(self.state.value)
        if self.layers:
            where.append(f"layer IN ({', '.join('?' * len(self.layers))})")
            args.extend(layer.value for layer in self.layers)
        if self.kinds:
            where.append(f"kind IN ({', '.join('?' * len(self.kinds))})")
            args.extend(self.kinds)
        if self.tags:
            where.append("list_has_all(tags, ?::VARCHAR[])")
            args.append(list(self.tags))
        if self.session:
            where.append("session = ?")
            args.append(self.session)
        if self.since:
            where.append("created_at >= ?")
            args.append(self.since)
        if self.until:
            where.append("created_at < ?")
            args.append(self.until)
        return (" AND ".join(where) or "true"), args


def _lock_holder(message: str) -> str | None:
    match = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    if not match:
        return None
    exe, pid = match.group(1), int(match.group(2))
    try:
        import psutil

        cmd = " ".join(psutil.Process(pid).cmdline()) or exe
    except Exception:
        cmd = exe
    return f"PID {pid} ({cmd[:120]})"


class Store:
    """DuckDB-backed memory records. Construct with `Store.open`."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, path: Path, read_only: bool, note: str | None = None
    ) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self.note = note  # why it is read-only, when it is
        self.write_lock = threading.RLock()
        self._local = threading.local()
        self.clock = utcnow  # the service replaces it with its own (tests freeze it)
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        *,
        read_only: bool = False,
        config: dict[str, Any] | None = None,
    ) -> Store:
        """`config` goes to `duckdb.connect` (`ResourceSettings.duckdb_config()`: a memory
        limit and thread count for a desktop; DuckDB's own default takes 80% of RAM)."""
        path = Path(path)
        config = config or {}
        if read_only and not path.exists():
            raise MemoryError_(f"no memory database yet at {path} (add a memory first)")
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                holder = _lock_holder(text) or "another process"
                # magray processes on one home never get here: they share it through its
                # host (magray_tui.host). This is a process outside that: say who.
                raise StoreLocked(
                    f"the memory database {path} is in use by {holder}, which opened it "
                    "directly (an older magray or another tool); close it first",
                    holder,
                ) from None
            if "not a valid DuckDB database" in text:
                raise MemoryError_(
                    f"{path} is not a DuckDB database or is damaged; it was left untouched — "
                    "move it aside to start a new store, or restore it from an export"
                ) from None
            raise MemoryError_(f"cannot open the memory database {path}: {text}") from None
        except duckdb.Error as exc:
            raise MemoryError_(f"cannot open the memory database {path}: {exc}") from None
        store = cls(conn, path, read_only)
        if not read_only:
            try:
                applied = schema.migrate(conn)
            except MemoryError_:
                conn.close()
                raise
            except duckdb.Error as exc:
                conn.close()
                raise MemoryError_(f"cannot migrate {path}: {exc}") from None
            if applied:
                log.info("migrated %s to schema versions %s", path, applied)
        else:
            have = schema.current_version(conn)
            if have > schema.LATEST:
                conn.close()
                raise MemoryError_(
                    f"this database has schema version {have}, newer than this magray knows "
                    f"({schema.LATEST}); upgrade magray"
                )
            if have < schema.LATEST:
                conn.close()
                raise MemoryError_(
                    f"{path} has an older schema ({have}); open it once read-write to migrate"
                )
        return store

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
            except duckdb.Error as exc:
                log.warning("checkpoint at close failed: %s", exc)
            self._conn.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor per thread: one DuckDB connection object is not safe across threads."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor, for the other store modules sharing this database file
        (tasks, chat): one process holds one connection, under `write_lock` for writes."""
        return self._cursor()

    def require_writable(self) -> None:
        self._require_writable()

    def _require_writable(self) -> None:
        if self.read_only:
            raise MemoryError_(self.note or "the memory database is open read-only")

    # ---- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._require_writable()
        with self.write_lock:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def schema_version(self) -> int:
        return schema.current_version(self._cursor())

    def ensure_vector_table(self, model_id: str, dim: int) -> None:
        """Vectors live in `vectors(seq, vec FLOAT[dim])`, for one embedding model at a time."""
        have_model, have_dim = self.get_meta("embed_model"), self.get_meta("embed_dim")
        if have_model is not None:
            if have_model != model_id or int(have_dim or 0) != dim:
                raise MemoryError_(
                    f"this store was embedded with {have_model} ({have_dim}-d) but the "
                    f"configured model is {model_id} ({dim}-d); set embedding.model back to "
                    f"{have_model}, or export the memories and import them into a new home"
                )
            return
        self._require_writable()
        with self.write_lock:
            self._conn.execute("BEGIN TRANSACTION")
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS vectors (seq BIGINT PRIMARY KEY, vec FLOAT[{dim}])"
            )
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('embed_model', ?)", [model_id])
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('embed_dim', ?)", [str(dim)])
            self._conn.execute("COMMIT")

    # ---- writes --------------------------------------------------------------------------
    def insert(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> list[tuple[int, int]]:
        """Insert records with their vectors in one transaction. Returns (seq, rev) pairs."""
        self._require_writable()
        n = len(rows)
        if n == 0:
            return []
        with self.write_lock:
            conn = self._conn
            conn.execute("BEGIN TRANSACTION")
            try:
                seqs = [
                    r[0]
                    for r in conn.execute(
                        "SELECT nextval('memory_seq') FROM range(?)", [n]
                    ).fetchall()
                ]
                revs = [
                    r[0]
                    for r in conn.execute(
                        "SELECT nextval('change_rev') FROM range(?)", [n]
                    ).fetchall()
                ]
                cols = _columns(rows, seqs, revs)
                conn.register("_new_rows", cols)
                conn.execute(
                    "INSERT INTO memories (seq, id, layer, text, kind, tags, source, session, "
                    "created_at, updated_at, layer_since, access_count, importance, pinned, "
                    "content_hash, metadata, state, rev) SELECT seq, id, layer, text, kind, "
                    "tags::VARCHAR[], source, session, created_at, updated_at, layer_since, 0, "
                    "importance, pinned, content_hash, metadata, 'live', rev FROM _new_rows"
                )
                conn.unregister("_new_rows")
                vec_obj = np.empty(n, dtype=object)
                vec_obj[:] = list(np.asarray(vectors, dtype=np.float32))
                conn.register(
                    "_new_vecs", {"seq": np.asarray(seqs, dtype=np.int64), "vec": vec_obj}
                )
                dim = vectors.shape[1]
                conn.execute(f"INSERT INTO vectors SELECT seq, vec::FLOAT[{dim}] FROM _new_vecs")
                conn.unregister("_new_vecs")
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise
        return list(zip(seqs, revs, strict=True))

    def update(self, seq: int, fields: dict[str, Any], vector: np.ndarray | None = None) -> int:
        """Change some columns of one record (and its vector); returns the new rev."""
        self._require_writable()
        allowed = {
            "layer",
            "text",
            "kind",
            "tags",
            "session",
            "importance",
            "pinned",
            "content_hash",
            "metadata",
            "layer_since",
            "state",
            "forgotten_at",
            "merged_into",
            "access_count",
            "updated_at",
        }
        bad = set(fields) - allowed
        if bad:
            raise MemoryError_(f"cannot update {', '.join(sorted(bad))}")
        with self.write_lock:
            conn = self._conn
            conn.execute("BEGIN TRANSACTION")
            try:
                rev = conn.execute("SELECT nextval('change_rev')").fetchall()[0][0]
                sets = ", ".join(f"{k} = ?" for k in fields) + ", rev = ?"
                args = [_sql_value(k, v) for k, v in fields.items()] + [rev, seq]
                conn.execute(f"UPDATE memories SET {sets} WHERE seq = ?", args)
                if vector is not None:
                    dim = len(vector)
                    conn.execute(
                        f"UPDATE vectors SET vec = ?::FLOAT[{dim}] WHERE seq = ?",
                        [np.asarray(vector, dtype=np.float32).tolist(), seq],
                    )
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise
        return int(rev)

    def delete(self, seqs: Sequence[int]) -> int:
        """Remove rows for good (purge); returns the rev recorded for the indexes."""
        self._require_writable()
        with self.write_lock:
            conn = self._conn
            conn.execute("BEGIN TRANSACTION")
            try:
                rev = conn.execute("SELECT nextval('change_rev')").fetchall()[0][0]
                ids = list(map(int, seqs))
                conn.execute("DELETE FROM vectors WHERE seq IN (SELECT unnest(?::BIGINT[]))", [ids])
                conn.execute(
                    "DELETE FROM access_events WHERE seq IN (SELECT unnest(?::BIGINT[]))", [ids]
                )
                conn.execute(
                    "DELETE FROM memories WHERE seq IN (SELECT unnest(?::BIGINT[]))", [ids]
                )
                conn.execute("INSERT INTO purged SELECT unnest(?::BIGINT[]), ?", [ids, rev])
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise
        return int(rev)

    def record_accesses(
        self, events: Sequence[tuple[int, datetime, str | None, float, int]]
    ) -> None:
        """Count reads: bump access stats and keep one event row per read."""
        if not events or self.read_only:
            return
        with self.write_lock:
            conn = self._conn
            conn.execute("BEGIN TRANSACTION")
            try:
                # Set-based: one INSERT and one UPDATE whatever the number of events (a
                # per-row UPDATE cost ~1 ms a record at 100k).
                seqs, ats, sessions, scores, ranks = zip(*events, strict=True)
                sess = np.empty(len(sessions), dtype=object)
                sess[:] = list(sessions)
                at_obj = np.empty(len(ats), dtype=object)
                at_obj[:] = list(ats)
                frame = {
                    "seq": np.asarray(seqs, dtype=np.int64),
                    "ts": at_obj,
                    "session": sess,
                    "score": np.asarray(scores, dtype=np.float64),
                    "rank": np.asarray(ranks, dtype=np.int32),
                }
                conn.register("_reads", frame)
                try:
                    conn.execute(
                        "INSERT INTO access_events SELECT seq, ts::TIMESTAMP, session, score, "
                        "rank FROM _reads"
                    )
                    conn.execute(
                        "UPDATE memories SET access_count = memories.access_count + r.n, "
                        "last_access = greatest(coalesce(memories.last_access, r.last), r.last) "
                        "FROM (SELECT seq, count(*) AS n, max(ts::TIMESTAMP) AS last "
                        "FROM _reads GROUP BY seq) r WHERE memories.seq = r.seq"
                    )
                finally:
                    conn.unregister("_reads")
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise

    def add_history(
        self,
        record_id: str,
        action: str,
        *,
        from_layer: str | None = None,
        to_layer: str | None = None,
        actor: str = "user",
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self._require_writable()
        with self.write_lock:
            self._conn.execute(
                "INSERT INTO memory_history VALUES "
                "(nextval('history_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record_id,
                    self.clock(),
                    action,
                    from_layer,
                    to_layer,
                    actor,
                    reason,
                    json.dumps(details or {}, default=str),
                ],
            )

    def checkpoint(self) -> None:
        if not self.read_only:
            with self.write_lock:
                self._conn.execute("CHECKPOINT")

    # ---- reads ---------------------------------------------------------------------------
    def get(self, ref: str, *, include_forgotten: bool = True) -> Record:
        """A record by id, or by an unambiguous id prefix of at least 4 characters."""
        ref = (ref or "").strip()
        cur = self._cursor()
        row = cur.execute(f"SELECT {RECORD_COLUMNS} FROM memories WHERE id = ?", [ref]).fetchone()
        if row is None and len(ref) >= 4:
            rows = cur.execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE starts_with(id, ?) LIMIT 2", [ref]
            ).fetchall()
            if len(rows) > 1:
                raise MemoryError_(f"id prefix {ref!r} matches several memories; type more of it")
            row = rows[0] if rows else None
        if row is None:
            raise RecordNotFound(f"no memory with id {ref!r}")
        record = row_to_record(row)
        if record.state is State.FORGOTTEN and not include_forgotten:
            raise RecordNotFound(f"memory {record.id} is forgotten (restore it first)")
        return record

    def get_many(self, seqs: Sequence[int]) -> dict[int, Record]:
        if not seqs:
            return {}
        rows = (
            self._cursor()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE seq IN (SELECT unnest(?::BIGINT[]))",
                [list(map(int, seqs))],
            )
            .fetchall()
        )
        return {int(r[0]): row_to_record(r) for r in rows}

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = (
            self._cursor()
            .execute(
                "SELECT id FROM memories WHERE id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
            )
            .fetchall()
        )
        return {r[0] for r in rows}

    def find_by_hash(self, content_hash: str, layer: Layer) -> Record | None:
        row = (
            self._cursor()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE content_hash = ? AND layer = ? "
                "AND state = 'live' LIMIT 1",
                [content_hash, layer.value],
            )
            .fetchone()
        )
        return row_to_record(row) if row else None

    def existing_hashes(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (content_hash, layer) pairs a record not forgotten already holds: an
        import without ids uses it to skip what it has already stored."""
        if not pairs:
            return set()
        rows = (
            self._cursor()
            .execute(
                "SELECT DISTINCT content_hash, layer FROM memories "
                "WHERE content_hash IN (SELECT unnest(?::VARCHAR[])) AND state <> 'forgotten'",
                [sorted({h for h, _ in pairs})],
            )
            .fetchall()
        )
        return {(h, layer) for h, layer in rows} & set(pairs)

    def list(
        self, filters: Filters, *, order: str = "created_at DESC", limit: int = 50, offset: int = 0
    ) -> list[Record]:
        orders = {
            "created_at DESC",
            "created_at ASC",
            "access_count DESC",
            "updated_at DESC",
            "last_access DESC",
            "importance DESC",
        }
        if order not in orders:
            raise MemoryError_(f"cannot sort by {order!r}")
        where, args = filters.sql()
        rows = (
            self._cursor()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories WHERE {where} "
                f"ORDER BY {order} NULLS LAST, seq DESC LIMIT ? OFFSET ?",
                [*args, int(limit), int(offset)],
            )
            .fetchall()
        )
        return [row_to_record(r) for r in rows]

    def allowed_seqs(self, filters: Filters) -> np.ndarray:
        where, args = filters.sql()
        res = self._cursor().execute(f"SELECT seq FROM memories WHERE {where}", args).fetchnumpy()
        return res["seq"].astype(np.int64)

    def vectors_for(self, seqs: Sequence[int]) -> np.ndarray:
        rows = (
            self._cursor()
            .execute(
                "SELECT seq, vec FROM vectors WHERE seq IN (SELECT unnest(?::BIGINT[]))",
                [list(map(int, seqs))],
            )
            .fetchnumpy()
        )
        order = {int(s): i for i, s in enumerate(rows["seq"])}
        return np.stack([rows["vec"][order[int(s)]] for s in seqs]).astype(np.float32)

    def iter_changes(
        self, after_rev: int, batch: int = 5000
    ) -> Iterator[tuple[np.ndarray, list[Record], np.ndarray]]:
        """Records changed after `after_rev`, with their vectors, in batches (for catch-up)."""
        cur = self._conn.cursor()
        cur.execute(
            f"SELECT {RECORD_COLUMNS.replace('seq,', 'm.seq,', 1)}, m.rev, v.vec FROM memories m "
            "LEFT JOIN vectors v ON v.seq = m.seq WHERE m.rev > ? ORDER BY m.rev",
            [int(after_rev)],
        )
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            n = N_RECORD_COLUMNS
            records = [row_to_record(r[:n]) for r in rows]
            revs = np.array([r[n] for r in rows], dtype=np.int64)
            vecs = [r[n + 1] for r in rows]
            dim = next((len(v) for v in vecs if v is not None), 0)
            mat = np.zeros((len(rows), dim), dtype=np.float32)
            for i, v in enumerate(vecs):
                if v is not None:
                    mat[i] = v
            yield revs, records, mat

    def purged_since(self, after_rev: int) -> list[int]:
        rows = (
            self._cursor()
            .execute("SELECT seq FROM purged WHERE rev > ?", [int(after_rev)])
            .fetchall()
        )
        return [int(r[0]) for r in rows]

    def max_rev(self) -> int:
        row = (
            self._cursor()
            .execute(
                "SELECT greatest((SELECT coalesce(max(rev), 0) FROM memories), "
                "(SELECT coalesce(max(rev), 0) FROM purged))"
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        rows = (
            self._cursor()
            .execute("SELECT layer, state, count(*) FROM memories GROUP BY ALL")
            .fetchall()
        )
        out = {layer.value: 0 for layer in Layer}
        out["forgotten"] = 0
        out["merged"] = 0
        for layer, state, n in rows:
            if state == State.LIVE.value:
                out[layer] = out.get(layer, 0) + n
            else:
                out[state] = out.get(state, 0) + n
        return out

    def facets(self, filters: Filters, top_tags: int = 30) -> dict[str, list[tuple[str, int]]]:
        """Kinds (all, most common first) and the `top_tags` most common tags of the
        records `filters` allows: the choices the memory browser's filters offer."""
        where, args = filters.sql()
        cur = self._cursor()
        kinds = cur.execute(
            f"SELECT kind, count(*) AS n FROM memories WHERE {where} "
            "GROUP BY kind ORDER BY n DESC, kind",
            args,
        ).fetchall()
        tags = cur.execute(
            f"SELECT tag, count(*) AS n FROM (SELECT unnest(tags) AS tag FROM memories "
            f"WHERE {where}) GROUP BY tag ORDER BY n DESC, tag LIMIT ?",
            [*args, int(top_tags)],
        ).fetchall()
        return {
            "kinds": [(str(k), int(n)) for k, n in kinds],
            "tags": [(str(t), int(n)) for t, n in tags],
        }

    def live_count(self) -> int:
        row = (
            self._cursor().execute("SELECT count(*) FROM memories WHERE state = 'live'").fetchone()
        )
        return int(row[0]) if row else 0

    def history(self, record_id: str) -> list[dict[str, Any]]:
        rows = (
            self._cursor()
            .execute(
                "SELECT hid, ts, action, from_layer, to_layer, actor, reason, details "
                "FROM memory_history WHERE record_id = ? ORDER BY hid",
                [record_id],
            )
            .fetchall()
        )
        keys = ("hid", "ts", "action", "from_layer", "to_layer", "actor", "reason", "details")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def forgotten_before(self, cutoff: datetime) -> list[int]:
        rows = (
            self._cursor()
            .execute(
                "SELECT seq FROM memories WHERE state = 'forgotten' AND forgotten_at < ?", [cutoff]
            )
            .fetchall()
        )
        return [int(r[0]) for r in rows]

    def iter_records(self, filters: Filters, batch: int = 2000) -> Iterable[Record]:
        where, args = filters.sql()
        cur = self._conn.cursor()
        cur.execute(f"SELECT {RECORD_COLUMNS} FROM memories WHERE {where} ORDER BY seq", args)
        while rows := cur.fetchmany(batch):
            yield from (row_to_record(r) for r in rows)


def _sql_value(key: str, value: Any) -> Any:
    if key == "metadata":
        return json.dumps(value or {}, default=str)
    if key in ("layer", "state"):
        return str(value.value if hasattr(value, "value") else value)
    if key == "tags":
        return list(value)
    return value


def _columns(rows: Sequence[dict[str, Any]], seqs: list[int], revs: list[int]) -> dict[str, Any]:
    """Column arrays for DuckDB's scan of a dict of NumPy arrays (fast bulk insert)."""

    def obj(values: Iterable[Any]) -> np.ndarray:
        items = list(values)
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
        return arr

    now = utcnow()
    return {
        "seq": np.asarray(seqs, dtype=np.int64),
        "rev": np.asarray(revs, dtype=np.int64),
        "id": obj(r["id"] for r in rows),
        "layer": obj(r["layer"].value for r in rows),
        "text": obj(r["text"] for r in rows),
        "kind": obj(r["kind"] for r in rows),
        "tags": obj(list(r["tags"]) for r in rows),
        "source": obj(r["source"] for r in rows),
        "session": obj(r.get("session") for r in rows),
        "created_at": obj(r["created_at"] for r in rows),
        "updated_at": obj(r.get("updated_at") or now for r in rows),
        "layer_since": obj(r.get("layer_since") or r["created_at"] for r in rows),
        "importance": np.asarray([float(r.get("importance", 0.5)) for r in rows]),
        "pinned": np.asarray([bool(r.get("pinned", False)) for r in rows]),
        "content_hash": obj(r["content_hash"] for r in rows),
        "metadata": obj(json.dumps(r.get("metadata") or {}, default=str) for r in rows),
    }
