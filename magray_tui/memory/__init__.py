"""The layered memory: DuckDB store, hnswlib + tantivy indexes, hybrid search.

Importing the package is cheap: names load on first use (the domain types come from the
numpy-free `records` module; `MemoryService` pulls in numpy, DuckDB, hnswlib, tantivy)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magray_tui.memory.records import (
        Filters,
        Hit,
        Layer,
        MemoryError_,
        Record,
        RecordNotFound,
        State,
        StoreLocked,
        utc_now,
    )
    from magray_tui.memory.service import MemoryService
    from magray_tui.memory.transfer import ImportReport

_WHERE = {
    "Filters": "records",
    "Hit": "records",
    "Layer": "records",
    "MemoryError_": "records",
    "Record": "records",
    "RecordNotFound": "records",
    "State": "records",
    "StoreLocked": "records",
    "utc_now": "records",
    "MemoryService": "service",
    "ImportReport": "transfer",
}

__all__ = [
    "Filters",
    "Hit",
    "ImportReport",
    "Layer",
    "MemoryError_",
    "MemoryService",
    "Record",
    "RecordNotFound",
    "State",
    "StoreLocked",
    "utc_now",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
