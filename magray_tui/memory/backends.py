"""Which store and indexes a memory opens: the home's DuckDB file with hnswlib and tantivy,
or, with `[store] url`, a PostgreSQL server whose indexes run in the server
(magray_tui/pg/). The rest of the memory is the same code on both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magray_tui.memory.indexes import Indexes
from magray_tui.memory.store import Store
from magray_tui.memory.vector_index import IndexParams

if TYPE_CHECKING:
    from magray_tui.config import Settings


def open_store(settings: Settings, store: Store | None, read_only: bool) -> Any:
    """The memory's store. With a server the given `store` (tasks, chat) stays local."""
    if settings.store.url:
        from magray_tui.pg.store import PgStore

        return PgStore.from_settings(settings)
    if store is not None:
        return store
    paths = settings.paths
    return Store.open(paths.db_file, read_only=read_only, config=settings.resources.duckdb_config())


def make_indexes(
    settings: Settings, store: Any, model_id: str, dim: int, checkpoint_every: int
) -> Any:
    mem = settings.memory
    params = IndexParams(dim, mem.hnsw_m, mem.hnsw_ef_construction, mem.hnsw_ef_search)
    if settings.store.url:
        from magray_tui.pg.indexes import PgIndexes

        return PgIndexes(store, params)
    return Indexes(store.repo, settings.paths.index_dir, params, model_id, checkpoint_every)
