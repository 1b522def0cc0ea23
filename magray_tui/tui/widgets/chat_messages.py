"""The widgets of a chat log: user and assistant messages, notices, tool calls, memories.

Model and user text is never parsed as Rich markup: plain text goes through `Text`, replies
through the Markdown widget (which renders Markdown, not markup: `[bold]` stays literal).
Control characters in that text (an escape sequence in a reply, a memory or tool output) are
made visible by `for_terminal` before anything is drawn; `self.text` keeps the original for
copying.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Collapsible, Static

from magray_tui.terminal_text import for_terminal, one_line

if TYPE_CHECKING:
    from textual.widgets import Markdown
    from textual.widgets._markdown import MarkdownStream

    from magray_tui.agent.model import MemoryRef

CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
TOOL_OUTPUT_LINES = 60


def last_code_block(text: str) -> str | None:
    blocks = CODE_BLOCK.findall(text)
    return blocks[-1].rstrip("\n") if blocks else None


class ChatEntry(Vertical):
    """A message in the log; focusable so `c` / `b` copy it or its last code block."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_text", "Copy message", id="chat.copy_message"),
        Binding("b", "copy_code", "Copy code block", id="chat.copy_code"),
    ]
    DEFAULT_CSS = """
    ChatEntry { height: auto; margin: 0 0 1 0; padding: 0 1; }
    ChatEntry:focus { background: $boost; }
    ChatEntry .entry-head { color: $text-muted; height: 1; }
    """

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text

    def action_copy_text(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("message copied to the clipboard", timeout=2)

    def action_copy_code(self) -> None:
        code = last_code_block(self.text)
        if code is None:
            self.notify("this message has no code block", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(code)
        self.notify("code block copied to the clipboard", timeout=2)


class UserEntry(ChatEntry):
    DEFAULT_CSS = """
    UserEntry { border-left: thick $primary; }
    UserEntry .entry-body { color: $text; }
    """

    def compose(self) -> ComposeResult:
        yield Static("You", classes="entry-head", markup=False)
        yield Static(Text(for_terminal(self.text)), classes="entry-body")


class AssistantEntry(ChatEntry):
    """A reply. `+` (thumbs-up) confirms it: the model's text grounds later answers and may
    be promoted only once the user confirmed it (it still expires with Interact if unused)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus", "confirm_reply", "👍 Confirm reply", id="chat.confirm_reply"),
    ]

    class Confirmed(Message):
        """The user gave this reply a thumbs-up."""

        def __init__(self, entry: AssistantEntry, message_id: int) -> None:
            super().__init__()
            self.entry, self.message_id = entry, message_id

    DEFAULT_CSS = """
    AssistantEntry { border-left: thick $secondary; }
    AssistantEntry Markdown { margin: 0; padding: 0; }
    AssistantEntry .entry-usage { color: $text-muted; height: auto; }
    AssistantEntry.-cancelled .entry-state { color: $warning; }
    AssistantEntry.-error .entry-state { color: $error; }
    AssistantEntry .entry-state { height: auto; }
    AssistantEntry.-confirmed .entry-state { color: $success; }
    """

    def __init__(self, label: str, text: str = "", **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self.label = label
        self._stream: MarkdownStream | None = None
        self.message_id: int | None = None  # the stored message, once the turn is over

    def action_confirm_reply(self) -> None:
        if self.message_id is None:
            self.notify("this reply is not stored yet", severity="warning", timeout=3)
            return
        self.post_message(self.Confirmed(self, self.message_id))

    def mark_confirmed(self) -> None:
        self.add_class("-confirmed")
        self.query_one(".entry-state", Static).update(
            Text("👍 confirmed: it may ground later answers")
        )

    def compose(self) -> ComposeResult:
        yield Static(Text(one_line(self.label)), classes="entry-head")
        yield markdown_view(self.text)
        yield Static(classes="entry-state", markup=False)
        yield Static(classes="entry-usage", markup=False)

    @property
    def markdown(self) -> Markdown:
        from textual.widgets import Markdown

        return self.query_one(Markdown)

    async def append(self, fragment: str) -> None:
        self.text += fragment
        if self._stream is None:
            view = self.markdown
            self._stream = view.get_stream(view)
        await self._stream.write(for_terminal(fragment))

    async def finish(self, status: str, usage_line: str, error: str | None = None) -> None:
        """Stop streaming and render the whole reply once more (the final full render)."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.markdown.update(for_terminal(self.text))
        state = self.query_one(".entry-state", Static)
        if status == "cancelled":
            self.add_class("-cancelled")
            state.update(Text("⊘ cancelled — the partial reply is kept"))
        elif status == "error":
            self.add_class("-error")
            state.update(Text(f"✗ {for_terminal(error or 'the model failed')}"))
        self.query_one(".entry-usage", Static).update(Text(one_line(usage_line)))


class NoticeEntry(ChatEntry):
    DEFAULT_CSS = """
    NoticeEntry { color: $text-muted; padding: 0 1; }
    NoticeEntry.-warning { color: $warning; }
    NoticeEntry.-error { color: $error; }
    NoticeEntry Markdown { margin: 0; padding: 0; }
    """

    def __init__(self, text: str, markdown: bool = False, level: str = "info") -> None:
        super().__init__(text, classes=f"-{level}")
        self.as_markdown = markdown

    def compose(self) -> ComposeResult:
        if self.as_markdown:
            yield markdown_view(self.text)
        else:
            yield Static(Text(for_terminal(self.text)))


class ToolEntry(ChatEntry):
    DEFAULT_CSS = """
    ToolEntry { padding: 0 1; }
    ToolEntry .tool-output { color: $text-muted; }
    ToolEntry.-failed Collapsible { border-left: thick $error; }
    """

    def __init__(self, name: str, arguments: str, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.tool_name = name
        self.arguments = arguments
        self._collapsible: Collapsible | None = None

    def compose(self) -> ComposeResult:
        title = _title(f"⚙ {_short(self.tool_name, 40)} {_short(self.arguments, 80)} — running…")
        self._collapsible = Collapsible(
            Static(Text(""), classes="tool-output"), title=title, collapsed=True
        )
        yield self._collapsible

    def finish(self, ok: bool, summary: str, output: str) -> None:
        self.text = output
        mark = "✓" if ok else "✗"
        self.set_class(not ok, "-failed")
        if self._collapsible is not None:
            # A refusal's summary already names the tool ("shell: the shell tool is off").
            named = summary.startswith(f"{self.tool_name}:")
            head = "" if named else f"{_short(self.tool_name, 40)}: "
            self._collapsible.title = _title(f"{mark} {head}{_short(summary, 100)}")
        lines = output.splitlines()
        shown = "\n".join(lines[:TOOL_OUTPUT_LINES])
        if len(lines) > TOOL_OUTPUT_LINES:
            shown += f"\n… {len(lines) - TOOL_OUTPUT_LINES} more lines (c copies all)"
        self.query_one(".tool-output", Static).update(Text(for_terminal(shown)))


class MemoriesEntry(ChatEntry):
    """The memories a reply was grounded on, collapsed by default."""

    DEFAULT_CSS = """
    MemoriesEntry { padding: 0 1; margin: 0; }
    MemoriesEntry .memory-line { color: $text-muted; }
    """

    def __init__(self, memories: list[MemoryRef] | list[dict[str, Any]], tokens: int) -> None:
        refs = [m if isinstance(m, dict) else m.to_dict() for m in memories]
        super().__init__("\n".join(f"{r['id']} [{r['layer']}] {r['text']}" for r in refs))
        self.refs = refs
        self.tokens = tokens

    def compose(self) -> ComposeResult:
        n = len(self.refs)
        title = f"🧠 {n} memor{'y' if n == 1 else 'ies'} used" + (
            f" (~{self.tokens} tokens)" if self.tokens else ""
        )
        lines = [
            Static(
                Text.assemble(
                    (f"{one_line(str(r['id']))} ", "bold"),
                    (f"{one_line(str(r['layer']))} ", "italic"),
                    (f"{r['score']:.3f}  " if r.get("score") is not None else ""),
                    _short(r["text"], 240),
                ),
                classes="memory-line",
            )
            for r in self.refs
        ]
        yield Collapsible(*lines, title=title, collapsed=True)


def usage_line(usage: dict[str, Any], model_label: str = "") -> str:
    parts = []
    model = usage.get("model") or model_label
    if model:
        parts.append(str(model))
    tin, tout = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if tin is not None or tout is not None:
        parts.append(f"{tin or 0:,} → {tout or 0:,} tokens")
    if usage.get("first_token_s") is not None:
        parts.append(f"first token {usage['first_token_s']:.2f} s")
    if usage.get("total_s"):
        parts.append(f"{usage['total_s']:.1f} s")
    if usage.get("cost_usd"):
        parts.append(f"${usage['cost_usd']:.4f}")
    if usage.get("truncated"):
        parts.append("cut at max_tokens")
    return " · ".join(parts)


def short_label(label: str) -> str:
    """A model label without its explanation: "SmolLM2-135M (small offline…)" -> "SmolLM2-135M"."""
    return label.split(" (", 1)[0] or label


def _short(text: str, limit: int) -> str:
    """One line of `text`, control characters made visible, cut to `limit`."""
    return one_line(str(text), limit)


def _title(text: str) -> str:
    """A Collapsible title: Textual parses a string title as markup, so escape it."""
    return escape(text)


def markdown_view(text: str) -> Markdown:
    """A Markdown widget for stored or model text. Imported here, not at the top: it
    brings markdown-it, linkify and pygments (~150 modules), which the first frame (the
    Memory pane) never needs."""
    from textual.widgets import Markdown

    return Markdown(for_terminal(text), open_links=False)
