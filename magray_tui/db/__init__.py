"""The database layer shared by memory, tasks and chat: open, lock, per-thread cursors,
one `transaction()`, migrations per domain."""

from magray_tui.db.database import Cursor, Database

__all__ = ["Cursor", "Database"]
