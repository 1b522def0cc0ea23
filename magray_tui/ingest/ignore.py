"""Ignore rules with `.gitignore` semantics (a small matcher: no dependency).

Sources, lowest precedence first, the last matching rule winning (as in git):
built-in defaults, git's global excludes (`core.excludesFile`, by default
`~/.config/git/ignore`), `.git/info/exclude` of the root, the `.gitignore` files from the
root down to the path's folder, then the caller's extra patterns (`--ignore`), which win.
Only `.gitignore` files inside the ingested folder apply: naming a folder means you want
what is in it, even where a `.gitignore` above it would hide it (e.g. a virtualenv).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from magray_tui.ingest.textfile import open_regular

# Folders and files nobody wants in a knowledge base: VCS data, caches, build output,
# dependencies, lock files, minified bundles, SVG drawings (markup, not knowledge).
DEFAULT_IGNORES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".jj/",
    "node_modules/",
    "bower_components/",
    "__pycache__/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".ipynb_checkpoints/",
    ".idea/",
    "*.egg-info/",
    ".eggs/",
    ".cache/",
    ".DS_Store",
    "Thumbs.db",
    "*.pyc",
    "*.pyo",
    "*.swp",
    "*~",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.svg",
    "*.lock",
    "package-lock.json",
    "pnpm-lock.yaml",
)


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    anchored: bool  # matched against the whole relative path, not just the name
    pattern: str


def _translate(glob: str) -> str:
    """A gitignore glob (no leading/trailing slash) as a regex body."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                before = i == 0 or glob[i - 1] == "/"
                after = i + 2 == n or glob[i + 2] == "/"
                if before and after:
                    if i + 2 == n:  # trailing "/**": everything inside
                        out.append(".*")
                        i += 2
                        continue
                    out.append("(?:.*/)?")  # "**/": zero or more folders
                    i += 3
                    continue
                i += 2
                out.append("[^/]*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal "["
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_rule(line: str) -> Rule | None:
    """One line of a .gitignore, or None for blanks and comments."""
    line = line.rstrip("\n").rstrip("\r")
    if not line or line.startswith("#"):
        return None
    # Trailing spaces are dropped unless escaped with a backslash.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "
    line = stripped
    negate = False
    if line.startswith("!"):
        negate, line = True, line[1:]
    elif line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    try:
        regex = re.compile(_translate(line) + r"\Z", re.DOTALL)
    except re.error:
        return None
    return Rule(regex, negate, dir_only, anchored, line)


def parse_rules(lines: Iterable[str]) -> tuple[Rule, ...]:
    return tuple(r for r in map(parse_rule, lines) if r is not None)


def _decide(rules: Sequence[Rule], rel: str, name: str, is_dir: bool, state: bool | None):
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.regex.match(rel if rule.anchored else name):
            state = not rule.negate
    return state


def _read_lines(path: str) -> list[str] | None:
    try:
        # Not plain open(): a .gitignore swapped for a FIFO would block the walk forever.
        with os.fdopen(open_regular(path, follow_symlinks=True), "rb") as fh:
            data = fh.read(1_000_000)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _config_value(path: str, section: str, key: str) -> str | None:
    """The last `key` of `[section]` in a git config file (a small reader: no includes,
    no subsections), or None."""
    lines = _read_lines(path)
    if not lines:
        return None
    value, current = None, ""
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = line[1 : line.find("]")].strip().lower() if "]" in line else ""
            continue
        if current != section or "=" not in line:
            continue
        name, _, rest = line.partition("=")
        if name.strip().lower() != key:
            continue
        rest = rest.strip()
        if rest.startswith('"') and rest.count('"') >= 2:
            rest = rest[1 : rest.index('"', 1)]
        else:
            rest = re.split(r"\s[#;]", rest, maxsplit=1)[0].strip()
        value = rest
    return value


def global_excludes_file(root: str | None = None) -> str | None:
    """git's global excludes file: `core.excludesFile` from the repository's `.git/config`,
    `~/.gitconfig` or `$XDG_CONFIG_HOME/git/config` (in git's precedence), else
    `$XDG_CONFIG_HOME/git/ignore` (`~/.config/git/ignore`). None when there is no file."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    configs = [os.path.join(xdg, "git", "config"), os.path.join(home, ".gitconfig")]
    if os.environ.get("GIT_CONFIG_GLOBAL"):
        configs = [os.environ["GIT_CONFIG_GLOBAL"]]
    if root:
        configs.append(os.path.join(root, ".git", "config"))
    value = None
    for config in configs:  # later files win, as in git
        value = _config_value(config, "core", "excludesfile") or value
    path = os.path.expanduser(value) if value else os.path.join(xdg, "git", "ignore")
    if value and root and not os.path.isabs(path):
        path = os.path.join(root, path)
    return path if os.path.isfile(path) else None


class IgnoreMatcher:
    """Decides whether a path under `root` is ignored. Caches each folder's .gitignore."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        extra: Sequence[str] = (),
        *,
        defaults: Sequence[str] = DEFAULT_IGNORES,
        use_gitignore: bool = True,
    ) -> None:
        self.root = os.path.realpath(root)
        self.defaults = parse_rules(defaults)
        self.extra = parse_rules(extra)
        self.use_gitignore = use_gitignore
        self.exclude: tuple[Rule, ...] = ()
        if use_gitignore:
            lines = _read_lines(os.path.join(self.root, ".git", "info", "exclude"))
            global_file = global_excludes_file(self.root)
            global_lines = _read_lines(global_file) if global_file else None
            # The global file first: the repository's own exclude wins over it.
            self.exclude = parse_rules([*(global_lines or ()), *(lines or ())])
        self._cache: dict[str, tuple[Rule, ...]] = {}

    def rules_in(self, folder: str) -> tuple[Rule, ...]:
        """The rules of `folder`/.gitignore (empty when there is none)."""
        if not self.use_gitignore:
            return ()
        rules = self._cache.get(folder)
        if rules is None:
            lines = _read_lines(os.path.join(folder, ".gitignore"))
            rules = parse_rules(lines) if lines else ()
            self._cache[folder] = rules
        return rules

    def invalidate(self, folder: str | None = None) -> None:
        """Forget cached .gitignore rules (of one folder, or all)."""
        if folder is None:
            self._cache.clear()
        else:
            self._cache.pop(os.path.realpath(folder), None)
            self._cache.pop(folder, None)

    def relative(self, path: str) -> str | None:
        if path == self.root:
            return ""
        prefix = self.root.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            return None
        return path[len(prefix) :].replace(os.sep, "/")

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Is `path` itself ignored? (Its parent folders are taken as already admitted,
        which is how the walker uses it: it never enters an ignored folder.)"""
        rel = self.relative(path)
        if not rel:
            return False
        name = rel.rsplit("/", 1)[-1]
        state = _decide(self.defaults, rel, name, is_dir, None)
        state = _decide(self.exclude, rel, name, is_dir, state)
        if self.use_gitignore:
            parts = rel.split("/")
            folder = self.root
            for depth in range(len(parts)):
                rules = self.rules_in(folder)
                if rules:
                    sub = "/".join(parts[depth:])
                    state = _decide(rules, sub, name, is_dir, state)
                folder = os.path.join(folder, parts[depth])
        state = _decide(self.extra, rel, name, is_dir, state)
        return bool(state)

    def ignored_deep(self, path: str, is_dir: bool) -> bool:
        """Is `path` ignored, or inside an ignored folder? (For watch events.)"""
        rel = self.relative(path)
        if rel is None:
            return True
        if not rel:
            return False
        parts = rel.split("/")
        current = self.root
        for i, part in enumerate(parts):
            current = os.path.join(current, part)
            last = i == len(parts) - 1
            if self.ignored(current, is_dir if last else True):
                return True
        return False
