"""write_file: replace (or create) a text file, after the user has seen the diff.

The confirmation carries the unified diff of exactly what will change. The write is
atomic (a temporary file in the same folder, fsync, rename) and keeps the file's mode,
its encoding where the new text fits it, and CRLF line ends if the old file used them.
If the file changes between the diff and the write, nothing is written.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import tempfile
from typing import Any

from magray_tui.tools.base import (
    Confirmation,
    Prepared,
    Tool,
    ToolError,
    ToolResult,
    ToolSpec,
    diff_counts,
)
from magray_tui.tools.context import ToolContext
from magray_tui.tools.files import read_bytes, read_text
from magray_tui.tools.sandbox import Resolved, SandboxError
from magray_tui.tools.schema import obj

MAX_WRITE_BYTES = 1_000_000
_WRITABLE_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1")


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.blake2b(data, digest_size=16).hexdigest()


def _current(r: Resolved) -> bytes | None:
    return read_bytes(r) if r.exists() else None


def unified_diff(old: str, new: str, rel: str, created: bool) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile="/dev/null" if created else f"a/{rel}",
        tofile=f"b/{rel}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _encode(content: str, encoding: str, crlf: bool) -> bytes:
    text = content.replace("\r\n", "\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")  # the new text does not fit the old encoding


def atomic_write(path: str, data: bytes, mode: int | None) -> None:
    folder = os.path.dirname(path)
    name = os.path.basename(path)[:100]
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    # The user's umask, not magray's private one (magray_tui.private_files): a file the
    # agent writes into a project gets the mode the user's own would have.
    from magray_tui.private_files import user_umask

    return user_umask()


def _prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    r = ctx.sandbox.resolve(args["path"], write=True)
    content: str = args["content"]
    if len(content.encode("utf-8", "surrogatepass")) > MAX_WRITE_BYTES:
        raise ToolError(f"content is over the {MAX_WRITE_BYTES:,}-byte limit for write_file")
    if "\0" in content:
        raise ToolError("content contains NUL bytes; write_file writes text only")
    if os.path.isdir(r.path):
        raise ToolError(f"{r.rel} is a folder")
    created = not r.exists()
    raw: bytes | None = None
    if created:
        old_text, encoding, crlf, mode = "", "utf-8", False, None
        parent = os.path.dirname(r.path)
        if not os.path.isdir(parent) and not args.get("create_dirs", True):
            missing = os.path.relpath(parent, r.root).replace(os.sep, "/")
            raise ToolError(f"folder {missing} does not exist (create_dirs is false)")
    else:
        raw = read_bytes(r)
        old_text, encoding, _note = read_text(r, raw)
        crlf = b"\r\n" in raw
        mode = os.stat(r.path).st_mode & 0o7777
        if encoding not in _WRITABLE_ENCODINGS:
            encoding = "utf-8"
    before = _digest(raw)
    new_text = content.replace("\r\n", "\n")
    diff = unified_diff(old_text, new_text, r.rel, created)
    data = _encode(new_text, encoding, crlf)
    verb = "Create" if created else "Overwrite"
    title = f"{verb} {r.rel} ({len(data):,} bytes)"

    def execute() -> ToolResult:
        if not diff:
            return ToolResult(True, f"{r.rel} already has this content", f"{r.rel} unchanged")
        # Check again at write time: the path or the file may have changed since the diff.
        again = ctx.sandbox.resolve(args["path"], write=True)
        if again.path != r.path:
            raise SandboxError(f"{r.rel} changed (now resolves elsewhere); nothing written")
        if _digest(_current(again)) != before:
            raise ToolError(f"{r.rel} changed since the diff was shown; nothing written")
        os.makedirs(os.path.dirname(r.path), exist_ok=True)
        # makedirs may have passed a folder swapped for a link: check once more.
        if ctx.sandbox.resolve(args["path"], write=True).path != r.path:
            raise SandboxError(f"{r.rel} now resolves outside its folder; nothing written")
        atomic_write(r.path, data, mode)
        _, added, removed = diff_counts(diff)
        what = f"{'created' if created else 'wrote'} {r.rel}"
        return ToolResult(
            True, f"{what}: +{added} -{removed} lines", f"{what} (+{added} -{removed})"
        )

    confirmation = Confirmation("write_file", title, diff or "(no change)")
    return Prepared(r.subjects, confirmation, execute, needs_asking=bool(diff))


def build(ctx: ToolContext) -> list[Tool]:
    spec = ToolSpec(
        "write_file",
        "Create a text file or replace its whole content. The user sees the diff and must "
        "approve it. Parent folders are created unless create_dirs is false.",
        obj(
            ("path", "content"),
            path={"type": "string", "minLength": 1, "maxLength": 8192},
            content={"type": "string", "description": "the complete new content of the file"},
            create_dirs={"type": "boolean"},
        ),
    )
    return [Tool(spec, lambda a: _prepare(ctx, a))]
