"""Read-only snapshots: a copy of the database for a reader while another process holds
the file (DuckDB lets only one process open it). Each snapshot folder records its owner;
folders whose owner is gone (a killed reader) are removed at the next start."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "magray-snapshot-"
OWNER_FILE = "owner"
# A folder from before owner files, untouched this long, belongs to no running reader
# (a snapshot is made and opened in seconds).
UNOWNED_GRACE_S = 600.0


def lock_holder(message: str) -> str | None:
    """'PID n (command)' from DuckDB's lock conflict message."""
    match = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    if not match:
        return None
    exe, pid = match.group(1), int(match.group(2))
    try:
        import psutil

        cmd = " ".join(psutil.Process(pid).cmdline()) or exe
    except Exception:
        cmd = exe
    return f"PID {pid} ({cmd[:120]})"


def _start_time(pid: int) -> float | None:
    try:
        import psutil

        return round(psutil.Process(pid).create_time(), 2)
    except Exception:
        return None


def make_snapshot_dir() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=PREFIX))
    (tmp / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return tmp


def _owner_alive(folder: Path) -> bool:
    try:
        pid_text, started = (folder / OWNER_FILE).read_text().split()
        pid = int(pid_text)
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime < UNOWNED_GRACE_S
        except OSError:
            return False
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return True
    now_started = _start_time(pid)
    if now_started is None:
        return False
    return started == "None" or float(started) == now_started  # not a reused pid


def clean_stale_snapshots(root: Path | None = None) -> list[Path]:
    """Remove snapshot folders (ours, by uid) whose reader process is gone."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return []
    for folder in candidates:
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if _owner_alive(folder):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    if removed:
        log.info("removed %d snapshot folder(s) left by stopped readers", len(removed))
    return removed
