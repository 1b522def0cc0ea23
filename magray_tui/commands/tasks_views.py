"""Helpers for `magray tasks`: opening the database, error lines, tables and details, and
the LLM / memory hooks of `plan`. Kept apart so tasks_cmd.py holds only the commands."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from magray_tui.commands import AppContext
from magray_tui.commands.output import (
    dump_json,
    echo,
    echo_err,
    print_block,
    print_fields,
    print_table,
    snippet,
)

log = logging.getLogger(__name__)


@contextmanager
def open_services(app: AppContext, *, write: bool) -> Iterator[Any]:
    """Services over the home: this process's own, or proxies to the magray process that
    already has it open (see magray_tui.host)."""
    from magray_tui.host.attach import command_services

    with command_services(app) as services:
        yield services


@contextmanager
def open_todo(app: AppContext, *, write: bool) -> Iterator[Any]:
    with open_services(app, write=write) as services:
        yield services.todo


def task_rows(tasks: list[Any]) -> tuple[list[str], list[tuple]]:
    rows = [
        (
            t.id,
            f"{t.glyph} {t.state.value}",
            t.priority.value,
            snippet(t.title, 60),
            ", ".join(t.deps) or "-",
            f"{t.due_at:%Y-%m-%d}" if t.due_at else "-",
            ", ".join(t.tags),
        )
        for t in tasks
    ]
    return ["id", "state", "priority", "title", "deps", "due", "tags"], rows


def print_tasks(tasks: list[Any], as_json: bool, empty: str = "no tasks") -> None:
    if as_json:
        dump_json([t.to_dict() for t in tasks])
    elif not tasks:
        echo_err(empty)
    else:
        print_table(*task_rows(tasks))


def show_task(task: Any, as_json: bool) -> None:
    if as_json:
        dump_json(task.to_dict())
        return
    fields = [
        ("id", task.id),
        ("title", task.title),
        ("state", f"{task.glyph} {task.state.value}"),
        ("priority", task.priority.value),
        ("deps", ", ".join(task.deps) or "-"),
        ("parent", task.parent or "-"),
        ("tags", ", ".join(task.tags) or "-"),
        ("due", f"{task.due_at:%Y-%m-%d %H:%M}" if task.due_at else "-"),
        ("estimate", f"{task.estimate_hours:g} h" if task.estimate_hours is not None else "-"),
        ("created", f"{task.created_at:%Y-%m-%d %H:%M} UTC"),
        ("started", f"{task.started_at:%Y-%m-%d %H:%M} UTC" if task.started_at else "-"),
        ("completed", f"{task.completed_at:%Y-%m-%d %H:%M} UTC" if task.completed_at else "-"),
        ("memories", ", ".join(task.memory_links) or "-"),
    ]
    print_fields(fields)
    for name, text in (("description", task.description), ("notes", task.notes)):
        if text:
            print_block(text, heading=name)
    if task.artifacts:
        print_block("\n".join(f"  - {item}" for item in task.artifacts), heading="artifacts")


def report_task(task: Any, as_json: bool) -> None:
    if as_json:
        dump_json(task.to_dict())
    else:
        echo(f"{task.id}  {task.glyph} {task.state.value}  {snippet(task.title, 60)}")


def newly_ready(todo: Any, finished: list[Any]) -> list[str]:
    from magray_tui.todo.model import TaskState

    out: list[str] = []
    for task in finished:
        out += [d.id for d in todo.dependents(task.id) if d.state is TaskState.READY]
    return sorted(set(out), key=lambda i: int(i[1:]))


def memories_for(services: Any, goal: str) -> list[str]:
    """Relevant memories for the planning prompt; planning goes on without them."""
    try:
        return [h.record.text for h in services.memory.search(goal, k=5, count_access=False)]
    except Exception:
        log.warning("no memories for planning", exc_info=True)
        return []


def llm_complete(services: Any) -> Callable[[list[dict], dict | None], str]:
    try:
        from magray_tui.llm.client import LLMClient  # noqa: F401 - is it in this build?
    except ImportError:
        raise click.ClickException(
            "planning needs the LLM client, missing from this build"
        ) from None
    client = services.llm

    def complete(messages: list[dict], response_format: dict | None) -> str:
        return client.complete(messages, response_format=response_format)

    return complete
