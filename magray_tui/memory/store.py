"""`Store`: the shared database as older callers know it.

It is the `magray_tui.db.Database` (tasks and chat take it as that) plus the memory
repository's reads under their old names. Memory writes do not go through here: they go
through `commit.Committer`, the one write path. `insert` stays for tests that need a row
the indexes have not seen (a store ahead of its caches).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from magray_tui.db import Database
from magray_tui.memory.records import Filters, MemoryError_, utcnow
from magray_tui.memory.repository import MemoryRepository
from magray_tui.memory.repository_rows import RECORD_COLUMNS, row_to_record
from magray_tui.memory.repository_writes import Writes

__all__ = ["RECORD_COLUMNS", "Filters", "Store", "row_to_record", "utcnow"]


class Store(Database):
    """Construct with `Store.open`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = utcnow
        self.repo = MemoryRepository(self)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        read_only: bool = False,
        config: dict[str, Any] | None = None,
    ) -> Store:
        """`config` goes to `duckdb.connect` (`ResourceSettings.duckdb_config()`: a memory
        limit and thread count for a desktop; DuckDB's own default takes 80% of RAM)."""
        db = super().open(path, read_only=read_only, config=config)
        assert isinstance(db, Store)
        return db

    def __getattr__(self, name: str) -> Any:
        # Reads by their old names: get, get_many, list, history, counts, max_rev, ...
        if name.startswith("_") or name == "repo":
            raise AttributeError(name)
        return getattr(self.repo, name)

    def _cursor(self) -> Any:  # older name, kept for benchmarks and tests
        return self.cursor()

    def new_writes(self, cur: Any, now: Any) -> Writes:
        """The write half of the repository for one transaction (see commit.py)."""
        return Writes(cur, now)

    def ensure_vector_table(self, model_id: str, dim: int) -> None:
        """Vectors live in `vectors(seq, vec FLOAT[dim])`, for one embedding model at a time."""
        have_model, have_dim = self.get_meta("embed_model"), self.get_meta("embed_dim")
        if have_model is not None:
            if have_model != model_id or int(have_dim or 0) != dim:
                raise MemoryError_(
                    f"this store was embedded with {have_model} ({have_dim}-d) but the "
                    f"configured model is {model_id} ({dim}-d); set embedding.model back to "
                    f"{have_model}, or export the memories and import them into a new home"
                )
            return
        with self.transaction() as cur:
            Writes(cur, self.clock()).ensure_vector_table(model_id, dim)

    def insert(self, rows: list[dict[str, Any]], vectors: np.ndarray) -> list[tuple[int, int]]:
        """Rows written without telling the indexes (tests of a store ahead of its caches)."""
        with self.transaction() as cur:
            writes = Writes(cur, self.clock())
            seqs = writes.insert(rows, vectors)
        return [(s, writes.touched.rev) for s in seqs]
