"""Confining file tools to the workspace roots.

A path from the model is checked before anything is opened, and each refusal says why:
NUL bytes, oversized paths (over 4096 bytes, or a name over 255), `~` (no home expansion),
backslashes (not separators here, and a classic traversal disguise), `..` leading out of
the roots, absolute paths outside them, symlinks whose target lies outside (the path is
resolved and the result must be inside a root), symlink loops, and anything that is not a
regular file or a folder (devices, FIFOs, sockets: opening one can block or have effects).
Writes are also refused inside `.git` folders: git runs commands named in `.git/config`
and hooks, so a write there would be code execution.

Relative paths start from the first root. Nothing is decoded: `%2e%2e` and look-alike dots
are ordinary file names that stay inside the root. Files are opened with O_NOFOLLOW on the
resolved path, so a link swapped in after the check is refused rather than followed.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from magray_tui.ingest import textfile
from magray_tui.tools.base import ToolError

MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255


class SandboxError(ToolError):
    """A path the sandbox refuses; the message says which rule and why."""


@dataclass(frozen=True)
class Resolved:
    path: str  # absolute, symlink-free
    root: str  # the workspace root holding it
    given: str  # as the caller wrote it

    @property
    def rel(self) -> str:
        """Relative to its root, with `/`; '.' for the root itself."""
        if self.path == self.root:
            return "."
        return os.path.relpath(self.path, self.root).replace(os.sep, "/")

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.rel, self.path)

    def exists(self) -> bool:
        return os.path.lexists(self.path)


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _show(path: str) -> str:
    text = repr(path)
    return text if len(text) <= 80 else text[:60] + "…" + text[-15:]


class Sandbox:
    def __init__(self, roots: Sequence[str | os.PathLike[str]]) -> None:
        if not roots:
            raise ValueError("a sandbox needs at least one workspace root")
        given = [os.path.abspath(os.path.expanduser(os.fspath(r))) for r in roots]
        self.roots = tuple(dict.fromkeys(os.path.realpath(r) for r in given))
        # The roots as written too: `/tmp/ws/x` is inside a root that resolves elsewhere.
        self._spellings = tuple(dict.fromkeys([*self.roots, *given]))

    @classmethod
    def for_settings(cls, roots: Sequence[Path], cwd: str | os.PathLike[str] | None) -> Sandbox:
        base = os.fspath(cwd) if cwd is not None else os.getcwd()
        chosen = [os.path.join(base, os.path.expanduser(os.fspath(r))) for r in roots]
        return cls(chosen or [base])

    @property
    def primary(self) -> str:
        return self.roots[0]

    def _root_of(self, path: str) -> str | None:
        # The deepest root holding `path` (roots may nest).
        holding = [r for r in self.roots if inside(path, r)]
        return max(holding, key=len) if holding else None

    def _check_text(self, given: object) -> str:
        if not isinstance(given, str):
            raise SandboxError("the path must be a string")
        if "\0" in given:
            raise SandboxError("the path contains a NUL byte")
        try:
            size = len(given.encode("utf-8", "surrogatepass"))
        except UnicodeError:  # pragma: no cover - surrogatepass encodes every str
            raise SandboxError("the path is not valid text") from None
        if size > MAX_PATH_BYTES:
            raise SandboxError(f"the path is too long ({size:,} bytes, at most {MAX_PATH_BYTES})")
        for part in given.split("/"):
            if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
                raise SandboxError(f"a name in the path is longer than {MAX_NAME_BYTES} bytes")
        if not given.strip():
            raise SandboxError("the path is empty")
        if given.startswith("~"):
            raise SandboxError(
                f"{_show(given)}: '~' is not expanded; give a path inside the workspace"
            )
        if "\\" in given:
            raise SandboxError(f"{_show(given)}: backslashes are not allowed in paths (use /)")
        return given

    def resolve(self, given: object, *, write: bool = False) -> Resolved:
        """The checked, symlink-free path for `given`; raises SandboxError."""
        text = self._check_text(given)
        joined = os.path.join(self.primary, text)  # an absolute `text` replaces the root
        lexical = os.path.normpath(joined)
        if not any(inside(lexical, r) for r in self._spellings):
            if os.path.isabs(text) and ".." not in text.split("/"):
                raise SandboxError(f"{_show(text)} is outside the workspace roots")
            raise SandboxError(f"{_show(text)} leads outside the workspace (via '..')")
        real = os.path.realpath(joined)
        root = self._root_of(real)
        if root is None:
            raise SandboxError(
                f"{_show(text)} is a symlink (or passes one) leading outside the workspace"
            )
        resolved = Resolved(real, root, text)
        self._check_kind(resolved)
        if write and ".git" in resolved.rel.split("/"):
            raise SandboxError(f"{_show(text)}: writing inside a .git folder is not allowed")
        return resolved

    def _check_kind(self, r: Resolved) -> None:
        try:
            st = os.stat(r.path)
        except FileNotFoundError:
            return  # may be created (write_file); readers report "not found" themselves
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SandboxError(f"{_show(r.given)} is a symlink loop") from None
            if exc.errno == errno.ENAMETOOLONG:
                raise SandboxError(f"{_show(r.given)}: the path is too long") from None
            if exc.errno == errno.ENOTDIR:
                return  # a parent is a file: the tool reports "not found"
            raise SandboxError(f"{_show(r.given)}: cannot access it ({exc.strerror})") from None
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise SandboxError(
                f"{_show(r.given)} is not a regular file or folder (device, FIFO or socket)"
            )


def open_regular(path: str, flags: int = os.O_RDONLY) -> int:
    """Open a resolved path without following a final symlink and without blocking on a
    FIFO; the descriptor is checked to be a regular file. Raises SandboxError or OSError."""
    try:
        return textfile.open_regular(path, flags)
    except textfile.NotRegularFile:
        raise SandboxError("not a regular file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SandboxError("the file became a symlink after it was checked") from None
        raise
