"""magray's files are its user's alone: folders 0700, files 0600.

The database holds chats and tool outputs, debug logs hold prompts, the indexes hold the
memories' words. Rather than chase every file each library creates (DuckDB writes a new
WAL after each checkpoint, tantivy new segments, the log handler new rotations), a magray
process runs with umask 077, so everything it creates is private from the start.

Files magray writes *for the user* elsewhere are not its data: the agent's file tools and
the commands they run keep the umask the user had (`user_umask()`), so a script the agent
writes into a project gets the same mode as one the user would have written.

A home made by an older magray (0755 folders, 0644 files) is tightened when it is opened,
with one log line saying what changed.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077

_user_umask: int | None = None


def restrict_umask() -> int:
    """From now on, files and folders this process creates are private. Idempotent;
    returns the user's own umask."""
    global _user_umask
    if _user_umask is None:
        _user_umask = os.umask(PRIVATE_UMASK)
    return _user_umask


def user_umask() -> int:
    """The umask the user had before magray restricted it (the current one if it did not).

    Read without changing the process umask (os.umask(0) to peek would let a file created
    by another thread in that instant be world-writable)."""
    if _user_umask is not None:
        return _user_umask
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@dataclass
class Tightened:
    folders: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.folders or self.files or self.failed)


def tighten(roots: Iterable[Path]) -> Tightened:
    """Take group and other access away from every folder and file under `roots` (the
    roots included) that had any: 0755 -> 0700, 0644 -> 0600. Only what this user owns;
    symlinks are not followed."""
    done = Tightened()
    uid = os.geteuid()
    for root in roots:
        for path, is_dir in _walk(root):
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if info.st_uid != uid or not info.st_mode & 0o077:
                continue
            if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
                continue
            try:  # drop group and other bits; keep the owner's (an executable stays one)
                os.chmod(path, stat.S_IMODE(info.st_mode) & ~PRIVATE_UMASK)
            except OSError:
                done.failed.append(path)
                continue
            (done.folders if is_dir else done.files).append(path)
    return done


def _walk(root: Path) -> Iterable[tuple[str, bool]]:
    if not root.is_dir() or root.is_symlink():
        return
    yield str(root), True
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs:
            yield os.path.join(folder, name), True
        for name in files:
            yield os.path.join(folder, name), False


def secure_home(roots: Iterable[Path]) -> Tightened:
    """restrict_umask(), then tighten a home left open by an older magray; logs one line."""
    restrict_umask()
    roots = list(roots)
    done = tighten(roots)
    if done.folders or done.files:
        log.warning(
            "tightened permissions of %d folder(s) and %d file(s) under %s that others could "
            "read (now 0700 / 0600)",
            len(done.folders),
            len(done.files),
            ", ".join(str(r) for r in roots if r.exists()),
        )
    if done.failed:
        log.warning("could not make private: %s", ", ".join(done.failed[:5]))
    return done
