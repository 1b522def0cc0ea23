"""Walking folders: ignore rules, size limit, symlinks, loops, unreadable folders.

Symlinks below a root are not followed: one that leads outside the root is reported as
`outside_root`, one that loops as `symlink_loop`, one to a place inside the root as
`symlink` (what it points to is ingested under its own path), a dangling one as
`broken_symlink`. A root given as a symlink is resolved first. Every skip is reported
through `on_skip(reason, path)`, never raised.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from magray_tui.ingest.ignore import IgnoreMatcher
from magray_tui.ingest.textfile import has_binary_extension

SKIP_REASONS: dict[str, str] = {
    "missing": "path not found",
    "ignored": "ignored by .gitignore or ignore patterns",
    "too_large": "larger than the size limit",
    "binary": "binary",
    "unreadable": "unreadable (permission or I/O error)",
    "outside_root": "symlink leading outside the folder",
    "symlink_loop": "symlink loop",
    "symlink": "symlink to a file or folder already inside (ingested under its own path)",
    "broken_symlink": "dangling symlink",
    "special": "not a regular file (device, socket, pipe)",
    "vanished": "disappeared while being read",
    "empty": "empty or whitespace only",
}

OnSkip = Callable[[str, str], None]


@dataclass(frozen=True)
class FileEntry:
    path: str  # absolute, symlink-free
    size: int
    mtime_ns: int


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def classify_symlink(path: str, root: str) -> str:
    """The skip reason for a symlink found below `root`."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink_loop"
        return "broken_symlink"
    except RuntimeError:  # older Pythons signal loops this way
        return "symlink_loop"
    if not inside(target, root):
        return "outside_root"
    if os.path.isdir(target) and inside(os.path.dirname(path), target):
        return "symlink_loop"  # a folder link back to one of its own parents
    return "symlink"


class Walker:
    """Lists the files to ingest under one root (a folder or a single file)."""

    def __init__(
        self,
        root: str,
        matcher: IgnoreMatcher,
        max_bytes: int,
        on_skip: OnSkip,
        exclude: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.exclude = frozenset(exclude)  # folders never entered (magray's own)
        self.matcher = matcher
        self.max_bytes = max_bytes
        self.on_skip = on_skip

    def check_file(self, path: str, st: os.stat_result) -> FileEntry | None:
        if not stat.S_ISREG(st.st_mode):
            self.on_skip("special", path)
            return None
        if has_binary_extension(path):  # named for what it is, before its size
            self.on_skip("binary", path)
            return None
        if st.st_size > self.max_bytes:
            self.on_skip("too_large", path)
            return None
        return FileEntry(path, st.st_size, st.st_mtime_ns)

    def walk(self, start: str | None = None) -> Iterator[FileEntry]:
        """Files under `start` (default: the root), which must be inside the root and
        already admitted by the ignore rules."""
        start = start or self.root
        try:
            st = os.stat(start)
        except FileNotFoundError:
            self.on_skip("missing", start)
            return
        except OSError:
            self.on_skip("unreadable", start)
            return
        if not stat.S_ISDIR(st.st_mode):
            entry = self.check_file(start, st)
            if entry:
                yield entry
            return
        seen = {(st.st_dev, st.st_ino)}
        stack = [start]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except FileNotFoundError:
                self.on_skip("vanished", folder)
                continue
            except OSError:
                self.on_skip("unreadable", folder)
                continue
            subdirs = []
            for entry in entries:
                yield from self._entry(entry, seen, subdirs)
            stack.extend(reversed(subdirs))

    def _entry(self, entry: os.DirEntry, seen: set, subdirs: list[str]) -> Iterator[FileEntry]:
        path = entry.path
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            self.on_skip("unreadable", path)
            return
        if self.matcher.ignored(path, is_dir) or (is_dir and path in self.exclude):
            self.on_skip("ignored", path)
            return
        if is_link:
            self.on_skip(classify_symlink(path, self.root), path)
            return
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            self.on_skip("vanished", path)
            return
        except OSError:
            self.on_skip("unreadable", path)
            return
        if is_dir:
            key = (st.st_dev, st.st_ino)
            if key in seen:  # a bind mount or hard-linked folder seen before
                self.on_skip("symlink_loop", path)
                return
            seen.add(key)
            subdirs.append(path)
            return
        found = self.check_file(path, st)
        if found:
            yield found
