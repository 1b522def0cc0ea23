"""git_status and git_diff: git run directly (no shell) on a path inside the workspace.

The path is also the pathspec (after `--`: a path is never an option), so a workspace that
is a sub-folder of a bigger repository only shows its own files. Git never reads the
repository's own config: it runs on a private GIT_DIR holding only allow-listed keys
(`gitrepo.py`), so no filter, hook, fsmonitor, external diff or any other program a config
can name is run. It does not prompt and takes no optional locks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from magray_tui.private_files import user_umask
from magray_tui.tools import gitrepo
from magray_tui.tools.base import (
    Confirmation,
    Prepared,
    Tool,
    ToolError,
    ToolResult,
    ToolSpec,
    clip,
    diff_counts,
)
from magray_tui.tools.context import ToolContext, safe_env
from magray_tui.tools.procguard import protect_process
from magray_tui.tools.sandbox import Resolved
from magray_tui.tools.schema import obj


def _base_env() -> dict[str, str]:
    # No inherited GIT_* variable (GIT_DIR, GIT_CONFIG_*, GIT_EXTERNAL_DIFF...) applies.
    return {k: v for k, v in safe_env().items() if not k.startswith("GIT_")} | gitrepo.BASE_ENV


def run_git(ctx: ToolContext, folder: str, args: list[str], label: str = ".") -> str:
    git = shutil.which("git")
    if git is None:
        raise ToolError("git is not installed (not found on PATH)")
    repo = gitrepo.find_repo(folder)
    if repo is None:
        raise ToolError(f"{label} is not inside a git repository")
    protect_process()
    timeout = ctx.settings.shell_timeout_s
    env = _base_env()
    try:
        pairs = gitrepo.read_config(git, os.path.join(repo.commondir, "config"), env, timeout)
        fmt, keep = gitrepo.allowed(pairs)
        with gitrepo.shadow_gitdir(repo, fmt) as shadow:
            env |= {"GIT_DIR": shadow, "GIT_WORK_TREE": repo.worktree}
            env |= gitrepo.config_env([*keep, *gitrepo.HARDENING])
            done = subprocess.run(
                [git, "--no-pager", *args],
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
                umask=user_umask(),  # the user's, not magray's private 077 (private_files.py)
            )
    except subprocess.TimeoutExpired:
        raise ToolError(f"git took longer than {timeout:g} s") from None
    except OSError as exc:
        raise ToolError(f"cannot run git: {exc.strerror or exc}") from None
    err = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        if "not a git repository" in err:
            raise ToolError(f"{label} is not inside a git repository")
        first = err.splitlines()[0] if err else f"exit status {done.returncode}"
        raise ToolError(f"git failed: {first}")
    return done.stdout.decode("utf-8", "replace")


def _folder(r: Resolved) -> str:
    if not r.exists():
        raise ToolError(f"not found: {r.rel}")
    return r.path if os.path.isdir(r.path) else os.path.dirname(r.path)


def _status(ctx: ToolContext, r: Resolved) -> ToolResult:
    args = ["status", "--short", "--branch", "--ignore-submodules=all", "--", r.path]
    out = run_git(ctx, _folder(r), args, r.rel)
    lines = out.splitlines()
    changes = [x for x in lines if not x.startswith("##")]
    branch = lines[0][3:] if lines and lines[0].startswith("## ") else "?"
    body, cut = clip(out.rstrip("\n") or "(clean)", ctx.cap)
    summary = f"git status {r.rel}: {branch}, {len(changes) or 'no'} changed paths"
    return ToolResult(True, body + ("\n[output truncated]" if cut else ""), summary)


def _diff(ctx: ToolContext, r: Resolved, staged: bool) -> ToolResult:
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all"]
    if staged:
        args.append("--cached")
    out = run_git(ctx, _folder(r), [*args, "--", r.path], r.rel)
    files, added, removed = diff_counts(out)
    which = "staged" if staged else "unstaged"
    body, cut = clip(out.rstrip("\n") or f"(no {which} changes)", ctx.cap)
    summary = f"git diff {r.rel} ({which}): {files} files, +{added} -{removed}"
    return ToolResult(True, body + ("\n[output truncated]" if cut else ""), summary)


def _prepare(ctx: ToolContext, args: dict[str, Any], diff: bool) -> Prepared:
    r = ctx.sandbox.resolve(args.get("path", "."))
    staged = bool(args.get("staged", False))
    name = "git_diff" if diff else "git_status"
    title = f"{'git diff' if diff else 'git status'} {r.rel}"
    return Prepared(
        r.subjects,
        Confirmation(name, title, f"path: {r.path}" + ("\nstaged" if staged else "")),
        (lambda: _diff(ctx, r, staged)) if diff else (lambda: _status(ctx, r)),
    )


def build(ctx: ToolContext) -> list[Tool]:
    path = {"type": "string", "minLength": 1, "maxLength": 8192, "description": "default '.'"}
    status = ToolSpec(
        "git_status",
        "Show the git branch and the changed, staged and untracked files under a workspace path.",
        obj((), path=path),
    )
    diff = ToolSpec(
        "git_diff",
        "Show the git diff of a workspace path: unstaged changes, or staged ones with staged=true.",
        obj((), path=path, staged={"type": "boolean"}),
    )
    return [
        Tool(status, lambda a: _prepare(ctx, a, diff=False)),
        Tool(diff, lambda a: _prepare(ctx, a, diff=True)),
    ]
