"""Ctrl+F in the Chat pane: search the messages of every session (hybrid: vector + BM25,
agent/chat_search.py) and jump to one. Typing searches after a short pause (each search
embeds the query), in a worker; Enter opens the highlighted match's session at it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from magray_tui.terminal_text import one_line
from magray_tui.tui.debounce import Debounce
from magray_tui.tui.screens.task_picker import PICKER_CSS

if TYPE_CHECKING:
    from magray_tui.agent.chat_search import ChatHit

DEBOUNCE_S = 0.25
ROLE_LABEL = {"user": "you", "assistant": "assistant", "notice": "command output"}


def hit_option(hit: ChatHit) -> Option:
    head = Text.assemble(
        (one_line(hit.session_name, 50), "bold"),
        f"  {hit.created_at:%Y-%m-%d %H:%M} · {ROLE_LABEL.get(hit.role, hit.role)}",
        (f"  {hit.score:.2f}", "dim"),
    )
    lines = [head]
    if hit.before:
        lines.append(Text("  … " + one_line(hit.before), style="dim"))
    lines.append(Text("  " + one_line(hit.snippet)))
    return Option(Text("\n").join(lines), id=str(hit.message_id))


class ChatSearchScreen(ModalScreen["ChatHit | None"]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="chat_search.cancel"),
        Binding("down", "to_list", "To the list", show=False, id="chat_search.list"),
    ]
    DEFAULT_CSS = (
        PICKER_CSS.format(name="ChatSearchScreen")
        + """
    ChatSearchScreen > Vertical { max-width: 120; }
    ChatSearchScreen OptionList { max-height: 30; }
    ChatSearchScreen #chat-search-state { color: $text-muted; height: 1; }
    """
    )

    class Found(Message):
        def __init__(self, query: str, hits: list[ChatHit] | None, error: str | None) -> None:
            super().__init__()
            self.query, self.hits, self.error = query, hits, error

    def __init__(self, search: Callable[[str], list[ChatHit]]) -> None:
        super().__init__()
        self.search = search
        self.hits: dict[str, ChatHit] = {}
        self._search_soon = Debounce(
            self, DEBOUNCE_S, lambda: self.run_search(self.query_one(Input).value)
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Search every chat", classes="picker-title", markup=False)
            yield Input(placeholder="words or a question", id="chat-search-query")
            yield Static("", id="chat-search-state", markup=False)
            yield OptionList(id="chat-search-results")
            yield Static(
                "Enter opens the session at the message · ↓ to the list · Esc closes",
                classes="picker-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def query_changed(self, event: Input.Changed) -> None:
        if not event.value.strip():
            self._search_soon.cancel()
            self.query_one(OptionList).clear_options()
            self._state("")
            return
        self._state("searching…")
        self._search_soon.schedule()

    def _state(self, text: str) -> None:
        self.query_one("#chat-search-state", Static).update(Text(one_line(text)))

    @work(thread=True, exclusive=True, group="chat-search", exit_on_error=False)
    def run_search(self, query: str) -> None:
        from magray_tui.user_errors import user_message

        try:
            hits, error = self.search(query), None
        except Exception as exc:
            hits, error = None, user_message(exc) or f"search failed ({type(exc).__name__})"
        if not get_current_worker().is_cancelled:
            self.post_message(self.Found(query, hits, error))

    def on_chat_search_screen_found(self, message: Found) -> None:
        if message.query != self.query_one(Input).value:
            return  # an older answer
        options = self.query_one(OptionList)
        options.clear_options()
        if message.error is not None:
            self._state(message.error)
            return
        hits = message.hits or []
        self.hits = {str(h.message_id): h for h in hits}
        options.add_options([hit_option(h) for h in hits])
        if hits:
            options.highlighted = 0
        count = len(hits)
        self._state(f"{count} message{'s' if count != 1 else ''}" if hits else "no match")

    @on(Input.Submitted)
    def open_highlighted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(self.hits.get(options.get_option_at_index(options.highlighted).id or ""))

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits.get(event.option.id or ""))

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
