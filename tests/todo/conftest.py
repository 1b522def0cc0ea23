"""Fixtures for the task DAG tests: a real DuckDB store in a temp folder and a clock that
moves one second per reading (so every change has its own, predictable time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from magray_tui.memory.store import Store
from magray_tui.todo.service import TodoService

START = datetime(2026, 1, 15, 12, 0, 0)


class TickingClock:
    def __init__(self, start: datetime = START, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(tmp_path / "tasks.duckdb")
    yield st
    st.close()


@pytest.fixture
def todo(store: Store, clock: TickingClock) -> TodoService:
    return TodoService(store, clock=clock)
