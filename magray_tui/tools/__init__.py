"""Tools the agent may call: registry with JSON-schema specs, policy and sandboxed tools.

    registry = ToolRegistry.default(settings, memory=lambda: services.memory,
                                    todo=lambda: services.todo)
    registry.specs()                                   # for the model (openai_schema())
    registry.run("read_file", {"path": "README.md"}, confirm)   # never raises

See docs/tools.md for the policy rules and what the sandbox refuses.

The names below load their module on first use (a module-level `__getattr__`), so that
importing a small module of this package (`magray_tui.tools.procguard` at CLI start)
does not import the tools themselves.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "Confirm": "base",
    "Confirmation": "base",
    "ToolError": "base",
    "ToolResult": "base",
    "ToolSpec": "base",
    "allow_all": "base",
    "deny_all": "base",
    "DEFAULT_POLICY": "policy",
    "Decision": "policy",
    "Policy": "policy",
    "PolicyError": "policy",
    "ToolRegistry": "registry",
    "Sandbox": "sandbox",
    "SandboxError": "sandbox",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'magray_tui.tools' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"magray_tui.tools.{module}"), name)
    globals()[name] = value
    return value
