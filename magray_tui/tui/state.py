"""Small UI state that persists between runs (theme, last pane), kept in the state folder.

Not config: the user never edits it, so it lives in `state/tui.json`, not config.toml.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

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

    def save(self, path: Path) -> None:
        """Write atomically, so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
