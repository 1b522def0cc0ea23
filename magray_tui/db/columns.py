"""Column arrays for DuckDB's scan of a dict of NumPy arrays (fast bulk writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def object_array(values: Iterable[Any]) -> np.ndarray:
    """A 1-d object array of `values` (strings, lists, datetimes, None) without NumPy
    trying to make a 2-d array of equal-length lists."""
    items = list(values)
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr
