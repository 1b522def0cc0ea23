"""Facts over time: a newer record that changes a value of an older one supersedes it.

The older record stays live, searchable and visible; it gets `valid_until` (when the newer
one took its place) and `superseded_by` (the newer one's id), is ranked below its successor
(see `search.Retriever`), and both records get a history row, so undo on either restores the
link as it was. Promotion decides with `fact_compare.compare`; a user may also say it
(`magray memory supersede OLD NEW`, the Memory pane's `b` key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from magray_tui.memory.core import MemoryCore
from magray_tui.memory.records import MemoryError_, Record, State
from magray_tui.memory.repository_writes import Writes

MAX_CHAIN = 1000  # a guard against a cycle written by hand into the database


def link_rows(
    older: Record, newer: Record, *, actor: str, reason: str, now: datetime
) -> list[dict[str, Any]]:
    """The two history rows of one supersede; their details let undo restore the link."""
    details = {
        "older": older.id,
        "newer": newer.id,
        "previous_valid_until": older.valid_until.isoformat() if older.valid_until else None,
        "previous_superseded_by": older.superseded_by,
        "valid_until": now.isoformat(),
    }
    return [
        {
            "record_id": older.id,
            "action": "superseded",
            "actor": actor,
            "reason": f"{newer.id} replaces it ({reason})",
            "details": details,
        },
        {
            "record_id": newer.id,
            "action": "supersedes",
            "actor": actor,
            "reason": f"replaces {older.id} ({reason})",
            "details": details,
        },
    ]


def write_link(w: Writes, older: Record, newer: Record, *, actor: str, reason: str) -> None:
    """Inside the caller's transaction: mark `older` superseded by `newer`, with history."""
    w.update(older.seq, {"valid_until": w.now, "superseded_by": newer.id})
    w.add_history(link_rows(older, newer, actor=actor, reason=reason, now=w.now))


def check(core: MemoryCore, older: Record, newer: Record) -> None:
    """MemoryError_ unless `newer` may supersede `older`."""
    if older.id == newer.id:
        raise MemoryError_(f"{older.id} cannot supersede itself")
    for record in (older, newer):
        if record.state is not State.LIVE:
            raise MemoryError_(f"{record.id} is {record.state.value}; restore it first")
    if older.superseded_by == newer.id:
        raise MemoryError_(f"{older.id} is already superseded by {newer.id}")
    if older.superseded_by:
        raise MemoryError_(
            f"{older.id} is already superseded by {older.superseded_by} "
            "(undo that first, or supersede the newer one)"
        )
    if older.id in successors(core, newer):
        raise MemoryError_(f"{newer.id} is itself superseded by {older.id}: that would be a loop")


def supersede(core: MemoryCore, old_ref: str, new_ref: str, *, actor: str = "user") -> Record:
    """`new_ref` supersedes `old_ref`: one commit; returns the older record as it is now."""
    older, newer = core.repo.get(old_ref), core.repo.get(new_ref)
    check(core, older, newer)
    core.require_writable()
    reason = "marked by the user" if actor == "user" else f"marked by {actor}"
    core.commit(lambda w: write_link(w, older, newer, actor=actor, reason=reason))
    return core.repo.get(older.id)


def successors(core: MemoryCore, record: Record) -> list[str]:
    """The ids that supersede `record`, nearest first (its successor, that one's, ...)."""
    out: list[str] = []
    current = record.superseded_by
    while current and current not in out and len(out) < MAX_CHAIN:
        out.append(current)
        try:
            current = core.repo.get(current).superseded_by
        except MemoryError_:  # purged: the chain ends here
            break
    return out


def chain(core: MemoryCore, ref: str) -> dict[str, Any]:
    """The record's place in its chain: `newer` (its successors, nearest first) and `older`
    (the records it supersedes, directly or through others, nearest first), as dicts."""
    record = core.repo.get(ref)
    newer = []
    for rid in successors(core, record):
        try:
            newer.append(core.repo.get(rid))
        except MemoryError_:
            break
    older: list[Record] = []
    frontier, seen = [record.id], {record.id}
    while frontier and len(older) < MAX_CHAIN:
        found = core.repo.superseded_by_ids(frontier)
        frontier = [r.id for r in found if r.id not in seen]
        seen.update(frontier)
        older.extend(r for r in found if r.id in frontier)
    return {
        "id": record.id,
        "newer": [_brief(r) for r in newer],
        "older": [_brief(r) for r in older],
    }


def _brief(record: Record) -> dict[str, Any]:
    out = record.to_dict(with_stats=False)
    out["state"] = record.state.value
    out["valid_until"] = record.to_dict()["valid_until"]
    out["superseded_by"] = record.superseded_by
    return out
