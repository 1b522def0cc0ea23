"""Run the real `magray` command in a subprocess (a pipe, or a pseudo-terminal).

The hostile-input tests use these: what reaches a terminal is the bytes the process
writes, so they are checked as bytes, from a real process, with real files.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What must never reach a terminal raw: C0 controls but TAB and LF, DEL, C1 controls and
# the bidi embeddings / overrides / isolates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The same, minus CR: a pty turns every "\n" into "\r\n".
UNSAFE_ON_PTY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")

# A text that, printed raw, sets the window title, clears the screen, starts an 8-bit CSI,
# reverses the rest of the line and overwrites it.
EVIL = "A\x1b]0;PWNED\x07B\x1b[2JC\x9b31mD\u202eE\rF\x08G"
# How `one_line` shows it (table cells, one-line fields): every control visible.
EVIL_SHOWN = "A␛]0;PWNED␇B␛[2JC\\x9b31mD\\u202eE␍F␈G"


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGRAY_")}
    env.update(
        PYTHONPATH=str(ROOT),
        MAGRAY_HOME=str(home),
        COLUMNS="240",
        LINES="50",
        TERM="xterm-256color",
    )
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run_cli(
    home: Path,
    *args: str,
    input: bytes | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[bytes]:
    """`magray ARGS` with MAGRAY_HOME=home; stdout and stderr as bytes."""
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run(
        [sys.executable, "-m", "magray_tui.cli", *args],
        input=input,
        capture_output=True,
        env=env or env_for(home),
        cwd=str(home.parent),
        timeout=timeout,
    )


def run_on_pty(home: Path, *args: str, timeout: float = 180) -> tuple[int, bytes]:
    """`magray ARGS` with a pseudo-terminal as stdin, stdout and stderr (so rich styles
    its output as for a person). Returns (exit status, everything written)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "magray_tui.cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env_for(home),
        cwd=str(home.parent),
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise AssertionError(f"magray {' '.join(args)} did not finish within {timeout} s")
        return proc.wait(timeout=30), bytes(out)
    finally:
        os.close(master)


def assert_inert(raw: bytes, where: str, *, on_pty: bool = False) -> str:
    """The output decodes as UTF-8 and holds no raw control character (SGR styling from
    rich allowed on a pty); returns the text."""
    text = raw.decode("utf-8")
    if on_pty:
        text = SGR.sub("", text)
    bad = (UNSAFE_ON_PTY if on_pty else UNSAFE).findall(text)
    assert not bad, f"{where}: raw control characters {bad!r} reached the terminal: {text!r}"
    return text
