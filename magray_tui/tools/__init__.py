"""Tools the agent may call: registry with JSON-schema specs, policy and sandboxed tools.

    registry = ToolRegistry.default(settings, memory=lambda: services.memory,
                                    todo=lambda: services.todo)
    registry.specs()                                   # for the model (openai_schema())
    registry.run("read_file", {"path": "README.md"}, confirm)   # never raises

See docs/tools.md for the policy rules and what the sandbox refuses.
"""

from magray_tui.tools.base import (
    Confirm,
    Confirmation,
    ToolError,
    ToolResult,
    ToolSpec,
    allow_all,
    deny_all,
)
from magray_tui.tools.policy import DEFAULT_POLICY, Decision, Policy, PolicyError
from magray_tui.tools.registry import ToolRegistry
from magray_tui.tools.sandbox import Sandbox, SandboxError

__all__ = [
    "DEFAULT_POLICY",
    "Confirm",
    "Confirmation",
    "Decision",
    "Policy",
    "PolicyError",
    "Sandbox",
    "SandboxError",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "ToolSpec",
    "allow_all",
    "deny_all",
]
