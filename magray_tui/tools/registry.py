"""ToolRegistry: the one door through which the agent and the slash commands run tools.

`run(name, arguments, confirm)` never raises: an unknown tool, arguments that are not JSON
or do not fit the schema, a policy deny, a declined confirmation, a sandbox refusal and a
tool's own failure all come back as `ToolResult(ok=False, output=<one clear reason>)`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from magray_tui.tools import files, git, search, services, shell, write
from magray_tui.tools.base import Confirm, Tool, ToolError, ToolResult, ToolSpec, clip, one_line
from magray_tui.tools.context import ToolContext
from magray_tui.tools.policy import Policy
from magray_tui.tools.sandbox import Sandbox
from magray_tui.tools.schema import check

if TYPE_CHECKING:
    from os import PathLike

    from magray_tui.config import Settings, ToolSettings

log = logging.getLogger(__name__)

MAX_ARGUMENT_CHARS = 2_000_000
_NOTE_ROOM = 1024  # bytes past the cap left for a tool's own "[truncated ...]" notes
_OFF = {
    "shell": "the shell tool is off; set `shell = true` under [tools] in the config to enable it",
}


def _failed(name: str, reason: str) -> ToolResult:
    return ToolResult(False, reason, one_line(f"{name}: {reason}", 160))


def parse_arguments(arguments: str | dict[str, Any] | None) -> dict[str, Any]:
    """A call's arguments as a dict; ToolError when they are not one JSON object."""
    if arguments is None:
        return {}
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str):
        raise ToolError("arguments must be a JSON object")
    if len(arguments) > MAX_ARGUMENT_CHARS:
        raise ToolError(f"arguments are too long ({len(arguments):,} characters)")
    if not arguments.strip():
        return {}  # models send "" for a call without arguments
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise ToolError(f"arguments are not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise ToolError("arguments are not valid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise ToolError('arguments must be a JSON object, e.g. {"path": "README.md"}')
    return value


class ToolRegistry:
    def __init__(
        self,
        tools: Iterable[Tool],
        policy: Policy,
        *,
        cap: int = 64_000,
        sandbox: Sandbox | None = None,
        off: dict[str, str] | None = None,
    ) -> None:
        self._tools = {t.name: t for t in tools}
        self.policy = policy
        self.cap = cap
        self.sandbox = sandbox
        self._off = off or {}
        self.mcp: Any = None  # magray_tui.mcp.client.McpClients when MCP servers are configured

    def notices(self) -> list[str]:
        """Problems with tool sources (an MCP server that failed), each reported once."""
        return self.mcp.notices() if self.mcp is not None else []

    def close(self) -> None:
        if self.mcp is not None:
            self.mcp.close()

    @classmethod
    def default(
        cls,
        settings: Settings | ToolSettings,
        *,
        memory: Callable[[], Any] | None = None,
        todo: Callable[[], Any] | None = None,
        cwd: str | PathLike[str] | None = None,
    ) -> ToolRegistry:
        """Every built-in tool for these settings (`Settings` or its `tools` section)."""
        tool_settings: ToolSettings = getattr(settings, "tools", settings)  # type: ignore[assignment]
        sandbox = Sandbox.for_settings(tool_settings.workspace_roots, cwd)
        ctx = ToolContext(tool_settings, sandbox, memory, todo)
        tools = [*files.build(ctx), *search.build(ctx), *write.build(ctx), *git.build(ctx)]
        off = {}
        if tool_settings.shell:
            tools += shell.build(ctx)
        else:
            off.update(_OFF)
        tools += services.build(ctx)
        mcp = None
        if getattr(getattr(settings, "mcp", None), "servers", None):  # MCP servers' tools
            from magray_tui.mcp import tool_adapter

            mcp = tool_adapter.start_clients(settings)  # type: ignore[arg-type]
            tools += tool_adapter.build(mcp, tool_settings.output_cap_bytes) if mcp else []
        registry = cls(
            tools,
            Policy(tool_settings.policy),
            cap=tool_settings.output_cap_bytes,
            sandbox=sandbox,
            off=off,
        )
        registry.mcp = mcp
        return registry

    def specs(self) -> list[ToolSpec]:
        """The tools the model may be offered: all but those the policy denies outright."""
        return [t.spec for t in self._tools.values() if not self.policy.hides(t.name)]

    def get(self, name: str) -> ToolSpec | None:
        tool = self._tools.get(name)
        return tool.spec if tool is not None else None

    def run(
        self, name: str, arguments: str | dict[str, Any] | None, confirm: Confirm
    ) -> ToolResult:
        try:
            result = self._run(name, arguments, confirm)
        except ToolError as exc:
            result = _failed(name, str(exc))
        except Exception as exc:  # a bug or an OS surprise: reported, logged, never raised
            log.exception("tool %s failed", name)
            result = _failed(
                name, f"failed unexpectedly: {one_line(str(exc) or type(exc).__name__)}"
            )
        # Tools cap their own output and add a note saying so; this is the safety net.
        output, cut = clip(result.output, self.cap + _NOTE_ROOM)
        if cut:
            result = ToolResult(result.ok, output + "\n[output truncated]", result.summary)
        log.info(
            "tool %s: %s",
            name if name in self._tools else "?",
            "ok" if result.ok else "refused/failed",
        )
        return result

    def _run(
        self, name: str, arguments: str | dict[str, Any] | None, confirm: Confirm
    ) -> ToolResult:
        tool = self._tools.get(name) if isinstance(name, str) else None
        if tool is None:
            if name in self._off:
                raise ToolError(self._off[name])
            known = ", ".join(sorted(self._tools))
            raise ToolError(f"unknown tool {one_line(str(name), 60)!r} (tools: {known})")
        if self.policy.hides(name):
            raise ToolError(f"policy denies {name} ({self.policy.decide(name).reason()})")
        args = parse_arguments(arguments)
        problem = check(args, tool.spec.parameters)
        if problem:
            raise ToolError(f"invalid arguments: {problem}")
        prepared = tool.prepare(args)
        decision = self.policy.decide_each(name, prepared.subjects, prepared.also)
        target = one_line(prepared.subjects[0], 80) if prepared.subjects else ""
        if decision.action == "deny":
            raise ToolError(f"policy denies {name} on {target!r} ({decision.reason()})")
        if decision.action == "ask" and prepared.needs_asking:
            try:
                approved = bool(confirm(prepared.confirmation))
            except Exception:
                log.exception("confirmation for %s failed; taken as a no", name)
                approved = False
            if not approved:
                return ToolResult(
                    False,
                    f"the user declined: {prepared.confirmation.title}",
                    one_line(f"declined: {prepared.confirmation.title}", 160),
                )
            prepared.approved = True
        return prepared.execute()
