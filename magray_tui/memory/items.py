"""Validation of incoming memories: one place decides what a storable item is."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from magray_tui.memory.records import SOURCES, Layer, MemoryError_, to_utc_naive

ITEM_KEYS = {
    "id",
    "text",
    "layer",
    "kind",
    "tags",
    "session",
    "created_at",
    "source",
    "metadata",
    "importance",
    "pinned",
}
# Keys an export writes that an import accepts and ignores (derived or statistics).
EXPORT_ONLY_KEYS = {
    "updated_at",
    "access_count",
    "last_access",
    "layer_since",
    "state",
    "forgotten_at",
    "score",
    "score_parts",
}
MAX_TAGS = 64
MAX_TAG_LEN = 100


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def as_text(value: Any) -> str:
    """Accept str or bytes; bytes that are not UTF-8 are decoded with replacement marks."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise MemoryError_(f"text must be a string, not {type(value).__name__}")
    # Lone surrogates (from broken decoders) cannot be stored as UTF-8: replace them.
    return value.encode("utf-8", "replace").decode("utf-8")


def truncate(text: str, max_bytes: int) -> tuple[str, int | None]:
    """Cut text to at most `max_bytes` of UTF-8; returns (text, original size or None)."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text, None
    return raw[:max_bytes].decode("utf-8", errors="ignore"), len(raw)


def normalize_tags(tags: Any) -> tuple[str, ...]:
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = [t for t in tags.split(",")]
    if not isinstance(tags, list | tuple | set | frozenset):
        raise MemoryError_("tags must be a list of strings")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise MemoryError_("tags must be a list of strings")
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LEN:
            raise MemoryError_(f"tag too long ({len(tag)} characters, at most {MAX_TAG_LEN})")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise MemoryError_(f"too many tags ({len(out)}, at most {MAX_TAGS})")
    return tuple(out)


def prepare(
    item: dict[str, Any], *, now: datetime, max_bytes: int, default_source: str = "manual"
) -> dict[str, Any]:
    """Turn a user-supplied dict into a row for the store, or raise MemoryError_."""
    if not isinstance(item, dict):
        raise MemoryError_("each memory must be a JSON object")
    unknown = set(item) - ITEM_KEYS - EXPORT_ONLY_KEYS
    if unknown:
        raise MemoryError_(f"unknown field(s): {', '.join(sorted(unknown))}")
    if item.get("text") is None:
        raise MemoryError_("missing 'text'")
    text = as_text(item["text"])
    if not text.strip():
        raise MemoryError_("empty text: nothing to remember")
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MemoryError_("metadata must be a JSON object")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError):
        raise MemoryError_("metadata must be JSON-serialisable") from None
    metadata = dict(metadata)
    text, original = truncate(text, max_bytes)
    if original is not None:
        metadata["truncated"] = {"original_bytes": original, "kept_bytes": max_bytes}
    kind = str(item.get("kind") or "note").strip().lower()
    if not kind or len(kind) > 50:
        raise MemoryError_("kind must be a short word")
    source = str(item.get("source") or default_source).strip().lower()
    if source not in SOURCES:
        raise MemoryError_(f"unknown source {source!r} (use one of: {', '.join(SOURCES)})")
    session = item.get("session")
    if session is not None and not isinstance(session, str):
        session = str(session)
    created = to_utc_naive(item.get("created_at")) or now
    importance = item.get("importance", 0.5)
    try:
        importance = float(importance)
    except (TypeError, ValueError):
        raise MemoryError_("importance must be a number between 0 and 1") from None
    if not 0.0 <= importance <= 1.0:
        raise MemoryError_("importance must be a number between 0 and 1")
    id_ = item.get("id") or new_id()
    if not isinstance(id_, str) or not 1 <= len(id_) <= 64 or not id_.isprintable():
        raise MemoryError_("id must be a short printable string")
    return {
        "id": id_,
        "layer": Layer.parse(item.get("layer") or Layer.INTERACT),
        "text": text,
        "kind": kind,
        "tags": normalize_tags(item.get("tags")),
        "source": source,
        "session": session or None,
        "created_at": created,
        "updated_at": now,
        "layer_since": created,
        "importance": importance,
        "pinned": bool(item.get("pinned", False)),
        "content_hash": content_hash(text),
        "metadata": metadata,
    }
