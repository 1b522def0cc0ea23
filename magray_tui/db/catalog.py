"""Every domain's migrations on the one version line of the shared database file.

The domain lists are pure data modules (`*/migrations.py`, importing only
`magray_tui.db.migrations`), so reading them is cheap and creates no cycle.
"""

from __future__ import annotations

from magray_tui.agent import migrations as chat
from magray_tui.db import commit_counter
from magray_tui.db.migrations import Migration
from magray_tui.memory import migrations as memory
from magray_tui.todo import migrations as tasks

ALL: tuple[Migration, ...] = tuple(
    sorted(
        (*memory.MIGRATIONS, *tasks.MIGRATIONS, *chat.MIGRATIONS, *commit_counter.MIGRATIONS),
        key=lambda m: m.version,
    )
)
LATEST = ALL[-1].version
# Numbers are reserved per feature and may land out of order (7 before 6): the runner applies
# every one not yet recorded, so a gap is allowed; a number used twice is not.
assert len({m.version for m in ALL}) == len(ALL), "a migration number is used twice"
