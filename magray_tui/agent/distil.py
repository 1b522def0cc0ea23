"""Distilling durable facts the user stated into Insights, in the background.

Runs only with a capable model (not the small offline one): the model is asked for JSON, and
anything that is not a short list of short statements is dropped, never half-stored.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magray_tui.agent.model import ChatSession
    from magray_tui.agent.ports import DistilHost

log = logging.getLogger(__name__)

MAX_FACTS = 5
MIN_CHARS, MAX_CHARS = 8, 400

INSTRUCTION = (
    "Extract durable facts, preferences and decisions that the USER states about themselves, "
    "their work or their projects in the message below — things worth remembering next week. "
    "Ignore questions, small talk and anything the user did not state as true. Write each as "
    'one short third-person sentence ("The user prefers ..."). Reply with JSON only: '
    '{"facts": ["..."]} — an empty list when there is nothing durable.'
)


def parse_facts(raw: str) -> list[str]:
    """The facts in a model's reply, or [] for anything malformed."""
    text = raw.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text.split("\n", 1)[1] if "\n" in text else ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    facts = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(facts, list):
        return []
    out: list[str] = []
    for fact in facts[:MAX_FACTS]:
        if isinstance(fact, str) and MIN_CHARS <= len(fact.strip()) <= MAX_CHARS:
            out.append(" ".join(fact.split()))
    return out


def distil_facts(agent: DistilHost, session: ChatSession, user_text: str) -> list[str]:
    """Ask the model for facts in `user_text` and store them in Insights; returns their ids."""
    try:
        raw = agent.llm().complete(
            [
                {"role": "system", "content": INSTRUCTION},
                {"role": "user", "content": user_text[:8000]},
            ],
            response_format={"type": "json_object"},
        )
        facts = parse_facts(raw)
        if not facts:
            return []
        memory = agent.memory()
        ids = [
            memory.add(
                fact,
                layer="insights",
                kind="fact",
                source="agent",
                author="user",  # the user's own statement, rephrased by a capable model
                session=session.id,
                metadata={"distilled_from": "chat"},
            )
            for fact in facts
        ]
        log.info("distilled %d fact(s) from session %s", len(ids), session.id)
        return ids
    except Exception:
        log.warning("distillation failed", exc_info=True)
        return []
