"""git_status and git_diff against a real repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from magray_tui.tools import ToolRegistry, deny_all
from tests.tools.conftest import Workspace, git, make_registry


def test_status_of_a_clean_and_a_changed_tree(repo: Path, registry: ToolRegistry) -> None:
    clean = registry.run("git_status", {}, deny_all)
    assert clean.ok and clean.output == "## main"
    assert clean.summary == "git status .: main, no changed paths"
    (repo / "README.md").write_text("changed\n", encoding="utf-8")
    (repo / "new.txt").write_text("n\n", encoding="utf-8")
    changed = registry.run("git_status", {}, deny_all)
    assert changed.output.splitlines() == ["## main", " M README.md", "?? new.txt"]
    assert changed.summary == "git status .: main, 2 changed paths"


def test_diff_unstaged_and_staged(repo: Path, registry: ToolRegistry) -> None:
    (repo / "src" / "app.py").write_text("line 1\nline two\n", encoding="utf-8")
    unstaged = registry.run("git_diff", {"path": "src"}, deny_all)
    assert unstaged.ok
    assert "diff --git a/src/app.py b/src/app.py" in unstaged.output
    assert "+line two\n" in unstaged.output + "\n" and "-line 20" in unstaged.output
    assert unstaged.summary == "git diff src (unstaged): 1 files, +1 -19"
    assert registry.run("git_diff", {"staged": True}, deny_all).output == "(no staged changes)"
    git(repo, "add", "src/app.py")
    staged = registry.run("git_diff", {"staged": True}, deny_all)
    assert staged.summary == "git diff . (staged): 1 files, +1 -19"
    assert registry.run("git_diff", {}, deny_all).output == "(no unstaged changes)"


def test_outside_a_repository_says_so(ws: Workspace, registry: ToolRegistry) -> None:
    result = registry.run("git_status", {}, deny_all)
    assert not result.ok and result.output == ". is not inside a git repository"


def test_a_workspace_inside_a_bigger_repo_sees_only_itself(repo: Path) -> None:
    (repo / "README.md").write_text("outside the workspace\n", encoding="utf-8")
    (repo / "src" / "app.py").write_text("inside\n", encoding="utf-8")
    reg = make_registry(repo / "src")
    status = reg.run("git_status", {}, deny_all)
    assert "app.py" in status.output and "README.md" not in status.output
    diff = reg.run("git_diff", {}, deny_all)
    assert "app.py" in diff.output and "README.md" not in diff.output
    assert not reg.run("git_diff", {"path": "../README.md"}, deny_all).ok


def test_commands_named_in_the_repo_config_are_not_run(
    repo: Path, registry: ToolRegistry, tmp_path: Path
) -> None:
    marker_fs = tmp_path / "fsmonitor-ran"
    marker_diff = tmp_path / "extdiff-ran"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker_fs}\n", encoding="utf-8")
    hook.chmod(0o755)
    ext = tmp_path / "extdiff.sh"
    ext.write_text(f"#!/bin/sh\ntouch {marker_diff}\n", encoding="utf-8")
    ext.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    git(repo, "config", "diff.external", str(ext))
    (repo / "README.md").write_text("changed\n", encoding="utf-8")
    # Plain git does run them: the test would notice if the tools did too.
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    subprocess.run(["git", "diff"], cwd=repo, capture_output=True, check=False)
    assert marker_fs.exists() and marker_diff.exists()
    marker_fs.unlink()
    marker_diff.unlink()
    assert registry.run("git_status", {}, deny_all).ok
    diff = registry.run("git_diff", {}, deny_all)
    assert diff.ok and "-A small demo project." in diff.output
    assert not marker_fs.exists() and not marker_diff.exists()
