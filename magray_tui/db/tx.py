"""The one place that writes BEGIN / COMMIT / ROLLBACK."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any


@contextmanager
def atomic(cursor: Any) -> Iterator[Any]:
    """Run the block in one DuckDB transaction on `cursor`: committed if the block returns,
    rolled back if it raises (the exception goes on)."""
    cursor.execute("BEGIN TRANSACTION")
    try:
        yield cursor
    except BaseException:
        # If the connection died with the transaction, there is nothing to undo.
        with suppress(Exception):
            cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")
