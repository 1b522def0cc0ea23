"""Where magray keeps its files: data, config, cache and state (logs), from `MAGRAY_HOME`
or the platform's folders. Pydantic-free, so the TUI can find its files (saved state,
themes, key remaps, the log) before the first frame without building the Settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "magray"
ENV_PREFIX = "MAGRAY_"


@dataclass(frozen=True)
class Paths:
    """Where magray keeps its files. Every folder is created on first use, not here."""

    data: Path
    config: Path
    cache: Path
    state: Path

    @classmethod
    def resolve(cls, home: Path | str | None = None) -> Paths:
        home = home or os.environ.get(f"{ENV_PREFIX}HOME") or None
        if home:
            root = Path(home).expanduser().resolve()
            return cls(root / "data", root / "config", root / "cache", root / "state")
        import platformdirs

        return cls(
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_cache_dir(APP_NAME)),
            Path(platformdirs.user_state_dir(APP_NAME)),
        )

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.data / "memory.duckdb"

    @property
    def index_dir(self) -> Path:
        # Indexes are derived from the database: a cache that can be rebuilt at any time.
        return self.cache / "index"

    @property
    def models_dir(self) -> Path:
        return self.data / "models"

    @property
    def log_dir(self) -> Path:
        return self.state / "logs"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "magray.log"
