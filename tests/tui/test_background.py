"""Bulk work runs in a thread of its own at a lower CPU priority; the worker that waits for
it keeps its priority (a pool thread could never get it back)."""

from __future__ import annotations

import os
import threading

import pytest

from magray_tui.tui.background import BACKGROUND_NICE, run_low_priority


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_work_runs_niced_in_its_own_thread_and_the_caller_is_untouched():
    before = niceness()
    seen = run_low_priority(lambda: (threading.get_native_id(), niceness()))
    assert seen[0] != threading.get_native_id()
    assert seen[1] >= BACKGROUND_NICE
    assert niceness() == before


def test_the_works_error_is_raised_in_the_caller():
    def broken() -> None:
        raise ValueError("bad folder")

    with pytest.raises(ValueError, match="bad folder"):
        run_low_priority(broken)
