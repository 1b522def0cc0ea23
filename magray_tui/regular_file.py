"""Opening a file a user named (a config, a theme, an import, `--file`) without trusting
what it turned out to be.

A plain `open()` of a FIFO waits for a writer forever, `/dev/zero` never ends, and a
folder or a file of gigabytes fails late and oddly. Here the path is opened without
blocking, the descriptor (not the path, which may be swapped meanwhile) is checked to be a
regular file, and its size is bounded. Every refusal is an `OSError` with a readable
`strerror`, so the existing "cannot read X: why" handlers report it in one line.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class NotARegularFile(OSError):
    """A FIFO, socket or device where a file was expected."""


class FileTooLarge(OSError):
    """A file over the size its reader accepts."""


def open_regular(path: str | Path, *, max_bytes: int | None = None) -> BinaryIO:
    """`path` opened for binary reading, if it is a regular file of at most `max_bytes`."""
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(
                errno.EINVAL, "not a regular file (a FIFO, socket or device)", str(path)
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLarge(
                errno.EFBIG,
                f"file too large ({info.st_size:,} bytes, at most {max_bytes:,})",
                str(path),
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, *, max_bytes: int) -> bytes:
    """All of a regular file of at most `max_bytes` (also if it grows while read)."""
    with open_regular(path, max_bytes=max_bytes) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(errno.EFBIG, f"file too large (over {max_bytes:,} bytes)", str(path))
    return data
