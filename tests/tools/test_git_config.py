"""git_status / git_diff never run a program named by the repository's own config.

Each attack is a real repository whose `.git/config` (or an included file, a submodule's
config, a worktree config) names a program that writes a marker file. A control run of
plain `git` proves the attack works; then the tools must leave no marker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from magray_tui.tools import ToolRegistry, deny_all, gitrepo
from magray_tui.tools.git import _base_env
from tests.tools.conftest import Workspace, git, make_registry


def _evil(tmp_path: Path, name: str) -> tuple[str, Path]:
    """A program that leaves `<name>-ran` next to it (and passes stdin through)."""
    marker = tmp_path / f"{name}-ran"
    script = tmp_path / f"{name}.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script), marker


def _plain_git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False, timeout=30)


def _touch_txt(repo: Path) -> None:
    # The same size as before, so even `git status` must hash it (through the filter).
    (repo / "notes.txt").write_text("NOTES\n", encoding="utf-8")


@pytest.fixture
def txt_repo(repo: Path) -> Path:
    (repo / "notes.txt").write_text("notes\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    return repo


def _run_both(registry: ToolRegistry) -> tuple[str, str]:
    status = registry.run("git_status", {}, deny_all)
    diff = registry.run("git_diff", {}, deny_all)
    assert status.ok, status.output
    assert diff.ok, diff.output
    return status.output, diff.output


@pytest.mark.parametrize("key", ["clean", "process"])
def test_a_filter_driver_from_gitattributes_is_not_run(
    txt_repo: Path, registry: ToolRegistry, tmp_path: Path, key: str
) -> None:
    program, marker = _evil(tmp_path, f"filter-{key}")
    git(txt_repo, "config", f"filter.evil.{key}", program)
    git(txt_repo, "config", "filter.evil.required", "true")
    (txt_repo / ".gitattributes").write_text("*.txt filter=evil\n", encoding="utf-8")
    _touch_txt(txt_repo)
    _plain_git(txt_repo, "status")  # the control: git itself runs the driver
    assert marker.exists()
    marker.unlink()
    status, diff = _run_both(registry)
    assert " M notes.txt" in status and "+NOTES" in diff
    assert not marker.exists()


def test_textconv_and_diff_command_drivers_are_not_run(
    txt_repo: Path, registry: ToolRegistry, tmp_path: Path
) -> None:
    textconv, textconv_marker = _evil(tmp_path, "textconv")
    command, command_marker = _evil(tmp_path, "diffcmd")
    git(txt_repo, "config", "diff.evil.textconv", textconv)
    git(txt_repo, "config", "diff.worse.command", command)
    (txt_repo / ".gitattributes").write_text("*.txt diff=evil\n*.md diff=worse\n", encoding="utf-8")
    _touch_txt(txt_repo)
    (txt_repo / "README.md").write_text("changed readme\n", encoding="utf-8")
    _plain_git(txt_repo, "diff")
    assert textconv_marker.exists() and command_marker.exists()
    textconv_marker.unlink()
    command_marker.unlink()
    _, diff = _run_both(registry)
    assert "+NOTES" in diff and "+changed readme" in diff
    assert not textconv_marker.exists() and not command_marker.exists()


def test_config_from_an_include_or_the_worktree_config_is_not_read(
    txt_repo: Path, registry: ToolRegistry, tmp_path: Path
) -> None:
    included, included_marker = _evil(tmp_path, "included")
    per_tree, tree_marker = _evil(tmp_path, "worktree-config")
    extra = tmp_path / "extra.gitconfig"
    extra.write_text(f'[filter "inc"]\n\tclean = {included}\n', encoding="utf-8")
    git(txt_repo, "config", "include.path", str(extra))
    git(txt_repo, "config", "extensions.worktreeConfig", "true")
    git(txt_repo, "config", "core.repositoryformatversion", "1")
    git(txt_repo, "config", "--worktree", "filter.tree.clean", per_tree)
    (txt_repo / ".gitattributes").write_text(
        "notes.txt filter=inc\nREADME.md filter=tree\n", encoding="utf-8"
    )
    _touch_txt(txt_repo)
    (txt_repo / "README.md").write_text("changed readme\n", encoding="utf-8")
    _plain_git(txt_repo, "diff")
    assert included_marker.exists() and tree_marker.exists()
    included_marker.unlink()
    tree_marker.unlink()
    _run_both(registry)
    assert not included_marker.exists() and not tree_marker.exists()


def test_hooks_fsmonitor_and_external_diff_are_not_run(
    txt_repo: Path, registry: ToolRegistry, tmp_path: Path
) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    hook_marker = tmp_path / "hook-ran"
    for name in ("post-index-change", "pre-commit", "reference-transaction"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {hook_marker}\n", encoding="utf-8")
        hook.chmod(0o755)
    fsmonitor, fs_marker = _evil(tmp_path, "fsmonitor")
    external, ext_marker = _evil(tmp_path, "external")
    git(txt_repo, "config", "core.hooksPath", str(hooks))
    git(txt_repo, "config", "core.fsmonitor", fsmonitor)
    git(txt_repo, "config", "diff.external", external)
    _touch_txt(txt_repo)
    _plain_git(txt_repo, "status")  # refreshes the index: post-index-change and fsmonitor
    _plain_git(txt_repo, "diff")
    assert hook_marker.exists() and fs_marker.exists() and ext_marker.exists()
    for marker in (hook_marker, fs_marker, ext_marker):
        marker.unlink()
    _run_both(registry)
    assert not hook_marker.exists() and not fs_marker.exists() and not ext_marker.exists()


def test_a_submodule_with_its_own_filter_is_not_entered(
    txt_repo: Path, registry: ToolRegistry, tmp_path: Path
) -> None:
    sub = txt_repo / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    (sub / "a.txt").write_text("a\n", encoding="utf-8")
    git(sub, "add", "a.txt")
    git(sub, "commit", "-q", "-m", "sub")
    git(txt_repo, "add", "sub")
    git(txt_repo, "commit", "-q", "-m", "add sub as a gitlink")
    program, marker = _evil(tmp_path, "sub-filter")
    git(sub, "config", "filter.evil.clean", program)
    (sub / ".gitattributes").write_text("*.txt filter=evil\n", encoding="utf-8")
    (sub / "a.txt").write_text("b\n", encoding="utf-8")  # same size: git must hash it
    _plain_git(txt_repo, "status")  # git enters the submodule and runs its filter
    assert marker.exists()
    marker.unlink()
    _run_both(registry)
    assert not marker.exists()


def test_the_git_environment_holds_no_key_that_names_a_program(
    txt_repo: Path, tmp_path: Path
) -> None:
    """The allow-list, checked on git's own view: every key set in the repository that is
    not data is absent from what git sees; the data keys are there."""
    hostile = {
        "core.sshCommand": "touch x",
        "core.askPass": "touch x",
        "core.editor": "touch x",
        "core.pager": "touch x",
        "core.gitProxy": "touch x",
        "core.fsmonitor": "touch x",
        "core.hooksPath": str(tmp_path),
        "credential.helper": "!touch x",
        "gpg.program": "touch x",
        "gpg.ssh.program": "touch x",
        "uploadpack.packObjectsHook": "touch x",
        "remote.origin.uploadpack": "touch x",
        "remote.origin.url": "ext::sh -c touch% x",
        "alias.st": "!touch x",
        "pager.status": "touch x",
        "sequence.editor": "touch x",
        "merge.evil.driver": "touch x",
        "filter.evil.smudge": "touch x",
        "diff.evil.cachetextconv": "true",
        "protocol.allow": "always",
        "safe.directory": "*",
        "core.worktree": str(tmp_path),
        "include.path": str(tmp_path / "none"),
        "some.future.programKey": "touch x",
    }
    for key, value in hostile.items():
        git(txt_repo, "config", key, value)
    git(txt_repo, "config", "core.quotepath", "false")
    git(txt_repo, "config", "branch.main.remote", "origin")
    env = _base_env()
    git_exe = shutil.which("git")
    assert git_exe is not None
    repo = gitrepo.find_repo(str(txt_repo))
    assert repo is not None
    pairs = gitrepo.read_config(git_exe, os.path.join(repo.commondir, "config"), env, 30)
    fmt, keep = gitrepo.allowed(pairs)
    with gitrepo.shadow_gitdir(repo, fmt) as shadow:
        env |= {"GIT_DIR": shadow, "GIT_WORK_TREE": repo.worktree}
        env |= gitrepo.config_env([*keep, *gitrepo.HARDENING])
        seen = subprocess.run(
            [git_exe, "config", "--list"], cwd=txt_repo, env=env, capture_output=True, text=True
        ).stdout.lower()
    keys = {line.partition("=")[0] for line in seen.splitlines()}
    for key in hostile:
        if key.lower() in {k.lower() for k, _ in gitrepo.HARDENING}:
            continue  # overridden with a harmless value (checked below)
        assert key.lower() not in keys, key
    assert "core.quotepath" in keys and "branch.main.remote" in keys
    assert "protocol.allow=never" in seen and "core.fsmonitor=false" in seen
    assert "core.hookspath=/dev/null" in seen


def test_a_linked_worktree_works_and_its_common_config_is_not_read(
    txt_repo: Path, tmp_path: Path
) -> None:
    linked = tmp_path / "linked"
    git(txt_repo, "worktree", "add", "-q", "-b", "side", str(linked))
    program, marker = _evil(tmp_path, "linked-filter")
    git(txt_repo, "config", "filter.evil.clean", program)
    (linked / ".gitattributes").write_text("*.txt filter=evil\n", encoding="utf-8")
    (linked / "notes.txt").write_text("linked change\n", encoding="utf-8")
    _plain_git(linked, "diff")
    assert marker.exists()
    marker.unlink()
    reg = make_registry(linked)
    status = reg.run("git_status", {}, deny_all)
    diff = reg.run("git_diff", {}, deny_all)
    assert status.ok and status.output.splitlines()[0] == "## side"
    assert " M notes.txt" in status.output and "+linked change" in diff.output
    assert not marker.exists()


def test_an_upstream_branch_is_still_shown(txt_repo: Path, registry: ToolRegistry) -> None:
    git(txt_repo, "update-ref", "refs/remotes/origin/main", "HEAD~1")
    git(txt_repo, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
    git(txt_repo, "config", "branch.main.remote", "origin")
    git(txt_repo, "config", "branch.main.merge", "refs/heads/main")
    status = registry.run("git_status", {}, deny_all)
    assert status.output.splitlines()[0] == "## main...origin/main [ahead 1]"


def test_a_path_that_looks_like_an_option_is_a_path(
    txt_repo: Path, registry: ToolRegistry, ws: Workspace
) -> None:
    odd = txt_repo / "--output=stolen"
    odd.write_text("odd\n", encoding="utf-8")
    git(txt_repo, "add", "--", odd.name)
    git(txt_repo, "commit", "-q", "-m", "odd name")
    odd.write_text("odd changed\n", encoding="utf-8")
    for name in ("git_diff", "git_status"):
        result = registry.run(name, {"path": "--output=stolen"}, deny_all)
        assert result.ok, result.output
        assert "--output=stolen" in result.output
    assert not (txt_repo / "stolen").exists() and not Path("stolen").exists()
    refused = registry.run("git_diff", {"path": "--no-index"}, deny_all)
    assert not refused.ok and refused.output == "not found: --no-index"
    assert ws.snapshot_outside() == {"canary.txt": ws.secret.encode() + b"\n"}
