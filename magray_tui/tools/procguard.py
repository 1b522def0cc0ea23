"""Keeping magray's own secrets away from the commands it runs (Linux).

The shell tool hands its child an environment without secrets (`safe_env` in
tools/context.py, using the rules here), but the child could read the parent's:
`/proc/<magray pid>/environ` shows the environment magray was started with, to any
process of the same user. `protect_process()` closes that twice:

1. `prctl(PR_SET_DUMPABLE, 0)`: magray's /proc files then belong to root and the kernel
   refuses `environ`, `mem` and ptrace to processes of the user without CAP_SYS_PTRACE;
   no core dump is written either.
2. The start-up environment block itself (the memory `/proc/<pid>/environ` reads) is
   overwritten with `*` where it holds a secret-looking variable or a credential inside a
   URL; the C library's copy is moved to the heap first (`os.environ[k] = v`), so
   `getenv`, `os.environ` and the children magray starts still see the real values. This
   also covers root, which may read the file despite (1) on some kernels.

The CLI calls it at start (before any tool can run); the shell and git tools call it again
before they start a process (it is idempotent), so an embedding program is covered too.
Side effects, accepted: debuggers and profilers (gdb, py-spy) cannot attach to magray
without root, and other processes of the user cannot read its /proc/<pid>/exe, cwd or
open files (its cmdline and stat stay readable). Run as root, the commands also lose
CAP_SYS_PTRACE (see `reaper.py`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sys

log = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3

# Variables that commonly hold credentials; never handed to a child process.
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|COOKIE|SESSION|AUTH|PRIVATE|WEBHOOK|"
    r"SIGNATURE|^AWS_|^AZURE_|^GCP_|^GOOGLE_|^MAGRAY_|_PAT$|DSN$|DATABASE_URL$",
    re.IGNORECASE,
)
# `scheme://user:password@host`: the user information is removed from any URL in a value
# (HTTPS_PROXY, REDIS_URL, PIP_INDEX_URL...), whatever the variable is called.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
# Query parameters that carry credentials (`?token=…`, `&sig=…`) lose their value.
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[a-z0-9_.-]*(?:token|key|secret|passw|auth|sig|signature|credential|"
    r"session|code)[a-z0-9_.-]*)=)[^&;#\s]*"
)

_done = False


def scrub_value(value: str) -> str:
    """`value` without credentials inside URLs (user:password@, secret query values)."""
    if "://" not in value:
        return value
    value = _URL_USERINFO.sub(r"\1", value)
    return _SECRET_QUERY.sub(r"\1REDACTED", value)


def is_secret_name(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def protect_process() -> bool:
    """Make this process not dumpable and scrub its start-up environment block; True when
    both held (or already had). Never raises; a failure is logged."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_DUMPABLE, 0) failed: errno %d", ctypes.get_errno())
            return False
        undumpable = libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
        scrub_startup_environ()
    except (OSError, AttributeError, ValueError) as exc:
        log.warning("cannot protect the process environment: %s", exc)
        return False
    _done = undumpable
    return _done


def _environ_block() -> tuple[int, int]:
    with open("/proc/self/stat", "rb") as fh:
        data = fh.read()
    fields = data[data.rindex(b")") + 2 :].split()
    # Fields 50 and 51 (env_start, env_end); `fields` starts at field 3.
    return int(fields[47]), int(fields[48])


def scrub_startup_environ() -> int:
    """Overwrite secrets in the environment block the kernel shows as /proc/self/environ;
    the number of variables scrubbed."""
    start, end = _environ_block()
    if not start or end <= start or end - start > 1 << 24:
        return 0
    block = ctypes.string_at(start, end - start)
    scrubbed, offset = 0, 0
    for entry in block.split(b"\0"):
        raw_name, eq, raw_value = entry.partition(b"=")
        here, offset = offset, offset + len(entry) + 1
        if not eq or not raw_value:
            continue
        name, value = os.fsdecode(raw_name), os.fsdecode(raw_value)
        if not is_secret_name(name) and scrub_value(value) == value:
            continue
        if name in os.environ:
            os.environ[name] = os.environ[name]  # libc's copy moves to the heap (setenv)
        ctypes.memset(start + here + len(raw_name) + 1, ord("*"), len(raw_value))
        scrubbed += 1
    return scrubbed
