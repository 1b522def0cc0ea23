"""Every domain's migrations on the one version line of the shared database file.

The domain lists are pure data modules (`*/migrations.py`, importing only
`magray_tui.db.migrations`), so reading them is cheap and creates no cycle.
"""

from __future__ import annotations

from magray_tui.agent import migrations as chat
from magray_tui.db.migrations import Migration
from magray_tui.memory import migrations as memory
from magray_tui.todo import migrations as tasks

ALL: tuple[Migration, ...] = tuple(
    sorted((*memory.MIGRATIONS, *tasks.MIGRATIONS, *chat.MIGRATIONS), key=lambda m: m.version)
)
LATEST = ALL[-1].version
# Numbers are reserved per piece of work, so one may land before a lower one: unique, not
# gap-free (the runner applies every version a file has not recorded).
assert len({m.version for m in ALL}) == len(ALL), "migration numbers must not repeat"
