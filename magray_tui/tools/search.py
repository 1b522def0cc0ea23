"""search_files: a substring or regular expression over the text files of the workspace.

Walks with the ingest walker and ignore rules (.gitignore, .git, node_modules, caches...),
so it sees what ingestion sees: symlinks are not followed, binaries and files over 2 MB are
skipped. A search stops at `max_results` matches or after a time budget, and says so.

Regular expressions run on RE2 (tools/regex.py): linear time, so one line (cut to 2,000
characters) costs milliseconds whatever the pattern, and the budget, checked per line, is
a hard deadline. Files are opened with O_NOFOLLOW | O_NONBLOCK and checked on the
descriptor (a file swapped for a FIFO is skipped, not waited on). Files whose names say
they hold secrets (`.env`, keys, `.netrc`, see `policy.SECRET_FILE_GLOBS`) are not
searched: their lines would bypass the confirmation `read_file` asks for them.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Iterator
from typing import Any

from magray_tui.ingest.chunker import split_lines
from magray_tui.ingest.ignore import IgnoreMatcher
from magray_tui.ingest.textfile import NotText, read_text_file
from magray_tui.ingest.walker import Walker
from magray_tui.tools.base import (
    Confirmation,
    Prepared,
    Tool,
    ToolError,
    ToolResult,
    ToolSpec,
    clip,
)
from magray_tui.tools.context import ToolContext
from magray_tui.tools.policy import is_secret_file
from magray_tui.tools.regex import Regex, compile_regex
from magray_tui.tools.sandbox import Resolved
from magray_tui.tools.schema import obj

MAX_FILE_BYTES = 2_000_000
MAX_LINE_CHARS = 2_000
BLOCK_CHARS = 2_000  # lines asked about at once (regex.py: fewer slow binding calls)
SHOWN_LINE_CHARS = 240
TIME_BUDGET_S = 10.0


def _matcher(args: dict[str, Any]) -> Regex:
    query: str = args["query"]
    case_sensitive = args.get("case_sensitive", False)
    if args.get("regex", False):
        return compile_regex(query, case_sensitive)
    literal = re.compile(re.escape(query), 0 if case_sensitive else re.IGNORECASE).search
    return Regex(literal, None)


def _blocks(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(first, end, text): runs of lines, each cut to MAX_LINE_CHARS, joined with "\n" up
    to about BLOCK_CHARS (a block is never much longer than one line may be)."""
    i = 0
    while i < len(lines):
        j, size = i, 0
        while j < len(lines) and (
            j == i or size + min(len(lines[j]), MAX_LINE_CHARS) < BLOCK_CHARS
        ):
            size += min(len(lines[j]), MAX_LINE_CHARS) + 1
            j += 1
        yield i, j, "\n".join(line[:MAX_LINE_CHARS] for line in lines[i:j])
        i = j


def _matching_lines(
    lines: list[str], regex: Regex, deadline: float, cut: list[bool] | None = None
) -> Iterator[int]:
    """Indexes of the matching lines, in order; past the deadline it stops early and
    appends True to `cut`."""
    cut = [] if cut is None else cut
    if regex.block is None:
        spans: Iterator[tuple[int, int, str]] = ((i, i + 1, "") for i in range(len(lines)))
    else:
        spans = _blocks(lines)
    for first, end, text in spans:
        if time.monotonic() > deadline:
            cut.append(True)
            return
        if regex.block is not None and not regex.block(text):
            continue
        for n in range(first, end):
            if end - first > 1 and time.monotonic() > deadline:
                cut.append(True)
                return
            if regex.line(lines[n][:MAX_LINE_CHARS]):
                yield n


def _search(ctx: ToolContext, r: Resolved, regex: Regex, args: dict[str, Any]):
    if not r.exists():
        raise ToolError(f"not found: {r.rel}")
    limit: int = args.get("max_results", 100)
    glob: str | None = args.get("glob")
    skipped: dict[str, int] = {}

    def on_skip(reason: str, _path: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    walker = Walker(r.root, IgnoreMatcher(r.root), MAX_FILE_BYTES, on_skip)
    hits: list[str] = []
    files_hit = searched = 0
    stopped = ""
    deadline = time.monotonic() + TIME_BUDGET_S
    for entry in walker.walk(r.path):
        rel = os.path.relpath(entry.path, r.root).replace(os.sep, "/")
        if glob and not (
            fnmatch.fnmatchcase(rel, glob) or fnmatch.fnmatchcase(os.path.basename(rel), glob)
        ):
            continue
        if time.monotonic() > deadline:
            stopped = _too_slow()
            break
        if is_secret_file(rel):
            on_skip("secret", entry.path)
            continue
        try:
            text = read_text_file(entry.path, MAX_FILE_BYTES).text
        except (NotText, ValueError):
            on_skip("binary", entry.path)
            continue
        except OSError:
            on_skip("unreadable", entry.path)
            continue
        searched += 1
        found_here = False
        lines = split_lines(text)
        cut: list[bool] = []
        for n in _matching_lines(lines, regex, deadline, cut):
            found_here = True
            shown = lines[n].strip()
            if len(shown) > SHOWN_LINE_CHARS:
                shown = shown[: SHOWN_LINE_CHARS - 1] + "…"
            hits.append(f"{rel}:{n + 1}: {shown}")
            if len(hits) >= limit:
                stopped = f"stopped at max_results={limit}"
                break
        if cut and not stopped:
            stopped = _too_slow()
        files_hit += found_here
        if stopped:
            break
    summary = f"{len(hits)} matches in {files_hit} files ({searched} files searched)"
    notes = []
    if stopped:
        notes.append(f"[{stopped}]")
    if skipped.get("binary") or skipped.get("too_large"):
        n = skipped.get("binary", 0) + skipped.get("too_large", 0)
        notes.append(f"[{n} binary or large files skipped]")
    if skipped.get("secret"):
        notes.append(
            f"[{skipped['secret']} files that may hold secrets (.env, keys) not searched; "
            "read_file asks before showing one]"
        )
    body = "\n".join(hits) if hits else f"no matches for {args['query']!r} under {r.rel}"
    body, cut = clip("\n".join([body, *notes]), ctx.cap)
    return ToolResult(True, body + ("\n[output truncated]" if cut else ""), summary)


def _too_slow() -> str:
    return (
        f"stopped after {TIME_BUDGET_S:g} s: the pattern is too slow for this much text; "
        "narrow the path or glob"
    )


def _prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    r = ctx.sandbox.resolve(args.get("path", "."))
    pattern = _matcher(args)
    what = "regex" if args.get("regex") else "text"
    return Prepared(
        r.subjects,
        Confirmation("search_files", f"Search {r.rel}", f"{what}: {args['query']}\nin: {r.path}"),
        lambda: _search(ctx, r, pattern, args),
    )


def build(ctx: ToolContext) -> list[Tool]:
    spec = ToolSpec(
        "search_files",
        "Search the text files under a workspace folder for a substring (or a regular "
        "expression with regex=true). Returns 'path:line: text' per match. Honours "
        ".gitignore; skips binary files.",
        obj(
            ("query",),
            query={"type": "string", "minLength": 1, "maxLength": 1000},
            path={"type": "string", "minLength": 1, "maxLength": 8192},
            regex={"type": "boolean"},
            case_sensitive={"type": "boolean"},
            glob={"type": "string", "maxLength": 200, "description": "file name glob, e.g. *.py"},
            max_results={"type": "integer", "minimum": 1, "maximum": 1000},
        ),
    )
    return [Tool(spec, lambda a: _prepare(ctx, a))]
