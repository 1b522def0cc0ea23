"""The shell tool leaves no process behind and cannot read magray's own environment.

Real commands, real process trees: background jobs, `setsid`, double forks and `nohup`
must all be gone when the call returns; a child reading `/proc/<magray>/environ` must get
nothing (run in a separate Python process, so the test runner itself stays dumpable).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from magray_tui.tools import ToolRegistry, deny_all
from magray_tui.tools.context import safe_env
from tests.conftest import wait_until
from tests.tools.conftest import Workspace, make_registry

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


@pytest.fixture
def shell(ws: Workspace) -> ToolRegistry:
    return make_registry(ws.root, shell=True, policy={"shell": "allow"})


def _token() -> str:
    """A sleep duration no other process on the machine has on its command line."""
    return f"{100 + uuid.uuid4().int % 800}.{uuid.uuid4().int % 10**9:09d}"


def _alive_with(token: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmdline and state != b"Z":
            found.append(int(name))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


ESCAPES = {
    "background": "sh -c 'sleep {t} >/dev/null 2>&1 &'",
    "background keeping the pipe": "sh -c 'sleep {t} & echo started'",
    "setsid": "sh -c 'setsid sleep {t} >/dev/null 2>&1 &'",
    "setsid --fork": "setsid -f sleep {t}",
    "double fork": "sh -c '(sh -c \"sleep {t} &\" &) ; true'",
    "nohup": "sh -c 'nohup sleep {t} >/dev/null 2>&1 &'",
    "own process group": "sh -c 'set -m; sleep {t} >/dev/null 2>&1 &'",
    "many": "sh -c 'for i in 1 2 3 4 5 6 7 8; do setsid sleep {t} >/dev/null 2>&1 & done'",
}


def test_the_escapes_are_real_without_the_tool() -> None:
    """The control: each way of escaping leaves a live process when run directly."""
    token = _token()
    try:
        subprocess.run(
            ["sh", "-c", f"setsid sleep {token} >/dev/null 2>&1 &"], check=True, timeout=10
        )
        wait_until(lambda: bool(_alive_with(token)), timeout=10)
    finally:
        _kill(_alive_with(token))


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_nothing_the_command_started_survives_the_call(shell: ToolRegistry, name: str) -> None:
    token = _token()
    started = time.monotonic()
    try:
        result = shell.run("shell", {"command": ESCAPES[name].format(t=token)}, deny_all)
        took = time.monotonic() - started
        assert result.ok, result.output
        assert _alive_with(token) == []
        assert took < 60  # returned when the command did, not when the 100+ s sleep ends
    finally:
        _kill(_alive_with(token))


def test_a_timeout_kills_the_whole_tree(ws: Workspace) -> None:
    reg = make_registry(ws.root, shell=True, policy={"shell": "allow"}, shell_timeout_s=1)
    token = _token()
    try:
        command = f"sh -c 'setsid sleep {token} & sleep {token}'"
        result = reg.run("shell", {"command": command}, deny_all)
        assert not result.ok and "[timed out after 1 s; the command was killed]" in result.output
        assert _alive_with(token) == []
    finally:
        _kill(_alive_with(token))


def test_output_and_exit_status_come_through_the_supervisor(shell: ToolRegistry) -> None:
    result = shell.run("shell", {"command": "sh -c 'echo out; echo err >&2; exit 3'"}, deny_all)
    assert not result.ok
    assert result.output.splitlines() == ["out", "err", "[exit status 3]"]
    killed = shell.run("shell", {"command": "sh -c 'kill -9 $$'"}, deny_all)
    assert killed.output.strip() == "[exit status 137]"
    assert shell.run("shell", {"command": "true"}, deny_all).output == ""


_ENVIRON_PROBE = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from magray_tui.config import Settings
    from magray_tui.tools import ToolRegistry, deny_all

    secret, proxy_pw = sys.argv[1], sys.argv[2]
    me = os.getpid()
    # The control: before magray protects itself, a child reads the secret.
    control = subprocess.run(["cat", f"/proc/{me}/environ"], capture_output=True).stdout
    settings = Settings(tools={"workspace_roots": [sys.argv[3]], "shell": True,
                               "policy": {"shell": "allow"}})
    registry = ToolRegistry.default(settings, cwd=sys.argv[3])
    commands = {
        "ppid": "sh -c 'tr \\"\\\\0\\" \\"\\\\n\\" < /proc/$PPID/environ'",
        "magray": f"cat /proc/{me}/environ",
        "grandparent": "sh -c 'cat /proc/$(cut -d\\" \\" -f4 /proc/$PPID/stat)/environ'",
        "memory": f"head -c 100 /proc/{me}/mem",
        "env": "env",
    }
    out = {name: registry.run("shell", {"command": c}, deny_all).output
           for name, c in commands.items()}
    out["control"] = control.decode("utf-8", "replace")
    print(json.dumps(out))
    """
)


_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _python_for(prefix: list[str]) -> str:
    """An interpreter the probe's user can start (and start again: the supervisor)."""
    for candidate in (sys.executable, "/usr/bin/python3.11", "/usr/bin/python3"):
        check = subprocess.run(
            [*prefix, "sh", "-c", 'exec "$0" -c "import pydantic"', candidate],
            capture_output=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            cwd="/",
        )
        if check.returncode == 0:
            return candidate
    pytest.fail("no Python interpreter the unprivileged user can run")


def _probe(workspace: Path, prefix: list[str]) -> tuple[dict[str, str], str, str]:
    """Run the probe (as `prefix` says: another user or not); its outputs and secrets."""
    secret = f"sk-{uuid.uuid4().hex}"
    proxy_pw = f"pw{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        # In the environment magray starts with: what /proc/<pid>/environ shows.
        "MAGRAY_PROBE_API_KEY": secret,
        "HTTPS_PROXY": f"http://user:{proxy_pw}@proxy.invalid:3128",
        "REDIS_URL": f"redis://:{proxy_pw}@cache.invalid:6379/0",
    }
    done = subprocess.run(
        [*prefix, _python_for(prefix), "-c", _ENVIRON_PROBE, secret, proxy_pw, str(workspace)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=workspace,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert secret in out["control"] and proxy_pw in out["control"]  # the attack is real
    for name in ("ppid", "magray", "grandparent", "memory", "env"):
        assert secret not in out[name], name
        assert proxy_pw not in out[name], name
    return out, secret, proxy_pw


def test_a_command_cannot_read_magrays_environment(ws: Workspace) -> None:
    out, _, _ = _probe(ws.root, [])
    assert "HTTPS_PROXY=http://proxy.invalid:3128" in out["env"].splitlines()
    assert "REDIS_URL=redis://cache.invalid:6379/0" in out["env"].splitlines()
    assert "MAGRAY_PROBE_API_KEY" not in out["env"]
    assert "Permission denied" in out["memory"]


def test_for_an_ordinary_user_magrays_proc_files_are_closed(tmp_path: Path) -> None:
    """Not dumpable: the kernel refuses /proc/<magray>/environ to the user's own commands
    (as root, only the scrubbed block protects it on some kernels: the test above)."""
    prefix: list[str] = []
    workspace = tmp_path / "ws"
    if os.geteuid() == 0:
        prefix = _NOBODY
        workspace = Path(tempfile.mkdtemp(prefix="magray-probe-"))
        workspace.chmod(0o755)
    else:
        workspace.mkdir()
    try:
        out, _, _ = _probe(workspace, prefix)
    finally:
        if prefix:
            shutil.rmtree(workspace, ignore_errors=True)
    assert "Permission denied" in out["magray"] and "[exit status 1]" in out["magray"]
    assert "Permission denied" in out["grandparent"]


def test_the_cli_makes_magray_undumpable_at_start(tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        import ctypes, sys
        from magray_tui.cli import main
        libc = ctypes.CDLL(None)
        before = libc.prctl(3, 0, 0, 0, 0)
        try:
            main(["--home", sys.argv[1], "config", "path"])
        except SystemExit:
            pass
        print(before, libc.prctl(3, 0, 0, 0, 0))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.split()[-2:] == ["1", "0"], done.stdout + done.stderr


@pytest.mark.parametrize(
    ("value", "scrubbed"),
    [
        ("http://user:pw@proxy:3128", "http://proxy:3128"),
        ("https://u:p@ss@host/x", "https://host/x"),
        ("redis://:pw@host:6379/0", "redis://host:6379/0"),
        ("https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://h/hook?token=abc&x=1", "https://h/hook?token=REDACTED&x=1"),
        ("https://h/p?access_token=zz#f", "https://h/p?access_token=REDACTED#f"),
        ("http://a:b@one,http://c:d@two", "http://one,http://two"),
        ("http://proxy:3128", "http://proxy:3128"),
        ("/usr/bin:/bin", "/usr/bin:/bin"),
    ],
)
def test_credentials_inside_url_values_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch, value: str, scrubbed: str
) -> None:
    monkeypatch.setenv("SOME_URL", value)
    monkeypatch.setenv("SLACK_WEBHOOK", "https://hooks.example/T0/B0/secret")
    env = safe_env()
    assert env["SOME_URL"] == scrubbed
    assert "SLACK_WEBHOOK" not in env
