"""Which exceptions are meant for users: one readable line, no traceback.

Bad input, a locked store, an unusable model, an unreachable LLM... raise one of these
classes (or a subclass) with a message a user can act on. Anything else is a bug: the TUI
and the CLI log its traceback and say where the log is.
"""

from __future__ import annotations

import sys

USER_ERRORS = (
    ("magray_tui.memory.records", "MemoryError_"),  # StoreLocked too
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
    # A class whose module was never imported cannot have been raised: looking in
    # sys.modules keeps this check from importing anything (the TUI calls it on its thread).
    for module, name in USER_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(exc, cls):
            return str(exc)
    return None
