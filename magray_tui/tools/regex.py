"""Regular expressions chosen by the model, matched in linear time.

`search_files` takes a pattern from the model, so a backtracking engine is a denial of
service: Python's `re` runs `(a+)+$` on a 30-character line for longer than anyone waits,
and it cannot be interrupted inside one match. RE2 (the `google-re2` package) matches in
time linear in the text, whatever the pattern; one line (at most 2,000 characters) takes
milliseconds at worst, so the search's time budget, checked per line, is a hard deadline.
The price: RE2 syntax has no backreferences (`\\1`) and no lookaround (`(?=…)`, `(?<!…)`);
such a pattern is refused with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magray_tui.tools.base import ToolError, one_line

Matcher = Callable[[str], Any]


def _reason(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else exc
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return one_line(text, 120)


def compile_regex(pattern: str, case_sensitive: bool) -> Matcher:
    """A `search(line)` for `pattern` (RE2 syntax), or ToolError saying why not."""
    try:
        import re2
    except ImportError:  # pragma: no cover - a declared dependency
        raise ToolError(
            "regex search needs the google-re2 package, which is not installed; "
            "search for plain text instead (regex=false)"
        ) from None
    options = re2.Options()
    options.log_errors = False  # RE2 logs to stderr otherwise: nothing may write there
    options.case_sensitive = case_sensitive
    try:
        compiled = re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = _reason(exc)
        hint = ""
        if "escape" in reason or "perl operator" in reason:
            hint = " (RE2 syntax: no backreferences or lookaround)"
        raise ToolError(f"invalid regular expression: {reason}{hint}") from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ToolError(f"invalid regular expression: {_reason(exc)}") from None
    return compiled.search
