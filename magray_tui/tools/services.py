"""search_memory, add_memory and add_task: the agent reaching the memory and the task DAG.

The services come as zero-argument callables so that nothing heavy (the embedder, the
indexes, the database) is opened until a tool is actually used; a service that cannot
open (the database is locked by another process, say) becomes a one-line tool error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from magray_tui.tools.base import (
    Confirmation,
    Prepared,
    Tool,
    ToolError,
    ToolResult,
    ToolSpec,
    clip,
    one_line,
)
from magray_tui.tools.context import ToolContext
from magray_tui.tools.schema import obj

log = logging.getLogger(__name__)

LAYERS = ["interact", "insights", "assets"]
PRIORITIES = ["low", "medium", "high", "critical"]
_TAGS = {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 20}


def _service(factory: Callable[[], Any], what: str) -> Any:
    try:
        return factory()
    except Exception as exc:  # opening a service can fail in many ways; report, don't raise
        log.warning("cannot open the %s service", what, exc_info=True)
        raise ToolError(f"the {what} is not available: {one_line(str(exc), 160)}") from None


def _user_errors() -> tuple[type[Exception], ...]:
    """The services' own error types, whose messages are written for the user.

    Imported here, not at the top: the task package is optional to this module.
    """
    found: list[type[Exception]] = []
    try:
        from magray_tui.memory.records import MemoryError_

        found.append(MemoryError_)
    except ImportError:  # pragma: no cover - the memory package is always there
        pass
    try:
        from magray_tui.todo.model import TaskError

        found.append(TaskError)
    except ImportError:  # pragma: no cover - tasks not installed in this build
        pass
    return tuple(found)


def _calling(fn: Any) -> Any:
    """Run a tool body, turning a service's user-facing errors into ToolError."""

    def wrapped(ctx: ToolContext, args: dict[str, Any], **kw: Any) -> ToolResult:
        try:
            return fn(ctx, args, **kw)
        except _user_errors() as exc:
            raise ToolError(one_line(str(exc), 200)) from None

    return wrapped


@_calling
def _search(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    memory = _service(ctx.memory, "memory")  # type: ignore[arg-type]
    layer = args.get("layer")
    hits = memory.search(args["query"], k=args.get("limit", 8), layers=[layer] if layer else None)
    if not hits:
        return ToolResult(True, f"no memories match {args['query']!r}", "no memories found")
    lines = []
    for n, hit in enumerate(hits, 1):
        rec = hit.record
        tags = f" tags={','.join(rec.tags)}" if rec.tags else ""
        # The model learns which hits are its own unconfirmed words, not established facts.
        by = f"{rec.author}, unconfirmed" if rec.needs_confirmation else rec.author
        lines.append(
            f"{n}. [{rec.layer.value}] {rec.text.strip()}\n   (id {rec.id}, "
            f"score {hit.score:.3f}, kind {rec.kind}, by {by}{tags})"
        )
    body, cut = clip("\n".join(lines), ctx.cap)
    body += "\n[output truncated]" if cut else ""
    return ToolResult(True, body, f"{len(hits)} memories for {one_line(args['query'], 60)!r}")


@_calling
def _add(ctx: ToolContext, args: dict[str, Any], approved: bool = False) -> ToolResult:
    memory = _service(ctx.memory, "memory")  # type: ignore[arg-type]
    # The model's text: it grounds nothing until the user confirms it. A user who approved
    # this exact text in the confirmation (policy "ask", the default) did.
    when = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    confirmed = {"confirmed": {"by": "user", "how": "approved", "at": when}}
    ref = memory.add(
        args["text"],
        layer=args.get("layer", "insights"),
        kind=args.get("kind", "note"),
        tags=args.get("tags", []),
        source="agent",
        author="tool",
        metadata=confirmed if approved else None,
    )
    layer = args.get("layer", "insights")
    return ToolResult(True, f"stored memory {ref} in {layer}", f"remembered in {layer}: {ref}")


@_calling
def _task(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    todo = _service(ctx.todo, "task list")  # type: ignore[arg-type]
    fields = {
        k: args[k] for k in ("description", "priority", "tags", "deps", "parent") if k in args
    }
    task = todo.create(args["title"], **fields)
    state = getattr(getattr(task, "state", None), "value", "")
    return ToolResult(
        True,
        f"created task {task.id}: {task.title}" + (f" ({state})" if state else ""),
        f"task {task.id} added: {one_line(task.title, 60)}",
    )


def _search_prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    q = args["query"]
    return Prepared(
        (q,), Confirmation("search_memory", "Search memory", q), lambda: _search(ctx, args)
    )


def _add_prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    text = args["text"]
    layer = args.get("layer", "insights")
    tags = ", ".join(args.get("tags", [])) or "none"
    detail = f"layer: {layer}\nkind: {args.get('kind', 'note')}\ntags: {tags}\n\n{text}"
    prepared = Prepared(
        (text,),
        Confirmation("add_memory", f"Remember in {layer}: {one_line(text, 60)}", detail),
        lambda: _add(ctx, args, approved=prepared.approved),
    )
    return prepared


def _task_prepare(ctx: ToolContext, args: dict[str, Any]) -> Prepared:
    title = args["title"]
    lines = [f"title: {title}"]
    for key in ("description", "priority", "tags", "deps", "parent"):
        if key in args:
            value = args[key]
            lines.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return Prepared(
        (title,),
        Confirmation("add_task", f"Add task: {one_line(title, 60)}", "\n".join(lines)),
        lambda: _task(ctx, args),
    )


def build(ctx: ToolContext) -> list[Tool]:
    tools = []
    if ctx.memory is not None:
        search = ToolSpec(
            "search_memory",
            "Search the user's long-term memory (hybrid keyword + semantic). Returns the best "
            "matching memories with their layer, id and score.",
            obj(
                ("query",),
                query={"type": "string", "minLength": 1, "maxLength": 2000},
                limit={"type": "integer", "minimum": 1, "maximum": 50},
                layer={"type": "string", "enum": LAYERS},
            ),
        )
        add = ToolSpec(
            "add_memory",
            "Store a durable fact, decision or note in the user's memory (the user approves). "
            "Layers: interact (short-lived), insights (learned facts, default), assets (lasting).",
            obj(
                ("text",),
                text={"type": "string", "minLength": 1, "maxLength": 20_000},
                layer={"type": "string", "enum": LAYERS},
                kind={"type": "string", "minLength": 1, "maxLength": 40},
                tags=_TAGS,
            ),
        )
        tools += [
            Tool(search, lambda a: _search_prepare(ctx, a)),
            Tool(add, lambda a: _add_prepare(ctx, a)),
        ]
    if ctx.todo is not None:
        task = ToolSpec(
            "add_task",
            "Add a task to the user's task list (the user approves). deps are ids of tasks "
            "it depends on (e.g. t3); parent is the id of the task it belongs under.",
            obj(
                ("title",),
                title={"type": "string", "minLength": 1, "maxLength": 500},
                description={"type": "string", "maxLength": 10_000},
                priority={"type": "string", "enum": PRIORITIES},
                tags=_TAGS,
                deps={
                    "type": "array",
                    "items": {"type": "string", "maxLength": 40},
                    "maxItems": 50,
                },
                parent={"type": "string", "maxLength": 40},
            ),
        )
        tools.append(Tool(task, lambda a: _task_prepare(ctx, a)))
    return tools
