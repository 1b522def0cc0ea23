"""What MCP clients did: a small append-only log of their calls, and undoable clean-ups of
what one client wrote.

`magray mcp` appends one JSON line per call to `<state>/mcp-activity.jsonl` (client, tool,
ok, the ids it touched, a one-line error); the Agents view reads it back. The clean-up
itself does not trust the log: "everything claude-code wrote in the last hour" is read from
the memory (records whose `source` is `mcp:claude-code` created since then), forgotten as
tombstones by the user, and restorable with `restore`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.mcp.access import client_source

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory import MemoryService, Record

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000  # then the log moves to .1 (one old file kept)
_lock = threading.Lock()


def log_path(settings: Settings) -> Path:
    return settings.paths.state / "mcp-activity.jsonl"


def append(path: Path, entry: dict[str, Any]) -> None:
    """Add one call to the log; a log that cannot be written never fails the call."""
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    try:
        with _lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > MAX_BYTES:
                os.replace(path, path.with_name(path.name + ".1"))
            with open(path, "a", encoding="utf-8") as f:
                f.write(line)
    except OSError as exc:
        log.warning("cannot write the MCP activity log %s: %s", path, exc)


def read(path: Path, limit: int = 2000) -> list[dict[str, Any]]:
    """The last `limit` calls, oldest first; damaged lines are skipped."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-limit:]
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("client"), str):
            out.append(entry)
    return out


@dataclass
class ClientActivity:
    client: str
    calls: int = 0
    failed: int = 0
    last_seen: str = ""
    last_calls: list[dict[str, Any]] = field(default_factory=list)  # newest first, up to 20


def summarize(entries: list[dict[str, Any]]) -> list[ClientActivity]:
    """One row per client, the most recently seen first."""
    found: dict[str, ClientActivity] = {}
    for entry in entries:
        row = found.setdefault(entry["client"], ClientActivity(entry["client"]))
        row.calls += 1
        row.failed += 0 if entry.get("ok") else 1
        row.last_seen = max(row.last_seen, str(entry.get("ts", "")))
        row.last_calls.insert(0, entry)
        del row.last_calls[20:]
    return sorted(found.values(), key=lambda r: r.last_seen, reverse=True)


def written_since(memory: MemoryService, client: str, since: datetime) -> list[Record]:
    """Live memories `client` added since `since` (naive UTC), newest first."""
    source = client_source(client)
    records = memory.list(since=since, limit=100_000)
    return [r for r in records if r.source == source]


def forget_written(
    memory: MemoryService, client: str, *, within: timedelta, now: datetime
) -> list[str]:
    """Forget (tombstone) everything `client` wrote within `within` before `now`; the ids,
    for `restore`."""
    ids = []
    for record in written_since(memory, client, now - within):
        # Not a judgement of each memory's worth, so not a lesson for the learned policy
        # (which learns from actor "user" only).
        memory.forget(
            record.id,
            reason=f"forgotten with everything {client} wrote recently",
            actor="user (agents view)",
        )
        ids.append(record.id)
    return ids


def restore(memory: MemoryService, ids: list[str]) -> int:
    for rid in ids:
        memory.restore(rid, actor="user (agents view)")
    return len(ids)


@dataclass
class AgentRow:
    """One client as the Agents view shows it."""

    client: str
    activity: ClientActivity
    recent: list[Record]  # live memories it wrote within the window, newest first


def overview(
    memory: MemoryService | None, entries: list[dict[str, Any]], *, now: datetime, within: timedelta
) -> list[AgentRow]:
    """Every client seen in the log or as the author of a recent memory."""
    rows = {a.client: AgentRow(a.client, a, []) for a in summarize(entries)}
    if memory is not None:
        for record in memory.list(since=now - within, limit=100_000):
            if record.source.startswith("mcp:"):
                name = record.source[4:]
                row = rows.setdefault(name, AgentRow(name, ClientActivity(name), []))
                row.recent.append(record)
    return sorted(rows.values(), key=lambda r: (r.activity.last_seen, len(r.recent)), reverse=True)
