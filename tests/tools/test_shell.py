"""The shell tool: off by default; argv without a shell, timeout, output cap, clean env."""

from __future__ import annotations

import shlex
import sys
import time

import pytest

from magray_tui.tools import ToolRegistry, allow_all, deny_all
from tests.tools.conftest import Asker, Workspace, make_registry


@pytest.fixture
def sh(ws: Workspace) -> ToolRegistry:
    return make_registry(ws.root, shell=True)


def test_off_unless_enabled(registry: ToolRegistry) -> None:
    assert "shell" not in [s.name for s in registry.specs()]
    assert registry.get("shell") is None
    result = registry.run("shell", {"command": "echo hi"}, allow_all)
    assert not result.ok
    assert "shell tool is off; set `shell = true` under [tools]" in result.output


def test_asks_with_the_exact_argv_then_runs(ws: Workspace, sh: ToolRegistry) -> None:
    assert "shell" in [s.name for s in sh.specs()]
    asker = Asker()
    result = sh.run("shell", {"command": "echo 'two words' three"}, asker)
    assert result.ok and result.output == "two words three\n"
    assert result.summary.startswith("ran echo 'two words' three: exit 0 in ")
    detail = asker.seen[0].detail
    assert detail.splitlines()[0] == "argv: ['echo', 'two words', 'three']"
    assert f"cwd: {ws.root.resolve()}" in detail
    declined = sh.run("shell", {"command": "echo hi"}, deny_all)
    assert not declined.ok and declined.output == "the user declined: Run echo hi"


def test_a_failing_command_reports_its_status(sh: ToolRegistry) -> None:
    cmd = shlex.join([sys.executable, "-c", "import sys; print('bad'); sys.exit(3)"])
    result = sh.run("shell", {"command": cmd}, allow_all)
    assert not result.ok
    assert result.output == "bad\n[exit status 3]"
    assert ": exit 3 in " in result.summary


def test_timeout_kills_the_whole_process_group(ws: Workspace) -> None:
    reg = make_registry(ws.root, shell=True, shell_timeout_s=1)
    code = (
        "import subprocess, time; subprocess.Popen(['sleep', '30']); "
        "print('started', flush=True); time.sleep(30)"
    )
    started = time.monotonic()
    result = reg.run("shell", {"command": shlex.join([sys.executable, "-c", code])}, allow_all)
    took = time.monotonic() - started
    assert not result.ok
    assert result.output == "started\n[timed out after 1 s; the command was killed]"
    assert took < 8, took  # the grandchild holding the pipe was killed too


def test_output_is_capped_and_the_rest_counted(ws: Workspace) -> None:
    reg = make_registry(ws.root, shell=True, output_cap_bytes=1000)
    cmd = shlex.join([sys.executable, "-c", "print('a' * 200000)"])
    result = reg.run("shell", {"command": cmd}, allow_all)
    assert result.ok
    first, note = result.output.split("\n")
    assert first == "a" * 1000
    assert note == "[output truncated: 199,001 more bytes not shown]"


def test_secrets_are_not_passed_to_the_child(sh: ToolRegistry, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-1")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-canary-2")
    monkeypatch.setenv("DB_PASSWORD", "canary-3")
    monkeypatch.setenv("HARMLESS_SETTING", "visible-4")
    result = sh.run("shell", {"command": "env"}, allow_all)
    assert result.ok
    assert "visible-4" in result.output and "PATH=" in result.output
    for secret in ("sk-canary-1", "ghp-canary-2", "canary-3"):
        assert secret not in result.output


def test_cwd_is_sandboxed(ws: Workspace, sh: ToolRegistry) -> None:
    result = sh.run("shell", {"command": "pwd", "cwd": "src"}, allow_all)
    assert result.output.strip() == str((ws.root / "src").resolve())
    out = sh.run("shell", {"command": "pwd", "cwd": "../outside"}, allow_all)
    assert not out.ok and "leads outside the workspace" in out.output


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("no-such-program-zz9", "command not found: no-such-program-zz9"),
        ("echo 'unterminated", "cannot parse the command: No closing quotation"),
        ("   ", "the command is empty"),
        ("echo a\0b", "the command contains a NUL byte"),
    ],
)
def test_bad_commands_are_explained(sh: ToolRegistry, command: str, message: str) -> None:
    result = sh.run("shell", {"command": command}, allow_all)
    assert not result.ok and result.output == message
