"""`magray mcp --http`: the same server over streamable HTTP, on 127.0.0.1 only, behind a
bearer token. Off unless asked for.

The token is made once per home (`<state>/mcp-http-token`, mode 0600) and must be sent as
`Authorization: Bearer <token>`; any other request gets 401 before it reaches MCP. Binding
to loopback keeps other machines out; the token keeps other local users' programs (and web
pages doing DNS rebinding) out.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magray_tui.config import Settings

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


def token_file(settings: Settings) -> Path:
    return settings.paths.state / "mcp-http-token"


def ensure_token(settings: Settings) -> str:
    """The home's token, created (0600) on first use."""
    path = token_file(settings)
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


class BearerGuard:
    """ASGI middleware: HTTP requests without the token get 401; lifespan passes through."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "missing or wrong bearer token (see <state>/mcp-http-token)"}'
                headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def serve_http(settings: Settings, port: int) -> None:
    """Serve until interrupted; then close the home (calls in flight end first)."""
    import anyio
    import uvicorn

    from magray_tui.mcp.home import release_when_idle
    from magray_tui.mcp.server import build_server

    server, home = build_server(settings)
    token = ensure_token(settings)
    app = BearerGuard(server.streamable_http_app(host=HOST), token)
    config = uvicorn.Config(app, host=HOST, port=port, log_config=None, lifespan="on")
    web = uvicorn.Server(config)
    idle_s = settings.mcp.server.idle_release_s

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            if idle_s > 0:
                tg.start_soon(release_when_idle, home, idle_s)
            print(
                f"magray mcp: serving http://{HOST}:{port}/mcp "
                f"(send Authorization: Bearer <the token in {token_file(settings)}>)",
                file=sys.stderr,
                flush=True,
            )
            await web.serve()
            tg.cancel_scope.cancel()

    try:
        anyio.run(main)
    finally:
        home.close()
