"""The domain types every part of magray passes around: `Layer`, `State`, `Record`,
`Hit`, `Filters`, `utc_now`. Numpy-free and cheap: the TUI imports them freely."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from magray_tui.errors import DataError, StoreDamaged, StoreLocked

__all__ = [
    "AUTHORS",
    "LAYERS",
    "MODEL_AUTHORS",
    "SEARCH_MODES",
    "SOURCES",
    "Filters",
    "Hit",
    "Layer",
    "MemoryError_",
    "Record",
    "RecordNotFound",
    "State",
    "StoreDamaged",
    "StoreLocked",
    "author_for",
    "to_utc_naive",
    "utc_now",
    "utcnow",
    "valid_author",
]


class Layer(StrEnum):
    INTERACT = "interact"  # session, dialogue, temporary data (TTL 24 h by default)
    INSIGHTS = "insights"  # decisions, learned facts, patterns (TTL 90 d by default)
    ASSETS = "assets"  # code snippets, documents, core knowledge (no TTL)

    @classmethod
    def parse(cls, value: str | Layer) -> Layer:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise MemoryError_(f"unknown layer {value!r} (use one of: {names})") from None


class State(StrEnum):
    LIVE = "live"
    FORGOTTEN = "forgotten"  # a tombstone: hidden from search, restorable until purged
    MERGED = "merged"  # folded into a near-duplicate (`merged_into`); undo splits it back


SOURCES = ("chat", "file", "manual", "agent", "import")
# A write made by an MCP client names it: "mcp:claude-code" (see magray_tui/mcp).
CLIENT_SOURCE = re.compile(r"^mcp:[a-z0-9][a-z0-9._-]{0,39}$")
SEARCH_MODES = ("hybrid", "vector", "keyword")

# Who wrote a record's text (its provenance; `source` says how it arrived): the user (typed,
# /remember, `memory add`), the assistant (its chat replies), a tool the model called, a
# file (ingest), an import, an MCP client ("mcp:claude-code"), a person on a shared server
# ("alice@laptop", set by the server backend).
AUTHORS = ("user", "assistant", "tool", "file", "import")
# Text a model wrote is conversation, not knowledge, until the user confirms it (pin,
# promote, thumbs-up): it does not ground answers and the default policy never promotes it.
MODEL_AUTHORS = frozenset({"assistant", "tool"})
_USER_AT_HOST = re.compile(r"^[a-z0-9._-]{1,64}@[a-z0-9._-]{1,253}$")


def valid_author(value: str) -> bool:
    return value in AUTHORS or bool(CLIENT_SOURCE.match(value) or _USER_AT_HOST.match(value))


def author_for(source: str, metadata: dict[str, Any] | None = None) -> str:
    """The author a write without an explicit one gets, from how it arrived (the same rule
    migration 7 used to fill the column for older records)."""
    metadata = metadata if isinstance(metadata, dict) else {}
    if source in ("file", "import") or CLIENT_SOURCE.match(source):
        return source
    if source == "chat":
        return "assistant" if metadata.get("role") == "assistant" else "user"
    if source == "agent":
        # A fact distilled from the user's own message is the user's statement; anything
        # else the agent stored came through a tool the model called.
        return "user" if metadata.get("distilled_from") else "tool"
    return "user"


# A memory operation that cannot be done; the message is meant for the user. The same
# class as the database layer's `DataError`, so a locked or damaged store is one too.
MemoryError_ = DataError
LAYERS = ("interact", "insights", "assets")


class RecordNotFound(MemoryError_):
    pass


def utc_now() -> datetime:
    """Naive UTC, the form timestamps are stored in (DuckDB TIMESTAMP)."""
    return datetime.now(UTC).replace(tzinfo=None)


utcnow = utc_now  # the older name, still used across the code


def to_utc_naive(value: datetime | str | None) -> datetime | None:
    """A time from a user, a file or a flag as naive UTC; MemoryError_ when it is not one
    (a number, a list, a malformed string, or a time that leaves years 1-9999 in UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise MemoryError_(f"not an ISO-8601 time: {_short(value)}") from None
    elif not isinstance(value, datetime):
        raise MemoryError_(f"a time must be an ISO-8601 string, not {type(value).__name__}")
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError):
            raise MemoryError_(f"time out of range in UTC: {_short(value.isoformat())}") from None
    return value


def _short(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


@dataclass
class Record:
    id: str
    layer: Layer
    text: str
    kind: str = "note"
    tags: tuple[str, ...] = ()
    source: str = "manual"
    session: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    layer_since: datetime = field(default_factory=utcnow)
    last_access: datetime | None = None
    access_count: int = 0
    importance: float = 0.5
    pinned: bool = False
    content_hash: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    state: State = State.LIVE
    forgotten_at: datetime | None = None
    merged_into: str | None = None
    # Superseded by a newer record that changed a value: still live and searchable, ranked
    # below its successor; valid_until is when that happened (docs/promotion.md).
    valid_until: datetime | None = None
    superseded_by: str | None = None
    seq: int = 0  # internal integer key (vector index label); not shown to users
    author: str = "user"

    @property
    def confirmed(self) -> bool:
        """Pinned, or confirmed by the user once (promoted by hand, a thumbs-up):
        `metadata["confirmed"]` keeps who, how and when."""
        metadata = self.metadata if isinstance(self.metadata, dict) else {}
        return self.pinned or isinstance(metadata.get("confirmed"), dict)

    @property
    def needs_confirmation(self) -> bool:
        """Model-written text nobody confirmed: it grounds nothing and is not promoted."""
        return self.author in MODEL_AUTHORS and not self.confirmed

    @property
    def location(self) -> str | None:
        """'path:start-end' for a record ingested from a file, else None."""
        path = self.metadata.get("path") if isinstance(self.metadata, dict) else None
        if self.source != "file" or not path:
            return None
        start, end = self.metadata.get("start_line"), self.metadata.get("end_line")
        if start is None:
            return str(path)
        return f"{path}:{start}" if start == end else f"{path}:{start}-{end}"

    def to_dict(self, *, with_stats: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "layer": self.layer.value,
            "text": self.text,
            "kind": self.kind,
            "tags": list(self.tags),
            "source": self.source,
            "author": self.author,
            "confirmed": self.confirmed,
            "session": self.session,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "importance": self.importance,
            "pinned": self.pinned,
            "metadata": self.metadata,
        }
        if with_stats:
            out["access_count"] = self.access_count
            out["last_access"] = _iso(self.last_access)
            out["layer_since"] = _iso(self.layer_since)
            out["state"] = self.state.value
            if self.forgotten_at:
                out["forgotten_at"] = _iso(self.forgotten_at)
            if self.merged_into:
                out["merged_into"] = self.merged_into
            out["valid_until"] = _iso(self.valid_until)
            out["superseded_by"] = self.superseded_by
        return out

    @property
    def superseded(self) -> bool:
        return self.superseded_by is not None


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass
class Hit:
    record: Record
    score: float
    # Why it matched: vector similarity and rank, BM25 score and rank, fused score.
    parts: dict[str, float | int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = self.record.to_dict()
        out["score"] = round(self.score, 6)
        out["score_parts"] = self.parts
        return out


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
    authors: tuple[str, ...] | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.layers
            or self.kinds
            or self.tags
            or self.session
            or self.since
            or self.until
            or self.authors
        )

    def key(self) -> tuple[Any, ...]:
        return (
            self.layers,
            self.kinds,
            self.tags,
            self.session,
            self.since,
            self.until,
            self.state,
            self.authors,
        )


def add_item(
    text: str,
    layer: Layer | str,
    kind: str,
    tags: Iterable[str],
    session: str | None,
    source: str,
    created_at: Any,
    metadata: dict[str, Any] | None,
    importance: float,
    pinned: bool,
    author: str | None = None,
) -> dict[str, Any]:
    """The item `add_many` takes for one `add(...)` call (the service and the host proxy
    build it the same way; numpy-free, so a thin client can use it)."""
    return {
        "text": text,
        "layer": layer,
        "kind": kind,
        "tags": list(tags),
        "session": session,
        "source": source,
        "created_at": created_at,
        "metadata": metadata,
        "importance": importance,
        "pinned": pinned,
        "author": author,
    }
