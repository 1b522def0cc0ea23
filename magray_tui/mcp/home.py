"""The home `magray mcp` serves: its services opened on the first call and closed again
after `[mcp.server] idle_release_s` without calls, so a server an editor keeps running does
not hold the home (DuckDB allows one process per file) longer than a burst of calls."""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from magray_tui.mcp.server_tools import MagrayTools, preview_arguments

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.services import Services

log = logging.getLogger(__name__)


class Home:
    """The services of one home, opened on first use and released when idle."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._services: Services | None = None
        self._busy = 0
        self._last = time.monotonic()

    def tools(self) -> MagrayTools:
        from magray_tui.services import Services

        with self._lock:
            if self._services is None:
                self._services = Services(self.settings)
            return MagrayTools(self._services)

    def run(self, what: str, *args: Any, **kwargs: Any) -> Any:
        """`MagrayTools.<what>(...)`, with the home kept open while it runs."""
        self.enter()
        try:
            return getattr(self.tools(), what)(*args, **kwargs)
        finally:
            self.leave()

    def ask(self, client: str, tool: str, arguments: dict[str, Any], timeout_s: float) -> str:
        """Ask the person at the TUI open on this home whether `client` may run `tool`
        with `arguments`; their answer, or "nobody" / "timeout" / "closing"."""
        self.enter()
        try:
            tools = self.tools()
            question = {
                "client": client,
                "tool": tool,
                "arguments": preview_arguments(arguments),
                "subject": tools.describe(tool, arguments),
            }
            return str(tools.services.membership().ask(question, timeout_s))
        finally:
            self.leave()

    def enter(self) -> None:
        with self._lock:
            self._busy += 1

    def leave(self) -> None:
        with self._lock:
            self._busy -= 1
            self._last = time.monotonic()

    def release_if_idle(self, idle_s: float) -> bool:
        with self._lock:  # held while closing: a call arriving now waits, then reopens
            if self._services is None or self._busy or time.monotonic() - self._last < idle_s:
                return False
            self._services.close()
            self._services = None
        log.info("mcp: home released after %.0f s without calls", idle_s)
        return True

    def close(self) -> None:
        with self._lock:
            services, self._services = self._services, None
        if services is not None:
            services.close()


async def release_when_idle(home: Home, idle_s: float) -> None:
    while True:
        await anyio.sleep(max(1.0, idle_s / 4))
        await anyio.to_thread.run_sync(functools.partial(home.release_if_idle, idle_s))
