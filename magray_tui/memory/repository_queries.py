"""The memory repository's reads of history, promotion inputs and ingested files: a mixin
of `repository.MemoryRepository` (split out to keep that module small). Its SQL uses the
dialect pieces the repository class names (`file_path`, `unconfirmed`), which a second
backend replaces."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from magray_tui.db import Database
from magray_tui.memory.records import Record
from magray_tui.memory.repository_rows import RECORD_COLUMNS, row_to_record

FEATURE_SQL = """
WITH acc AS (
    SELECT seq, count(DISTINCT session) AS sessions, avg(least(greatest(score, 0), 1)) AS rel
    FROM access_events GROUP BY seq
), moves AS (
    SELECT record_id, count(*) AS n FROM memory_history
    WHERE actor <> 'user' AND action IN ('promote', 'merge') AND ts >= ?
    GROUP BY record_id
)
SELECT m.seq, m.id, m.layer, m.created_at, m.layer_since, m.last_access, m.access_count,
       m.importance, m.pinned, length(m.text) AS chars,
       CASE WHEN m.author IN ('assistant', 'tool') AND NOT m.pinned  -- JSON read only then
            THEN {unconfirmed} ELSE false END AS unconfirmed,
       coalesce(acc.sessions, 0) AS sessions, coalesce(acc.rel, 0) AS rel,
       coalesce(moves.n, 0) AS moves_today
FROM memories m
LEFT JOIN acc ON acc.seq = m.seq
LEFT JOIN moves ON moves.record_id = m.id
WHERE m.state = 'live' {extra}
ORDER BY m.seq
"""
FILE_PATH = "json_extract_string(metadata, '$.path')"
UNCONFIRMED = "NOT json_valid(m.metadata) OR json_extract(m.metadata, '$.confirmed') IS NULL"


class HistoryAndFileReads:
    """History, lifecycle inputs and file-chunk reads; `MemoryRepository` mixes it in."""

    db: Database
    file_path: str
    unconfirmed: str

    def _cur(self) -> Any:
        return self.db.cursor()

    # ---- history and lifecycle inputs ----------------------------------------------------
    def history(self, record_id: str) -> list[dict[str, Any]]:
        rows = (
            self._cur()
            .execute(
                "SELECT hid, ts, action, from_layer, to_layer, actor, reason, details "
                "FROM memory_history WHERE record_id = ? ORDER BY hid",
                [record_id],
            )
            .fetchall()
        )
        keys = ("hid", "ts", "action", "from_layer", "to_layer", "actor", "reason", "details")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def superseded_by_ids(self, ids: Sequence[str]) -> list[Record]:
        """The records that any of `ids` supersedes (their `superseded_by` is one of them),
        newest first."""
        if not ids:
            return []
        rows = (
            self._cur()
            .execute(
                f"SELECT {RECORD_COLUMNS} FROM memories "
                "WHERE superseded_by IN (SELECT unnest(?::VARCHAR[])) "
                "ORDER BY valid_until DESC, seq DESC",
                [list(ids)],
            )
            .fetchall()
        )
        return [row_to_record(r) for r in rows]

    def forgotten_before(self, cutoff: datetime) -> list[int]:
        rows = self._cur().execute(
            "SELECT seq FROM memories WHERE state = 'forgotten' AND forgotten_at < ?", [cutoff]
        )
        return [int(r[0]) for r in rows.fetchall()]

    def feature_rows(self, now: datetime, seqs: Sequence[int] | None = None) -> dict[str, Any]:
        """Raw per-record inputs of the promotion features, as NumPy columns."""
        extra, args = "", [now - timedelta(days=1)]
        if seqs is not None:
            extra = "AND m.seq IN (SELECT unnest(?::BIGINT[]))"
            args.append(list(map(int, seqs)))
        return (
            self._cur()
            .execute(FEATURE_SQL.format(extra=extra, unconfirmed=self.unconfirmed), args)
            .fetchnumpy()
        )

    def user_decisions(self) -> list[dict[str, Any]]:
        """The user's own promote / demote / pin / forget decisions with the features then."""
        rows = self._cur().execute(
            "SELECT record_id, action, details FROM memory_history WHERE actor = 'user' "
            "AND action IN ('promote', 'merge', 'demote', 'pin', 'confirm', 'forget') "
            "ORDER BY hid"
        )
        out = []
        for record_id, action, details in rows.fetchall():
            data = json.loads(details or "{}")
            if "features" in data:
                # A promotion that turned into a merge was still the user saying "keep this".
                label = "promote" if action == "merge" else action
                out.append({"record_id": record_id, "action": label, "features": data["features"]})
        return out

    def last_cycle(self) -> datetime | None:
        value = self.db.get_meta("last_cycle_at")
        return datetime.fromisoformat(value) if value else None

    # ---- records from files (the ingest's state) -----------------------------------------
    def file_rows(
        self, *, paths: Sequence[str] | None, under: str | None
    ) -> list[tuple[str, int, str, str, str]]:
        """(id, seq, layer, state, metadata) of file chunk records by path or folder."""
        where, args = ["source = 'file'"], []
        if paths is not None:
            where.append(f"{self.file_path} IN (SELECT unnest(?::VARCHAR[]))")
            args.append(list(paths))
        if under is not None:
            clause, more = under_clause(under, self.file_path)
            where.append(clause)
            args.extend(more)
        sql = f"SELECT id, seq, layer, state, metadata FROM memories WHERE {' AND '.join(where)}"
        return self._cur().execute(sql + " ORDER BY seq", args).fetchall()

    def file_summary(self, *, under: str | None = None) -> dict[str, int]:
        """Live chunk count per ingested file path (optionally under a folder)."""
        where, args = ["source = 'file'", "state = 'live'"], []
        if under is not None:
            clause, more = under_clause(under, self.file_path)
            where.append(clause)
            args.extend(more)
        rows = self._cur().execute(
            f"SELECT {self.file_path} AS p, count(*) FROM memories WHERE {' AND '.join(where)} "
            "GROUP BY p ORDER BY p",
            args,
        )
        return {str(p): int(n) for p, n in rows.fetchall() if p is not None}


def under_clause(under: str, path: str = FILE_PATH) -> tuple[str, list[Any]]:
    prefix = under.rstrip(os.sep) + os.sep
    return f"({path} = ? OR starts_with({path}, ?))", [under, prefix]
