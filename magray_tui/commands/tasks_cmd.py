"""`magray tasks ...`: the task DAG from the command line (tables, or JSON with --json).

Opens only the database (no embedder) except `plan`, which reads relevant memories.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.errors import friendly_errors
from magray_tui.commands.output import dump_json, echo, echo_err, json_text, snippet
from magray_tui.commands.tasks_views import (
    llm_complete,
    memories_for,
    newly_ready,
    open_services,
    open_todo,
    print_tasks,
    report_task,
    show_task,
)

STATES = ["planned", "ready", "in_progress", "blocked", "done", "failed", "cancelled"]
MAX_IMPORT_BYTES = 256 * 1024 * 1024
PRIORITIES = ["low", "medium", "high", "critical"]


@click.group("tasks")
def command() -> None:
    """The task DAG: tasks with dependencies, states, a ready queue and undo."""


@command.command("add")
@click.argument("title", nargs=-1, required=True)
@click.option("-d", "--description", default="")
@click.option("-p", "--priority", type=click.Choice(PRIORITIES), default="medium")
@click.option("--due", help="Due date: YYYY-MM-DD, ISO 8601, today, tomorrow, friday, +3d, +2w.")
@click.option("--parent", help="Parent task id.")
@click.option("--dep", "deps", multiple=True, help="A task this one depends on (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Repeat for several tags.")
@click.option("-e", "--estimate", type=float, help="Estimate in hours.")
@click.option("--notes", default="")
@click.option("--planned", is_flag=True, help="Park it as planned (not in the ready queue).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def add_cmd(app: AppContext, title: tuple[str, ...], **opts: Any) -> None:
    """Add a task titled TITLE; prints its id."""
    with open_todo(app, write=True) as todo:
        task = todo.create(
            " ".join(title),
            description=opts["description"],
            priority=opts["priority"],
            due_at=opts["due"],
            parent=opts["parent"],
            deps=opts["deps"],
            tags=opts["tags"],
            estimate_hours=opts["estimate"],
            notes=opts["notes"],
            state="planned" if opts["planned"] else None,
        )
    if opts["as_json"]:
        dump_json(task.to_dict())
    else:
        echo(f"{task.id}  {task.glyph} {task.state.value}")


@command.command("list")
@click.option("-s", "--state", "states", type=click.Choice(STATES), multiple=True)
@click.option("--open", "only_open", is_flag=True, help="Hide done, failed and cancelled.")
@click.option("--tag")
@click.option("-q", "--text", help="Words that must all appear (id, title, text, tags).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def list_cmd(app: AppContext, states: tuple[str, ...], only_open: bool, **opts: Any) -> None:
    """Tasks in dependency order (each after what it needs; then priority, due, age)."""
    if only_open and not states:
        states = ("planned", "ready", "in_progress", "blocked")
    with open_todo(app, write=False) as todo:
        tasks = todo.list(states=states or None, tag=opts["tag"], text=opts["text"])
    print_tasks(tasks, opts["as_json"])


@command.command("show")
@click.argument("task")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def show_cmd(app: AppContext, task: str, as_json: bool) -> None:
    """Every field of TASK."""
    with open_todo(app, write=False) as todo:
        show_task(todo.get(task), as_json)


@command.command("edit")
@click.argument("task")
@click.option("--title")
@click.option("-d", "--description")
@click.option("-p", "--priority", type=click.Choice(PRIORITIES))
@click.option("--due", help="Due date (as for add: tomorrow, friday, +3d…); '' clears it.")
@click.option("--tags", help="Comma-separated tags, replacing the current ones.")
@click.option("-e", "--estimate", help="Hours; '' clears it.")
@click.option("--notes")
@click.option("--parent", help="Parent task id; '' makes it top-level.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def edit_cmd(app: AppContext, task: str, as_json: bool, **opts: Any) -> None:
    """Change fields of TASK (only the options given)."""
    names = {"due": "due_at", "estimate": "estimate_hours"}
    fields = {names.get(k, k): v for k, v in opts.items() if v is not None}
    if not fields:
        raise click.UsageError("nothing to change: give at least one option")
    if fields.get("parent") == "":
        fields["parent"] = None
    with open_todo(app, write=True) as todo:
        report_task(todo.edit(task, **fields), as_json)


def _state_command(name: str, method: str, help_text: str) -> None:
    @command.command(name, help=help_text)
    @click.argument("tasks", nargs=-1, required=True)
    @click.option("--json", "as_json", is_flag=True)
    @pass_app
    @friendly_errors
    def cmd(app: AppContext, tasks: tuple[str, ...], as_json: bool) -> None:
        with open_todo(app, write=True) as todo:
            done = [getattr(todo, method)(ref) for ref in tasks]
            unblocked = newly_ready(todo, done) if method == "done" else []
        if as_json:
            dump_json([t.to_dict() for t in done])
            return
        for task in done:
            report_task(task, False)
        if unblocked:
            echo(f"now ready: {', '.join(unblocked)}")


_state_command("done", "done", "Mark TASKS done (their dependents may become ready).")
_state_command("start", "start", "Start TASKS (refused while a dependency is not done).")
_state_command("fail", "fail", "Mark TASKS failed.")


@command.command("cancel")
@click.argument("task")
@click.option(
    "--dependents",
    type=click.Choice(["cancel", "unlink", "keep"]),
    help="What to do with open tasks that depend on it (asked when omitted).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def cancel_cmd(app: AppContext, task: str, dependents: str | None, as_json: bool) -> None:
    """Cancel TASK; say what happens to the tasks waiting on it."""
    from magray_tui.todo.model import DependentsExist

    with open_todo(app, write=True) as todo:
        try:
            result = todo.cancel(task, dependents=dependents or "ask")
        except DependentsExist as exc:
            if not sys.stdin.isatty():
                raise click.ClickException(f"{exc} (use --dependents cancel|unlink|keep)") from None
            choice = click.prompt(
                f"{', '.join(exc.dependents)} depend on it: cancel, unlink or keep them?",
                type=click.Choice(["cancel", "unlink", "keep"]),
                default="keep",
            )
            result = todo.cancel(task, dependents=choice)
    report_task(result, as_json)


@command.command("rm")
@click.argument("task")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def rm_cmd(app: AppContext, task: str, as_json: bool) -> None:
    """Delete TASK (dependents lose the dependency; `magray tasks undo` brings it back)."""
    with open_todo(app, write=True) as todo:
        gone = todo.delete(task)
    if as_json:
        dump_json(gone.to_dict())
    else:
        echo(f"deleted {gone.id}  {snippet(gone.title, 60)}")


@command.command("dep")
@click.argument("task")
@click.argument("on")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def dep_cmd(app: AppContext, task: str, on: str, as_json: bool) -> None:
    """TASK depends on ON (refused if that would close a cycle)."""
    with open_todo(app, write=True) as todo:
        report_task(todo.add_dep(task, on), as_json)


@command.command("undep")
@click.argument("task")
@click.argument("on")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def undep_cmd(app: AppContext, task: str, on: str, as_json: bool) -> None:
    """TASK no longer depends on ON."""
    with open_todo(app, write=True) as todo:
        report_task(todo.remove_dep(task, on), as_json)


@command.command("ready")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def ready_cmd(app: AppContext, as_json: bool) -> None:
    """What can be worked on now: priority, then due date, then age."""
    with open_todo(app, write=False) as todo:
        tasks = todo.ready_queue()
    print_tasks(tasks, as_json, empty="nothing is ready")


@command.command("path")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def path_cmd(app: AppContext, as_json: bool) -> None:
    """The critical path: the chain of open tasks with the most estimated hours."""
    with open_todo(app, write=False) as todo:
        tasks, hours = todo.critical_path()
    if as_json:
        dump_json({"hours": hours, "tasks": [t.to_dict() for t in tasks]})
        return
    print_tasks(tasks, False, empty="no open tasks")
    if tasks:
        echo(f"total: {hours:g} h over {len(tasks)} tasks")


@command.command("graph")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid"]), default="text")
@click.option("--open", "only_open", is_flag=True, help="Hide done, failed and cancelled.")
@pass_app
@friendly_errors
def graph_cmd(app: AppContext, fmt: str, only_open: bool) -> None:
    """The DAG as an indented dependency list, or as a Mermaid flowchart."""
    states = ("planned", "ready", "in_progress", "blocked") if only_open else None
    with open_todo(app, write=False) as todo:
        tasks = todo.list(states=states)
        out = todo.to_mermaid(tasks) if fmt == "mermaid" else todo.to_text(tasks)
    if not tasks and fmt == "text":
        echo_err("no tasks")
        return
    echo(out, nl=False)


@command.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_app
@friendly_errors
def export_cmd(app: AppContext, file: Path | None) -> None:
    """Write every task as JSON to FILE (standard output without one)."""
    with open_todo(app, write=False) as todo:
        data = todo.export_json()
    text = json_text(data, indent=2)
    if file is None or str(file) == "-":
        click.echo(text)  # JSON: escaped by json_text, not made "visible"
        return
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(file)
    echo_err(f"exported {len(data['tasks'])} tasks to {file}")


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def import_cmd(app: AppContext, file: Path, as_json: bool) -> None:
    """Add the tasks of an export FILE ('-' for standard input): new ids, all or nothing."""
    from magray_tui.commands.inputs import read_input_file

    raw = read_input_file(file, limit=MAX_IMPORT_BYTES, what="tasks export")
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file} is not JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise click.ClickException(f"{file}: JSON nested too deeply") from None
    with open_todo(app, write=True) as todo:
        tasks = todo.import_json(data)
    if as_json:
        dump_json([t.to_dict() for t in tasks])
    else:
        echo(f"imported {len(tasks)} tasks" + (f" ({tasks[0].id}…{tasks[-1].id})" if tasks else ""))


@command.command("undo")
@pass_app
@friendly_errors
def undo_cmd(app: AppContext) -> None:
    """Undo the last change to the tasks (repeat to go further back)."""
    with open_todo(app, write=True) as todo:
        what = todo.undo()
    echo(f"undone: {what}" if what else "nothing to undo")


@command.command("plan")
@click.argument("goal", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Apply the plan without asking.")
@click.option("--parent", help="Put the new tasks under this task.")
@click.option("--no-memories", is_flag=True, help="Do not add relevant memories to the prompt.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def plan_cmd(app: AppContext, goal: tuple[str, ...], **opts: Any) -> None:
    """Ask the LLM to break GOAL into tasks; preview, then apply on --yes or when accepted."""
    from magray_tui.todo.planner import plan_goal

    text = " ".join(goal)
    with open_services(app, write=True) as services:
        memories = [] if opts["no_memories"] else memories_for(services, text)
        plan = plan_goal(text, llm_complete(services), memories=memories)
        if not opts["as_json"]:
            echo(plan.preview())
        accept = opts["yes"] or (
            sys.stdin.isatty() and not opts["as_json"] and click.confirm("Apply this plan?")
        )
        tasks = services.todo.apply_plan(plan, parent=opts["parent"]) if accept else []
    if opts["as_json"]:
        dump_json({"plan": plan.to_dict(), "applied": [t.to_dict() for t in tasks]})
    elif tasks:
        echo(f"added {len(tasks)} tasks: {', '.join(t.id for t in tasks)}")
    else:
        echo_err("not applied (run again with --yes to apply)")
