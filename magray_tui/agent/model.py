"""What the agent talks in: sessions, messages, and the events of one turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from magray_tui.errors import MagrayError


class ChatError(MagrayError):
    """A user-facing problem with a chat (unknown session, bad command); one line."""


@dataclass(frozen=True)
class ChatSession:
    id: str
    name: str
    system_prompt: str | None
    model: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int = 0


@dataclass(frozen=True)
class ChatMessage:
    id: int
    session_id: str
    role: str  # user | assistant | tool | notice
    content: str
    created_at: datetime
    status: str = "complete"  # complete | cancelled | error | streaming
    model: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    memories: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    memory_id: str | None = None


# ---- events of one turn (yielded by Agent.run_turn, in order) ----------------------------


@dataclass(frozen=True)
class MemoryRef:
    id: str
    layer: str
    text: str
    score: float
    location: str | None = None
    superseded_by: str | None = None  # a newer memory changed this fact (issue 16)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "layer": self.layer,
            "text": self.text,
            "score": round(self.score, 4),
            "location": self.location,
        }


@dataclass(frozen=True)
class TurnStarted:
    user_message: ChatMessage | None  # None for a regenerate
    model_label: str


@dataclass(frozen=True)
class MemoriesUsed:
    memories: tuple[MemoryRef, ...]
    tokens: int
    retrieve_ms: float


@dataclass(frozen=True)
class ReplyDelta:
    text: str


@dataclass(frozen=True)
class ToolStarted:
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolFinished:
    name: str
    ok: bool
    summary: str
    output: str


@dataclass(frozen=True)
class Notice:
    """Output of a slash command or a status line, shown in the chat, not sent to the LLM."""

    text: str
    markdown: bool = False
    level: str = "info"  # info | warning | error


@dataclass(frozen=True)
class PlanProposed:
    """`/plan`: a validated plan waiting for the user's accept (apply) or reject."""

    goal: str
    plan: Any  # magray_tui.todo.planner.Plan
    preview: str


@dataclass(frozen=True)
class SessionChanged:
    """`/clear`, `/rename`: the chat now shows this session."""

    session: ChatSession


@dataclass(frozen=True)
class TurnDone:
    status: str  # complete | cancelled | error | command
    message: ChatMessage | None  # the assistant message stored, if any
    usage: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


TurnEvent = (
    TurnStarted
    | MemoriesUsed
    | ReplyDelta
    | ToolStarted
    | ToolFinished
    | Notice
    | PlanProposed
    | SessionChanged
    | TurnDone
)
