"""Hostile paths and commands: none may escape the workspace.

Every case runs through the real registry with a policy that allows everything, so only
the sandbox (and argv-only execution) stands between the input and the filesystem. Each
case checks the real filesystem afterwards: the canary outside the workspace was never
read (its secret is not in any output), nothing outside changed, no marker file appeared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from magray_tui.tools import ToolRegistry, allow_all, deny_all
from tests.tools.conftest import Workspace, git, make_registry

PASSWD_LINE = "root:x:0:0"


@dataclass
class Hostile:
    ws: Workspace
    reg: ToolRegistry
    marker: Path  # a file that must never come into existence

    def fmt(self, text: str) -> str:
        return text.format(
            ws=self.ws.root, out=self.ws.outside, canary=self.ws.canary, pwn=self.marker
        )


@pytest.fixture
def hostile(ws: Workspace, tmp_path: Path) -> Hostile:
    root = ws.root
    git(root, "init", "-q", "-b", "main")
    links = {
        "link_canary": ws.canary,  # absolute target, a file outside
        "link_out": Path("../outside"),  # relative target, a folder outside
        "link_etc": Path("/etc"),
        "link_root": Path("/"),
        "loop1": Path("loop2"),
        "loop2": Path("loop1"),
        "self_loop": Path("self_loop"),
        "chain1": Path("chain2"),
        "chain2": Path("link_canary"),  # a chain that ends outside
        "dangle": Path("../outside/created-through-link.txt"),  # dangling, outside
        "devnull": Path("/dev/null"),
        "src/up": Path(".."),  # a folder link back to the root: inside, but `..` after it
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    os.mkfifo(root / "fifo")
    reg = make_registry(root, shell=True, policy={"*": "allow"})
    return Hostile(ws, reg, tmp_path / "PWNED")


def assert_nothing_escaped(h: Hostile, before: dict[str, bytes], output: str) -> None:
    assert h.ws.secret not in output
    assert PASSWD_LINE not in output
    assert h.ws.snapshot_outside() == before
    assert h.ws.canary.read_text(encoding="utf-8") == h.ws.secret + "\n"
    assert not h.marker.exists()


# (path, what the refusal must say). Paths use {ws}, {out}, {canary}, {pwn} placeholders.
READ_CASES: list[tuple[str, str]] = [
    # traversal
    ("../outside/canary.txt", "via '..'"),
    ("../../../../../../../../etc/passwd", "via '..'"),
    ("src/../../outside/canary.txt", "via '..'"),
    ("./../outside/canary.txt", "via '..'"),
    ("src/./../../outside/canary.txt", "via '..'"),
    ("..//outside//canary.txt", "via '..'"),
    ("src/app.py/../../../outside/canary.txt", "via '..'"),
    ("..", "via '..'"),
    ("{ws}/../outside/canary.txt", "via '..'"),
    # absolute paths
    ("/etc/passwd", "outside the workspace roots"),
    ("//etc/passwd", "outside the workspace roots"),
    ("/./etc/passwd", "outside the workspace roots"),
    ("/", "outside the workspace roots"),
    ("{canary}", "outside the workspace roots"),
    ("{out}", "outside the workspace roots"),
    ("/proc/self/environ", "outside the workspace roots"),
    ("/proc/self/root/etc/passwd", "outside the workspace roots"),
    ("/dev/zero", "outside the workspace roots"),
    ("/dev/stdin", "outside the workspace roots"),
    # home
    ("~/.bashrc", "'~' is not expanded"),
    ("~root/.ssh/id_rsa", "'~' is not expanded"),
    ("~", "'~' is not expanded"),
    # backslashes
    ("..\\outside\\canary.txt", "backslashes are not allowed"),
    ("..\\..\\..\\etc\\passwd", "backslashes are not allowed"),
    ("src\\..\\..\\outside\\canary.txt", "backslashes are not allowed"),
    # encoded and look-alike traversal: ordinary names that do not exist inside the root
    ("%2e%2e/outside/canary.txt", "not found"),
    ("%2e%2e%2foutside%2fcanary.txt", "not found"),
    ("..%2f..%2fetc%2fpasswd", "not found"),
    ("%252e%252e/outside/canary.txt", "not found"),
    ("..%c0%afoutside%c0%afcanary.txt", "not found"),
    ("\u2025/outside/canary.txt", "not found"),  # two-dot leader
    ("\uff0e\uff0e/outside/canary.txt", "not found"),  # fullwidth full stops
    ("\u2024\u2024/outside/canary.txt", "not found"),  # one-dot leaders
    ("..\u2215outside\u2215canary.txt", "not found"),  # division slash
    ("..\uff0foutside\uff0fcanary.txt", "not found"),  # fullwidth solidus
    ("....//....//outside/canary.txt", "not found"),
    ("file:///etc/passwd", "not found"),
    # symlinks
    ("link_canary", "symlink (or passes one) leading outside"),
    ("link_out/canary.txt", "symlink (or passes one) leading outside"),
    ("link_etc/passwd", "symlink (or passes one) leading outside"),
    ("link_root/etc/passwd", "symlink (or passes one) leading outside"),
    ("chain1", "symlink (or passes one) leading outside"),
    ("src/up/../outside/canary.txt", "symlink (or passes one) leading outside"),
    ("src/up/src/up/../outside/canary.txt", "symlink (or passes one) leading outside"),
    ("devnull", "symlink (or passes one) leading outside"),
    ("loop1", "symlink loop"),
    ("loop1/file", "symlink loop"),
    ("self_loop", "symlink loop"),
    # NUL, sizes, special files
    ("src/app.py\0../../outside/canary.txt", "NUL byte"),
    ("\0", "NUL byte"),
    ("a" * 100_000, "path is too long (100,000 characters"),
    ("b" * 5000, "the path is too long (5,000 bytes, at most 4096)"),
    ("a/" * 3000, "the path is too long"),
    ("x" * 300, "longer than 255 bytes"),
    ("fifo", "not a regular file or folder"),
    ("", "path must not be empty"),
    ("   ", "the path is empty"),
]


@pytest.mark.parametrize(("path", "why"), READ_CASES, ids=[f"r{i}" for i in range(len(READ_CASES))])
def test_read_file_never_escapes(hostile: Hostile, path: str, why: str) -> None:
    before = hostile.ws.snapshot_outside()
    result = hostile.reg.run("read_file", {"path": hostile.fmt(path)}, allow_all)
    assert not result.ok
    assert why in result.output
    assert_nothing_escaped(hostile, before, result.output)


# The folder tools get the cases that could name a folder outside.
_NOT_FILES = [c for c in READ_CASES if not c[0].endswith(("passwd", "canary.txt"))]
FOLDER_CASES = [
    *_NOT_FILES[:24],
    ("link_out", "symlink (or passes one) leading outside"),
    ("link_etc", "symlink (or passes one) leading outside"),
    ("src/up/..", "symlink (or passes one) leading outside"),
]


@pytest.mark.parametrize("tool", ["list_directory", "search_files", "git_status", "git_diff"])
@pytest.mark.parametrize(
    ("path", "why"), FOLDER_CASES, ids=[f"f{i}" for i in range(len(FOLDER_CASES))]
)
def test_folder_tools_never_escape(hostile: Hostile, tool: str, path: str, why: str) -> None:
    before = hostile.ws.snapshot_outside()
    args = {"path": hostile.fmt(path)}
    if tool == "search_files":
        args["query"] = "CANARY"
    result = hostile.reg.run(tool, args, allow_all)
    assert not result.ok
    assert why in result.output
    assert_nothing_escaped(hostile, before, result.output)


def test_search_from_the_root_does_not_follow_links_out(hostile: Hostile) -> None:
    before = hostile.ws.snapshot_outside()
    result = hostile.reg.run("search_files", {"query": "CANARY"}, allow_all)
    assert result.ok and result.output.startswith("no matches")
    listing = hostile.reg.run("list_directory", {"depth": 4, "include_ignored": True}, allow_all)
    assert listing.ok and "link_out@  (symlink, not followed)" in listing.output
    assert_nothing_escaped(hostile, before, result.output + listing.output)


WRITE_CASES: list[tuple[str, str]] = [
    ("../outside/pwned.txt", "via '..'"),
    ("{out}/pwned.txt", "outside the workspace roots"),
    ("{canary}", "outside the workspace roots"),
    ("{ws}/../outside/canary.txt", "via '..'"),
    ("link_canary", "symlink (or passes one) leading outside"),
    ("link_out/pwned.txt", "symlink (or passes one) leading outside"),
    ("link_out/canary.txt", "symlink (or passes one) leading outside"),
    ("link_out/new/dir/pwned.txt", "symlink (or passes one) leading outside"),
    ("dangle", "symlink (or passes one) leading outside"),
    ("chain1", "symlink (or passes one) leading outside"),
    ("src/up/../outside/canary.txt", "symlink (or passes one) leading outside"),
    ("link_root{pwn}", "symlink (or passes one) leading outside"),
    ("loop1", "symlink loop"),
    ("fifo", "not a regular file or folder"),
    ("devnull", "symlink (or passes one) leading outside"),
    (".git/config", "inside a .git folder"),
    (".git/hooks/pre-commit", "inside a .git folder"),
    ("src/../.git/HEAD", "inside a .git folder"),
    ("..\\outside\\pwned.txt", "backslashes are not allowed"),
    ("~/pwned.txt", "'~' is not expanded"),
    ("pwned\0.txt", "NUL byte"),
    ("p" * 300, "longer than 255 bytes"),
    ("{pwn}", "outside the workspace roots"),
]


@pytest.mark.parametrize(
    ("path", "why"), WRITE_CASES, ids=[f"w{i}" for i in range(len(WRITE_CASES))]
)
def test_write_file_never_escapes(hostile: Hostile, path: str, why: str) -> None:
    git_config = (hostile.ws.root / ".git" / "config").read_bytes()
    before = hostile.ws.snapshot_outside()
    result = hostile.reg.run(
        "write_file", {"path": hostile.fmt(path), "content": "PWNED\n"}, allow_all
    )
    assert not result.ok
    assert why in result.output
    assert_nothing_escaped(hostile, before, result.output)
    assert (hostile.ws.root / ".git" / "config").read_bytes() == git_config
    assert not (hostile.ws.root / ".git" / "hooks" / "pre-commit").exists()


# (command, a fragment the output must contain, showing the text was not interpreted)
SHELL_CASES: list[tuple[str, str]] = [
    ("echo hi; touch {pwn}", "hi; touch {pwn}"),
    ("echo hi && touch {pwn}", "hi && touch {pwn}"),
    ("echo hi || touch {pwn}", "hi || touch {pwn}"),
    ("echo hi | tee {pwn}", "hi | tee {pwn}"),
    ("echo hi > {pwn}", "hi > {pwn}"),
    ("echo hi >> {pwn}", "hi >> {pwn}"),
    ("echo hi 2>&1 > {pwn}", "hi 2>&1 > {pwn}"),
    ("echo < {canary}", "< {canary}"),
    ("echo $(touch {pwn})", "$(touch {pwn})"),
    ("echo `touch {pwn}`", "`touch {pwn}`"),
    ('echo "$(cat {canary})"', "$(cat {canary})"),
    ("echo $HOME ${{PATH}}", "$HOME ${{PATH}}"),
    ("echo hi & touch {pwn}", "hi & touch {pwn}"),
    ("echo hi\ntouch {pwn}", "hi touch {pwn}"),
    ("echo *", "*"),
    ("echo ~", "~"),
    ("echo {{a,b}}", "{{a,b}}"),
    ("echo hi #; touch {pwn}", "hi #; touch {pwn}"),
    ("echo !! !$", "!! !$"),
    ("echo 'a;b'\"c|d\"", "a;bc|d"),
    ("IFS=x touch {pwn}", "command not found: IFS=x"),
    ("PATH=/tmp touch {pwn}", "command not found: PATH=/tmp"),
    ("$(touch {pwn})", "command not found: $(touch"),
    ("; touch {pwn}", "command not found: ;"),
    ("echo " + "A" * 15_000, "A" * 15_000),
    ("echo " + "A" * 20_000, "command is too long (20,005 characters"),
]


@pytest.mark.parametrize(
    ("command", "shown"), SHELL_CASES, ids=[f"s{i}" for i in range(len(SHELL_CASES))]
)
def test_shell_metacharacters_are_never_interpreted(
    hostile: Hostile, command: str, shown: str
) -> None:
    before = hostile.ws.snapshot_outside()
    result = hostile.reg.run("shell", {"command": hostile.fmt(command)}, allow_all)
    assert hostile.fmt(shown) in result.output
    assert_nothing_escaped(hostile, before, result.output)


def test_a_declined_command_does_not_run(ws: Workspace, tmp_path: Path) -> None:
    marker = tmp_path / "RAN"
    reg = make_registry(ws.root, shell=True)
    result = reg.run("shell", {"command": f"touch {marker}"}, deny_all)
    assert not result.ok and not marker.exists()
    denied = make_registry(ws.root, shell=True, policy={"shell:touch *": "deny"})
    result = denied.run("shell", {"command": f"touch {marker}"}, allow_all)
    assert not result.ok and "policy denies shell" in result.output and not marker.exists()
    assert reg.run("shell", {"command": f"touch {marker}"}, allow_all).ok
    assert marker.exists()  # the same call, approved, does run: the checks above can fail


def test_the_case_lists_are_long_enough() -> None:
    total = len(READ_CASES) + len(FOLDER_CASES) * 4 + len(WRITE_CASES) + len(SHELL_CASES)
    assert len(READ_CASES) + len(WRITE_CASES) + len(SHELL_CASES) >= 50
    assert total >= 150
