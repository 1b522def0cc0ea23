"""What each `magray mcp` tool does, on the public service APIs, one function per tool.

Plain synchronous code with no MCP types: `server.py` runs these in worker threads behind
the per-client policy, and turns any user-facing error into an MCP tool error. Every write
is signed with the calling client (`source="mcp:<client>"` on memories, the history actor
on moves and forgets, a tag on tasks), so a person can see and undo what an agent did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magray_tui.mcp.access import client_source

if TYPE_CHECKING:
    from magray_tui.memory import Hit, Record
    from magray_tui.services import Services
    from magray_tui.todo.model import Task

TEXT_CAP = 8_000  # characters of one memory's text in a result; the full text via memory_get
LIST_CAP = 200


class RequestTooLarge(Exception):
    """A request over a limit; the message names the limit. (Mapped to a tool error.)"""


def _hit(hit: Hit) -> dict[str, Any]:
    out = _record(hit.record, cap=TEXT_CAP)
    out["score"] = round(hit.score, 6)
    out["score_parts"] = hit.parts
    return out


def _record(record: Record, *, cap: int | None = None) -> dict[str, Any]:
    data = record.to_dict(with_stats=cap is None)
    if cap is not None and len(record.text) > cap:
        data["text"] = record.text[:cap]
        data["text_truncated"] = {"shown_chars": cap, "total_chars": len(record.text)}
    return data


def _task(task: Task) -> dict[str, Any]:
    keys = ("id", "title", "description", "state", "priority", "due_at", "deps", "tags")
    data = task.to_dict()
    return {k: data[k] for k in keys}


def preview_arguments(arguments: dict[str, Any], cap: int = 600) -> dict[str, str]:
    """The arguments as a person reads them in a question: JSON, each cut at `cap`."""
    import json

    out = {}
    for key, value in arguments.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > cap:
            text = f"{text[:cap]}… ({len(text):,} characters)"
        out[str(key)] = text
    return out


class MagrayTools:
    """The tools over one home's services (`Services(settings)`: in-process, or a client of
    the host process that owns the home)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.max_text_bytes = services.settings.memory.max_text_bytes

    def describe(self, tool: str, arguments: dict[str, Any]) -> str:
        """What a question is about, for the person: the memory a tool would change."""
        rid = arguments.get("id")
        if not tool.startswith("memory_") or not isinstance(rid, str):
            return ""
        try:
            record = self.services.memory.get(rid, count_access=False)
        except Exception as exc:  # the call itself will report it
            from magray_tui.user_errors import user_message

            return f"memory {rid}: {user_message(exc) or type(exc).__name__}"
        text = record.text if len(record.text) <= 400 else record.text[:400] + "…"
        about = f"{record.layer.value}, {record.kind}, by {record.source}"
        return f"memory {record.id} ({about}): {text}"

    # ---- memory --------------------------------------------------------------------------
    def memory_search(
        self,
        client: str,
        query: str,
        k: int = 10,
        layers: list[str] | None = None,
        kinds: list[str] | None = None,
        tags: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        authors: list[str] | None = None,
    ) -> dict[str, Any]:
        hits = self.services.memory.search(
            query,
            k=k,
            layers=layers,
            kinds=kinds,
            tags=tags,
            since=since,
            until=until,
            authors=authors,
        )
        return {"hits": [_hit(h) for h in hits]}

    def memory_add(
        self,
        client: str,
        text: str,
        layer: str = "insights",
        kind: str = "note",
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_text_bytes:
            raise RequestTooLarge(
                f"text is {size:,} bytes; the limit is {self.max_text_bytes:,} bytes "
                "(memory.max_text_bytes): store a summary, or split it into smaller memories"
            )
        memory = self.services.memory
        source = client_source(client)
        rid = memory.add(
            text, layer=layer, kind=kind, tags=tags or (), source=source, author=source
        )
        record = memory.get(rid, count_access=False)
        return {
            "id": rid,
            "layer": record.layer.value,
            "source": record.source,
            "author": record.author,
        }

    def memory_get(self, client: str, id: str) -> dict[str, Any]:
        return _record(self.services.memory.get(id))

    def memory_update(
        self,
        client: str,
        id: str,
        text: str | None = None,
        kind: str | None = None,
        tags: list[str] | None = None,
        importance: float | None = None,
    ) -> dict[str, Any]:
        if text is not None and len(text.encode("utf-8", "surrogatepass")) > self.max_text_bytes:
            raise RequestTooLarge(
                f"text is over the limit of {self.max_text_bytes:,} bytes (memory.max_text_bytes)"
            )
        record = self.services.memory.update(
            id,
            text=text,
            kind=kind,
            tags=tags,
            importance=importance,
            actor=client_source(client),
        )
        return _record(record)

    def memory_forget(self, client: str, id: str, reason: str = "") -> dict[str, Any]:
        actor = client_source(client)
        record = self.services.memory.forget(
            id, reason=reason or f"forgotten by {actor}", actor=actor
        )
        return {
            "id": record.id,
            "state": record.state.value,
            "undo": "memory_restore with this id (or `magray memory restore ID`) until purged",
        }

    def memory_restore(self, client: str, id: str) -> dict[str, Any]:
        record = self.services.memory.restore(id, actor=client_source(client))
        return {"id": record.id, "state": record.state.value, "layer": record.layer.value}

    def memory_promote(self, client: str, id: str, to: str | None = None) -> dict[str, Any]:
        record = self.services.memory.promote(id, to, actor=client_source(client))
        return {"id": record.id, "layer": record.layer.value, "state": record.state.value}

    def memory_demote(self, client: str, id: str, to: str | None = None) -> dict[str, Any]:
        record = self.services.memory.demote(id, to, actor=client_source(client))
        return {"id": record.id, "layer": record.layer.value, "state": record.state.value}

    def memory_stats(self) -> dict[str, Any]:
        stats = self.services.memory.stats()
        return {"counts": stats["counts"], "total_live": stats["total_live"]}

    # ---- tasks ---------------------------------------------------------------------------
    def tasks_list(
        self,
        client: str,
        states: list[str] | None = None,
        tag: str | None = None,
        text: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        tasks = self.services.todo.list(states=states, tag=tag, text=text)
        return {"tasks": [_task(t) for t in tasks[:limit]], "total": len(tasks)}

    def tasks_ready(self, client: str, limit: int = 20) -> dict[str, Any]:
        tasks = self.services.todo.ready_queue()
        return {"tasks": [_task(t) for t in tasks[:limit]], "total": len(tasks)}

    def tasks_add(
        self,
        client: str,
        title: str,
        description: str = "",
        depends_on: list[str] | None = None,
        priority: str = "medium",
        due: str | None = None,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        signed = [*(tags or ()), client_source(client)]
        task = self.services.todo.create(
            title,
            description=description,
            deps=depends_on or (),
            priority=priority,
            due_at=due,
            tags=list(dict.fromkeys(signed)),
        )
        return _task(task)

    def tasks_update_state(self, client: str, id: str, state: str) -> dict[str, Any]:
        return _task(self.services.todo.set_state(id, state))

    def task_graph(self) -> str:
        return self.services.todo.to_mermaid()
