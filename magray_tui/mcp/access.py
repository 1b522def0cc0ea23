"""Who may do what through `magray mcp`: the per-client policy and the client's name.

Rules come from `[mcp.server]` (docs/mcp.md). The most specific rule wins: the client's own
rule for the tool, then the client's `"*"`, then the rule for every client, then `"*"` for
every client, then the built-in default below. "ask" needs a person to approve: the question
goes to the TUI open on the home (host/approvals.py); with none open, or no answer in
`ask_timeout_s`, the call is refused with a message that says how to allow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from magray_tui.config import McpServerSettings

Action = Literal["allow", "ask", "deny"]

# Reading, adding and task work are what a coding agent needs; changing or removing what a
# person (or another agent) stored asks first.
DEFAULT_ACTIONS: dict[str, Action] = {
    "memory_search": "allow",
    "memory_get": "allow",
    "memory_add": "allow",
    "memory_update": "ask",
    "memory_forget": "ask",
    "memory_restore": "ask",
    "memory_promote": "ask",
    "memory_demote": "ask",
    "tasks_list": "allow",
    "tasks_ready": "allow",
    "tasks_add": "allow",
    "tasks_update_state": "allow",
}

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def client_name(raw: str | None) -> str:
    """A client's self-given name as a short safe word: "Claude Code" -> "claude-code"."""
    name = _UNSAFE.sub("-", (raw or "").strip().lower()).strip("-._")
    return name[:40].rstrip("-._") or "unknown"


def client_source(name: str) -> str:
    """The `source` a write of this client carries: "mcp:claude-code"."""
    return f"mcp:{client_name(name)}"


@dataclass(frozen=True)
class Verdict:
    action: Action
    why: str  # the rule that decided, for messages


class ClientPolicy:
    def __init__(self, settings: McpServerSettings | None = None) -> None:
        self.every = dict(settings.policy) if settings else {}
        self.per_client = (
            {client_name(k): dict(v) for k, v in settings.clients.items()} if settings else {}
        )

    def decide(self, client: str, tool: str) -> Verdict:
        own = self.per_client.get(client_name(client), {})
        for rules, key, where in (
            (own, tool, f"[mcp.server.clients.{client}] {tool}"),
            (own, "*", f'[mcp.server.clients.{client}] "*"'),
            (self.every, tool, f"[mcp.server.policy] {tool}"),
            (self.every, "*", '[mcp.server.policy] "*"'),
        ):
            if key in rules:
                return Verdict(rules[key], where)
        return Verdict(DEFAULT_ACTIONS.get(tool, "ask"), "the default policy")

    def allow(self, client: str, tool: str) -> None:
        """The person answered "always for this client": allowed from now on, here."""
        self.per_client.setdefault(client_name(client), {})[tool] = "allow"

    def refusal(self, client: str, tool: str) -> str | None:
        """None when the call may run or must be asked; else why it may not (one line)."""
        verdict = self.decide(client, tool)
        if verdict.action != "deny":
            return None
        return f"denied for client {client!r} by {verdict.why}; to permit it, {_how(client, tool)}"

    def unapproved(self, client: str, tool: str, answer: str, timeout_s: float) -> str:
        """Why an asked call does not run, after the person's `answer` (approvals.py)."""
        verdict = self.decide(client, tool)
        if answer == "deny":
            return f"the person at the magray TUI denied {tool} for client {client!r}"
        why = {
            "nobody": "no magray TUI is open on this home to ask",
            "timeout": f"nobody answered in the magray TUI within {timeout_s:g} s",
            "closing": "the magray TUI that was asked closed before answering",
        }.get(answer, f"the question was not answered ({answer})")
        return (
            f"needs a person's approval for client {client!r} ({verdict.why} = ask), and "
            f"{why}; to permit it without asking, {_how(client, tool)}"
        )


def _how(client: str, tool: str) -> str:
    return f'set {tool} = "allow" under [mcp.server.clients.{client_name(client)}]'
