"""One error root: every user-facing error class is a MagrayError, and user_message gives
its one line (a hint included) while a bug gives None."""

from __future__ import annotations

import importlib

import pytest

from magray_tui.errors import MagrayError, StoreDamaged, StoreLocked
from magray_tui.user_errors import USER_ERRORS, user_message


@pytest.mark.parametrize(("module", "name"), USER_ERRORS)
def test_every_user_error_class_derives_from_the_root(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, MagrayError)
    assert user_message(cls("something went wrong")) == "something went wrong"


def test_hint_and_store_errors() -> None:
    err = StoreDamaged("x.duckdb is damaged", "import your last export")
    assert user_message(err) == "x.duckdb is damaged — import your last export"
    assert (err.message, err.hint) == ("x.duckdb is damaged", "import your last export")
    from magray_tui.memory import MemoryError_

    assert isinstance(StoreLocked("locked", "PID 1"), MemoryError_)
    assert user_message(ValueError("a bug")) is None
