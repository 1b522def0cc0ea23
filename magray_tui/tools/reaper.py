"""The shell tool's supervisor: runs one command and leaves no process behind (Linux).

Run by `tools/shell.py` as `python -I -S reaper.py CONTROL_FD -- PROGRAM ARGS...`, never
imported by magray (standard library only, so `-S` keeps the start-up short).

- It makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`): whatever the command
  starts and abandons (`sleep 120 &`, a double fork, `setsid …`, `nohup …`) is re-parented
  to it instead of to PID 1, so it stays findable as a descendant.
- The command runs in its own session, with the output descriptors the supervisor got.
- When the command exits, or magray asks (a byte on CONTROL_FD: timeout, cancel), or
  magray goes away (CONTROL_FD at end of file), every descendant is killed with SIGKILL
  and reaped, scanning /proc until none is left; only then does the supervisor exit, so the
  output pipe closes when nothing is left that could write to it.
- Run as root, the command loses CAP_SYS_PTRACE (dropped from the bounding set), so it
  cannot read the environment or memory of magray, which is not dumpable.

Exit status: the command's, or 128 + the signal that killed it; 125 when killed on request.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import signal
import sys

PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
CAP_SYS_PTRACE = 19
KILLED_ON_REQUEST = 125
MAX_SWEEPS = 1000


def _prctl(option: int, arg: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, arg, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                data = fh.read()
            ppid = int(data[data.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        kids.setdefault(ppid, []).append(int(name))
    return kids


def descendants(pid: int) -> list[int]:
    kids = _children()
    found, todo = [], [pid]
    while todo:
        for child in kids.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep() -> None:
    """Kill and reap every descendant until none is left (a forking one is caught on the
    next pass: a process cannot fork once SIGKILL is pending)."""
    me = os.getpid()
    for _ in range(MAX_SWEEPS):
        alive = descendants(me)
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(OSError):  # gone meanwhile
                os.kill(pid, signal.SIGKILL)
        _reap()
        select.select([], [], [], 0.001)


def _spawn(argv: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # the command
        try:
            os.setsid()
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            os.execv(argv[0], argv)
        except OSError as exc:
            os.write(2, f"cannot run {argv[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    return pid


def _status(raw: int) -> int:
    if os.WIFSIGNALED(raw):
        return 128 + os.WTERMSIG(raw)
    return os.waitstatus_to_exitcode(raw)


def supervise(control: int, argv: list[str]) -> int:
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):  # without CAP_SETPCAP it cannot be dropped
            _prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stop: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, lambda n, _f: stop.append(n))
    child = _spawn(argv)
    code: int | None = None
    while code is None and not stop:
        try:
            ready, _, _ = select.select([control, wake_r], [], [])
        except InterruptedError:
            continue
        if control in ready:
            os.read(control, 1)  # a byte (stop) or end of file (magray went away): both stop
            code = KILLED_ON_REQUEST
            break
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
        pid, raw = os.waitpid(child, os.WNOHANG)
        if pid == child:
            code = _status(raw)
    sweep()
    return KILLED_ON_REQUEST if code is None else code


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        os.write(2, b"usage: reaper.py CONTROL_FD -- PROGRAM [ARGS...]\n")
        return 2
    return supervise(int(args[0]), args[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
