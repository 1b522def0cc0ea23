"""Which programs a shell-tool command line runs, for policy rules like `shell:rm *`.

A deny rule is about a program, not about how its name is spelled: `/bin/rm -rf x`,
`env rm -rf x`, `command rm`, `nice -n 5 rm`, `timeout 5 rm`, `sudo rm`, `xargs rm`,
`sh -c 'cd x && rm -rf y'`, `find . -exec rm {} ;` and a symlink to `rm` all run `rm`.
`commands(argv)` unwraps the common wrappers and shell `-c` strings into every simple
command they run; `spellings` gives each one's other names (its base name, its path on
PATH, the symlink-free path and that file's base name).

Best effort, by design: a program can always run another in ways no parser foresees
(`sh -c "$(printf rm) x"`, a script file, a copy of `rm` under another name). A deny rule
narrows what asks; it is not a sandbox, and the shell asks before every command unless a
rule allows it.
"""

from __future__ import annotations

import os
import shlex
import shutil

MAX_DEPTH = 8

# Wrappers that run the rest of their arguments as a command: the options that take a
# value (as the next argument when not attached) and how many positionals come first.
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "nohup": (frozenset(), 0),
    "setsid": (frozenset(), 0),
    "unbuffer": (frozenset(), 0),
    "time": (frozenset({"-o", "-f", "--output", "--format"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "--class", "--classdata"}), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0),
    "timeout": (frozenset({"-s", "-k", "--signal", "--kill-after"}), 1),
    "chrt": (frozenset({"-T", "-P", "-D", "--sched-runtime", "--sched-period"}), 1),
    "taskset": (frozenset(), 1),
    "flock": (frozenset({"-w", "-E", "--timeout", "--conflict-exit-code"}), 1),
    "sudo": (
        frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user"}),
        0,
    ),
    "doas": (frozenset({"-u", "-C"}), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "--user", "--group"}), 0),
    "xargs": (
        frozenset(
            {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter"}
            | {"--max-args", "--max-procs", "--max-lines", "--max-chars"}
        ),
        0,
    ),
    "watch": (frozenset({"-n", "-d", "--interval", "--differences"}), 0),
    "busybox": (frozenset(), 0),
}
_ENV_WITH_VALUE = frozenset({"-u", "-C", "-S", "-P", "--unset", "--chdir", "--split-string"})
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
_SHELL_WORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
    | {"exec", "time", "command", "builtin", "eval"}
)


def _options_end(args: list[str], with_value: frozenset[str]) -> int:
    """Index of the first argument after the options (and a `--`)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return i + 1
        if not arg.startswith("-") or arg == "-":
            return i
        if arg.startswith("--"):
            if arg in with_value:  # `--opt value`; `--opt=value` is one argument
                i += 1
        else:
            for j, letter in enumerate(arg[1:], 1):
                if f"-{letter}" in with_value:
                    i += j == len(arg) - 1  # `-n 5` takes the next one; `-n5` does not
                    break
        i += 1
    return i


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name.replace("_", "a").isalnum() and not name[0].isdigit()


def _env(args: list[str]) -> list[list[str]]:
    i, split = 0, []
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        if arg in ("-S", "--split-string") and i + 1 < len(args):
            split = _split(args[i + 1])
            i += 2
            continue
        if arg.startswith("--split-string="):
            split = _split(arg.partition("=")[2])
        elif arg.startswith("-S") and len(arg) > 2:
            split = _split(arg[2:])
        elif arg in _ENV_WITH_VALUE:
            i += 1
        i += 1
    while i < len(args) and _is_assignment(args[i]):
        i += 1
    rest = split + args[i:]
    return [rest] if rest else []


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script string, split at `;`, `&`, `|`, `&&`, `||`,
    newlines, parentheses, `$(` and backticks; redirections and `VAR=x` prefixes dropped."""
    text = script.replace("$(", " ; ").replace("`", " ; ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    out: list[list[str]] = []
    current: list[str] = []
    skip_next = False
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: the shell would refuse it too
        return []
    for token in tokens:
        if skip_next:
            skip_next = False
            continue
        if token and set(token) <= set(";&|()\n"):
            if current:
                out.append(current)
            current = []
        elif token and set(token) <= set("<>&"):
            skip_next = True  # a redirection's target is not a command
        elif not current and (token in _SHELL_WORDS or _is_assignment(token)):
            continue
        else:
            current.append(token)
    if current:
        out.append(current)
    return out


def _shell(args: list[str]) -> list[list[str]]:
    has_c = False
    for arg in args:
        if arg == "--":
            return []
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            has_c = True
            continue
        if arg.startswith(("-", "+")):
            continue
        return shell_commands(arg) if has_c else []
    return []


def _find(args: list[str]) -> list[list[str]]:
    out, i = [], 0
    while i < len(args):
        if args[i] in _FIND_EXEC:
            j = i + 1
            while j < len(args) and args[j] not in (";", "+"):
                j += 1
            if j > i + 1:
                out.append(args[i + 1 : j])
            i = j
        i += 1
    return out


def _inner(name: str, args: list[str]) -> list[list[str]]:
    """The commands a wrapper runs, one level down."""
    if name == "env":
        return _env(args)
    if name in _SHELLS:
        return _shell(args)
    if name == "find":
        return _find(args)
    if name in ("su", "flock") and "-c" in args:
        at = args.index("-c")
        return shell_commands(args[at + 1]) if at + 1 < len(args) else []
    if name not in _WRAPPERS:
        return []
    with_value, positionals = _WRAPPERS[name]
    if name == "taskset" and any(a in ("-p", "--pid") for a in args):
        return []
    rest = args[_options_end(args, with_value) + positionals :]
    if name == "watch" and rest:
        return shell_commands(" ".join(rest))
    return [rest] if rest else []


def commands(argv: list[str]) -> list[list[str]]:
    """`argv` itself, then every command it runs through wrappers, depth first."""
    out: list[list[str]] = []

    def visit(cmd: list[str], depth: int) -> None:
        if not cmd:
            return
        out.append(cmd)
        if depth >= MAX_DEPTH:
            return
        for inner in _inner(os.path.basename(cmd[0]), cmd[1:]):
            visit(inner, depth + 1)

    visit(argv, 0)
    return out


def spellings(program: str, cwd: str, path: str | None) -> list[str]:
    """`program` as written, then its other names: base name, the file PATH finds, that
    file with symlinks resolved, and its base name (duplicates dropped)."""
    names = [program, os.path.basename(program)]
    found = shutil.which(program, path=path) if "/" not in program else program
    if found:
        found = found if os.path.isabs(found) else os.path.join(cwd, found)
        real = os.path.realpath(found)
        names += [os.path.normpath(found), real, os.path.basename(real)]
    return list(dict.fromkeys(n for n in names if n))


def policy_groups(argv: list[str], cwd: str, path: str | None) -> tuple[tuple[str, ...], ...]:
    """For `Prepared.also`: each command as written, then its other spellings."""
    groups = []
    for cmd in commands(argv):
        names = spellings(cmd[0], cwd, path)
        groups.append(tuple(shlex.join([name, *cmd[1:]]) for name in names))
    return tuple(groups)


def program_names(argv: list[str]) -> list[str]:
    """The base names of every program `argv` runs (for messages and tests)."""
    return [os.path.basename(cmd[0]) for cmd in commands(argv)]
