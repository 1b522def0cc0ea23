"""What the LLM client hands out: stream events, model info, provider status, errors.

Plain frozen dataclasses with no litellm in sight, so the agent, the TUI and the CLI can
import them at no cost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from magray_tui.errors import MagrayError


@dataclass(frozen=True)
class TextDelta:
    """A piece of the reply's text, in order."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call: the streamed argument fragments already joined."""

    id: str
    name: str
    arguments: str  # JSON text as the model wrote it (may be invalid: the tool layer checks)


@dataclass(frozen=True)
class Usage:
    """One model call's cost: tokens, latencies and money where litellm knows the price."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float | None
    total_s: float
    cost_usd: float | None


@dataclass(frozen=True)
class Done:
    """The last event of a stream: stop | length | tool_calls | cancelled."""

    finish_reason: str


@dataclass(frozen=True)
class Fallback:
    """The model in use failed before answering; the reply comes from `model` instead."""

    model: str
    label: str
    reason: str  # the failed model's error, one line


StreamEvent = TextDelta | ToolCall | Usage | Done | Fallback


class LLMError(MagrayError):
    """A model call that failed; `str(e)` is one readable line for the chat.

    `kind` says what went wrong (connect, dns, auth, not_found, rate_limit, server, timeout,
    bad_request, circuit_open, stalled, unavailable, other); `retryable` says whether
    trying again (or the next fallback) may help.
    """

    def __init__(
        self, message: str, *, kind: str = "other", retryable: bool = False, model: str = ""
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.model = model
        self.partial = False  # raised after some of the reply was already streamed


@dataclass(frozen=True)
class ModelInfo:
    """The model a chat turn goes to, and how to show it."""

    model: str  # litellm model string, e.g. "openai/gpt-4o-mini" or "magray-offline/smollm2"
    label: str  # what the UI shows
    provider: (
        str  # openai | anthropic | groq | ollama | lmstudio | vllm | openai-compatible | offline
    )
    offline: bool
    supports_tools: bool
    api_base: str = ""


@dataclass(frozen=True)
class ProviderStatus:
    """One line of `magray llm status` and of the Health pane."""

    name: str
    model: str
    configured: bool  # a key, an explicit setting or an installed offline model
    reachable: bool | None  # None: not checked
    latency_ms: float | None
    active: bool
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
