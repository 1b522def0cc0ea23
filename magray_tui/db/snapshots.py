"""Who holds the database file when DuckDB refuses to open it.

(Read-only snapshot copies are gone: a magray process that finds the home in use becomes a
client of the one hosting it, see `magray_tui.host`; the host removes snapshot folders that
older readers left in the temp dir.)"""

from __future__ import annotations

import re


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
