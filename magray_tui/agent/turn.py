"""Streaming one model reply: text deltas out, tool calls and usage collected."""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from magray_tui.agent.model import Notice, ReplyDelta

if TYPE_CHECKING:
    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import ToolCall

log = logging.getLogger(__name__)


@dataclass
class StreamedReply:
    """The assistant's reply across tool rounds: text so far, status, usage summed."""

    text: str = ""
    round_text: str = ""  # this round's text (sent back with the tool calls)
    status: str = "complete"  # complete | cancelled | error
    error: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    tool_log: list[dict[str, Any]] = field(default_factory=list)

    def add_usage(self, usage: Any) -> None:
        u = self.usage
        u["model"] = usage.model
        u["prompt_tokens"] = u.get("prompt_tokens", 0) + (usage.prompt_tokens or 0)
        u["completion_tokens"] = u.get("completion_tokens", 0) + (usage.completion_tokens or 0)
        if usage.first_token_s is not None and "first_token_s" not in u:
            u["first_token_s"] = round(usage.first_token_s, 3)
        u["total_s"] = round(u.get("total_s", 0.0) + (usage.total_s or 0.0), 3)
        if usage.cost_usd is not None:
            u["cost_usd"] = (u.get("cost_usd") or 0.0) + usage.cost_usd


def stream_reply(
    llm: LLMClient,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    cancel: threading.Event,
    reply: StreamedReply,
) -> Generator[ReplyDelta | Notice, None, list[ToolCall]]:
    """Stream one round into `reply`, yielding text deltas; return the tool calls asked for.

    Cancellation and errors keep the partial text and set `reply.status`.
    """
    from magray_tui.llm.events import Done, Fallback, LLMError, TextDelta, ToolCall, Usage

    calls: list[ToolCall] = []
    if cancel.is_set():
        reply.status = "cancelled"
        return calls
    try:
        for event in llm.stream(messages, tools=tools, cancel=cancel):
            if isinstance(event, TextDelta):
                if event.text:
                    reply.text += event.text
                    reply.round_text += event.text
                    yield ReplyDelta(event.text)
            elif isinstance(event, ToolCall):
                calls.append(event)
            elif isinstance(event, Usage):
                reply.add_usage(event)
            elif isinstance(event, Fallback):
                reply.usage["fallback"] = event.model
                yield Notice(f"{event.reason} — answering with {event.label}", level="warning")
            elif isinstance(event, Done):
                if event.finish_reason == "cancelled":
                    reply.status = "cancelled"
                elif event.finish_reason == "length":
                    reply.usage["truncated"] = True
    except LLMError as exc:
        reply.status = "error"
        reply.error = str(exc)
    if cancel.is_set() and reply.status == "complete":
        reply.status = "cancelled"
    return calls if reply.status == "complete" else []
