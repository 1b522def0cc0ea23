"""Building the messages sent to the model: system prompt, memories and history in budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from magray_tui.agent.model import ChatMessage, MemoryRef

if TYPE_CHECKING:
    from magray_tui.memory.records import Hit

DEFAULT_SYSTEM = (
    "You are magray, an assistant in the user's terminal workstation. You have a long-term "
    "memory: the memories relevant to this message are listed below, with their layer and "
    "date. Use them when they help and say so; they may be outdated. If you do not know, say "
    "so. Answer concisely; use Markdown for code."
)
# The small offline model answers in the wrong language or rambles behind the long prompt:
# it gets a minimal one (measured: "You are a helpful assistant." -> a correct short answer).
OFFLINE_SYSTEM = "You are a helpful assistant. Answer briefly."
TOOLS_NOTE = (
    "You can call tools to read the user's workspace, search memory and add tasks. Ask before "
    "anything destructive; the user confirms writes and commands."
)
MEMORY_SNIPPET_CHARS = 600

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """A fast, model-independent estimate (about 4 characters per token)."""
    return max(1, (len(text) + 3) // 4)


def memory_refs(hits: Sequence[Hit]) -> list[MemoryRef]:
    refs = []
    for hit in hits:
        rec = hit.record
        refs.append(
            MemoryRef(
                id=rec.id,
                layer=str(rec.layer),
                text=rec.text,
                score=float(hit.score),
                location=getattr(rec, "location", None),
            )
        )
    return refs


def select_memories(
    refs: Sequence[MemoryRef], budget_tokens: int, count: TokenCounter
) -> tuple[list[MemoryRef], int]:
    """The best-ranked memories whose snippets fit the budget, and the tokens they take."""
    chosen: list[MemoryRef] = []
    used = 0
    for ref in refs:
        cost = count(_memory_line(ref))
        if used + cost > budget_tokens:
            continue  # a shorter, lower-ranked memory may still fit
        chosen.append(ref)
        used += cost
    return chosen, used


def _memory_line(ref: MemoryRef) -> str:
    text = " ".join(ref.text.split())
    if len(text) > MEMORY_SNIPPET_CHARS:
        text = text[:MEMORY_SNIPPET_CHARS] + "…"
    where = f" ({ref.location})" if ref.location else ""
    return f"- [{ref.layer}]{where} {text}"


def system_message(
    session_prompt: str | None,
    memories: Sequence[MemoryRef],
    with_tools: bool,
    offline: bool = False,
) -> dict[str, Any]:
    default = OFFLINE_SYSTEM if offline else DEFAULT_SYSTEM
    parts = [session_prompt.strip() if session_prompt else default]
    if with_tools:
        parts.append(TOOLS_NOTE)
    if memories:
        title = "Facts you may use:" if offline else "Relevant memories:"
        parts.append(title + "\n" + "\n".join(_memory_line(m) for m in memories))
    return {"role": "system", "content": "\n\n".join(parts)}


def history_messages(
    history: Sequence[ChatMessage], budget_tokens: int, count: TokenCounter
) -> list[dict[str, Any]]:
    """Earlier user/assistant turns, newest first until the budget, returned oldest first.
    Tool exchanges and notices are not replayed: their outcome is in the assistant's text."""
    out: list[dict[str, Any]] = []
    used = 0
    for msg in reversed(history):
        if msg.role not in ("user", "assistant") or not msg.content.strip():
            continue
        content = msg.content
        if msg.role == "assistant" and msg.status == "cancelled":
            content += "\n[reply cut short by the user]"
        cost = count(content) + 4
        if used + cost > budget_tokens:
            break
        out.append({"role": msg.role, "content": content})
        used += cost
    out.reverse()
    return out


def build_messages(
    *,
    session_prompt: str | None,
    memories: Sequence[MemoryRef],
    history: Sequence[ChatMessage],
    user_text: str,
    history_budget: int,
    count: TokenCounter,
    with_tools: bool,
    offline: bool = False,
) -> list[dict[str, Any]]:
    return [
        system_message(session_prompt, memories, with_tools, offline),
        *history_messages(history, history_budget, count),
        {"role": "user", "content": user_text},
    ]
