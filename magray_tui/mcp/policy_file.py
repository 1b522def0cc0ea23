""" "Always for this client": the person's answer written into config.toml as a rule.

`allow_always(path, client, tool)` adds `TOOL = "allow"` under `[mcp.server.clients.NAME]`
(or changes the rule that is there), touching no other line, so the file keeps the
person's comments and order. The new text is parsed before it replaces the file, and must
mean exactly the old settings plus that one rule; anything else (a rule written as an
inline table, a file that does not parse) is not rewritten, and the reason is returned.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from magray_tui.mcp.access import client_name

_TOOL = re.compile(r"^[A-Za-z0-9_]+$")


def _rules(data: dict[str, Any], name: str) -> Any:
    return data.get("mcp", {}).get("server", {}).get("clients", {}).get(name)


def _header(name: str) -> re.Pattern[str]:
    quoted = rf"(?:{re.escape(name)}|\"{re.escape(name)}\"|'{re.escape(name)}')"
    return re.compile(
        rf"^[ \t]*\[[ \t]*mcp[ \t]*\.[ \t]*server[ \t]*\.[ \t]*clients[ \t]*\.[ \t]*{quoted}"
        r"[ \t]*\][ \t]*(?:#.*)?$",
        re.MULTILINE,
    )


def _edited(text: str, name: str, tool: str, rules: Any) -> str | None:
    line = f'{tool} = "allow"'
    if rules is None:
        header = f'[mcp.server.clients."{name}"]'
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}\n{header}  # added by the TUI: always allowed\n{line}\n"
    match = _header(name).search(text)
    if match is None or not isinstance(rules, dict):
        return None
    start = match.end()
    following = re.search(r"^[ \t]*\[", text[start:], re.MULTILINE)
    end = start + following.start() if following else len(text)
    body = text[start:end]
    if tool in rules:
        key = re.compile(rf"^[ \t]*(?:{tool}|\"{tool}\")[ \t]*=.*$", re.MULTILINE)
        if len(key.findall(body)) != 1:
            return None
        body = key.sub(line, body, count=1)
    else:
        body = f"\n{line}{body}"
    return text[:start] + body + text[end:]


def allow_always(path: Path, client: str, tool: str) -> str | None:
    """Write the rule; None when written, else why not (one line, the file unchanged)."""
    name = client_name(client)
    if not _TOOL.match(tool):
        return f"{tool!r} is not a tool name"
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        before = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return f"cannot read {path}: {exc}"
    new = _edited(text, name, tool, _rules(before, name))
    if new is None:
        return f'the rules for {name} in {path} are not a plain table; add {tool} = "allow"'
    expected = _with_rule(before, name, tool)
    try:
        if tomllib.loads(new) != expected:
            return f"could not add the rule to {path} safely; add it by hand"
    except tomllib.TOMLDecodeError:
        return f"could not add the rule to {path} safely; add it by hand"
    try:
        _replace(path, new)
    except OSError as exc:
        return f"cannot write {path}: {exc}"
    return None


def _with_rule(data: dict[str, Any], name: str, tool: str) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(data)
    clients = out.setdefault("mcp", {}).setdefault("server", {}).setdefault("clients", {})
    clients.setdefault(name, {})[tool] = "allow"
    return out


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
