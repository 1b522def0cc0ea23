"""Row ↔ Record mapping and column arrays for DuckDB: the one copy of each, used by the
repository's reads and writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from magray_tui.db.columns import object_array
from magray_tui.memory.records import Filters, Layer, Record, State

RECORD_COLUMNS = (
    "seq, id, layer, text, kind, tags, source, session, created_at, updated_at, layer_since, "
    "last_access, access_count, importance, pinned, content_hash, metadata, state, forgotten_at, "
    "merged_into, valid_until, superseded_by, author"
)
N_RECORD_COLUMNS = RECORD_COLUMNS.count(",") + 1
UPDATABLE = frozenset(
    {
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
        "last_access",
        "updated_at",
        "valid_until",
        "superseded_by",
    }
)


obj = object_array  # DuckDB scans a dict of these as a table


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
        valid_until,
        superseded_by,
        author,
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
        valid_until=valid_until,
        superseded_by=superseded_by,
        seq=int(seq),
        author=author or "user",
    )


def prepared_to_record(row: dict[str, Any], seq: int) -> Record:
    """The Record a prepared insert row becomes (without reading it back)."""
    return Record(
        id=row["id"],
        layer=row["layer"],
        text=row["text"],
        kind=row["kind"],
        tags=row["tags"],
        source=row["source"],
        session=row["session"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        layer_since=row["layer_since"],
        importance=row["importance"],
        pinned=row["pinned"],
        content_hash=row["content_hash"],
        metadata=row["metadata"],
        seq=seq,
        author=row["author"],
    )


def sql_value(key: str, value: Any) -> Any:
    if key == "metadata":
        return json.dumps(value or {}, default=str)
    if key in ("layer", "state"):
        return str(value.value if hasattr(value, "value") else value)
    if key == "tags":
        return list(value)
    return value


def insert_columns(
    rows: Sequence[dict[str, Any]], seqs: list[int], revs: list[int], now: datetime
) -> dict[str, Any]:
    """Column arrays for DuckDB's scan of a dict of NumPy arrays (fast bulk insert)."""
    return {
        "seq": np.asarray(seqs, dtype=np.int64),
        "rev": np.asarray(revs, dtype=np.int64),
        "id": obj(r["id"] for r in rows),
        "layer": obj(r["layer"].value for r in rows),
        "text": obj(r["text"] for r in rows),
        "kind": obj(r["kind"] for r in rows),
        "tags": obj(list(r["tags"]) for r in rows),
        "source": obj(r["source"] for r in rows),
        "author": obj(r["author"] for r in rows),
        "session": obj(r.get("session") for r in rows),
        "created_at": obj(r["created_at"] for r in rows),
        "updated_at": obj(r.get("updated_at") or now for r in rows),
        "layer_since": obj(r.get("layer_since") or r["created_at"] for r in rows),
        "importance": np.asarray([float(r.get("importance", 0.5)) for r in rows]),
        "pinned": np.asarray([bool(r.get("pinned", False)) for r in rows]),
        "content_hash": obj(r["content_hash"] for r in rows),
        "metadata": obj(json.dumps(r.get("metadata") or {}, default=str) for r in rows),
    }


def history_columns(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """(record_id, action, from_layer, to_layer, actor, reason, details) as columns."""
    cols = {
        key: obj(r.get(key) for r in rows)
        for key in ("record_id", "action", "from_layer", "to_layer", "actor", "reason")
    }
    cols["details"] = obj(json.dumps(r.get("details") or {}, default=str) for r in rows)
    cols["ts"] = obj(r.get("ts") for r in rows)  # kept by a copy; None: the commit's time
    return cols


def filters_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A WHERE clause (and its arguments) for the records `filters` allows."""
    where: list[str] = []
    args: list[Any] = []
    if filters.state is not None:
        where.append("state = ?")
        args.append(filters.state.value)
    if filters.layers:
        where.append(f"layer IN ({', '.join('?' * len(filters.layers))})")
        args.extend(layer.value for layer in filters.layers)
    if filters.kinds:
        where.append(f"kind IN ({', '.join('?' * len(filters.kinds))})")
        args.extend(filters.kinds)
    if filters.tags:
        where.append("list_has_all(tags, ?::VARCHAR[])")
        args.append(list(filters.tags))
    if filters.authors:
        where.append(f"author IN ({', '.join('?' * len(filters.authors))})")
        args.extend(filters.authors)
    if filters.session:
        where.append("session = ?")
        args.append(filters.session)
    if filters.since:
        where.append("created_at >= ?")
        args.append(filters.since)
    if filters.until:
        where.append("created_at < ?")
        args.append(filters.until)
    return (" AND ".join(where) or "true"), args
