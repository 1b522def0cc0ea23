"""shell: one command, run without a shell, only when enabled and (by default) approved.

The command line is split with `shlex` into an argv and executed directly: `;`, `|`,
`&&`, `$(...)`, backticks and redirections are ordinary arguments, never interpreted. The
confirmation shows that exact argv. The child gets no stdin, an environment without
variables that look like secrets, its own process group (killed whole on timeout), and its
output is read up to the cap; the rest is drained and counted, so a chatty command cannot
fill memory. Arguments are not confined to the workspace: that is why the tool is off by
default and asks.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from typing import Any

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
from magray_tui.tools.schema import obj

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


def run_argv(argv: list[str], cwd: str, timeout: float, cap: int) -> tuple[int | None, bytes, int]:
    """(exit status or None on timeout, first `cap` bytes of stdout+stderr, bytes dropped)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=safe_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a timeout kills the children too
        shell=False,
    )
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
    try:
        status: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()
        status = None
    # Grandchildren may hold the pipe open after the child exits: give them a moment.
    deadline = time.monotonic() + 2.0
    reader.join(timeout=max(0.0, deadline - time.monotonic()))
    if reader.is_alive():
        _kill(proc)
        reader.join(timeout=2.0)
    return status, bytes(kept), dropped


def _execute(ctx: ToolContext, argv: list[str], cwd: str) -> ToolResult:
    exe = shutil.which(argv[0], path=safe_env().get("PATH")) if "/" not in argv[0] else argv[0]
    if exe is None:
        raise ToolError(f"command not found: {argv[0]}")
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
