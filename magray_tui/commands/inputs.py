"""Input files and specs from the command line, checked at the door.

A path given to a command may be a FIFO that never ends, `/dev/zero`, a folder, or a file
of gigabytes; a JSON line may be nested a hundred thousand levels deep or hold the wrong
types. Each becomes one readable line (a `click.ClickException`, or the error text of one
batch line), never a hang or a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from magray_tui.memory.records import SEARCH_MODES
from magray_tui.regular_file import read_regular


class InputError(ValueError):
    """One line of a batch file that cannot be used; the message says why."""


def read_input_file(path: Path, *, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file (or standard input for '-'), at most `limit` of them.

    Opened without blocking, so a FIFO or a device is refused instead of waited on."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise click.ClickException(f"standard input is larger than {limit:,} bytes")
        return data
    try:
        return read_regular(path, max_bytes=limit)
    except IsADirectoryError:
        raise click.ClickException(f"{path} is a folder; give a {what}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None


def load_json(text: str | bytes) -> Any:
    """json.loads, with nesting too deep for Python reported as a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg}, column {exc.colno})") from None


_LIST_KEYS = ("layers", "kinds", "tags", "authors")
_TEXT_KEYS = ("session", "since", "until")
MAX_LIST = 1024
QUERY_KEYS = {"query", "k", "mode", *_LIST_KEYS, *_TEXT_KEYS}


def query_spec(line: str, defaults: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """One `--queries` line as (query, search arguments); InputError if it is unusable."""
    spec = load_json(line)
    if not isinstance(spec, dict):
        raise InputError('each line needs a JSON object like {"query": "..."}')
    unknown = sorted(set(spec) - QUERY_KEYS)
    if unknown:
        raise InputError(f"unknown key(s): {', '.join(map(str, unknown))}")
    query = spec.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InputError('each line needs {"query": "..."} with a non-empty string')
    args = dict(defaults)
    if "k" in spec:
        k = spec["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
            raise InputError("k must be a whole number from 1 to 1000")
        args["k"] = k
    if "mode" in spec:
        if spec["mode"] not in SEARCH_MODES:
            raise InputError(f"mode must be one of: {', '.join(SEARCH_MODES)}")
        args["mode"] = spec["mode"]
    for key in _LIST_KEYS:
        if key in spec:
            value = spec[key]
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{key} must be a string or a list of strings")
            if len(value) > MAX_LIST:
                raise InputError(f"{key}: at most {MAX_LIST} entries")
            args[key] = value
    for key in _TEXT_KEYS:
        if key in spec:
            if spec[key] is not None and not isinstance(spec[key], str):
                raise InputError(f"{key} must be a string")
            args[key] = spec[key]
    return query, args
