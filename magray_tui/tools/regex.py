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

Speed: one call per line costs ~13 µs of binding overhead (Python's `re`: ~0.3 µs), so
`Regex.block` first asks whether a block of lines (about 2,000 characters, no longer than
one line may be) holds a match at all, compiled as multi-line with `never_nl` so no match
crosses a line end; only a block that matches is searched line by line. The two agree on
every pattern except `\\A` and `\\z` (start and end of the text), for which `block` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from magray_tui.tools.base import ToolError, one_line

Matcher = Callable[[str], Any]
MAX_MEM = 512 * 1024  # bounds the program, hence the time per line (see above)


def _reason(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else exc
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return one_line(text, 120)


@dataclass(frozen=True)
class Regex:
    line: Matcher  # search one line (no newline in it)
    block: Matcher | None  # does any line of a "\n"-joined block match? None: ask each line


def compile_regex(pattern: str, case_sensitive: bool) -> Regex:
    """`pattern` (RE2 syntax) compiled for lines and blocks, or ToolError saying why not."""
    line = _compile(pattern, case_sensitive, multi_line=False)
    if "\\A" in pattern or "\\z" in pattern:
        return Regex(line, None)
    return Regex(line, _compile(f"(?m){pattern}", case_sensitive, multi_line=True))


def _compile(pattern: str, case_sensitive: bool, *, multi_line: bool) -> Matcher:
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
    options.never_nl = multi_line  # a block's match never crosses a line end
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
