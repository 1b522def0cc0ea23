"""Untrusted text made safe to show in a terminal.

Stored memories, task titles, file contents, tool output and model replies may carry
terminal escapes (`ESC ] 0 ; title BEL` sets the window title, `ESC [ 2 J` clears the
screen, a bare CR overwrites a line). Wherever such text meets a terminal — a CLI table or
plain output, a TUI widget — pass it through `for_terminal` (or `one_line`) first. JSON
output needs nothing: its encoder escapes control characters already.

Control characters are made visible rather than dropped, so a user can still see that a
stored text holds one: C0 controls become their Unicode "control picture" (ESC → ␛, BEL → ␇),
C1 controls and the bidirectional overrides used to disguise text become `\\x9b` / `\\u202e`.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, C1 controls, and the bidi embedding/override/isolate
# characters ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_WITH_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def for_terminal(text: str, *, multiline: bool = True) -> str:
    """`text` with every control character made visible.

    With `multiline` (the default) newlines and tabs are kept; without it they are made
    visible too, for a table cell or a one-line status.
    """
    pattern = _UNSAFE if multiline else _UNSAFE_WITH_BREAKS
    return pattern.sub(_visible, text)


def one_line(text: str, width: int | None = None) -> str:
    """A single display line: whitespace runs (newlines included) folded to one space,
    every other control character made visible, then shortened to `width` with "…"."""
    flat = " ".join(text.split())
    flat = for_terminal(flat, multiline=False)
    if width is not None and len(flat) > width:
        return flat[: max(0, width - 1)] + "…"
    return flat
