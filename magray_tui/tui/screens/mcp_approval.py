"""An MCP client asks to run a tool that needs the person's approval: who, what, on what.

Dismisses with "once", "always" (for this client: written into config.toml), "deny", or
None when the question was settled elsewhere (another TUI, or its time ran out).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from magray_tui.terminal_text import for_terminal, one_line


def question_text(question: dict[str, Any]) -> tuple[str, str]:
    """The title and the detail a person reads, with control characters made visible."""
    client = one_line(str(question.get("client", "?")), 60)
    tool = one_line(str(question.get("tool", "?")), 60)
    title = f"MCP client {client} asks to run {tool}"
    lines = []
    subject = str(question.get("subject") or "")
    if subject:
        lines += [for_terminal(subject), ""]
    arguments = question.get("arguments") or {}
    if isinstance(arguments, dict) and arguments:
        lines.append("Arguments:")
        for key, value in arguments.items():
            lines.append(f"  {one_line(str(key), 40)} = {for_terminal(str(value))}")
    else:
        lines.append("No arguments.")
    timeout = question.get("timeout_s")
    if isinstance(timeout, int | float):
        lines += ["", f"Refused if not answered within {timeout:g} s."]
    return title, "\n".join(lines)


class McpApproval(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "answer('once')", "Allow once", id="mcp-approval.once"),
        Binding("a", "answer('always')", "Always for this client", id="mcp-approval.always"),
        Binding("d,escape", "answer('deny')", "Deny", id="mcp-approval.deny"),
    ]
    DEFAULT_CSS = """
    McpApproval { align: center middle; }
    McpApproval > Vertical {
        width: 90%; max-width: 120; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    McpApproval #mcp-approval-title { text-style: bold; margin-bottom: 1; }
    McpApproval #mcp-approval-box { height: auto; max-height: 24; background: $panel; }
    McpApproval #mcp-approval-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    McpApproval Button { margin-left: 2; }
    """

    def __init__(self, question: dict[str, Any]) -> None:
        super().__init__()
        self.question = question
        self.qid = str(question.get("id", ""))

    def compose(self) -> ComposeResult:
        title, detail = question_text(self.question)
        client = one_line(str(self.question.get("client", "?")), 30)
        with Vertical():
            yield Static(Text(title), id="mcp-approval-title")
            with VerticalScroll(id="mcp-approval-box"):
                yield Static(Text(detail), id="mcp-approval-detail")
            with Horizontal(id="mcp-approval-buttons"):
                yield Button("Allow once (o)", variant="warning", id="mcp-approval-once")
                yield Button(
                    Text(f"Always for {client}, saved in config.toml (a)"),
                    id="mcp-approval-always",
                )
                yield Button("Deny (d / Esc)", variant="primary", id="mcp-approval-deny")

    def on_mount(self) -> None:
        self.query_one("#mcp-approval-deny", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(str(event.button.id).removeprefix("mcp-approval-"))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
