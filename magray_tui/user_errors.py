"""Which exceptions are meant for users: one readable line, no traceback.

Every user-facing error class derives from `magray_tui.errors.MagrayError` (a message and
an optional hint): bad input, a locked or damaged store, an unusable model, an unreachable
LLM... Anything else is a bug: the TUI and the CLI log its traceback and say where the
log is. The TUI, the CLI's friendly errors and the agent all ask `user_message`.
"""

from __future__ import annotations

from magray_tui.errors import MagrayError

# The user-facing classes, all subclasses of MagrayError (kept as a list for readers and
# for tests that check each one is caught).
USER_ERRORS = (
    ("magray_tui.errors", "MagrayError"),
    ("magray_tui.memory.records", "MemoryError_"),  # StoreLocked, StoreDamaged too
    ("magray_tui.ai.manifest", "ModelError"),
    ("magray_tui.config", "ConfigError"),
    ("magray_tui.todo.model", "TaskError"),  # CycleError, PlanError, DependentsExist
    ("magray_tui.agent.model", "ChatError"),
    ("magray_tui.llm.events", "LLMError"),
    ("magray_tui.tools.base", "ToolError"),
    ("magray_tui.ingest.watched", "WatchedError"),
    ("magray_tui.host.errors", "HostError"),  # the process hosting the home failed us
)


def user_message(exc: BaseException) -> str | None:
    """The message of an error meant for users; None for a bug."""
    if isinstance(exc, MagrayError):
        return str(exc)
    return None
