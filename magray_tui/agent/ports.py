"""What slash commands and distillation need from the agent: narrow protocols instead of
the whole `Agent` (which imports them), so there is no import cycle between them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from magray_tui.agent.model import ChatSession
    from magray_tui.agent.sessions import ChatSessions
    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import ModelInfo
    from magray_tui.memory import MemoryService
    from magray_tui.todo.service import TodoService
    from magray_tui.tools.registry import ToolRegistry


class DistilHost(Protocol):
    """Distillation: the model to ask and the memory to write to."""

    def llm(self) -> LLMClient: ...

    def memory(self) -> MemoryService: ...


class SlashHost(DistilHost, Protocol):
    """Slash commands: the agent's collaborators a command may use."""

    sessions: ChatSessions

    def todo(self) -> TodoService: ...

    def tools(self) -> ToolRegistry: ...

    def model_label(self) -> str: ...

    def switch_model(self, session: ChatSession, model: str) -> ModelInfo: ...

    def export_dir(self) -> Path: ...

    def plan(self, goal: str, session: ChatSession) -> Any: ...
