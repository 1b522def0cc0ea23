"""Explicit intent typed in plain words, handled by a rule before (and without) the model.

"Remember that X", "note that X", "remember: X" (optionally after "please") store X as the
user's fact in Insights, with any model, even the small offline one, which cannot be trusted
to act on it. Distillation by a capable model stays for what the user says implicitly.
A question ("remember that trip to Oslo?") is not an instruction and goes to the model.
"""

from __future__ import annotations

import re

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


def stored_reply(fact: str, record_id: str) -> str:
    """What the chat answers: what was stored, where, and how to undo it."""
    quoted = "\n".join(f"> {line}" for line in fact.splitlines())
    # Plain words that read the same as Markdown (the TUI) and as text (`magray chat`).
    return (
        f"Noted — stored in Insights as your fact {record_id}:\n\n{quoted}\n\n"
        "It grounds later answers; edit or forget it in the Memory pane (key 2)."
    )
