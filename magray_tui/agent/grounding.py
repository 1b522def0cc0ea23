"""Which retrieved memories may ground a reply.

A search hit is dropped when it would only repeat what the prompt already holds or what
the model itself said:

- **model-written text nobody confirmed**: records whose author is the assistant (its
  replies) or a tool the model called, that the user never confirmed (pin, promotion by
  hand, a thumbs-up on the reply; `Record.needs_confirmation`), whatever layer they sit in
  (a policy's promotion is no confirmation). They are conversation, not knowledge; the
  ones that matter are in the history. Fed back as "memories", a guess becomes a fact.
- **messages in the history window**: a chat record whose message is already replayed in
  this prompt's history adds nothing but tokens.
- **duplicates**: the same text (whitespace and case aside) counts once, the best-ranked.
- **weak matches**: a hit whose vector cosine (`parts["vector"]`) is under
  `RELEVANCE_FLOOR`; a hit found by keywords alone (no cosine) only when it is the best
  keyword match. Calibrated by `benchmarks/calibrate_grounding_floor.py` (24 memories, 24
  answerable questions each with one paraphrased relevant memory, 12 unrelated messages,
  packaged MiniLM): at 0.25 every relevant memory is kept (the lowest scored 0.26) while
  irrelevant memories sent fall from 7.25 to 0.50 per message, and from 8 to 0.08 for a
  message like "hello"; 0.30 would lose one relevant memory in 24.

What survives keeps the search's order; `prompt.select_memories` then fits the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

RELEVANCE_FLOOR = 0.25
# The embedded offline model (SmolLM2-135M, 4,096-token context, slow prompt reading on a
# small CPU) gets a small prompt: every token it reads delays the first one, and it makes
# little use of a long context. About the last two exchanges of history and three short
# memories (benchmarks/bench_chat_turns.py: the prompt levels off from the third turn).
OFFLINE_LIMITS = {"memory_budget_tokens": 250, "memory_top_k": 3, "history_budget_tokens": 300}


@dataclass(frozen=True)
class Budgets:
    memory_tokens: int
    top_k: int
    history_tokens: int


def budgets_for(agent_settings: Any, offline: bool) -> Budgets:
    """The configured budgets (`[agent]`), capped for the offline model."""
    values = {
        key: getattr(agent_settings, key)
        for key in ("memory_budget_tokens", "memory_top_k", "history_budget_tokens")
    }
    if offline:
        values = {key: min(value, OFFLINE_LIMITS[key]) for key, value in values.items()}
    return Budgets(
        values["memory_budget_tokens"], values["memory_top_k"], values["history_budget_tokens"]
    )


if TYPE_CHECKING:
    from magray_tui.agent.model import ChatMessage
    from magray_tui.memory.records import Hit, Record


def is_unconfirmed_reply(record: Record) -> bool:
    """Text the assistant (or a tool it called) wrote that the user never confirmed."""
    return record.needs_confirmation


def relevant_enough(hit: Hit, floor: float = RELEVANCE_FLOOR) -> bool:
    cosine = hit.parts.get("vector")
    if cosine is None:
        return hit.parts.get("keyword_rank") == 1
    return float(cosine) >= floor


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
        if not relevant_enough(hit) or is_unconfirmed_reply(record) or _in_window(record, window):
            continue
        key = _key(record.text)
        if key in seen:
            continue
        seen.add(key)
        kept.append(hit)
    return kept
