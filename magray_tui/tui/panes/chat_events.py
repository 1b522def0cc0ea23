"""How the Chat pane shows the agent's turn events and a stored session's messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magray_tui.tui.screens.confirm_action import ConfirmAction
from magray_tui.tui.widgets.chat_messages import (
    AssistantEntry,
    MemoriesEntry,
    NoticeEntry,
    ToolEntry,
    UserEntry,
    short_label,
    usage_line,
)

if TYPE_CHECKING:
    from textual.containers import VerticalScroll

    from magray_tui.agent.agent import Agent
    from magray_tui.agent.model import ChatMessage, ChatSession


SHOWN_MESSAGES = 200  # a resumed session shows its latest messages
COMMAND_CLASS = "-command"  # a slash command's entries (Ctrl+R's regenerate keeps them)


def entry_message_id(entry: Any) -> int | None:
    """The stored message a log entry shows (None for one not restored from the store)."""
    return getattr(entry, "message_id", None)


class ChatEvents:
    """Mixed into ChatPane, which provides the attributes declared here."""

    log_view: VerticalScroll
    agent: Agent | None
    session: ChatSession | None
    model_label: str
    _reply: AssistantEntry | None
    command_turn: bool = False  # the running turn is a slash command

    async def apply_event(self, event: Any) -> None:
        from magray_tui.agent import model as m

        log_view = self.log_view
        if isinstance(event, m.TurnStarted):
            self.model_label = event.model_label
            self.refresh_top()  # type: ignore[attr-defined]
            self.set_status(f"{event.model_label} is thinking… (Esc cancels)")  # type: ignore[attr-defined]
        elif isinstance(event, m.MemoriesUsed):
            if event.memories:
                await log_view.mount(MemoriesEntry(list(event.memories), event.tokens))
        elif isinstance(event, m.ReplyDelta):
            if self._reply is None:
                self._reply = AssistantEntry(short_label(self.model_label))
                await log_view.mount(self._reply)
            await self._reply.append(event.text)
        elif isinstance(event, m.ToolStarted):
            await self._close_reply("complete", "")
            await log_view.mount(
                ToolEntry(event.name, event.arguments, classes=self._entry_classes)
            )
        elif isinstance(event, m.ToolFinished):
            tools = list(log_view.query(ToolEntry))
            if tools:
                tools[-1].finish(event.ok, event.summary, event.output)
        elif isinstance(event, m.Notice):
            notice = NoticeEntry(event.text, event.markdown, event.level)
            await log_view.mount(notice.add_class(self._entry_classes))
        elif isinstance(event, m.PlanProposed):
            self._ask_plan(event)
        elif isinstance(event, m.SessionChanged):
            assert self.agent is not None
            if self.session is None or event.session.id != self.session.id:
                messages = self.agent.sessions.messages(event.session.id)
                await self.show_session(event.session, messages)  # type: ignore[attr-defined]
            else:
                self.session = event.session
                self.refresh_top()  # type: ignore[attr-defined]
        elif isinstance(event, m.TurnDone):
            await self._turn_done(event)

    @property
    def _entry_classes(self) -> str:
        return COMMAND_CLASS if self.command_turn else ""

    async def _close_reply(self, status: str, usage: str, error: str | None = None) -> None:
        if self._reply is not None:
            await self._reply.finish(status, usage, error)
            self._reply = None

    async def _turn_done(self, event: Any) -> None:
        self._others_may_have_changed()  # the turn (a /remember, a /task, a tool) wrote
        if event.status == "command":
            self.set_status("")  # type: ignore[attr-defined]
            return
        line = usage_line(event.usage, self.model_label)
        if self._reply is None and event.status in ("cancelled", "error") and event.message:
            self._reply = AssistantEntry(short_label(self.model_label), "")
            await self.log_view.mount(self._reply)
        if self._reply is not None and event.message is not None:
            self._reply.message_id = event.message.id
        await self._close_reply(event.status, line, event.error)
        status = {"cancelled": "reply cancelled", "error": "reply failed"}.get(event.status, "")
        self.set_status(status)  # type: ignore[attr-defined]

    def _others_may_have_changed(self) -> None:
        refresh_counts = getattr(self.app, "refresh_counts", None)  # type: ignore[attr-defined]
        if callable(refresh_counts):
            refresh_counts()  # the header's memory counts
        for pane in getattr(self.app, "panes", ()):  # type: ignore[attr-defined]
            changed = getattr(pane, "data_may_have_changed", None)
            if callable(changed):
                changed()

    def _ask_plan(self, event: Any) -> None:
        title = f"Plan for “{event.goal}” — add these tasks?"

        def answered(ok: bool | None) -> None:
            if ok:
                self.apply_plan(event.plan)  # type: ignore[attr-defined]
            else:
                self.notify("plan rejected: nothing was added")  # type: ignore[attr-defined]

        self.app.push_screen(  # type: ignore[attr-defined]
            ConfirmAction(title, event.preview, approve="Add tasks (y)"), answered
        )

    def apply_plan(self, plan: Any) -> None:
        self.run_worker(  # type: ignore[attr-defined]
            lambda: self._apply_plan(plan), thread=True, group="chat-plan", exit_on_error=False
        )

    def _apply_plan(self, plan: Any) -> None:
        assert self.agent is not None
        tasks = self.agent.apply_plan(plan)
        text = f"added {len(tasks)} tasks to the task DAG (Tasks pane, key 3)"
        self.app.call_from_thread(  # type: ignore[attr-defined]
            self.log_view.mount, NoticeEntry(text)
        )
        self.app.call_from_thread(self._others_may_have_changed)  # type: ignore[attr-defined]

    async def mount_history(
        self, messages: list[ChatMessage], confirmed: frozenset[int] = frozenset()
    ) -> None:
        widgets: list[Any] = []
        for msg in messages:
            shown = len(widgets)
            if msg.role == "user":
                widgets.append(UserEntry(msg.content))
            elif msg.role == "assistant":
                if msg.memories:
                    widgets.append(MemoriesEntry(msg.memories, 0))
                entry = AssistantEntry(msg.model or "assistant", msg.content)
                entry.message_id = msg.id
                entry.stored_status = msg.status  # type: ignore[attr-defined]
                entry.stored_usage = usage_line(msg.usage)  # type: ignore[attr-defined]
                widgets.append(entry)
            elif msg.role == "tool":
                tool = ToolEntry(msg.model or "tool", msg.usage.get("arguments") or "")
                tool.stored_output = msg.content  # type: ignore[attr-defined]
                tool.stored_outcome = (  # type: ignore[attr-defined]
                    msg.usage.get("ok", True),
                    msg.usage.get("summary") or f"{len(msg.content.splitlines())} lines of output",
                )
                widgets.append(tool)
            elif msg.role == "command":  # a slash command and, below, what it showed
                widgets.append(UserEntry(msg.content, classes=COMMAND_CLASS))
            elif msg.role == "notice":
                markdown = bool(msg.usage.get("markdown"))
                widgets.append(NoticeEntry(msg.content, markdown, msg.status))
            if msg.role in ("command", "notice") or (msg.role == "tool" and not msg.tool_call_id):
                widgets[-1].add_class(COMMAND_CLASS)
            if len(widgets) > shown:
                widgets[-1].message_id = msg.id  # a chat search jumps to it
        if widgets:
            await self.log_view.mount_all(widgets)
        for widget in widgets:
            if isinstance(widget, AssistantEntry):
                await widget.finish(widget.stored_status, widget.stored_usage)  # type: ignore[attr-defined]
                if widget.message_id in confirmed:
                    widget.mark_confirmed()
            elif isinstance(widget, ToolEntry):
                ok, summary = widget.stored_outcome  # type: ignore[attr-defined]
                widget.finish(ok, summary, widget.stored_output)  # type: ignore[attr-defined]


def history_window(messages: list[ChatMessage], at: int | None) -> list[ChatMessage]:
    """The latest SHOWN_MESSAGES, or as many around message `at` when it is older."""
    latest = messages[-SHOWN_MESSAGES:]
    ids = [m.id for m in messages]
    if at is None or at not in ids or any(m.id == at for m in latest):
        return latest
    start = max(0, ids.index(at) - SHOWN_MESSAGES // 2)
    return messages[start : start + SHOWN_MESSAGES]


def is_command(text: str) -> bool:
    from magray_tui.agent.slash import is_command as slash_command  # loaded with the agent

    return slash_command(text)
