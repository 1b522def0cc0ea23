"""Due dates as people type them (issue 15): today, tomorrow, a weekday, +3d, +2w, in the
CLI and the service; anything else is one clear line."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from magray_tui.todo.model import TaskError, parse_due
from tests.todo.test_tasks_cli import magray

WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date(2026, 12, 2)),
        ("Tomorrow", date(2026, 12, 3)),
        ("friday", date(2026, 12, 4)),
        ("fri", date(2026, 12, 4)),
        ("wednesday", date(2026, 12, 9)),  # the next one, never today
        ("monday", date(2026, 12, 7)),
        ("+3d", date(2026, 12, 5)),
        ("+ 2w", date(2026, 12, 16)),
        ("+30d", date(2027, 1, 1)),
        ("2026-05-01", date(2026, 5, 1)),
    ],
)
def test_due_words(text: str, expected: date) -> None:
    got = parse_due(text, today=WEDNESDAY)
    assert got == datetime(expected.year, expected.month, expected.day)


@pytest.mark.parametrize("text", ["fridy", "next tuesday", "+3", "3d", "fr", "+3y"])
def test_unreadable_due_is_one_line(text: str) -> None:
    with pytest.raises(TaskError, match=r"cannot read the due date .* \+3d / \+2w\)$"):
        parse_due(text, today=WEDNESDAY)


def test_cli_add_and_edit_take_due_words(home: Path) -> None:
    tomorrow = datetime.now().date() + timedelta(days=1)
    task = json.loads(magray("tasks", "add", "Ship", "--due", "tomorrow", "--json").stdout)
    assert task["due_at"].startswith(tomorrow.isoformat())
    in_three = datetime.now().date() + timedelta(days=3)
    edited = json.loads(magray("tasks", "edit", task["id"], "--due", "+3d", "--json").stdout)
    assert edited["due_at"].startswith(in_three.isoformat())
    bad = magray("tasks", "add", "Ship", "--due", "fridy", ok=False)
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == [
        "Error: cannot read the due date 'fridy' (use YYYY-MM-DD, today, tomorrow, a weekday "
        "such as friday, or +3d / +2w)"
    ]
