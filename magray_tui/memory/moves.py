"""Manual lifecycle operations (promote, demote, pin, importance) and undo. A user's
promote / demote / pin / forget is stored with the record's features at that moment: it is
a training example for the learned policy. Each operation is one commit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from magray_tui.memory import lifecycle as lc
from magray_tui.memory import mutations as ops
from magray_tui.memory import supersede as sup
from magray_tui.memory.core import MemoryCore
from magray_tui.memory.records import MODEL_AUTHORS, Layer, MemoryError_, Record, State
from magray_tui.memory.repository_writes import Writes

ORDER = [Layer.INTERACT, Layer.INSIGHTS, Layer.ASSETS]


def move(
    core: MemoryCore, ref: str, to: str | Layer | None, *, up: bool, actor: str = "user"
) -> Record:
    record = ops.live(core, ref)
    default = (lc.NEXT if up else lc.PREVIOUS).get(record.layer)
    target = Layer.parse(to) if to else default
    word = "promote" if up else "demote"
    if target is None:
        raise MemoryError_(f"{record.id} is already in {record.layer.value}; nowhere to {word}")
    if (ORDER.index(target) > ORDER.index(record.layer)) != up or target is record.layer:
        raise MemoryError_(f"cannot {word} {record.id} from {record.layer.value} to {target.value}")
    core.require_writable()
    features = lc.features_of(core, record)
    probe = _probe(core, record, target) if up else None
    if probe is not None and probe.action == "merge" and probe.merge_into:
        dup = core.repo.get(probe.merge_into)
        reason = f"promoted by the user; duplicate of {dup.id} in {target.value}"
        lc.merge(core, record, dup, actor=actor, reason=reason, features=features)
        return core.repo.get(record.id)
    link = probe.supersede if probe is not None and probe.action == "supersede" else None

    # A user who promotes model-written text vouches for it (a policy's move does not).
    confirms = up and actor == "user" and record.needs_confirmation
    details: dict[str, Any] = {"features": features, "layer_since": record.layer_since.isoformat()}
    if confirms:
        details["confirmed"] = True

    def write(w: Writes) -> None:
        w.move_many([record.seq], target.value)
        if confirms:
            w.update(record.seq, {"metadata": confirmed_metadata(core, record, actor, word)})
        w.history(
            record.id,
            word,
            from_layer=record.layer.value,
            to_layer=target.value,
            actor=actor,
            reason=f"{word}d by the {actor}",
            details=details,
        )
        if link:  # the promoted record changes a value of its neighbour: one commit
            older, newer = core.repo.get(link["older"]), core.repo.get(link["newer"])
            sup.write_link(w, older, newer, actor=actor, reason="changes a value")

    core.commit(write)
    return core.repo.get(record.id)


def confirmed_metadata(core: MemoryCore, record: Record, actor: str, how: str) -> dict[str, Any]:
    mark = {"by": actor, "how": how, "at": core.clock().isoformat(timespec="seconds")}
    return {**record.metadata, "confirmed": mark}


def confirm(core: MemoryCore, ref: str, *, how: str = "thumbs-up", actor: str = "user") -> Record:
    """The user vouches for a record (a thumbs-up on a reply): model-written text becomes
    knowledge that may ground answers and be promoted. Undoable; a training example."""
    record = ops.live(core, ref)
    if isinstance(record.metadata.get("confirmed"), dict):
        return record
    core.require_writable()
    features = lc.features_of(core, record)
    who = "the assistant's" if record.author in MODEL_AUTHORS else "a"

    def write(w: Writes) -> None:
        w.update(record.seq, {"metadata": confirmed_metadata(core, record, actor, how)})
        w.history(
            record.id,
            "confirm",
            actor=actor,
            reason=f"{who} text confirmed by the {actor} ({how})",
            details={"features": features},
        )

    core.commit(write)
    return core.repo.get(record.id)


def _unconfirm(w: Writes, record: Record) -> None:
    metadata = {k: v for k, v in record.metadata.items() if k != "confirmed"}
    w.update(record.seq, {"metadata": metadata})


def _probe(core: MemoryCore, record: Record, layer: Layer) -> lc.Action:
    """What promotion would make of this move: a merge, a supersede, or a plain move."""
    probe = lc.Action(
        record.id, record.seq, "promote", record.layer.value, layer.value, 0.0, "", "user"
    )
    lc.find_duplicates(core, [probe])
    return probe


def set_pinned(core: MemoryCore, ref: str, pinned: bool) -> Record:
    record = ops.live(core, ref)
    if record.pinned == pinned:
        return record
    core.require_writable()
    features = lc.features_of(core, record)

    def write(w: Writes) -> None:
        w.update(record.seq, {"pinned": pinned})
        w.history(
            record.id,
            "pin" if pinned else "unpin",
            actor="user",
            reason="pinned: never expires" if pinned else "unpinned",
            details={"features": features},
        )

    core.commit(write)
    return core.repo.get(record.id)


def set_importance(core: MemoryCore, ref: str, value: float) -> Record:
    if not 0.0 <= float(value) <= 1.0:
        raise MemoryError_("importance must be a number between 0 and 1")
    record = ops.live(core, ref)
    if record.importance == float(value):
        return record

    def write(w: Writes) -> None:
        w.update(record.seq, {"importance": float(value)})
        w.history(
            record.id,
            "set-importance",
            actor="user",
            reason=f"importance {record.importance:g} → {float(value):g}",
            details={"previous": record.importance},
        )

    core.commit(write)
    return core.repo.get(record.id)


def last_undoable(core: MemoryCore, record_id: str) -> dict[str, Any] | None:
    rows = core.repo.history(record_id)
    undone = {json.loads(r["details"] or "{}").get("undid") for r in rows if r["action"] == "undo"}
    for row in reversed(rows):
        if row["action"] not in ("undo", "purge") and row["hid"] not in undone:
            return row
    return None


def undo(core: MemoryCore, ref: str) -> str:
    """Reverse the last action on a record that has not been undone; returns what it did.
    The reversal and its `undo` history row are one commit."""
    record = core.repo.get(ref)
    row = last_undoable(core, record.id)
    if row is None:
        raise MemoryError_(f"nothing to undo for {record.id}")
    details = json.loads(row["details"] or "{}")
    action = row["action"]
    known = (
        "promote",
        "demote",
        "forget",
        "expire",
        "restore",
        "merge",
        "absorb",
        "pin",
        "unpin",
        "set-importance",
        "superseded",
        "supersedes",
        "confirm",
    )
    if action not in known and not (action == "edit" and "previous_text" in details):
        raise MemoryError_(f"the last action on {record.id} ({action}) cannot be undone")
    core.require_writable()

    def write(w: Writes) -> str:
        done = _reverse(core, w, record, row, details)
        w.history(
            record.id,
            "undo",
            actor="user",
            reason=f"undo {action}: {done}",
            details={"undid": row["hid"]},
        )
        return done

    return core.commit(write)


def _reverse(
    core: MemoryCore, w: Writes, record: Record, row: dict[str, Any], details: dict
) -> str:
    """Write the reversal of `row`; nested commits (restore, forget, update) join this
    transaction."""
    action = row["action"]
    if action in ("promote", "demote"):
        fields: dict[str, Any] = {"layer": Layer(row["from_layer"])}
        if details.get("layer_since"):
            fields["layer_since"] = datetime.fromisoformat(details["layer_since"])
        w.update(record.seq, fields)
        if details.get("confirmed"):
            _unconfirm(w, record)
        return f"moved back to {row['from_layer']}"
    if action == "confirm":
        _unconfirm(w, record)
        return "no longer confirmed"
    if action in ("forget", "expire"):
        if record.state is not State.LIVE:
            ops.restore(core, record)
        return "restored"
    if action == "restore":
        if record.state is not State.FORGOTTEN:
            feats = lc.features_of(core, record) if record.state is State.LIVE else None
            ops.forget(core, record, reason="undo of restore", features=feats)
        return "forgotten again"
    if action in ("merge", "absorb"):
        return _split(core, w, details, undoing=record.id)
    if action in ("superseded", "supersedes"):
        return _unlink(w, core, details, undoing=record.id)
    if action in ("pin", "unpin"):
        w.update(record.seq, {"pinned": action == "unpin"})
        return "unpinned" if action == "pin" else "pinned again"
    if action == "set-importance":
        w.update(record.seq, {"importance": float(details["previous"])})
        return f"importance back to {details['previous']:g}"
    ops.update(core, record.id, {"text": details["previous_text"]})  # an edit of its own
    return "text restored"


def _split(core: MemoryCore, w: Writes, details: dict[str, Any], undoing: str) -> str:
    source = core.repo.get(details["source"])
    survivor = core.repo.get(details["survivor"])
    w.update(
        survivor.seq,
        {
            "tags": tuple(details["survivor_tags"]),
            "access_count": max(0, survivor.access_count - int(details["added_access"])),
        },
    )
    w.update(source.seq, {"state": State.LIVE, "merged_into": None, "forgotten_at": None})
    other = source.id if undoing == survivor.id else survivor.id
    row = last_undoable(core, other)
    if row is not None and row["action"] in ("merge", "absorb"):
        w.history(
            other,
            "undo",
            actor="user",
            reason=f"split {source.id} back out",
            details={"undid": row["hid"]},
        )
    return f"split {source.id} back out of {survivor.id}"


def _unlink(w: Writes, core: MemoryCore, details: dict[str, Any], undoing: str) -> str:
    """Write the reversal of a supersede (`details` of either history row): the older record
    gets back its previous `valid_until` / `superseded_by`; the other side's row is marked
    undone too, so undo on it does not reverse the link a second time."""
    older = core.repo.get(details["older"])
    previous = details.get("previous_valid_until")
    w.update(
        older.seq,
        {
            "valid_until": datetime.fromisoformat(previous) if previous else None,
            "superseded_by": details.get("previous_superseded_by"),
        },
    )
    other = details["newer"] if undoing == details["older"] else details["older"]
    row = last_undoable(core, other)
    if row is not None and row["action"] in ("superseded", "supersedes"):
        w.history(
            other,
            "undo",
            actor="user",
            reason=f"undo supersede of {details['older']} by {details['newer']}",
            details={"undid": row["hid"]},
        )
    return f"{details['older']} is no longer superseded by {details['newer']}"
