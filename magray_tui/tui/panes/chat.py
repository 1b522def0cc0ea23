"""The Chat pane: a memory-grounded, streaming chat with the agent.

The agent's turn (agent/agent.py) runs in a thread worker and hands each event to the UI
with `call_from_thread`, which keeps the events in order and lets a slow UI hold the stream
back. Esc cancels a turn (the partial reply is kept and marked).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from magray_tui.terminal_text import one_line
from magray_tui.tui.heap import freeze_heap
from magray_tui.tui.keymap import key_display
from magray_tui.tui.panes.base import HelpInfo, HelpKey, PaletteCommand, Pane, PaneEnv
from magray_tui.tui.panes.chat_events import (
    COMMAND_CLASS,
    ChatEvents,
    entry_message_id,
    history_window,
    is_command,
)
from magray_tui.tui.screens.chat_search import ChatSearchScreen
from magray_tui.tui.screens.chat_sessions import ChatSessionsScreen, SessionChoice
from magray_tui.tui.screens.confirm_action import ConfirmAction
from magray_tui.tui.screens.task_picker import ChoicePicker
from magray_tui.tui.widgets.chat_input import ChatInput
from magray_tui.tui.widgets.chat_messages import AssistantEntry, ChatEntry, UserEntry

if TYPE_CHECKING:
    from magray_tui.agent.agent import Agent
    from magray_tui.agent.chat_search import ChatHit
    from magray_tui.agent.model import ChatMessage, ChatSession
    from magray_tui.tui.backend import Backend

SEARCH_HITS = 20
log = logging.getLogger(__name__)
TYPE_MODEL = "\x00type"  # the model picker's "type another" choice
_DEFAULT_NAME = re.compile(r"chat \d{4}-\d{2}-\d{2} \d{2}:\d{2}$")  # ChatSessions.create


class ChatPane(ChatEvents, Pane):
    PANE_ID = "chat"
    TITLE = "Chat"
    SUMMARY = (
        "Chat with the agent. Each message is grounded on your memories (shown, collapsible, "
        "above the reply) and stored in Interact. Enter sends, Shift+Enter or Ctrl+J adds a "
        'line, Up/Down recall earlier prompts, Esc cancels a reply. "Remember that …" stores a '
        "fact of yours in Insights. The model's replies ground later answers only after a "
        "thumbs-up: Ctrl+Up selects a reply, + confirms it. /help lists the slash commands "
        "(/remember, /search, /task, /plan, /read, /run, /model, /system, /export…)."
    )
    KEYMAP_EXTRA = (ChatEntry, AssistantEntry, ChatSessionsScreen, ChatSearchScreen, ConfirmAction)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_turn", "Cancel reply", id="chat.cancel"),
        Binding("ctrl+r", "regenerate", "Regenerate", id="chat.regenerate"),
        Binding("ctrl+n", "new_session", "New session", id="chat.new_session"),
        Binding("ctrl+o", "sessions", "Sessions", id="chat.sessions"),
        Binding("ctrl+l", "model", "Model", id="chat.model"),
        Binding("ctrl+f", "search_chats", "Search chats", id="chat.search"),
        Binding("ctrl+up", "select_reply", "Select message", show=False, id="chat.select"),
        Binding("i", "focus_input", "Write", show=False, id="chat.write"),
        # Priority: the prompt (a TextArea) would take them to move its cursor.
        Binding(
            "pageup", "scroll_log(-1)", "Scroll up", show=False, priority=True, id="chat.page_up"
        ),
        Binding(
            "pagedown",
            "scroll_log(1)",
            "Scroll down",
            show=False,
            priority=True,
            id="chat.page_down",
        ),
    ]
    DEFAULT_CSS = """
    ChatPane #chat-notice { padding: 1 2; color: $text-muted; }
    ChatPane.-failed #chat-notice { color: $error; }
    ChatPane #chat-top { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    ChatPane #chat-log { height: 1fr; padding: 0 1; }
    ChatPane #chat-status { height: 1; padding: 0 1; color: $text-muted; }
    ChatPane #chat-empty { color: $text-muted; padding: 1 2; }
    """

    WORKER_NAMES: ClassVar[dict[str, str]] = {
        "chat-turn": "Chat reply",
        "chat-prepare": "Chat",
        "chat-confirm": "Thumbs-up",
    }
    WORKER_DEFAULT = "Chat"

    def __init__(self, env: PaneEnv) -> None:
        super().__init__(env)
        self.agent: Agent | None = None
        self.session: ChatSession | None = None
        self.model_label = ""
        self.offline = False
        self.turn_running = False
        self._cancel: threading.Event | None = None
        self._reply: AssistantEntry | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Opening the memory store…"), id="chat-top")
        with VerticalScroll(id="chat-log"):
            yield Static(
                Text("Loading the chat. You can type your first message now."),
                id="chat-empty",
            )
        yield Static(id="chat-status", markup=False)
        yield ChatInput(id="chat-input")

    def on_mount(self) -> None:
        self.log_view.anchor()

    @property
    def log_view(self) -> VerticalScroll:
        return self.query_one("#chat-log", VerticalScroll)

    @property
    def input(self) -> ChatInput:
        return self.query_one(ChatInput)

    def focus_default(self) -> None:
        self.focus_now(self.input)

    def help_info(self, keymap: dict[str, str]) -> HelpInfo:
        """The pane's keys plus those of a selected message (c, b, + on a reply), even
        before one exists."""
        info = super().help_info(keymap)
        seen = {k.binding_id for k in info.keys}
        extra = [
            HelpKey(key_display(self.app, b, keymap), b.description, b.id)
            for b in (*ChatEntry.BINDINGS, *AssistantEntry.BINDINGS)
            if isinstance(b, Binding) and b.id and b.id not in seen
        ]
        return replace(info, keys=(*info.keys, *extra))

    # ---- services ------------------------------------------------------------------------
    def attach_backend(self, backend: Backend) -> None:
        super().attach_backend(backend)
        self.prepare()

    def backend_failed(self, message: str) -> None:
        self.add_class("-failed")
        self.set_top(f"Chat is unavailable: {message}")

    @work(thread=True, exclusive=True, group="chat-prepare", exit_on_error=False)
    def prepare(self, session_id: str | None = None) -> None:
        """Build the agent, pick the session (latest, or a new one) and the model."""

        assert self.backend is not None
        with self.env.jobs.track("starting the chat"):
            agent = self.agent or self.backend.services.new_agent()
            sessions = agent.sessions
            if session_id is not None:
                session = sessions.get(session_id)
            elif self.backend.read_only:
                session = sessions.latest()
            else:
                session = sessions.latest() or sessions.create()
            messages = sessions.messages(session.id) if session else []
            confirmed = agent.confirmed_replies(history_window(messages, None))
            info = agent.model_info()
        self.app.call_from_thread(self._prepared, agent, session, messages, info, confirmed)

    async def _prepared(self, agent: Agent, session, messages, info, confirmed) -> None:
        self.call_after_refresh(freeze_heap)  # litellm and the model are loaded now
        from magray_tui.agent.slash import COMMANDS

        self.agent = agent
        self.input.commands = {name: c.usage for name, c in COMMANDS.items()}
        self.model_label = info.label
        self.offline = info.offline
        await self.show_session(session, messages, confirmed=confirmed)
        self.warm_search()

    @work(thread=True, exclusive=True, group="chat-search-warm", exit_on_error=False)
    def warm_search(self) -> None:
        """Index the messages for Ctrl+F at a low priority, so the first search is fast."""
        from magray_tui.tui.background import run_low_priority

        assert self.agent is not None
        sessions = self.agent.sessions
        run_low_priority(sessions.prepare_search, "magray-chat-index")

    async def show_session(
        self,
        session: ChatSession | None,
        messages: list[ChatMessage],
        at: int | None = None,
        confirmed: frozenset[int] = frozenset(),
    ) -> None:
        """Show `session`: its latest messages, or those around message `at` (scrolled to
        and selected: a chat search's match); `confirmed`: the ids of the replies the user
        gave a thumbs-up (marked)."""
        self.session = session
        self._reply = None
        self.set_status("")  # "reply failed" belonged to the session left
        log_view = self.log_view
        await log_view.remove_children()
        if session is None:
            self.set_top("read-only: no chat sessions yet")
            return
        if not messages:
            hint = "No messages yet. Say something, or type /help."
            if self.offline:
                hint += (
                    "\nThe chat runs on the small offline model; for real answers set [llm] "
                    "model (and its API key in the environment) in config.toml."
                )
            await log_view.mount(Static(Text(hint), id="chat-empty"))
        await self.mount_history(history_window(messages, at), confirmed)
        self.refresh_top()
        target = next((e for e in self.query(ChatEntry) if entry_message_id(e) == at), None)
        if target is None:
            log_view.anchor()
            return
        log_view.release_anchor()
        target.focus()
        self.call_after_refresh(target.scroll_visible, top=True, animate=False)

    def refresh_top(self) -> None:
        name = self.session.name if self.session else "no session"
        model = self.model_label or "resolving the model…"
        self.set_top(f"{name} · {model}")

    def set_top(self, text: str) -> None:
        # The session's name is the user's first message: never raw on the terminal.
        self.query_one("#chat-top", Static).update(Text(one_line(text)))

    def set_status(self, text: str) -> None:
        self.query_one("#chat-status", Static).update(Text(one_line(text)))

    # ---- sending -------------------------------------------------------------------------
    @on(ChatInput.Submitted)
    async def send(self, event: ChatInput.Submitted) -> None:
        if self.agent is None or self.session is None:
            self.notify("the chat is still starting; try again in a moment", severity="warning")
            self.input.load_text(event.text)
            return
        if self.turn_running:
            self.notify("a reply is still running — Esc cancels it", severity="warning")
            self.input.load_text(event.text)
            return
        await self._drop_empty_hint()
        command = is_command(event.text)
        await self.log_view.mount(UserEntry(event.text, classes=COMMAND_CLASS if command else ""))
        self.log_view.anchor()
        self.start_turn(event.text)

    async def _drop_empty_hint(self) -> None:
        for hint in self.query("#chat-empty"):
            await hint.remove()

    def start_turn(self, text: str | None) -> None:
        self.turn_running = True
        self.command_turn = text is not None and is_command(text)
        self._cancel = threading.Event()
        self._reply = None
        self.set_status("thinking… (Esc cancels)")
        self.run_turn(text, self._cancel)

    @work(thread=True, group="chat-turn", exit_on_error=False)
    def run_turn(self, text: str | None, cancel: threading.Event) -> None:
        assert self.agent is not None and self.session is not None
        agent, sid = self.agent, self.session.id
        first = text and self.session.message_count == 0 and not text.startswith("/")
        if first and _DEFAULT_NAME.match(self.session.name):
            # A new session is named after its first message, as `magray chat` does.
            renamed = agent.sessions.rename(sid, " ".join(text.split())[:40])
            self.app.call_from_thread(self._renamed, renamed)
        with self.env.jobs.track("chat reply"):
            if text is None:
                events = agent.regenerate(sid, confirm=self._confirm, cancel=cancel)
            else:
                events = agent.run_turn(sid, text, confirm=self._confirm, cancel=cancel)
            try:
                for event in events:
                    self.app.call_from_thread(self.apply_event, event)
            except RuntimeError:  # the app is closing
                cancel.set()
            finally:
                with contextlib.suppress(RuntimeError):
                    self.app.call_from_thread(self._turn_over)

    def _renamed(self, session: ChatSession) -> None:
        if self.session is not None and self.session.id == session.id:
            self.session = session
            self.refresh_top()

    def _turn_over(self) -> None:
        self.turn_running = False
        if self._cancel is not None and self._cancel.is_set():
            self.set_status("cancelled")

    def _confirm(self, confirmation: Any) -> bool:
        """Called from the turn's worker thread: ask in a modal and wait for the answer."""
        answered = threading.Event()
        answer = [False]

        def done(value: bool | None) -> None:
            answer[0] = bool(value)
            answered.set()

        def ask() -> None:
            self.app.push_screen(ConfirmAction(confirmation.title, confirmation.detail), done)

        self.app.call_from_thread(ask)
        cancel = self._cancel
        while not answered.wait(0.1):
            if cancel is not None and cancel.is_set():
                return False
        return answer[0]

    # ---- thumbs-up -----------------------------------------------------------------------
    @on(AssistantEntry.Confirmed)
    def confirm_reply(self, event: AssistantEntry.Confirmed) -> None:
        event.stop()
        if self.agent is not None and self.session is not None:
            self._confirm_reply(event.entry, self.session.id, event.message_id)

    @work(thread=True, group="chat-confirm", exit_on_error=False)
    def _confirm_reply(self, entry: AssistantEntry, session_id: str, message_id: int) -> None:
        assert self.agent is not None
        record = self.agent.confirm_reply(session_id, message_id)
        self.app.call_from_thread(self._reply_confirmed, entry, record.id)

    def _reply_confirmed(self, entry: AssistantEntry, record_id: str) -> None:
        entry.mark_confirmed()
        self.notify(
            f"reply confirmed (memory {record_id}): it may ground later answers and be promoted"
        )
        self._others_may_have_changed()

    # ---- actions -------------------------------------------------------------------------
    def action_cancel_turn(self) -> None:
        """Esc: cancel the running reply; when idle, leave the prompt (so 1-5 switch panes)."""
        if self.turn_running and self._cancel is not None:
            self._cancel.set()
            self.set_status("cancelling…")
        elif self.input.has_focus:
            self.log_view.focus()

    def action_regenerate(self) -> None:
        if self.agent is None or self.session is None or self.turn_running:
            return
        # Everything the last turn showed after the prompt goes: the reply, and the
        # memories and tool calls it was built on (the new turn shows its own).
        # Slash commands typed since, and what they showed, stay (as in the store).
        entries = list(self.log_view.query_children(ChatEntry))
        entries = [e for e in entries if not e.has_class(COMMAND_CLASS)]
        users = [n for n, e in enumerate(entries) if isinstance(e, UserEntry)]
        for entry in entries[users[-1] + 1 :] if users else entries[-1:]:
            entry.remove()
        self.start_turn(None)

    def action_new_session(self) -> None:
        if self.agent is not None and not self.turn_running:
            self.switch_session("new")

    def action_focus_input(self) -> None:
        self.input.focus()

    def action_scroll_log(self, direction: int) -> None:
        """PageUp/PageDown scroll the conversation, even while typing in the prompt."""
        if direction < 0:
            self.log_view.scroll_page_up()
        else:
            self.log_view.scroll_page_down()

    def action_select_reply(self) -> None:
        entries = list(self.query(ChatEntry))
        if entries:
            entries[-1].focus()
            entries[-1].scroll_visible()

    def action_model(self) -> None:
        """Ctrl+L: pick one of the models found (configured providers, local servers, the
        offline model), or type another."""
        if self.agent is not None and not self.turn_running:
            self.load_models()

    @work(thread=True, exclusive=True, group="chat-prepare", exit_on_error=False)
    def load_models(self) -> None:
        assert self.agent is not None
        with self.env.jobs.track("finding models"):
            rows = self.agent.llm().status(check=False)
        choices = [
            (row.model, f"{row.model}  ·  {row.name}" + ("  (now)" if row.active else ""))
            for row in rows
            if row.configured and row.model
        ]
        choices.append((TYPE_MODEL, "another model: type its litellm name…"))
        picker = ChoicePicker("Model for this session", choices, "Enter picks · Esc cancels")
        self.app.call_from_thread(self.app.push_screen, picker, self._model_chosen)

    def _model_chosen(self, model: str | None) -> None:
        if model == TYPE_MODEL:
            self.input.load_text("/model ")
            self.input.move_cursor(self.input.document.end)
            self.focus_now(self.input)
            self.notify("type a litellm model name (e.g. openai/gpt-4o-mini) and press Enter")
        elif model:
            self.start_turn_command(f"/model {model}")

    def action_sessions(self) -> None:
        if self.agent is None or self.turn_running:
            return
        self.load_sessions()

    @work(thread=True, exclusive=True, group="chat-prepare", exit_on_error=False)
    def load_sessions(self) -> None:
        assert self.agent is not None
        sessions = self.agent.sessions.list()
        current = self.session.id if self.session else None
        self.app.call_from_thread(
            self.app.push_screen, ChatSessionsScreen(sessions, current), self._session_chosen
        )

    def _session_chosen(self, choice: SessionChoice | None) -> None:
        if choice is not None:
            self.switch_session(choice.action, choice.session_id, choice.name)

    def action_search_chats(self) -> None:
        """Ctrl+F: search the messages of every session; Enter jumps to the match."""
        if self.agent is None:
            return
        sessions = self.agent.sessions
        self.app.push_screen(
            ChatSearchScreen(lambda query: sessions.search(query, k=SEARCH_HITS)),
            self._search_chosen,
        )

    def _search_chosen(self, hit: ChatHit | None) -> None:
        if hit is None:
            return
        if self.turn_running:
            self.notify("a reply is still running — Esc cancels it, then jump", severity="warning")
            return
        self.switch_session("open", hit.session_id, at=hit.message_id)

    @work(thread=True, exclusive=True, group="chat-prepare", exit_on_error=False)
    def switch_session(
        self, action: str, sid: str | None = None, name: str | None = None, at: int | None = None
    ) -> None:
        assert self.agent is not None
        sessions = self.agent.sessions
        current = self.session.id if self.session else None
        if action == "new":
            session = sessions.create(name)
        elif action == "rename" and sid:
            session = sessions.rename(sid, name or "")
            if sid != current:
                return
        elif action == "delete" and sid:
            sessions.delete(sid)
            if sid != current:
                return
            session = sessions.latest() or sessions.create()
        else:
            session = sessions.get(sid or "")
        messages = sessions.messages(session.id)
        confirmed = self.agent.confirmed_replies(history_window(messages, at))
        self.app.call_from_thread(self.show_session, session, messages, at, confirmed)

    def palette_commands(self) -> list[PaletteCommand]:
        if self.agent is None:
            return []
        commands = [
            PaletteCommand(
                "Chat: search every session",
                "Find a message in any chat and jump to it",
                self.action_search_chats,
            ),
            PaletteCommand(
                "Chat: new session", "Start a new chat session", self.action_new_session
            ),
            PaletteCommand(
                "Chat: sessions", "Resume, rename or delete a session", self.action_sessions
            ),
            PaletteCommand(
                "Chat: switch model", "Choose the LLM for this session", self.action_model
            ),
        ]
        if self.session is not None and not self.turn_running:
            commands.append(
                PaletteCommand(
                    "Chat: export session to Markdown",
                    "Write this session to the data folder's exports/",
                    lambda: self.start_turn_command("/export"),
                )
            )
        return commands

    def start_turn_command(self, command: str) -> None:
        if not self.turn_running:
            self.start_turn(command)

    def worker_error_handled(self, group: str, error: BaseException) -> bool:
        if group == "chat-search-warm":  # Ctrl+F will do it (and report it)
            log.warning("indexing the chats for search failed: %s", error)
            return True
        return False

    def worker_failed(self, group: str, message: str) -> None:
        if group == "chat-turn":
            self.turn_running = False
