"""Regular expressions chosen by the model, matched in linear time.

`search_files` takes a pattern from the model, so a backtracking engine is a denial of
service: Python's `re` runs `(a+)+$` on a 30-character line for longer than anyone waits,
and it cannot be interrupted inside one match. RE2 (the `google-re2` package) matches in
time linear in the text, whatever the pattern: the cost of one line is bounded by the
line's length (cut to 2,000 characters) times the size of the compiled pattern, which
`max_mem` caps (512 KB; a bigger pattern is refused as "too large"). The worst patterns
found take under a second on one such line, so the search's time budget, checked per
line, is a hard deadline give or take one line.
The price: RE2 syntax has no backreferences (`\\1`) and no lookaround (`(?=…)`, `(?<!…)`);
such a pattern is refused with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magray_tui.tools.base import ToolError, one_line

Matcher = Callable[[str], Any]
MAX_MEM = 512 * 1024  # bounds the program, hence the time per line (see above)


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
    options.max_mem = MAX_MEM
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
