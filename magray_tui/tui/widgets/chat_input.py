"""The chat prompt: Enter sends, Shift+Enter (or Ctrl+J, Alt+Enter) adds a line, Up/Down
walk the prompt history when the cursor is on the first/last line, Tab completes a slash
command's name (`/rem` → `/remember `; several matches: their common start, and a list)."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = {"shift+enter", "ctrl+j", "alt+enter"}
MAX_HISTORY = 200


class ChatInput(TextArea):
    DEFAULT_CSS = """
    ChatInput { height: auto; min-height: 3; max-height: 12; border: tall $primary 40%; }
    ChatInput:focus { border: tall $primary; }
    """

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.prompt_history: list[str] = []
        self.commands: dict[str, str] = {}  # slash command name → usage, set by the pane
        self._history_pos: int | None = None  # index into history while walking it
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.remember(text)
                self.post_message(self.Submitted(text))
                self.clear()
            return
        if event.key == "tab" and self.complete_command():
            event.stop()
            event.prevent_default()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if event.key == "up" and self.cursor_location[0] == 0 and self.prompt_history:
            event.stop()
            event.prevent_default()
            self._walk(-1)
            return
        last_line = self.cursor_location[0] == self.document.line_count - 1
        if event.key == "down" and self._history_pos is not None and last_line:
            event.stop()
            event.prevent_default()
            self._walk(+1)
            return
        await super()._on_key(event)

    def complete_command(self) -> bool:
        """Complete `/na` to a command name; False when the text is not a command's name
        being typed (then Tab moves the focus as usual)."""
        text = self.text
        if not self.commands or not text.startswith("/") or " " in text or "\n" in text:
            return False
        typed = text[1:].lower()
        matches = sorted(name for name in self.commands if name.startswith(typed))
        if len(matches) == 1:
            self.load_text(f"/{matches[0]} ")
        elif matches:
            self.load_text("/" + _common_start(matches))
            self.notify("  ".join(self.commands[m] for m in matches), timeout=4, markup=False)
        else:
            self.notify(f"no command starts with /{typed} (/help lists them)", timeout=3)
        self.move_cursor(self.document.end)
        return True

    def remember(self, text: str) -> None:
        if not self.prompt_history or self.prompt_history[-1] != text:
            self.prompt_history.append(text)
            del self.prompt_history[:-MAX_HISTORY]
        self._history_pos = None

    def _walk(self, step: int) -> None:
        if self._history_pos is None:
            if step > 0:
                return
            self._draft = self.text
            self._history_pos = len(self.prompt_history)
        pos = self._history_pos + step
        if pos < 0:
            return
        if pos >= len(self.prompt_history):
            self._history_pos = None
            self.load_text(self._draft)
        else:
            self._history_pos = pos
            self.load_text(self.prompt_history[pos])
        self.move_cursor(self.document.end)


def _common_start(words: list[str]) -> str:
    first, last = min(words), max(words)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]
