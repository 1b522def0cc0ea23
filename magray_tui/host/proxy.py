"""Stand-ins for MemoryService, TodoService and ChatSessions in a client process.

Each allowed public method is forwarded to the host as is (see `ops`); the few that need
care here are written out: `add` (an id chosen here makes a retry safe), paths (made
absolute: the host runs elsewhere) and the attributes callers read (settings, embedder).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from magray_tui.host import ops
from magray_tui.host.client import OutcomeUnknown
from magray_tui.memory.records import add_item

if TYPE_CHECKING:
    from magray_tui.host.client import Client


class _Proxy:
    DOMAIN = ""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        op = f"{self.DOMAIN}.{name}"
        if name.startswith("_") or ops.kind(op) is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        return functools.partial(self._client.call, op)

    def close(self) -> None:
        """The client is closed by its Services."""


class MemoryProxy(_Proxy):
    DOMAIN = "memory"
    read_only = False

    @property
    def remote(self) -> bool:
        """True while the service runs in another process (False after a take-over)."""
        return self._client.membership.remote

    @property
    def settings(self) -> Any:
        return self._client.membership.services.settings

    @property
    def embedder(self) -> Any:
        info = self._client.info()
        return SimpleNamespace(
            model_id=info["model_id"],
            dim=info["dim"],
            provider=info["provider"],
            device=info["device"],
        )

    @property
    def store(self) -> Any:
        info = self._client.info()
        return SimpleNamespace(
            path=Path(info["db_file"]),
            read_only=False,
            note=None,
        )

    @property
    def indexes(self) -> Any:
        idx = self._client.call("memory.stats")["indexes"]
        return SimpleNamespace(
            vectors=range(idx["vector_entries"]), keywords=range(idx["keyword_entries"])
        )

    def add(
        self,
        text: str | bytes,
        layer: Any = "interact",
        kind: str = "note",
        tags: Iterable[str] = (),
        session: str | None = None,
        source: str = "manual",
        created_at: Any = None,
        metadata: dict[str, Any] | None = None,
        importance: float = 0.5,
        pinned: bool = False,
        author: str | None = None,
        **fields: Any,  # any further item field the service learns (sent as is)
    ) -> str:
        item = {
            **fields,
            **add_item(
                text,
                layer,
                kind,
                tags,
                session,
                source,
                created_at,
                metadata,
                importance,
                pinned,
                author=author,
            ),
        }
        return self.add_many([item])[0]

    def add_many(self, items: Iterable[dict[str, Any]], progress: Any = None, **kw: Any) -> list:
        if kw.get("vectors") is not None:
            raise TypeError("vectors cannot be sent to the host; let it embed the texts")
        pending = [dict(item) for item in items]
        for item in pending:
            item.setdefault("id", None)
            item["id"] = item["id"] or uuid.uuid4().hex[:16]
        ids = [item["id"] for item in pending]
        extra = {k: v for k, v in kw.items() if k != "vectors"}
        while pending:
            try:
                self._client.call("memory.add_many", pending, progress=progress, **extra)
                break
            except OutcomeUnknown:
                # The host died with our request: keep only what it did not store.
                pending = [item for item in pending if not self._exists(item["id"])]
        return ids

    def _exists(self, record_id: str) -> bool:
        from magray_tui.memory.records import RecordNotFound

        try:
            self._client.call("memory.get", record_id, count_access=False)
        except RecordNotFound:
            return False
        return True

    def export(self, path: Path | str, **kw: Any) -> int:
        return self._client.call("memory.export", Path(path).absolute(), **kw)

    def import_(self, path: Path | str, **kw: Any) -> Any:
        return self._client.call("memory.import_", Path(path).absolute(), **kw)


class TodoProxy(_Proxy):
    DOMAIN = "todo"


class ChatProxy(_Proxy):
    DOMAIN = "chat"

    def export_markdown(self, ref: str, path: Path) -> Path:
        return self._client.call("chat.export_markdown", ref, Path(path).absolute())
