"""The types the agent, the TUI and the CLI share with the tools.

A tool call goes through three steps so that nothing happens before the user has agreed:
`prepare` checks the arguments (sandbox, size limits) and returns a `Prepared` action with
what the policy matches on and what a confirmation shows; the registry applies the policy
and asks; only then does `execute` touch anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from magray_tui.errors import MagrayError


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: a name, what it is for, and a JSON schema (object)."""

    name: str
    description: str
    parameters: dict[str, Any]

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class Confirmation:
    """What the user is asked to approve. `detail` is exact: the argv, or the diff."""

    tool: str
    title: str
    detail: str


Confirm = Callable[[Confirmation], bool]


def deny_all(_: Confirmation) -> bool:
    """The answer of non-interactive use: nothing that needs asking is done."""
    return False


def allow_all(_: Confirmation) -> bool:
    """For callers where the user already said yes (e.g. a typed `/run` after a prompt)."""
    return True


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    output: str  # what the model (and /read, /list, /run) sees
    summary: str  # one line for the chat log


class ToolError(MagrayError):
    """A call that cannot be done; the message is one readable line for user and model."""


@dataclass
class Prepared:
    """A checked call, not yet run.

    `subjects` are the strings a "tool:glob" policy rule is matched against (for a path:
    its workspace-relative form and its absolute form; for shell: the command line).
    `also` lists further things the call does (for shell: every program the command line
    runs, unwrapped from `env`, `sh -c`, …), each as (as written, *other spellings); the
    policy decides each and the strictest decision wins (see `Policy.decide_each`).
    """

    subjects: tuple[str, ...]
    confirmation: Confirmation
    execute: Callable[[], ToolResult]
    needs_asking: bool = True  # False when the call would change nothing (an identical write)
    also: tuple[tuple[str, ...], ...] = ()
    approved: bool = False  # set by the registry when the user said yes to `confirmation`


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    prepare: Callable[[dict[str, Any]], Prepared]

    @property
    def name(self) -> str:
        return self.spec.name


def clip(text: str, cap: int) -> tuple[str, bool]:
    """`text` cut to at most `cap` UTF-8 bytes on a character boundary; (text, was_cut)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= cap:
        return text, False
    return data[:cap].decode("utf-8", "ignore"), True


def one_line(text: str, width: int = 120) -> str:
    """A single display line: control characters and newlines flattened, then shortened."""
    flat = "".join(c if c.isprintable() else " " for c in text.replace("\n", " "))
    flat = " ".join(flat.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def diff_counts(diff: str) -> tuple[int, int, int]:
    """(files, added lines, removed lines) of a unified or git diff.

    Only lines inside hunks count, so a removed line reading "-- x" is not a file header.
    """
    files = added = removed = 0
    in_hunk = saw_hunk = False
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            files += 1
            in_hunk = False
        elif line.startswith("@@"):
            in_hunk = saw_hunk = True
        elif in_hunk and line[:1] == "+":
            added += 1
        elif in_hunk and line[:1] == "-":
            removed += 1
        elif in_hunk and line[:1] not in (" ", "\\", ""):
            in_hunk = False
    return max(files, int(saw_hunk)), added, removed
