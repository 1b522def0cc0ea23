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
from magray_tui.tools.regex import Matcher, compile_regex
from magray_tui.tools.sandbox import Resolved
from magray_tui.tools.schema import obj

MAX_FILE_BYTES = 2_000_000
MAX_LINE_CHARS = 2_000
SHOWN_LINE_CHARS = 240
TIME_BUDGET_S = 10.0


def _matcher(args: dict[str, Any]) -> Matcher:
    query: str = args["query"]
    case_sensitive = args.get("case_sensitive", False)
    if args.get("regex", False):
        return compile_regex(query, case_sensitive)
    return re.compile(re.escape(query), 0 if case_sensitive else re.IGNORECASE).search


def _search(ctx: ToolContext, r: Resolved, search: Matcher, args: dict[str, Any]):
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
        for n, line in enumerate(split_lines(text), 1):
            if time.monotonic() > deadline:
                stopped = _too_slow()
                break
            if search(line[:MAX_LINE_CHARS]):
                found_here = True
                shown = line.strip()
                if len(shown) > SHOWN_LINE_CHARS:
                    shown = shown[: SHOWN_LINE_CHARS - 1] + "…"
                hits.append(f"{rel}:{n}: {shown}")
                if len(hits) >= limit:
                    stopped = f"stopped at max_results={limit}"
                    break
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
