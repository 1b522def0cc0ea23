"""read_file and list_directory: looking at the workspace, never outside it.

Reading reuses the ingest decoder (byte-order marks, UTF-8, then cp1252/latin-1 with a
note) and its binary detection, so a file reads the same here as when it was ingested.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from magray_tui.ingest.chunker import split_lines
from magray_tui.ingest.ignore import IgnoreMatcher
from magray_tui.ingest.textfile import NotText, decode, has_binary_extension
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
from magray_tui.tools.sandbox import Resolved, open_regular
from magray_tui.tools.schema import obj

MAX_READ_BYTES = 10_000_000  # above this read_file refuses; search_files finds lines
MAX_LIST_ENTRIES = 500

_PATH = {"type": "string", "minLength": 1, "maxLength": 8192}


def read_bytes(r: Resolved, limit: int = MAX_READ_BYTES) -> bytes:
    """The whole file at a resolved path; ToolError for folders, binaries, huge files."""
    if not r.exists():
        raise ToolError(f"not found: {r.rel}")
    if os.path.isdir(r.path):
        raise ToolError(f"{r.rel} is a folder; use list_directory")
    if has_binary_extension(r.path):
        raise ToolError(f"{r.rel} is a binary file type; not shown")
    fd = open_regular(r.path)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise ToolError(
                f"{r.rel} is {size:,} bytes, over the {limit:,}-byte limit for reading; "
                "use search_files to find the lines you need"
            )
        return fh.read(limit + 1)[:limit]


def read_text(r: Resolved, raw: bytes | None = None) -> tuple[str, str, str | None]:
    """(text with \\n line ends, encoding, note) or ToolError for binary content."""
    raw = read_bytes(r) if raw is None else raw
    try:
        text, encoding, note = decode(raw)
    except NotText as exc:
        raise ToolError(f"{r.rel} is binary ({exc}); not shown") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, note


def _read(ctx: ToolContext, r: Resolved, start: int, end: int | None, numbers: bool) -> ToolResult:
    text, encoding, note = read_text(r)
    lines = split_lines(text)
    total = len(lines)
    if total == 0:
        return ToolResult(True, "", f"read {r.rel}: empty file")
    if start > total:
        raise ToolError(f"start_line {start} is past the end of {r.rel} ({total} lines)")
    last = min(end or total, total)
    width = len(str(last))
    budget = ctx.cap
    out: list[str] = []
    shown = start - 1
    for i in range(start - 1, last):
        line = f"{i + 1:>{width}}  {lines[i]}" if numbers else lines[i]
        cost = len(line.encode("utf-8", "surrogatepass")) + 1
        if cost > budget:
            if not out:  # one enormous line: show what fits of it
                out.append(clip(line, budget)[0])
                shown = i + 1
            break
        out.append(line)
        budget -= cost
        shown = i + 1
    notes = []
    if shown < last:
        notes.append(
            f"[truncated at {ctx.cap:,} bytes: lines {start}-{shown} of {total} shown; "
            f"continue with start_line={shown + 1}]"
        )
    elif last < total and end is not None:
        notes.append(f"[lines {start}-{last} of {total}]")
    if note:
        notes.append(f"[{note}]")
    body = "\n".join(out + notes)
    whole = f"{total} line{'s' * (total != 1)}"
    span = f"lines {start}-{shown} of {total}" if (start, shown) != (1, total) else whole
    enc = "" if encoding in ("utf-8", "utf-8-sig") else f", {encoding}"
    return ToolResult(True, body, f"read {r.rel} ({span}{enc})")


def _read_prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    r = ctx.sandbox.resolve(args["path"])
    start = args.get("start_line", 1)
    end = args.get("end_line")
    if end is not None and end < start:
        raise ToolError(f"end_line ({end}) is before start_line ({start})")
    numbers = args.get("line_numbers", False)
    span = f"lines {start}-{end if end is not None else 'end'}"
    return Prepared(
        r.subjects,
        Confirmation("read_file", f"Read {r.rel}", f"path: {r.path}\n{span}"),
        lambda: _read(ctx, r, start, end, numbers),
    )


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def _kind_mark(entry: os.DirEntry[str]) -> tuple[str, bool]:
    """(display suffix, is a folder to enter)."""
    if entry.is_symlink():
        return "@  (symlink, not followed)", False
    st = entry.stat(follow_symlinks=False)
    if stat.S_ISDIR(st.st_mode):
        return "/", True
    if stat.S_ISREG(st.st_mode):
        return f"  ({_size(st.st_size)})", False
    return "  (special file)", False


def _list(ctx: ToolContext, r: Resolved, depth: int, include_ignored: bool) -> ToolResult:
    if not r.exists():
        raise ToolError(f"not found: {r.rel}")
    if not os.path.isdir(r.path):
        raise ToolError(f"{r.rel} is a file; use read_file")
    matcher = IgnoreMatcher(r.root)
    lines: list[str] = []
    counts = {"folders": 0, "files": 0, "ignored": 0, "more": 0}

    def walk(folder: str, level: int) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: (not e.is_dir(follow_symlinks=False), e.name))
        except OSError as exc:
            lines.append(f"{'  ' * level}[cannot read this folder: {exc.strerror}]")
            return
        for entry in entries:
            try:
                mark, enter = _kind_mark(entry)
            except OSError:
                mark, enter = "  (unreadable)", False
            if not include_ignored and matcher.ignored(entry.path, enter):
                counts["ignored"] += 1
                continue
            if len(lines) >= MAX_LIST_ENTRIES:
                counts["more"] += 1
                continue
            counts["folders" if enter else "files"] += 1
            lines.append(f"{'  ' * level}{entry.name}{mark}")
            if enter and level + 1 < depth:
                walk(entry.path, level + 1)

    walk(r.path, 0)
    if counts["more"]:
        lines.append(f"[… {counts['more']} more entries not shown]")
    if counts["ignored"]:
        lines.append(f"[{counts['ignored']} ignored entries hidden; include_ignored shows them]")
    if not lines:
        lines.append("[empty folder]")
    body, cut = clip("\n".join(lines), ctx.cap)
    summary = f"listed {r.rel}: {counts['folders']} folders, {counts['files']} files"
    if counts["ignored"]:
        summary += f" ({counts['ignored']} ignored)"
    return ToolResult(True, body + ("\n[output truncated]" if cut else ""), summary)


def _list_prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    r = ctx.sandbox.resolve(args.get("path", "."))
    depth = args.get("depth", 1)
    include = args.get("include_ignored", False)
    return Prepared(
        r.subjects,
        Confirmation("list_directory", f"List {r.rel}", f"path: {r.path}\ndepth: {depth}"),
        lambda: _list(ctx, r, depth, include),
    )


def build(ctx: ToolContext) -> list[Tool]:
    read = ToolSpec(
        "read_file",
        "Read a text file in the workspace, optionally a range of lines (1-based, inclusive). "
        "Binary files are refused; long output is truncated with a note saying where to "
        "continue.",
        obj(
            ("path",),
            path=_PATH | {"description": "path relative to the workspace root"},
            start_line={"type": "integer", "minimum": 1, "description": "first line, from 1"},
            end_line={"type": "integer", "minimum": 1, "description": "last line (inclusive)"},
            line_numbers={"type": "boolean", "description": "prefix each line with its number"},
        ),
    )
    listing = ToolSpec(
        "list_directory",
        "List a folder in the workspace: sub-folders end with '/', files show their size. "
        "Entries ignored by .gitignore (and .git, node_modules, caches) are hidden unless "
        "include_ignored is true.",
        obj(
            (),
            path=_PATH | {"description": "folder relative to the workspace root (default '.')"},
            depth={"type": "integer", "minimum": 1, "maximum": 4, "description": "levels"},
            include_ignored={"type": "boolean"},
        ),
    )
    return [
        Tool(read, lambda a: _read_prepare(ctx, a)),
        Tool(listing, lambda a: _list_prepare(ctx, a)),
    ]
