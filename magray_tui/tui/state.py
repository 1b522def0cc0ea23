"""Small UI state that persists between runs (theme, last pane), kept in the state folder.

Not config: the user never edits it, so it lives in `state/tui.json`, not config.toml.
Several magray windows may share it: each save writes only the field that changed over
what the file holds now, and only the first window open (it holds `tui.lock`) records
its pane, so a second window browsing elsewhere does not move the first one's.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


@dataclass
class UiState:
    theme: str | None = None
    pane: str | None = None

    @classmethod
    def load(cls, path: Path) -> UiState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, RecursionError) as exc:
            log.warning("ignoring unreadable UI state %s: %s", path, exc)
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(
            theme=data.get("theme") if isinstance(data.get("theme"), str) else None,
            pane=data.get("pane") if isinstance(data.get("pane"), str) else None,
        )

    def save(self, path: Path, *names: str) -> None:
        """Write the fields `names` (all without any) over the file's current content,
        atomically, so a crash never leaves half a file."""
        names = names or tuple(f.name for f in fields(self))
        with _SAVING:
            data = asdict(UiState.load(path))
            data.update({name: getattr(self, name) for name in names})
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            tmp.replace(path)


_SAVING = threading.Lock()


class FirstWindow:
    """Whether this process is the first magray window on this state folder: it holds an
    advisory lock on `tui.lock` for as long as it runs (released by the OS at exit)."""

    def __init__(self, state_dir: Path) -> None:
        self._file: IO[str] | None = None
        self.first = True
        try:
            import fcntl

            state_dir.mkdir(parents=True, exist_ok=True)
            handle = open(state_dir / "tui.lock", "a", encoding="utf-8")  # noqa: SIM115
        except (ImportError, OSError) as exc:  # no lock to take: act as the only window
            log.debug("no UI state lock: %s", exc)
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            self.first = False
            return
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
