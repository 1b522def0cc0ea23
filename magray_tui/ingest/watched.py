"""Watched folders, persisted in `<state>/watched.json` (not in config.toml: the app
writes this list itself, from `magray ingest --watch` and the TUI's "Add folder")."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from magray_tui.errors import MagrayError
from magray_tui.regular_file import read_regular

if TYPE_CHECKING:
    from magray_tui.config import Settings

FILE_NAME = "watched.json"
MAX_BYTES = 16 * 1024 * 1024
_LOCK = threading.Lock()


class WatchedError(MagrayError):
    """The watched-folders file cannot be used; the message is one readable line."""


@dataclass
class WatchedFolder:
    path: str
    enabled: bool = True
    added_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.path) or os.path.isfile(self.path)


def watched_file(settings: Settings) -> Path:
    return settings.paths.state / FILE_NAME


def load_watched(settings: Settings) -> list[WatchedFolder]:
    """The saved list; WatchedError (one line naming the file and the entry) when the file
    is not what magray writes: a wrong type is an error, never a guess ("false" is not
    false, and a dropped entry would be lost at the next save)."""
    path = watched_file(settings)
    try:
        data = json.loads(read_regular(path, max_bytes=MAX_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return []
    except OSError as exc:
        why = exc.strerror or exc
        raise WatchedError(f"cannot read the watched folders from {path}: {why}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WatchedError(f"cannot read the watched folders from {path}: {exc}") from None
    except RecursionError:
        raise WatchedError(f"{path}: JSON nested too deeply; fix or delete the file") from None
    folders = data.get("folders") if isinstance(data, dict) else None
    if not isinstance(folders, list):
        raise WatchedError(f"{path} has no 'folders' list; fix or delete the file")
    return [_entry(path, n, item) for n, item in enumerate(folders, 1)]


def _entry(path: Path, n: int, item: object) -> WatchedFolder:
    def bad(problem: str) -> WatchedError:
        return WatchedError(f"{path}, folder #{n}: {problem}; fix or delete the file")

    if not isinstance(item, dict):
        raise bad('each folder must be an object like {"path": "...", "enabled": true}')
    folder = item.get("path")
    if not isinstance(folder, str) or not folder:
        raise bad("'path' must be a non-empty string")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        shown = json.dumps(enabled)
        raise bad(f"'enabled' must be true or false, not {shown[:20]}")
    added = item.get("added_at") or ""
    if not isinstance(added, str):
        raise bad("'added_at' must be a string")
    return WatchedFolder(folder, enabled, added)


def save_watched(settings: Settings, folders: list[WatchedFolder]) -> None:
    """Write atomically: a temp file renamed into place."""
    path = watched_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    body = {"version": 1, "folders": [asdict(f) for f in folders]}
    tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _norm(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.expanduser(os.fspath(path)))


def add_watched(settings: Settings, paths: list[str | os.PathLike[str]]) -> list[WatchedFolder]:
    """Add folders (enabling any that were disabled); returns the whole list."""
    with _LOCK:
        folders = load_watched(settings)
        by_path = {f.path: f for f in folders}
        for p in map(_norm, paths):
            if p in by_path:
                by_path[p].enabled = True
            else:
                folder = WatchedFolder(p)
                folders.append(folder)
                by_path[p] = folder
        save_watched(settings, folders)
        return folders


def remove_watched(settings: Settings, paths: list[str | os.PathLike[str]]) -> list[str]:
    """Stop watching folders; returns the paths that were in the list."""
    with _LOCK:
        folders = load_watched(settings)
        drop = set(map(_norm, paths)) | {os.fspath(p) for p in paths}
        removed = [f.path for f in folders if f.path in drop]
        save_watched(settings, [f for f in folders if f.path not in drop])
        return removed


def set_watch_enabled(settings: Settings, path: str | os.PathLike[str], enabled: bool) -> bool:
    """The TUI's per-folder toggle. Returns False if the folder is not in the list."""
    with _LOCK:
        folders = load_watched(settings)
        target = _norm(path)
        for f in folders:
            if f.path == target:
                f.enabled = enabled
                save_watched(settings, folders)
                return True
        return False
