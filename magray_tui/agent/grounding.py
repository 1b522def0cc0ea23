"""Which retrieved memories may ground a reply.

A search hit is dropped when it would only repeat what the prompt already holds or what
the model itself said:

- **the model's own replies**: chat records of the assistant that still sit in Interact
  unconfirmed (not pinned, not promoted). They are conversation, not knowledge; the ones
  that matter are in the history. Fed back as "memories", a guess becomes a fact.
- **messages in the history window**: a chat record whose message is already replayed in
  this prompt's history adds nothing but tokens.
- **duplicates**: the same text (whitespace and case aside) counts once, the best-ranked.

What survives keeps the search's order; `prompt.select_memories` then fits the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magray_tui.agent.model import ChatMessage
    from magray_tui.memory.records import Hit, Record


def is_unconfirmed_reply(record: Record) -> bool:
    """An assistant's chat message that nobody promoted or pinned."""
    author = getattr(record, "author", None)
    metadata = record.metadata if isinstance(record.metadata, dict) else {}
    said_by_model = author == "assistant" or (
        record.kind == "chat" and metadata.get("role") == "assistant"
    )
    return said_by_model and str(record.layer) == "interact" and not record.pinned


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _in_window(record: Record, window: Sequence[ChatMessage]) -> bool:
    metadata = record.metadata if isinstance(record.metadata, dict) else {}
    message_id = metadata.get("message_id")
    return any(
        m.memory_id == record.id or (message_id is not None and m.id == message_id) for m in window
    )


def grounding_hits(hits: Iterable[Hit], window: Sequence[ChatMessage]) -> list[Hit]:
    """`hits` without the model's own replies, what the history window already shows,
    and repeated texts."""
    seen: set[str] = set()
    kept = []
    for hit in hits:
        record = hit.record
        if is_unconfirmed_reply(record) or _in_window(record, window):
            continue
        key = _key(record.text)
        if key in seen:
            continue
        seen.add(key)
        kept.append(hit)
    return kept
