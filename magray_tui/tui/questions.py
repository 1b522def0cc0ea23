"""Questions other magray processes ask the person at this TUI (host/approvals.py).

Today: `magray mcp` asking whether an MCP client may run a tool whose policy is "ask". The
host hands each question to every open TUI; this one shows it as a modal and sends the
answer back. "Always for this client" also writes the rule into config.toml, so the next
`magray mcp` does not ask again. A question settled elsewhere (another TUI answered, or
its time ran out) closes its modal here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from textual.message import Message

from magray_tui.terminal_text import one_line
from magray_tui.tui.screens.mcp_approval import McpApproval

if TYPE_CHECKING:
    from magray_tui.tui.app import MagrayApp

log = logging.getLogger(__name__)


class QuestionEvent(Message):
    """An "ask" or "asked" event from the host, posted from a background thread."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event


class PersonQuestions:
    def __init__(self, app: MagrayApp) -> None:
        self.app = app
        self.open: dict[str, McpApproval] = {}

    def listen(self, services: Any) -> None:
        from magray_tui.host import watch_questions

        watch_questions(services, lambda event: self.app.post_message(QuestionEvent(event)))

    def handle(self, event: dict[str, Any]) -> None:
        if event.get("event") == "ask" and isinstance(event.get("question"), dict):
            self._show(event["question"])
        elif event.get("event") == "asked":
            self._settled(str(event.get("id")), str(event.get("answer")))

    def _show(self, question: dict[str, Any]) -> None:
        screen = McpApproval(question)
        qid = screen.qid
        self.open[qid] = screen

        def answered(answer: str | None) -> None:
            self.open.pop(qid, None)
            if answer is not None:
                self.app.run_worker(
                    lambda: self._answer(question, answer),
                    thread=True,
                    group="mcp-answer",
                    exit_on_error=False,
                )

        self.app.push_screen(screen, answered)

    def _settled(self, qid: str, answer: str) -> None:
        screen = self.open.pop(qid, None)
        if screen is None or not screen.is_attached:
            return
        screen.dismiss(None)
        why = {
            "timeout": "not answered in time, refused",
            "gone": "the client went away before an answer; nothing ran",
        }.get(answer)
        if why is not None:
            self.app.notify(f"{_what(screen.question)}: {why}", severity="warning", markup=False)

    def _answer(self, question: dict[str, Any], answer: str) -> None:
        """In a worker: tell the host; write "always" into config.toml."""
        backend = self.app.backend
        if backend is None:
            return
        taken = backend.services.membership().answer(str(question.get("id")), answer)
        what = _what(question)
        if not taken:
            self.app.call_from_thread(
                self.app.notify,
                f"{what}: the question had already ended (timed out or answered elsewhere)",
                severity="warning",
                markup=False,
            )
            return
        if answer != "always":
            return
        from magray_tui.mcp.policy_file import allow_always

        config = self.app.settings.config_file
        client = str(question.get("client"))
        problem = allow_always(config, client, str(question.get("tool")))
        note = (
            f"{what}: allowed from now on (saved in {config})"
            if problem is None
            else f"{what}: allowed for this server's session only; not saved: {problem}"
        )
        self.app.call_from_thread(
            self.app.notify, one_line(note, 300), severity="information", markup=False
        )


def _what(question: dict[str, Any]) -> str:
    return one_line(f"{question.get('tool')} for {question.get('client')}", 120)
