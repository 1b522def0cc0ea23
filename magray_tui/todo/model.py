"""The task types every face of the task DAG passes around (CLI, Tasks pane, planner).

A `Task` is an immutable snapshot: the service returns new ones after every change, so a
UI can keep the list it drew without it changing under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from magray_tui.errors import MagrayError


class TaskError(MagrayError):
    """A task operation that cannot be done; the message is one line meant for the user."""


class TaskNotFound(TaskError):
    pass


class CycleError(TaskError):
    """Adding the dependency (or parent) would close a loop; `.cycle` lists it, first id
    repeated at the end: ["t1", "t3", "t1"]."""

    def __init__(self, message: str, cycle: list[str]) -> None:
        super().__init__(message)
        self.cycle = cycle

    @staticmethod
    def show(cycle: list[str]) -> str:
        return " → ".join(cycle)


class DependentsExist(TaskError):
    """Cancelling a task that open tasks depend on: the caller must say what to do with
    them (`dependents="cancel" | "unlink" | "keep"`). `.dependents` holds their ids."""

    def __init__(self, message: str, dependents: list[str]) -> None:
        super().__init__(message)
        self.dependents = dependents


class TaskState(StrEnum):
    PLANNED = "planned"  # parked by the user: not in the ready queue, never auto-promoted
    READY = "ready"  # every dependency is done (computed)
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"  # some dependency is not done (computed)
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def parse(cls, value: str | TaskState) -> TaskState:
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        text = {"doing": "in_progress", "started": "in_progress", "canceled": "cancelled"}.get(
            text, text
        )
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise TaskError(f"unknown state {value!r} (use one of: {names})") from None

    @property
    def open(self) -> bool:
        """Still to be worked on (not done, failed or cancelled)."""
        return self not in CLOSED_STATES


CLOSED_STATES = frozenset({TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED})
# States the service derives from dependencies; the user cannot set them directly.
AUTO_STATES = frozenset({TaskState.READY, TaskState.BLOCKED})

STATE_GLYPHS: dict[TaskState, str] = {
    TaskState.PLANNED: "○",
    TaskState.READY: "◎",
    TaskState.IN_PROGRESS: "▶",
    TaskState.BLOCKED: "⊘",
    TaskState.DONE: "✓",
    TaskState.FAILED: "✗",
    TaskState.CANCELLED: "⦸",
}


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @classmethod
    def parse(cls, value: str | Priority) -> Priority:
        text = str(value).strip().lower()
        text = {"l": "low", "m": "medium", "med": "medium", "h": "high", "c": "critical"}.get(
            text, text
        )
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise TaskError(f"unknown priority {value!r} (use one of: {names})") from None

    @property
    def rank(self) -> int:
        """0 for critical … 3 for low: sorts the most urgent first."""
        return PRIORITY_ORDER.index(self)


PRIORITY_ORDER = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW)


@dataclass(frozen=True)
class Task:
    id: str  # "t12": short and typable; never reused
    num: int
    title: str
    description: str = ""
    state: TaskState = TaskState.READY
    priority: Priority = Priority.MEDIUM
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    started_at: datetime | None = None
    completed_at: datetime | None = None
    due_at: datetime | None = None
    parent: str | None = None
    deps: tuple[str, ...] = ()  # ids this task depends on (sorted by number)
    tags: tuple[str, ...] = ()
    memory_links: tuple[str, ...] = ()  # memory record ids
    artifacts: tuple[str, ...] = ()  # file paths or short texts the task produced
    estimate_hours: float | None = None
    notes: str = ""

    @property
    def glyph(self) -> str:
        return STATE_GLYPHS[self.state]

    def to_dict(self) -> dict:
        """JSON-ready form (times as ISO strings with Z), used by export and `--json`."""
        return {
            "id": self.id,
            "num": self.num,
            "title": self.title,
            "description": self.description,
            "state": self.state.value,
            "priority": self.priority.value,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
            "due_at": _iso(self.due_at),
            "parent": self.parent,
            "deps": list(self.deps),
            "tags": list(self.tags),
            "memory_links": list(self.memory_links),
            "artifacts": list(self.artifacts),
            "estimate_hours": self.estimate_hours,
            "notes": self.notes,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"


_ID = re.compile(r"^\s*#?t?(\d+)\s*$", re.IGNORECASE)


def task_id(num: int) -> str:
    return f"t{num}"


def parse_ref(ref: str | int) -> int | None:
    """ "t12", "T12", "#12" and "12" all name task number 12; None if it is not an id."""
    if isinstance(ref, int):
        return ref
    match = _ID.match(str(ref))
    return int(match.group(1)) if match else None


def parse_time(value: datetime | date | str | None) -> datetime | None:
    """Naive UTC from a datetime, a date, or an ISO string ("2025-03-01", "…T10:00Z")."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(UTC).replace(tzinfo=None)
            except (OverflowError, ValueError):  # 9999-12-31T23:00-05:00 leaves year 9999
                raise TaskError(f"time out of range in UTC: {value.isoformat()!r}") from None
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise TaskError(f"cannot read the time {value!r} (use YYYY-MM-DD or ISO 8601)") from None
    return parse_time(parsed)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(r"\+\s*(\d{1,4})\s*([dw])", re.IGNORECASE)


def parse_due(value: datetime | date | str | None, today: date | None = None) -> datetime | None:
    """A due date: what `parse_time` reads, or words people type: `today`, `tomorrow`, a
    weekday (`friday`, `fri`: the next one after today), `+3d`, `+2w`. Relative dates count
    from the local calendar day; the result is that day at midnight, as for YYYY-MM-DD."""
    if not isinstance(value, str):
        return parse_time(value)
    text = value.strip().lower()
    if not text:
        return None
    today = today or datetime.now().date()
    days: int | None = None
    if text in ("today", "tod"):
        days = 0
    elif text in ("tomorrow", "tmr", "tomorow"):
        days = 1
    elif len(text) >= 3 and any(w.startswith(text) for w in _WEEKDAYS):
        wanted = next(n for n, w in enumerate(_WEEKDAYS) if w.startswith(text))
        days = (wanted - today.weekday() - 1) % 7 + 1  # 1..7: the next one, never today
    elif match := _RELATIVE.fullmatch(text):
        count, unit = int(match.group(1)), match.group(2)
        days = count * (7 if unit == "w" else 1)
    if days is not None:
        day = date.fromordinal(today.toordinal() + days)
        return datetime(day.year, day.month, day.day)
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise TaskError(
            f"cannot read the due date {value!r} (use YYYY-MM-DD, today, tomorrow, a weekday "
            "such as friday, or +3d / +2w)"
        ) from None
    return parse_time(parsed)  # a readable time still says when it leaves the UTC range


def clean_tags(tags: object) -> tuple[str, ...]:
    """Tags as a tuple of distinct, trimmed, non-empty strings (a comma string is split)."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple | set | frozenset):
        raise TaskError("tags must be a list of strings")
    out: dict[str, None] = {}  # an ordered set: linear, where `not in list` was quadratic
    for tag in tags:
        text = str(tag).strip()
        if text:
            out[text] = None
    return tuple(out)
