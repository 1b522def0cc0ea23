"""Keys as terminals send them: Alt+digit as ESC+digit, and keys that arrive in bursts.

**ESC+digit.** tmux, xterm, Windows Terminal and most Linux terminals send Alt+1 as the two
bytes ESC "1". Textual 8 maps those pairs to the characters macOS's Option key types
(ESC 1 → "¡", ESC 2 → "™"), so Alt+1…5 typed `¡™£¢∞` into a text field instead of switching
panes. `install_alt_digits` makes ESC+digit the key `alt+digit` in Textual's table of
sequences, before any key is parsed (the table is module data, read at each key).

**Bursts.** The app hands each key to the widget focused *when the key is read*. A binding
that moves the focus (`/` to the search box, a pane number) runs only once its key has
bubbled back to the app, and by then the next keys of the same burst are already on their
way to the old widget: `/find` typed fast forgot (`f`) and pinned (`i`) the selected memory.
`KeyRouter` remembers where each key was sent; a key that comes back unhandled from a widget
that has since lost the focus to a text field is typed into that field instead of being
looked up as a command.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from enum import Enum

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.dom import DOMNode
from textual.events import Key
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Input, TextArea

# A value of the sequence table is either a string (a character) or a tuple of objects whose
# `.value` is the key name; an Enum gives exactly that.
AltDigit = Enum("AltDigit", {f"ALT_{d}": f"alt+{d}" for d in "0123456789"})


def install_alt_digits() -> None:
    """ESC followed by a digit is Alt+digit (what tmux and xterm send), not an Option
    character. Idempotent."""
    for member in AltDigit:
        digit = member.value[-1]
        ANSI_SEQUENCES_KEYS[f"\x1b{digit}"] = (member,)


def takes_text(widget: DOMNode | None) -> bool:
    return isinstance(widget, (Input, TextArea))


class KeyRouter:
    """Where each key was sent, for the last `size` keys (keys a widget handles never come
    back, so old entries are dropped rather than removed)."""

    def __init__(self, size: int = 128) -> None:
        self._sent: OrderedDict[int, tuple[Key, DOMNode]] = OrderedDict()
        self._size = size

    def sent(self, event: Key, target: DOMNode) -> None:
        self._sent[id(event)] = (event, target)
        while len(self._sent) > self._size:
            self._sent.popitem(last=False)

    def retarget(self, event: Key, focused: Widget | None) -> Widget | None:
        """The text field `event` should be typed into instead of being run as a command:
        the focused widget, when the key was sent elsewhere and the focus has moved to a
        text field since. None: handle the key as usual."""
        entry = self._sent.pop(id(event), None)
        if entry is None or entry[0] is not event:
            return None
        target = entry[1]
        if focused is None or focused is target or not takes_text(focused):
            return None
        return focused


class LeavingInput(Input):
    """A search box that Esc or Down leaves at once, and that hands on the keys of a burst
    that reach it after it lost the focus: `Esc f` typed fast forgets the selected memory
    instead of typing `f` into the box (the box read both keys before Esc's binding ran)."""

    # Input sets its virtual size (the text's width) on every key, and Widget's reactive
    # reflows the whole screen for it: a full layout per key typed, although the box
    # keeps its size (fixed by CSS); it scrolls its text from the virtual size alone.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *, leave: Callable[[], None], **kwargs) -> None:
        super().__init__(**kwargs)
        self._leave = leave

    async def _on_key(self, event: Key) -> None:
        focused = self.app.focused  # (`has_focus` follows a Blur event: later)
        if focused is not None and focused is not self:
            event.stop()
            event.prevent_default()
            focused._forward_event(Key(event.key, event.character))
            return
        if event.key in ("escape", "down"):
            event.stop()
            event.prevent_default()
            self._leave()
            return
        await super()._on_key(event)
