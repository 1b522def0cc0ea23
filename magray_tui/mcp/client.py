"""The MCP servers of `[mcp.servers.NAME]`: started over stdio, their tools listed and called.

The SDK is asynchronous and the agent is not (a turn runs in a worker thread), so one
background thread runs an event loop holding a `Client` per server; `call` hands it a
coroutine and waits with a deadline. A server that does not start, hangs or dies becomes a
state with one readable reason (`ServerState.error`) and a notice, never an exception in a
turn. Each server's stderr goes to its own log file (`state/logs/mcp-NAME.log`): nothing it
prints reaches the terminal. Its environment is the SDK's minimal one plus the variables
named in `env`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import weakref
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.terminal_text import one_line

RESTART_EVERY_S = 60.0  # a crashed server is started again on its next call, this often

# JSON-RPC error codes the SDK raises locally (mcp_types.CONNECTION_CLOSED, REQUEST_TIMEOUT).
CONNECTION_CLOSED = -32000
REQUEST_TIMEOUT = -32001

if TYPE_CHECKING:
    from magray_tui.config import McpServerEntry

log = logging.getLogger(__name__)


@dataclass
class RemoteTool:
    name: str  # as the server names it
    description: str
    input_schema: dict[str, Any]


@dataclass
class ServerState:
    name: str
    status: str = "off"  # off (disabled) | starting | ready | failed | stopped
    error: str | None = None
    tools: list[RemoteTool] = field(default_factory=list)
    server_info: str = ""


@dataclass(frozen=True)
class CallOutcome:
    ok: bool
    text: str


class McpError(Exception):
    """A configured MCP server could not do what was asked; one line for user and model."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions[:3])
    text = str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        text = f"command not found: {exc.filename or text}"
    return one_line(text, 200)


def _content_text(result: Any) -> str:
    parts: list[str] = []
    for item in result.content or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(item.text)
        elif kind == "resource" and hasattr(item.resource, "text"):
            parts.append(item.resource.text)
        else:
            parts.append(f"[{kind or 'content'} {getattr(item, 'mime_type', '') or ''}]".strip())
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


# The started clients of each home (by log folder), for the Health check: the agent's
# registry owns them, the Health pane only reads their states. Weak: closing drops them.
_RUNNING: weakref.WeakValueDictionary[str, McpClients] = weakref.WeakValueDictionary()


def running_for(log_dir: Path) -> McpClients | None:
    return _RUNNING.get(str(log_dir))


class McpClients:
    """Every enabled server of `entries`, started by `start()` and stopped by `close()`."""

    def __init__(self, entries: dict[str, McpServerEntry], log_dir: Path) -> None:
        self.entries = dict(entries)
        self.log_dir = log_dir
        self.states = {
            name: ServerState(name, "starting" if e.enabled else "off")
            for name, e in self.entries.items()
        }
        self._notices: list[tuple[str, str]] = []  # (server, message)
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._stops: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: dict[str, Any] = {}  # name -> concurrent future of its `_run`
        self._done = {name: threading.Event() for name in self.entries}  # `_run` ended
        self._restarted: dict[str, float] = {}  # name -> when it was last restarted

    # ---- life ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start every enabled server and wait (each up to its startup timeout) for its tools."""
        enabled = {n: e for n, e in self.entries.items() if e.enabled}
        if not enabled or self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        _RUNNING[str(self.log_dir)] = self
        self._thread = threading.Thread(target=loop.run_forever, name="magray-mcp", daemon=True)
        self._thread.start()
        ready = {n: threading.Event() for n in enabled}
        for name, entry in enabled.items():
            coro = self._run(name, entry, ready[name])
            self._runners[name] = asyncio.run_coroutine_threadsafe(coro, loop)
        for name, entry in enabled.items():
            if not ready[name].wait(entry.startup_timeout_s):
                self._fail(name, f"did not start within {entry.startup_timeout_s:g} s")
                self._runners[name].cancel()  # the transport's cleanup kills the process

    async def _run(self, name: str, entry: McpServerEntry, ready: threading.Event) -> None:
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp_types import Implementation

        state = self.states[name]
        stop = asyncio.Event()
        self._stops[name] = stop
        missing = [v for v in entry.env if v not in os.environ]
        params = StdioServerParameters(
            command=entry.command,
            args=list(entry.args),
            env={v: os.environ[v] for v in entry.env if v in os.environ},
        )
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_dir / f"mcp-{name}.log", "a", encoding="utf-8") as errlog:
                transport = stdio_client(params, errlog=errlog)
                me = Implementation(name="magray", version="1")
                async with Client(transport, mode="legacy", client_info=me) as client:
                    listed = await client.list_tools()
                    state.tools = [
                        RemoteTool(t.name, t.description or "", dict(t.input_schema or {}))
                        for t in listed.tools
                    ]
                    info = client.server_info
                    state.server_info = f"{info.name} {info.version}".strip() if info else ""
                    with self._lock:
                        self._clients[name] = client
                        if state.status == "starting":
                            state.status = "ready"
                    ready.set()
                    log.info("mcp server %s ready: %d tools", name, len(state.tools))
                    await stop.wait()
            with self._lock:
                if state.status == "ready":
                    state.status = "stopped"
        except BaseException as exc:  # every way a server can fail becomes its state
            reason = _describe(exc)
            if missing:
                reason += f" (environment variables not set: {', '.join(missing)})"
            if not isinstance(exc, asyncio.CancelledError):
                log.warning("mcp server %s failed: %s", name, reason)
            self._fail(name, reason if state.status == "starting" else f"crashed: {reason}")
        finally:
            with self._lock:
                self._clients.pop(name, None)
            ready.set()
            self._done[name].set()

    def _revive(self, name: str) -> None:
        """Start a crashed server again, at most once a minute (a server that crashes at
        every call is not restarted in a loop); a failed restart is its new state."""
        now = time.monotonic()
        if self._loop is None or now - self._restarted.get(name, -RESTART_EVERY_S) < (
            RESTART_EVERY_S
        ):
            return
        if not self._done[name].wait(10):  # the dead connection is still being cleaned up
            return
        self._restarted[name] = now
        entry, state = self.entries[name], self.states[name]
        with self._lock:
            state.status, state.error, state.tools = "starting", None, []
        ready, self._done[name] = threading.Event(), threading.Event()
        coro = self._run(name, entry, ready)
        self._runners[name] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        if not ready.wait(entry.startup_timeout_s):
            self._fail(name, f"did not restart within {entry.startup_timeout_s:g} s")
            self._runners[name].cancel()
        log.info("mcp server %s restarted after a crash: %s", name, state.status)

    def _fail(self, name: str, reason: str, *, notify: bool = True) -> None:
        """Record a server as failed; the first report only (`notify=False` when the caller
        reports it itself, e.g. as the result of the call that saw it die)."""
        with self._lock:
            state = self.states[name]
            if not notify:  # the failing call reports it: drop a report queued meanwhile
                self._notices = [n for n in self._notices if n[0] != name]
            if state.status == "failed":
                return
            state.status, state.error = "failed", reason
            if notify:
                self._notices.append((name, f"MCP server {name!r} is unavailable: {reason}"))

    def _stop(self, name: str) -> None:
        stop, loop = self._stops.get(name), self._loop
        if stop is not None and loop is not None:
            loop.call_soon_threadsafe(stop.set)

    def close(self, timeout: float = 10.0) -> None:
        loop = self._loop
        if loop is None:
            return
        if _RUNNING.get(str(self.log_dir)) is self:
            del _RUNNING[str(self.log_dir)]
        for name in list(self._stops):
            self._stop(name)
        for name, fut in self._runners.items():
            if not self._done[name].wait(timeout):
                fut.cancel()  # a server stuck in its handshake: cancelling kills its process
                self._done[name].wait(timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        self._loop = None

    # ---- use -----------------------------------------------------------------------------
    def notices(self) -> list[str]:
        """Problems not reported yet (each once)."""
        with self._lock:
            out, self._notices = self._notices, []
        return [text for _server, text in out]

    def call(self, server: str, tool: str, arguments: dict[str, Any]) -> CallOutcome:
        """Call `tool` on `server`; McpError when the server cannot answer in time."""
        entry, state = self.entries[server], self.states[server]
        if state.status == "failed" and (state.error or "").startswith("crashed"):
            self._revive(server)
        with self._lock:
            client = self._clients.get(server)
        if client is None or self._loop is None or state.status != "ready":
            raise McpError(f"MCP server {server!r} is not running ({state.error or state.status})")
        timeout = entry.timeout_s
        coro = client.call_tool(tool, arguments, read_timeout_seconds=timeout)
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            result = fut.result(timeout + 5)
        except (FutureTimeout, TimeoutError):
            fut.cancel()
            raise McpError(f"MCP server {server!r}: {tool} timed out after {timeout:g} s") from None
        except Exception as exc:
            code = getattr(exc, "code", None)
            if code == REQUEST_TIMEOUT:
                raise McpError(
                    f"MCP server {server!r}: {tool} timed out after {timeout:g} s"
                ) from None
            if code == CONNECTION_CLOSED or state.status != "ready":
                reason = f"crashed during {tool} ({_describe(exc)})"
                self._fail(server, reason, notify=False)  # this result is the report
                self._stop(server)  # let its runner leave the dead connection
                raise McpError(
                    f"MCP server {server!r} {reason}; it is started again on its next call"
                ) from None
            raise McpError(f"MCP server {server!r}: {tool} failed: {_describe(exc)}") from None
        return CallOutcome(not result.is_error, _content_text(result))
