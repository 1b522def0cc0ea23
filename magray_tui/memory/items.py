"""Validation of incoming memories: one place decides what a storable item is."""

from __future__ import annotations

import hashlib
import json
import numbers
import re
import uuid
from datetime import datetime
from typing import Any

from magray_tui.memory.records import (
    CLIENT_SOURCE,
    SEARCH_MODES,
    SOURCES,
    Filters,
    Layer,
    MemoryError_,
    State,
    author_for,
    to_utc_naive,
    valid_author,
)

ITEM_KEYS = {
    "id",
    "text",
    "layer",
    "kind",
    "tags",
    "session",
    "created_at",
    "source",
    "author",
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
    "valid_until",  # a supersede link is not imported: the other record may not come along
    "superseded_by",
    "score",
    "score_parts",
    "confirmed",
}
MAX_TAGS = 64
MAX_TAG_LEN = 100
# More entries than this cannot de-duplicate to MAX_TAGS in any list a person writes.
MAX_RAW_TAGS = 16 * MAX_TAGS
MAX_METADATA_DEPTH = 32
# Tags and kinds are labels: no control characters (C0, DEL, C1) or bidi overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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
    """Tags stripped and de-duplicated in order. Linear, and a list far over the limit is
    refused before any per-tag work (a 1e6-tag line is refused at once)."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        if len(tags) > MAX_TAGS * (MAX_TAG_LEN + 1) * 4:
            raise MemoryError_(f"tags too long ({len(tags):,} characters)")
        tags = tags.split(",")
    if not isinstance(tags, list | tuple | set | frozenset):
        raise MemoryError_("tags must be a list of strings")
    if len(tags) > MAX_RAW_TAGS:
        raise MemoryError_(f"too many tags ({len(tags):,}, at most {MAX_TAGS})")
    out: dict[str, None] = {}  # an ordered set: membership is O(1)
    for tag in tags:
        if not isinstance(tag, str):
            raise MemoryError_("tags must be a list of strings")
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LEN:
            raise MemoryError_(f"tag too long ({len(tag)} characters, at most {MAX_TAG_LEN})")
        if _CONTROL.search(tag):
            raise MemoryError_(f"tag {tag!r} holds a control character")
        out[tag] = None
        if len(out) > MAX_TAGS:
            raise MemoryError_(f"too many tags (more than {MAX_TAGS})")
    return tuple(out)


def strict_bool(value: Any, name: str, default: bool = False) -> bool:
    """Only JSON true/false (or null for the default): "false" is not false."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MemoryError_(f"{name} must be true or false, not {_kind_of(value)}")
    return value


def _kind_of(value: Any) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:19] + "…"
        return f"the string {shown!r}"
    return type(value).__name__


def one_label(value: str) -> str:
    """A label from the user, quoted and cut for a one-line message."""
    return repr(value if len(value) <= 40 else value[:39] + "…")


def _optional_str(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise MemoryError_(f"{key} must be a string, not {_kind_of(value)}")
    return value


def json_depth_ok(value: Any, limit: int) -> bool:
    """Whether nested lists and objects go at most `limit` levels deep (iterative: safe
    on any depth)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


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
    if not json_depth_ok(metadata, MAX_METADATA_DEPTH):
        raise MemoryError_(f"metadata nested deeper than {MAX_METADATA_DEPTH} levels")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError, RecursionError):
        raise MemoryError_("metadata must be JSON-serialisable") from None
    metadata = dict(metadata)
    text, original = truncate(text, max_bytes)
    if original is not None:
        metadata["truncated"] = {"original_bytes": original, "kept_bytes": max_bytes}
    kind = (_optional_str(item, "kind") or "note").strip().lower()
    if not kind or len(kind) > 50 or _CONTROL.search(kind):
        raise MemoryError_("kind must be a short word")
    source = (_optional_str(item, "source") or default_source).strip().lower()
    if source not in SOURCES and not CLIENT_SOURCE.match(source):
        raise MemoryError_(
            f"unknown source {source!r} (use one of: {', '.join(SOURCES)}, or mcp:CLIENT)"
        )
    author = (_optional_str(item, "author") or author_for(source, metadata)).strip().lower()
    if not valid_author(author):
        raise MemoryError_(
            f"unknown author {one_label(author)} (use one of: user, assistant, tool, file, "
            "import, mcp:CLIENT, user@host)"
        )
    session = _optional_str(item, "session")
    try:
        created = to_utc_naive(item.get("created_at")) or now
    except MemoryError_ as exc:
        raise MemoryError_(f"created_at: {exc}") from None
    importance = item.get("importance", 0.5)
    if importance is None:
        importance = 0.5
    if isinstance(importance, bool) or not isinstance(importance, numbers.Real):
        raise MemoryError_(
            f"importance must be a number between 0 and 1, not {_kind_of(importance)}"
        )
    importance = float(importance)
    if not 0.0 <= importance <= 1.0:  # also refuses NaN
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
        "author": author,
        "session": session or None,
        "created_at": created,
        "updated_at": now,
        "layer_since": created,
        "importance": importance,
        "pinned": strict_bool(item.get("pinned"), "pinned"),
        "content_hash": content_hash(text),
        "metadata": metadata,
    }


def filters_of(
    layers: Any = None,
    kinds: Any = None,
    tags: Any = None,
    session: str | None = None,
    since: Any = None,
    until: Any = None,
    state: State | None = State.LIVE,
    authors: Any = None,
) -> Filters:
    """The `Filters` for a search or a listing, from what a caller passed (MemoryError_
    for a bad layer, tag or time)."""
    return Filters(
        layers=tuple(Layer.parse(x) for x in layers) if layers else None,
        kinds=tuple(str(x).lower() for x in kinds) if kinds else None,
        tags=normalize_tags(list(tags)) or None if tags else None,
        session=session or None,
        since=to_utc_naive(since),
        until=to_utc_naive(until),
        state=state,
        authors=tuple(dict.fromkeys(str(a).strip().lower() for a in authors)) or None
        if authors
        else None,
    )


def search_query(query: Any, k: Any, mode: str) -> str:
    """The query's text, once `k` and `mode` are known to be usable."""
    if mode not in SEARCH_MODES:
        raise MemoryError_(f"unknown search mode {mode!r} (use {', '.join(SEARCH_MODES)})")
    if not isinstance(k, int) or not 1 <= k <= 1000:
        raise MemoryError_("k must be a whole number from 1 to 1000")
    return as_text(query)
