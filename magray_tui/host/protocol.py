"""The wire format between a home's host and its clients: one JSON object per line.

Requests  {"id": n, "op": "memory.search", "args": [...], "kwargs": {...}}
Replies   {"id": n, "ok": value} | {"id": n, "error": {"cls": "module:Name", "msg": "..."}}
Progress  {"id": n, "progress": [done, total]}      (for calls given a progress callback)
Events    {"event": "changed", "domains": ["memory", "tasks"]}   (after subscribe)

Values keep their types both ways: dataclasses from magray_tui (Record, Hit, Task,
reports), enums, datetimes, paths, tuples and dicts with non-string keys are tagged.
Decoding only ever imports magray_tui modules, and this module imports nothing heavy:
a client that only searches never loads numpy, DuckDB or onnxruntime.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

MAX_LINE = 64 * 1024 * 1024  # one message; a bigger one is a broken peer
_OURS = "magray_tui."


class ProtocolError(Exception):
    """A peer sent something that is not this protocol."""


def _qualname(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(name: str) -> Any:
    module, _, qual = name.partition(":")
    if not module.startswith(_OURS) or not qual:
        raise ProtocolError(f"refusing to decode a type outside magray: {name!r}")
    obj: Any = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def encode(value: Any) -> Any:
    """Plain JSON data for `value`, with type tags where JSON would lose the type."""
    if isinstance(value, enum.Enum):  # before str: StrEnum values are strings too
        return {"__enum": _qualname(type(value)), "v": encode(value.value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {"__bytes": base64.b64encode(value).decode()}
    if isinstance(value, datetime):
        return {"__dt": value.isoformat()}
    if isinstance(value, date):
        return {"__date": value.isoformat()}
    if isinstance(value, PurePath):
        return {"__path": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__dc": _qualname(cls), "f": fields}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v) for k, v in value.items()}
        # Non-string keys, or keys that could be mistaken for a type tag (user metadata).
        return {"__dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, set | frozenset):
        return {"__set": [encode(v) for v in value]}
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars (host side only)
    if callable(tolist):
        return encode(tolist())
    raise ProtocolError(f"cannot send a {type(value).__name__} between processes")


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__bytes" in data:
        return base64.b64decode(data["__bytes"])
    if "__dt" in data:
        return datetime.fromisoformat(data["__dt"])
    if "__date" in data:
        return date.fromisoformat(data["__date"])
    if "__path" in data:
        return Path(data["__path"])
    if "__tuple" in data:
        return tuple(decode(v) for v in data["__tuple"])
    if "__set" in data:
        return {decode(v) for v in data["__set"]}
    if "__dict" in data:
        return {decode(k): decode(v) for k, v in data["__dict"]}
    if "__enum" in data:
        return _resolve(data["__enum"])(decode(data["v"]))
    if "__dc" in data:
        return _build(_resolve(data["__dc"]), {k: decode(v) for k, v in data["f"].items()})
    return {k: decode(v) for k, v in data.items()}


def _build(cls: Any, values: dict[str, Any]) -> Any:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ProtocolError(f"{cls!r} is not a data type")
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    obj = cls(**{k: v for k, v in values.items() if k in init})
    for key, value in values.items():
        if key not in init:
            object.__setattr__(obj, key, value)
    return obj


def encode_error(exc: BaseException) -> dict[str, Any]:
    return {"cls": _qualname(type(exc)), "msg": str(exc)}


def decode_error(data: dict[str, Any]) -> Exception | None:
    """The exception the host raised, rebuilt here; None when its type is not ours."""
    try:
        cls = _resolve(str(data.get("cls", "")))
    except (ProtocolError, ImportError, AttributeError):
        return None
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return None
    exc = cls.__new__(cls)
    Exception.__init__(exc, str(data.get("msg", "")))
    return exc


def dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def loads(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message
