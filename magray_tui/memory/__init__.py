"""The layered memory: DuckDB store, hnswlib + tantivy indexes, hybrid search."""

from magray_tui.memory.records import (
    Hit,
    Layer,
    MemoryError_,
    Record,
    RecordNotFound,
    State,
    StoreLocked,
)
from magray_tui.memory.service import MemoryService
from magray_tui.memory.transfer import ImportReport

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
