"""The schema of the shared database file, as the memory code and older callers see it.

The migrations themselves live with their domains (`memory/migrations.py`,
`todo/migrations.py`, `agent/migrations.py`) and run through `magray_tui.db`.
"""

from __future__ import annotations

from typing import Any

from magray_tui.db import migrations as _runner
from magray_tui.db.catalog import ALL as MIGRATIONS
from magray_tui.db.catalog import LATEST
from magray_tui.db.migrations import Migration, current_version

__all__ = ["LATEST", "MIGRATIONS", "Migration", "current_version", "migrate"]


def migrate(
    conn: Any, target: int = LATEST, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[int]:
    """Bring the database to `target`; return the versions applied."""
    return _runner.migrate(conn, migrations, target)
