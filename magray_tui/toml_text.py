"""TOML text parsed with one-line errors: tomllib's own, and its RecursionError.

Kept apart from magray_tui.config (which pulls pydantic) so the TUI can read theme files
before its first frame without the config stack.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any


def parse_toml(
    text: str, path: Path, error: type[Exception], *, prefix: str = "", infix: str = ""
) -> dict[str, Any]:
    """tomllib.loads, with every failure as one `error` line naming the file and line.

    tomllib recurses on nested arrays and inline tables: a file nested thousands deep
    raises RecursionError, reported here as the line where the nesting starts."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", detail)
        reason = re.sub(r"\s*\(at line.*\)$", "", detail)
        where = f"{path}, line {m.group(1)}" if m else str(path)
        raise error(f"{prefix}{where}: {infix}{reason}") from None
    except RecursionError:
        line = _first_deep_line(text)
        where = f"{path}, line {line}" if line else str(path)
        raise error(f"{prefix}{where}: {infix}arrays or tables nested too deeply") from None


def _first_deep_line(text: str, depth: int = 64) -> int | None:
    """The line where bracket nesting first passes `depth` (outside strings, roughly)."""
    level = 0
    for n, line in enumerate(text.splitlines(), 1):
        for char in line.split("#", 1)[0]:
            level += char in "[{"
            level -= char in "]}"
            if level > depth:
                return n
    return None
