"""Allow / ask / deny per tool and per argument pattern.

Rules map `"tool"` or `"tool:glob"` to an action; `tool` may be `*` (every tool). The glob
is matched (fnmatch, case-sensitive, `*` also crosses `/`) against the call's main
argument: for file tools the path relative to its workspace root (`src/app.py`) and the
absolute resolved path (either may match); for shell the command line as `shlex.join`
writes it. Paths are matched after resolution, so `a/../secrets/x` meets `secrets/*`.

Which rule decides:
1. the user's rules (config `[tools.policy]`) first; the built-in defaults only when none
   of the user's rules matches;
2. among matching rules the most specific wins: a rule with a glob beats a bare one, then
   the glob with more literal (non-wildcard) characters, then an exact tool name beats `*`;
3. on a tie the stricter action wins (deny > ask > allow).

A call may name several things at once (a shell command line that runs `env rm …` runs
`env` and `rm`): each is decided on its own and the strictest decision wins.

Files whose names say they hold secrets (`.env`, `.env.*`, `*.pem`, `*.key`, `id_*`
private keys, `.netrc`, …) are matched by their base name in built-in `ask` rules for
`read_file`, so reading one asks first unless a rule of the user's says otherwise.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal["allow", "ask", "deny"]
ACTIONS: tuple[Action, ...] = ("allow", "ask", "deny")
_STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}

# Reading and looking are harmless; anything that changes state asks.
DEFAULT_POLICY: dict[str, Action] = {
    "read_file": "allow",
    "list_directory": "allow",
    "search_files": "allow",
    "git_status": "allow",
    "git_diff": "allow",
    "search_memory": "allow",
    "write_file": "ask",
    "shell": "ask",
    "add_memory": "ask",
    "add_task": "ask",
    "*": "ask",  # a tool added later asks until someone decides otherwise
}

# Base names of files that usually hold credentials: reading one asks (built-in rules),
# search_files does not look inside them. `id_*.pub` (public keys) is exempt.
SECRET_FILE_GLOBS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "id_*",
    ".netrc",
    "_netrc",
    ".pgpass",
    "*.p12",
    "*.pfx",
)
_PUBLIC_KEY = "id_*.pub"


def is_secret_file(path: str) -> bool:
    """True when the base name of `path` matches SECRET_FILE_GLOBS (not a .pub key)."""
    name = posixpath.basename(path.rstrip("/"))
    if fnmatch.fnmatchcase(name, _PUBLIC_KEY):
        return False
    return any(fnmatch.fnmatchcase(name, glob) for glob in SECRET_FILE_GLOBS)


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    tool: str  # a name or "*"
    glob: str | None
    action: Action
    text: str  # as written, for messages
    basename: bool = False  # built-in secret-file rules: the glob meets the base name only

    @property
    def specificity(self) -> tuple[int, int, int]:
        literal = len(re.sub(r"[*?]|\[[^\]]*\]", "", self.glob)) if self.glob is not None else 0
        return (self.glob is not None, literal, self.tool != "*")

    def matches(self, tool: str, subjects: Sequence[str]) -> bool:
        if self.tool not in ("*", tool):
            return False
        if self.glob is None:
            return True
        if self.basename:
            return any(fnmatch.fnmatchcase(posixpath.basename(s), self.glob) for s in subjects)
        return any(fnmatch.fnmatchcase(s, self.glob) for s in subjects)


@dataclass(frozen=True)
class Decision:
    action: Action
    rule: Rule | None
    default: bool  # True when a built-in default decided

    def reason(self) -> str:
        if self.rule is None:
            return "no rule"
        where = "default rule" if self.default else "rule"
        return f"{where} {self.rule.text!r} = {self.action}"


def parse_rule(key: str, action: str) -> Rule:
    """One `key = action` entry; raises PolicyError with a one-line reason."""
    action = str(action).strip().lower()
    if action not in ACTIONS:
        raise PolicyError(f"policy {key!r}: {action!r} is not one of allow, ask, deny")
    tool, sep, glob = str(key).partition(":")
    tool = tool.strip()
    if not tool:
        raise PolicyError(f"policy {key!r}: the tool name is empty")
    if sep and not glob:
        raise PolicyError(f"policy {key!r}: the pattern after ':' is empty")
    return Rule(tool, glob if sep else None, action, str(key))  # type: ignore[arg-type]


def _parse(rules: Mapping[str, str]) -> tuple[Rule, ...]:
    return tuple(parse_rule(k, v) for k, v in rules.items())


def _secret_rules() -> tuple[Rule, ...]:
    rules = [
        Rule("read_file", glob, "ask", f"read_file:{glob} (may hold secrets)", basename=True)
        for glob in SECRET_FILE_GLOBS
    ]
    # More literal characters than `id_*`, so a public key reads without asking.
    rules.append(Rule("read_file", _PUBLIC_KEY, "allow", f"read_file:{_PUBLIC_KEY}", True))
    return tuple(rules)


def _stricter(a: Decision, b: Decision) -> Decision:
    return b if _STRICTNESS[b.action] > _STRICTNESS[a.action] else a


def _pick(rules: Iterable[Rule], tool: str, subjects: Sequence[str]) -> Rule | None:
    found = [r for r in rules if r.matches(tool, subjects)]
    if not found:
        return None
    return max(found, key=lambda r: (r.specificity, _STRICTNESS[r.action]))


class Policy:
    def __init__(
        self, rules: Mapping[str, str] | None = None, defaults: Mapping[str, str] = DEFAULT_POLICY
    ) -> None:
        self.rules = _parse(rules or {})
        self.defaults = _parse(defaults)
        if defaults is DEFAULT_POLICY:
            self.defaults += _secret_rules()

    def decide(self, tool: str, subjects: Sequence[str] = ()) -> Decision:
        rule = _pick(self.rules, tool, subjects)
        if rule is not None:
            return Decision(rule.action, rule, False)
        rule = _pick(self.defaults, tool, subjects)
        if rule is not None:
            return Decision(rule.action, rule, True)
        return Decision("ask", None, True)

    def decide_each(
        self, tool: str, subjects: Sequence[str], also: Sequence[Sequence[str]] = ()
    ) -> Decision:
        """The strictest decision over everything one call does.

        `subjects` as for `decide`. Each group in `also` is one more thing the call does:
        its first entry as written, then other spellings of the same thing (a program's
        resolved path, its base name). The written form decides; another spelling can only
        make it stricter, and only through a rule with a glob (so `shell:rm *` = deny meets
        `/bin/rm`, but `shell:git status*` = allow does not let `./git status` through).
        """
        decision = self.decide(tool, subjects)
        for group in also:
            if not group:
                continue
            this = self.decide(tool, group[:1])
            for spelling in group[1:]:
                other = self.decide(tool, (spelling,))
                if other.rule is not None and other.rule.glob is not None:
                    this = _stricter(this, other)
            decision = _stricter(decision, this)
        return decision

    def hides(self, tool: str) -> bool:
        """True when every call of `tool` is denied, so the model need not see it.

        A bare deny with a more specific allow/ask glob for the same tool keeps it listed.
        """
        if self.decide(tool).action != "deny":
            return False
        return not any(
            r.glob is not None and r.tool in ("*", tool) and r.action != "deny" for r in self.rules
        )
