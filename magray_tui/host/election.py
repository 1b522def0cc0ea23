"""Who hosts a home: whoever holds an exclusive `flock` on `state/host/host.lock`.

The kernel drops the lock when its holder exits, however it exits (kill -9 included), so
there is never a stale lock to clean up and never two holders. The socket file next to it
is valid only while the lock is held: a new host unlinks whatever socket file it finds
(it can only be a dead host's) before binding its own.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
from pathlib import Path

from magray_tui.host.errors import HostError

LOCK_NAME = "host.lock"
SOCKET_NAME = "host.sock"
_MAX_SUN_PATH = 100  # sun_path holds 108 bytes; longer paths go through /proc/self/fd


def host_dir(state_dir: Path) -> Path:
    """The private folder (0700, ours) holding the lock and the socket; made if missing."""
    folder = Path(state_dir) / "host"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise HostError(f"{folder} is not a folder; move it aside")
    if info.st_uid != os.getuid():
        raise HostError(
            f"{folder} belongs to another user (uid {info.st_uid}); this home is not yours"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder


class HostLock:
    """The host election. `acquire()` never blocks; the holder is the host."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        # O_CLOEXEC (Python's default): a tool's child process never inherits the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        # Who holds it, for people and error messages (the lock itself is the truth).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    def holder_pid(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None


def socket_address(folder: Path) -> tuple[str, int | None]:
    """A path to bind/connect to, and a descriptor to close afterwards (long paths only)."""
    path = folder / SOCKET_NAME
    if len(os.fsencode(path)) <= _MAX_SUN_PATH:
        return str(path), None
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    return f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}", dir_fd


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (SO_PEERCRED)."""
    import struct

    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid
