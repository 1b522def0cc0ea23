"""A shell deny rule is about the program, not about how its name is spelled."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from magray_tui.tools import deny_all
from magray_tui.tools.programs import program_names
from tests.tools.conftest import Asker, Workspace, make_registry

RM_SPELLINGS = [
    "rm -f victim.txt",
    "/bin/rm -f victim.txt",
    "/usr/bin/rm -f victim.txt",
    "/usr/bin/../bin/rm -f victim.txt",
    "env rm -f victim.txt",
    "env -i PATH=/usr/bin:/bin rm -f victim.txt",
    "env -u HOME -- rm -f victim.txt",
    "env -S 'rm -f victim.txt'",
    "command rm -f victim.txt",
    "nice rm -f victim.txt",
    "nice -n 5 rm -f victim.txt",
    "nice -5 /bin/rm -f victim.txt",
    "nohup rm -f victim.txt",
    "timeout 5 rm -f victim.txt",
    "timeout -s KILL -k 1 5 rm -f victim.txt",
    "stdbuf -oL rm -f victim.txt",
    "setsid rm -f victim.txt",
    "ionice -c 3 rm -f victim.txt",
    "time rm -f victim.txt",
    "xargs -a list.txt rm -f",
    "nice nice env command rm -f victim.txt",
    "sh -c 'rm -f victim.txt'",
    "bash -c 'echo hi; rm -f victim.txt'",
    "sh -ec 'true && r\"\"m -f victim.txt'",
    "sh -c 'X=1 rm -f victim.txt | cat'",
    "sh -c 'echo $(rm -f victim.txt)'",
    "sh -c 'if true; then rm -f victim.txt; fi'",
    "find . -name victim.txt -exec rm -f {} ;",
    "./rm-link -f victim.txt",
    "busybox rm -f victim.txt",
]


@pytest.mark.parametrize("command", RM_SPELLINGS)
def test_a_deny_rule_meets_every_spelling_of_the_program(ws: Workspace, command: str) -> None:
    victim = ws.root / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    (ws.root / "list.txt").write_text("victim.txt\n", encoding="utf-8")
    (ws.root / "rm-link").symlink_to("/bin/rm")
    reg = make_registry(ws.root, shell=True, policy={"shell": "allow", "shell:rm *": "deny"})
    asker = Asker(answer=True)
    result = reg.run("shell", {"command": command}, asker)
    assert not result.ok
    assert result.output.startswith("policy denies shell on "), result.output
    assert "'shell:rm *' = deny" in result.output
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert asker.seen == []


@pytest.mark.parametrize(
    ("command", "programs"),
    [
        ("env -i A=1 /usr/bin/rm x", ["env", "rm"]),
        ("timeout -s KILL 5 nice -n 3 rm x", ["timeout", "nice", "rm"]),
        ("bash -lc 'echo hi; rm x && ls | wc'", ["bash", "echo", "rm", "ls", "wc"]),
        ("sh -c '>/dev/null rm x 2>&1'", ["sh", "rm"]),
        ("find . -exec rm {} + -execdir chmod 600 {} ;", ["find", "rm", "chmod"]),
        ("xargs -I{} -n 1 rm {}", ["xargs", "rm"]),
        ("taskset -p 1 42", ["taskset"]),
        ("sudo -u root -- rm x", ["sudo", "rm"]),
        ("git status", ["git"]),
    ],
)
def test_the_programs_a_command_line_runs(command: str, programs: list[str]) -> None:
    assert program_names(shlex.split(command)) == programs


def test_an_allow_rule_needs_the_program_as_written(ws: Workspace, tmp_path: Path) -> None:
    """`shell:git status*` = allow runs `git status` without asking, but not a program
    called git elsewhere, nor git wrapped in something else."""
    fake = ws.root / "git"
    marker = tmp_path / "fake-git-ran"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    fake.chmod(0o755)
    reg = make_registry(ws.root, shell=True, policy={"shell:git status*": "allow"})
    asker = Asker(answer=False)
    plain = reg.run("shell", {"command": "git status"}, asker)
    assert asker.seen == [] and "not a git repository" in plain.output
    for command in ("./git status", "env git status", "sh -c 'git status; ./git'"):
        result = reg.run("shell", {"command": command}, asker)
        assert result.output.startswith("the user declined: Run "), command
    assert len(asker.seen) == 3
    assert not marker.exists()


def test_other_programs_still_run_under_an_rm_deny(ws: Workspace) -> None:
    reg = make_registry(ws.root, shell=True, policy={"shell": "allow", "shell:rm *": "deny"})
    for command in ("echo rm -rf x", "ls", "sh -c 'echo rm'", "env echo remove"):
        result = reg.run("shell", {"command": command}, deny_all)
        assert result.ok, (command, result.output)
