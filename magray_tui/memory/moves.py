"""Manual lifecycle operations (promote, demote, pin, importance) and undo. A user's
promote / demote / pin / forget is stored with the record's features at that moment: it is
a training example for the learned policy."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from magray_tui.memory import lifecycle as lc
from magray_tui.memory import store_lifecycle as sql
from magray_tui.memory.records import Layer, MemoryError_, Record, State

if TYPE_CHECKING:
    from magray_tui.memory.service import MemoryService

ORDER = [Layer.INTERACT, Layer.INSIGHTS, Layer.ASSETS]


def _live(svc: MemoryService, ref: str) -> Record:
    record = svc.get(ref, count_access=False)
    if record.state is not State.LIVE:
        raise MemoryError_(f"memory {record.id} is {record.state.value}; restore it first")
    return record


def move(
    svc: MemoryService, ref: str, to: str | Layer | None, *, up: bool, actor: str = "user"
) -> Record:
    record = _live(svc, ref)
    default = (lc.NEXT if up else lc.PREVIOUS).get(record.layer)
    target = Layer.parse(to) if to else default
    word = "promote" if up else "demote"
    if target is None:
        raise MemoryError_(f"{record.id} is already in {record.layer.value}; nowhere to {word}")
    if (ORDER.index(target) > ORDER.index(record.layer)) != up or target is record.layer:
        raise MemoryError_(f"cannot {word} {record.id} from {record.layer.value} to {target.value}")
    features = lc.features_of(svc, record)
    if up:
        dup = _duplicate_in(svc, record, target)
        if dup is not None:
            reason = f"promoted by the user; near-duplicate of {dup.id} in {target.value}"
            lc.merge(svc, record, dup, actor=actor, reason=reason, features=features)
            return svc.store.get(record.id)
    now = svc.clock()
    with svc._write_lock:
        rev = sql.move_many(svc.store, [record.seq], target.value, now)
        lc._follow(svc, [record.seq], rev)
        sql.add_history_many(
            svc.store,
            [
                {
                    "record_id": record.id,
                    "action": word,
                    "from_layer": record.layer.value,
                    "to_layer": target.value,
                    "actor": actor,
                    "reason": f"{word}d by the {actor}",
                    "details": {
                        "features": features,
                        "layer_since": record.layer_since.isoformat(),
                    },
                }
            ],
            now,
        )
    return svc.store.get(record.id)


def _duplicate_in(svc: MemoryService, record: Record, layer: Layer) -> Record | None:
    probe = lc.Action(
        record.id, record.seq, "promote", record.layer.value, layer.value, 0.0, "", "user"
    )
    lc._find_duplicates(svc, [probe])
    return svc.store.get(probe.merge_into) if probe.merge_into else None


def set_pinned(svc: MemoryService, ref: str, pinned: bool) -> Record:
    record = _live(svc, ref)
    if record.pinned == pinned:
        return record
    features = lc.features_of(svc, record)
    with svc._write_lock:
        svc.store.update(record.seq, {"pinned": pinned})
        svc.store.add_history(
            record.id,
            "pin" if pinned else "unpin",
            actor="user",
            reason="pinned: never expires" if pinned else "unpinned",
            details={"features": features},
        )
    return svc.store.get(record.id)


def set_importance(svc: MemoryService, ref: str, value: float) -> Record:
    if not 0.0 <= float(value) <= 1.0:
        raise MemoryError_("importance must be a number between 0 and 1")
    record = _live(svc, ref)
    if record.importance == float(value):
        return record
    with svc._write_lock:
        svc.store.update(record.seq, {"importance": float(value)})
        svc.store.add_history(
            record.id,
            "set-importance",
            actor="user",
            reason=f"importance {record.importance:g} → {float(value):g}",
            details={"previous": record.importance},
        )
    return svc.store.get(record.id)


def last_undoable(svc: MemoryService, record_id: str) -> dict[str, Any] | None:
    rows = svc.store.history(record_id)
    undone = {json.loads(r["details"] or "{}").get("undid") for r in rows if r["action"] == "undo"}
    for row in reversed(rows):
        if row["action"] not in ("undo", "purge") and row["hid"] not in undone:
            return row
    return None


def undo(svc: MemoryService, ref: str) -> str:
    """Reverse the last action on a record that has not been undone; returns what it did."""
    record = svc.get(ref, count_access=False)
    row = last_undoable(svc, record.id)
    if row is None:
        raise MemoryError_(f"nothing to undo for {record.id}")
    details = json.loads(row["details"] or "{}")
    action = row["action"]
    with svc._write_lock:
        if action in ("promote", "demote"):
            fields: dict[str, Any] = {"layer": Layer(row["from_layer"])}
            if details.get("layer_since"):
                fields["layer_since"] = datetime.fromisoformat(details["layer_since"])
            rev = svc.store.update(record.seq, fields)
            lc._follow(svc, [record.seq], rev)
            done = f"moved back to {row['from_layer']}"
        elif action in ("forget", "expire"):
            svc.restore(record.id, actor="user")
            done = "restored"
        elif action == "restore":
            svc.forget(record.id, reason="undo of restore")
            done = "forgotten again"
        elif action in ("merge", "absorb"):
            done = _split(svc, details, undoing=record.id)
        elif action in ("pin", "unpin"):
            svc.store.update(record.seq, {"pinned": action == "unpin"})
            done = "unpinned" if action == "pin" else "pinned again"
        elif action == "set-importance":
            svc.store.update(record.seq, {"importance": float(details["previous"])})
            done = f"importance back to {details['previous']:g}"
        elif action == "edit" and "previous_text" in details:
            svc.update(record.id, text=details["previous_text"])
            done = "text restored"
        else:
            raise MemoryError_(f"the last action on {record.id} ({action}) cannot be undone")
        svc.store.add_history(
            record.id,
            "undo",
            actor="user",
            reason=f"undo {action}: {done}",
            details={"undid": row["hid"]},
        )
    return done


def _split(svc: MemoryService, details: dict[str, Any], undoing: str) -> str:
    source = svc.store.get(details["source"])
    survivor = svc.store.get(details["survivor"])
    rev = svc.store.update(
        survivor.seq,
        {
            "tags": tuple(details["survivor_tags"]),
            "access_count": max(0, survivor.access_count - int(details["added_access"])),
        },
    )
    rev = svc.store.update(
        source.seq, {"state": State.LIVE, "merged_into": None, "forgotten_at": None}
    )
    lc._follow(svc, [survivor.seq, source.seq], rev, vectors_changed=True)
    other = source.id if undoing == survivor.id else survivor.id
    row = last_undoable(svc, other)
    if row is not None and row["action"] in ("merge", "absorb"):
        svc.store.add_history(
            other,
            "undo",
            actor="user",
            reason=f"split {source.id} back out",
            details={"undid": row["hid"]},
        )
    return f"split {source.id} back out of {survivor.id}"
