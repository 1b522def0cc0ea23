"""A git repository seen through an allow-list of its configuration.

Git runs programs named in a repository's own config: filter drivers (`filter.*.clean`,
`smudge`, `process`, chosen by `.gitattributes`), `core.fsmonitor`, `diff.external`,
`diff.*.textconv` and `diff.*.command`, `core.sshCommand`, `credential.helper`,
`core.askPass`, `gpg.program`, `uploadpack.*`, hooks, and whatever a later git version adds.
A deny-list of such keys misses the next one. So the git tools never let git read the
repository's config at all:

- the repository is found here (walking up to the first `.git` folder or `gitdir:` file);
- its config is read as data (`git config --file … --list`, which runs nothing and does
  not follow includes) and only keys on the allow-list below are kept: data that changes
  how status and diff read the tree, never a program;
- git runs with `GIT_DIR` set to a private "shadow" folder: a config holding only the
  format keys (`core.repositoryformatversion`, `extensions.objectformat`, …), a copy of
  `HEAD`, and symlinks to the real `objects`, `refs`, `packed-refs`, `index`, `info`, …
  (never `config`, `hooks`, `worktrees` or `modules`); `GIT_WORK_TREE` is the real tree;
- the allowed keys are passed as command-scope config (`GIT_CONFIG_COUNT`), system and
  global config are off (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), and a few
  overrides stay as a second line (`core.fsmonitor=false`, `core.hooksPath=/dev/null`,
  `protocol.allow=never`, submodules ignored so no git runs inside one).

A `.gitattributes` line `*.txt filter=evil` then names a driver that does not exist, and
git treats the files as plain. Nothing is written into the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Keys copied from the repository's config: each holds data, none names a program.
_ALLOWED = re.compile(
    r"core\.(ignorecase|precomposeunicode|protecthfs|protectntfs|filemode|symlinks|autocrlf|"
    r"eol|safecrlf|checkstat|trustctime|quotepath|abbrev|sparsecheckout|sparsecheckoutcone)|"
    r"index\.sparse|"
    r"diff\.(renames|renamelimit|mnemonicprefix|noprefix|algorithm|indentheuristic)|"
    r"status\.(showuntrackedfiles|renames|renamelimit)|"
    r"branch\.[^\n]+\.(remote|merge)|remote\.[^\n]+\.fetch"
)
# Keys that say how to read the repository's files; they go into the shadow config.
_FORMAT = re.compile(
    r"core\.repositoryformatversion|extensions\.(objectformat|refstorage|compatobjectformat)"
)
# Entries of the real git folder never exposed to git: they can make it run programs or
# reach other repositories.
_HIDDEN = frozenset({"config", "config.worktree", "hooks", "worktrees", "modules", "commondir"})
# A second line of defence, in command scope (the repository config is not read at all).
HARDENING = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.untrackedCache", "false"),
    ("core.splitIndex", "false"),
    ("diff.external", ""),
    ("diff.ignoreSubmodules", "all"),
    ("submodule.recurse", "false"),
    ("protocol.allow", "never"),
    ("credential.helper", ""),
    ("core.sshCommand", ""),
    ("core.askPass", ""),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
}


@dataclass(frozen=True)
class Repo:
    worktree: str  # the folder holding `.git`
    gitdir: str  # `.git`, or where a `gitdir:` file points (linked worktree, submodule)
    commondir: str  # the shared folder of a linked worktree; else `gitdir`


def _gitdir_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline(8192).strip()
    except OSError:
        return None
    if not first.startswith("gitdir:"):
        return None
    target = first[len("gitdir:") :].strip()
    return os.path.normpath(os.path.join(os.path.dirname(path), target))


def _valid(gitdir: str, commondir: str) -> bool:
    return os.path.isfile(os.path.join(gitdir, "HEAD")) and os.path.isdir(
        os.path.join(commondir, "objects")
    )


def find_repo(folder: str) -> Repo | None:
    """The repository holding `folder`, as git would find it (first `.git` upwards)."""
    here = os.path.realpath(folder)
    while True:
        dotgit = os.path.join(here, ".git")
        gitdir = None
        if os.path.isdir(dotgit):
            gitdir = dotgit
        elif os.path.isfile(dotgit):
            gitdir = _gitdir_file(dotgit)
        if gitdir is not None:
            commondir = gitdir
            common_file = os.path.join(gitdir, "commondir")
            if os.path.isfile(common_file):
                with open(common_file, encoding="utf-8", errors="replace") as fh:
                    common = fh.readline(8192).strip()
                commondir = os.path.normpath(os.path.join(gitdir, common))
            if _valid(gitdir, commondir):
                return Repo(here, gitdir, commondir)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def read_config(git: str, path: str, env: dict[str, str], timeout: float) -> list[tuple[str, str]]:
    """(key, value) pairs of one config file, read as data: no includes, nothing run."""
    if not os.path.isfile(path):
        return []
    done = subprocess.run(
        [git, "config", "--file", path, "--no-includes", "--null", "--list"],
        cwd=os.path.dirname(path),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        return []  # unreadable or malformed: git with the shadow folder will say so
    pairs = []
    for item in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            pairs.append((key, value))
    return pairs


def allowed(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(format keys, other allowed keys); everything else is dropped."""
    fmt = [(k, v) for k, v in pairs if _FORMAT.fullmatch(k.lower())]
    keep = [(k, v) for k, v in pairs if _ALLOWED.fullmatch(k.lower())]
    return fmt, keep


def _format_config(fmt: list[tuple[str, str]]) -> str:
    sections: dict[str, list[str]] = {}
    for key, value in fmt:
        section, _, name = key.partition(".")
        if re.fullmatch(r"[A-Za-z0-9.-]+", value):  # numbers and algorithm names only
            sections.setdefault(section, []).append(f"\t{name} = {value}")
    if "core" not in sections:
        sections["core"] = ["\trepositoryformatversion = 0"]
    return "".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items())


def _link_entries(source: str, shadow: str, only: frozenset[str] | None = None) -> None:
    try:
        names = os.listdir(source)
    except OSError:
        return
    for name in names:
        if name in _HIDDEN or name == "HEAD" or (only is not None and name not in only):
            continue
        if only is None and name.startswith("sharedindex."):
            continue  # per-worktree: taken from the worktree's own folder below
        target = os.path.join(shadow, name)
        if os.path.lexists(target):
            os.unlink(target)
        os.symlink(os.path.join(source, name), target)


@contextmanager
def shadow_gitdir(repo: Repo, fmt: list[tuple[str, str]]) -> Iterator[str]:
    """A private GIT_DIR for `repo`: format-only config, HEAD copied, data linked."""
    shadow = tempfile.mkdtemp(prefix="magray-git-")
    try:
        _link_entries(repo.commondir, shadow)
        # A linked worktree's own index, HEAD and split-index files override the shared ones.
        per_worktree = {
            n for n in _listdir(repo.gitdir) if n == "index" or n.startswith("sharedindex.")
        }
        _link_entries(repo.gitdir, shadow, frozenset(per_worktree))
        shutil.copyfile(os.path.join(repo.gitdir, "HEAD"), os.path.join(shadow, "HEAD"))
        with open(os.path.join(shadow, "config"), "w", encoding="utf-8") as fh:
            fh.write(_format_config(fmt))
        yield shadow
    finally:
        shutil.rmtree(shadow, ignore_errors=True)  # removes the links, never their targets


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def config_env(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Command-scope config as GIT_CONFIG_COUNT/KEY_n/VALUE_n (no quoting pitfalls)."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env
