"""Explicit intent typed in plain words, handled by a rule before (and without) the model.

"Remember that X", "note that X", "remember: X" (optionally after "please") store X as the
user's fact in Insights, with any model, even the small offline one, which cannot be trusted
to act on it. Distillation by a capable model stays for what the user says implicitly.
A question ("remember that trip to Oslo?") is not an instruction and goes to the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from magray_tui.agent.model import ReplyDelta, TurnDone

if TYPE_CHECKING:
    from magray_tui.agent.model import ChatSession, TurnEvent
    from magray_tui.agent.ports import SlashHost

_REMEMBER = re.compile(
    r"^\s*(?:please\s*,?\s+)?(?:remember|note)(?:\s+that\b\s*|\s*:\s*)(?P<fact>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
MIN_FACT_CHARS = 3


def explicit_fact(text: str) -> str | None:
    """The fact in an explicit "remember that X" message, or None."""
    match = _REMEMBER.match(text)
    if match is None:
        return None
    fact = match.group("fact").strip()
    if len(fact) < MIN_FACT_CHARS or fact.endswith("?"):
        return None
    return fact[0].upper() + fact[1:]


def store_user_fact(
    agent: SlashHost, session: ChatSession, fact: str, metadata: dict | None = None
) -> str:
    """Store `fact` as the user's own in Insights (`/remember` and "remember that X")."""
    return agent.memory().add(
        fact,
        layer="insights",
        kind="fact",
        source="chat",
        author="user",
        session=session.id,
        importance=0.7,
        metadata=metadata,
    )


def stored_reply(fact: str, record_id: str) -> str:
    """What the chat answers: what was stored, where, and how to undo it."""
    quoted = "\n".join(f"> {line}" for line in fact.splitlines())
    # Plain words that read the same as Markdown (the TUI) and as text (`magray chat`).
    return (
        f"Noted — stored in Insights as your fact {record_id}:\n\n{quoted}\n\n"
        "It grounds later answers; edit or forget it in the Memory pane (key 2)."
    )


def remember_fact(
    agent: SlashHost, session: ChatSession, text: str, fact: str
) -> Iterator[TurnEvent]:
    """The turn of a "remember that X" message: X stored as the user's fact in Insights, no
    model call; the reply says what was stored. Neither message goes to Interact: the fact
    is the memory (and the user message points at it, so grounding does not repeat it while
    the history shows it)."""
    user = agent.sessions.add_message(session.id, "user", text)
    rid = store_user_fact(
        agent, session, fact, metadata={"message_id": user.id, "said_as": "remember that"}
    )
    agent.sessions.update_message(user.id, memory_id=rid)
    reply = stored_reply(fact, rid)
    yield ReplyDelta(reply)
    usage = {"model": "magray (remembered by rule; no model call)"}
    stored = agent.sessions.add_message(
        session.id, "assistant", reply, status="complete", model="magray", usage=usage
    )
    yield TurnDone("complete", stored, usage)
