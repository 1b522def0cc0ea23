"""shell: one command, run without a shell, only when enabled and (by default) approved.

The command line is split with `shlex` into an argv and executed directly: `;`, `|`,
`&&`, `$(...)`, backticks and redirections are ordinary arguments, never interpreted. The
confirmation shows that exact argv. The child gets no stdin and an environment without
variables that look like secrets (nor credentials inside URL values). On Linux it runs
under a small supervisor (`reaper.py`, a child subreaper): when the command exits, times
out or is cancelled, everything it started is killed, `&`, `setsid` and double forks
included, before the call returns. magray itself is made undumpable first
(`procguard.py`), so the command cannot read magray's environment from /proc. Output is
read up to the cap; the rest is drained and counted, so a chatty command cannot fill
memory. Arguments are not confined to the workspace: that is why the tool is off by
default and asks. Policy rules match every program the command line runs, however it is
spelled (`programs.py`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from magray_tui.private_files import user_umask
from magray_tui.tools.base import (
    Confirmation,
    Prepared,
    Tool,
    ToolError,
    ToolResult,
    ToolSpec,
    one_line,
)
from magray_tui.tools.context import ToolContext, safe_env
from magray_tui.tools.procguard import protect_process
from magray_tui.tools.programs import policy_groups
from magray_tui.tools.schema import obj

REAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reaper.py")
SUPERVISED = sys.platform.startswith("linux")

MAX_COMMAND_CHARS = 16_000


def parse_argv(command: str) -> list[str]:
    if "\0" in command:
        raise ToolError("the command contains a NUL byte")
    if len(command) > MAX_COMMAND_CHARS:
        raise ToolError(f"the command is too long ({len(command):,} characters)")
    try:
        argv = shlex.split(command, posix=True)
    except ValueError as exc:
        raise ToolError(f"cannot parse the command: {exc}") from None
    if not argv:
        raise ToolError("the command is empty")
    return argv


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _spawn(argv: list[str], cwd: str) -> tuple[subprocess.Popen[bytes], int | None]:
    """The command, under the supervisor where there is one; (process, control fd)."""
    common: dict[str, Any] = {
        "cwd": cwd,
        "env": safe_env(),
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "start_new_session": True,  # its own process group and session
        "shell": False,
        "umask": user_umask(),  # the user's, not magray's private 077 (private_files.py)
    }
    if not SUPERVISED:
        return subprocess.Popen(argv, **common), None
    control_r, control_w = os.pipe()
    try:
        supervisor = [sys.executable, "-I", "-S", REAPER, str(control_r), "--", *argv]
        proc = subprocess.Popen(supervisor, pass_fds=(control_r,), **common)
    except BaseException:
        os.close(control_w)
        raise
    finally:
        os.close(control_r)
    return proc, control_w


def run_argv(argv: list[str], cwd: str, timeout: float, cap: int) -> tuple[int | None, bytes, int]:
    """(exit status or None on timeout, first `cap` bytes of stdout+stderr, bytes dropped).

    When it returns, no process the command started is left (Linux: the supervisor
    killed and reaped them all; elsewhere: the command's process group is killed)."""
    protect_process()
    proc, control = _spawn(argv, cwd)
    kept = bytearray()
    dropped = 0

    def pump() -> None:
        nonlocal dropped
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            room = cap - len(kept)
            kept.extend(chunk[: max(room, 0)])
            dropped += max(len(chunk) - max(room, 0), 0)

    reader = threading.Thread(target=pump, name="magray-shell-output", daemon=True)
    reader.start()
    status: int | None
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = None
        if control is not None:
            os.write(control, b"k")  # the supervisor kills the whole tree, then exits
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                _kill(proc)
        else:
            _kill(proc)
        proc.wait()
    finally:
        if control is not None:
            os.close(control)
    if control is None:
        _kill(proc)  # no supervisor: at least the command's process group goes
    elif status is not None and status < 0:
        status = 128 - status  # the supervisor itself was killed by a signal
    # With the supervisor gone no writer is left; without one, a grandchild outside the
    # process group may still hold the pipe: it is not waited for past 2 s.
    reader.join(timeout=2.0)
    return status, bytes(kept), dropped


def _program(argv0: str, cwd: str) -> str:
    exe = shutil.which(argv0, path=safe_env().get("PATH")) if "/" not in argv0 else argv0
    if exe is None:
        raise ToolError(f"command not found: {argv0}")
    exe = os.path.join(cwd, exe)  # a relative path (./x) is taken from the command's cwd
    if not os.path.exists(exe):
        raise ToolError(f"command not found: {argv0}")
    if os.path.isdir(exe) or not os.access(exe, os.X_OK):
        raise ToolError(f"not executable: {argv0}")
    return exe


def _execute(ctx: ToolContext, argv: list[str], cwd: str) -> ToolResult:
    exe = _program(argv[0], cwd)
    timeout = ctx.settings.shell_timeout_s
    started = time.monotonic()
    try:
        status, out, dropped = run_argv([exe, *argv[1:]], cwd, timeout, ctx.cap)
    except FileNotFoundError:
        raise ToolError(f"command not found: {argv[0]}") from None
    except PermissionError:
        raise ToolError(f"not executable: {argv[0]}") from None
    except OSError as exc:
        raise ToolError(f"cannot run {argv[0]}: {exc.strerror}") from None
    took = time.monotonic() - started
    text = out.decode("utf-8", "replace")
    notes = []
    if dropped:
        notes.append(f"[output truncated: {dropped:,} more bytes not shown]")
    if status is None:
        notes.append(f"[timed out after {timeout:g} s; the command was killed]")
    elif status != 0:
        notes.append(f"[exit status {status}]")
    body = "\n".join([text.rstrip("\n"), *notes]) if notes else text
    ended = "timed out" if status is None else f"exit {status}"
    summary = f"ran {one_line(shlex.join(argv), 80)}: {ended} in {took:.1f} s"
    return ToolResult(status == 0, body, summary)


def _prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    argv = parse_argv(args["command"])
    cwd = ctx.sandbox.resolve(args.get("cwd", "."))
    if not os.path.isdir(cwd.path):
        raise ToolError(f"cwd {cwd.rel} is not a folder")
    line = shlex.join(argv)
    detail = (
        f"argv: {argv!r}\ncwd: {cwd.path}\n"
        f"no shell; timeout {ctx.settings.shell_timeout_s:g} s; output cap {ctx.cap:,} bytes"
    )
    return Prepared(
        (line,),
        Confirmation("shell", f"Run {one_line(line, 100)}", detail),
        lambda: _execute(ctx, argv, cwd.path),
        also=policy_groups(argv, cwd.path, safe_env().get("PATH")),
    )


def build(ctx: ToolContext) -> list[Tool]:
    spec = ToolSpec(
        "shell",
        "Run one program with arguments (split like a POSIX shell, but no shell runs it: "
        "pipes, redirections, ; and $() are NOT available). Needs the user's approval; "
        "has a timeout and an output cap.",
        obj(
            ("command",),
            command={"type": "string", "minLength": 1, "maxLength": MAX_COMMAND_CHARS},
            cwd={"type": "string", "minLength": 1, "maxLength": 8192, "description": "default '.'"},
        ),
    )
    return [Tool(spec, lambda a: _prepare(ctx, a))]
