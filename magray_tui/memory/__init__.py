"""The layered memory: DuckDB store, hnswlib + tantivy indexes, hybrid search.

The record types are imported eagerly (they are plain dataclasses); the service and the
import report load only when first named, so a thin client of another magray process can
use `Record` and `Hit` without importing numpy, DuckDB or the indexes.
"""

from typing import TYPE_CHECKING, Any

from magray_tui.memory.records import (
    Hit,
    Layer,
    MemoryError_,
    Record,
    RecordNotFound,
    State,
    StoreLocked,
)

if TYPE_CHECKING:
    from magray_tui.memory.service import MemoryService
    from magray_tui.memory.transfer import ImportReport

_LAZY = {
    "MemoryService": "magray_tui.memory.service",
    "ImportReport": "magray_tui.memory.transfer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Hit",
    "ImportReport",
    "Layer",
    "MemoryError_",
    "MemoryService",
    "Record",
    "RecordNotFound",
    "State",
    "StoreLocked",
]
