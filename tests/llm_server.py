"""A small OpenAI-compatible server for tests: real HTTP on 127.0.0.1 (port 0), in a thread.

litellm talks to it exactly as to a hosted provider. Each test scripts the replies it wants,
in order; a request with no reply left gets `DEFAULT_TEXT`. Every request is recorded.

    server.text("Hel", "lo")                     # a streamed (or JSON) text reply
    server.tool_call("read_file", {"path": "a"})  # tool-call deltas, arguments in pieces
    server.error(429, "slow down")               # an HTTP error with an OpenAI error body
    server.text("a", "b", delay_s=0.2)           # slow chunks
    server.stall("a", "b", after=1, seconds=5)   # silence mid-stream
    server.truncate("a", "b")                    # connection cut mid-stream (no [DONE])
    server.requests[-1].body["messages"]         # what the client sent
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TEXT = ("Hello", " from", " the", " test", " server.")
MODELS = ("test-model", "other-model")


@dataclass
class Reply:
    chunks: tuple[str, ...] = ()
    tool_calls: tuple[tuple[str, str, str], ...] = ()  # (id, name, arguments JSON)
    arg_parts: int = 3  # pieces each tool call's arguments are streamed in
    status: int = 200
    error: str = ""
    delay_s: float = 0.0  # before every chunk
    stall_after: int | None = None  # after this many chunks ...
    stall_s: float = 0.0  # ... go silent this long
    truncate_after: int | None = None  # after this many chunks, cut the connection
    finish_reason: str | None = None  # default: "tool_calls" with calls, else "stop"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then closed): connects are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _words(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content") or "").split()) for m in messages)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests check stderr
        pass

    def _record(self, body: dict[str, Any]) -> None:
        with self.server.lock:
            self.server.recorded.append(
                Recorded(self.command, self.path, dict(self.headers.items()), body)
            )

    def _json(self, status: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._record({})
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "owned_by": "test"} for m in self.server.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        self._record(body)
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        reply = self.server.next_reply()
        if reply.status != 200:
            kind = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
            error = {"message": reply.error or f"HTTP {reply.status}", "type": "error",
                     "code": kind.get(reply.status)}  # fmt: skip
            self._json(reply.status, {"error": error})
            return
        if body.get("stream"):
            self._stream(reply, body)
        else:
            self._complete(reply, body)

    # ---- replies -------------------------------------------------------------------------
    def _usage(self, reply: Reply, body: dict[str, Any]) -> dict[str, int]:
        prompt = _words(body.get("messages") or [])
        completion = len(reply.chunks) + len(reply.tool_calls)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}  # fmt: skip

    def _finish(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")

    def _complete(self, reply: Reply, body: dict[str, Any]) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.chunks) or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                for i, n, a in reply.tool_calls
            ]
        self._json(200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": self._finish(reply)}],
            "usage": self._usage(reply, body),
        })  # fmt: skip

    def _events(self, reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
        model = body.get("model", "test-model")
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}  # fmt: skip

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": text}) for text in reply.chunks]
        for index, (call_id, name, arguments) in enumerate(reply.tool_calls):
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            step = max(1, -(-len(arguments) // reply.arg_parts))
            for start in range(0, len(arguments), step):
                part = arguments[start : start + step]
                events.append(
                    chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
                )
        events.append(chunk({}, self._finish(reply)))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(base | {"choices": [], "usage": self._usage(reply, body)})
        return events  # fmt: skip

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        stop = self.server.stop
        try:
            # the role chunk is not counted: "after N chunks" means N content/tool chunks
            for n, event in enumerate(self._events(reply, body)):
                if n and reply.truncate_after is not None and n - 1 >= reply.truncate_after:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if n and reply.stall_after is not None and n - 1 == reply.stall_after:
                    stop.wait(reply.stall_s)
                if n and reply.delay_s:
                    stop.wait(reply.delay_s)
                if stop.is_set():
                    return
                self._send_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            self._send_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client closed the stream (cancel): fine
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.replies: deque[Reply] = deque()
        self.recorded: list[Recorded] = []
        self.models = list(MODELS)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (cancel, closed stream) is normal here; the default prints
        # a traceback to stderr, which the quiet-output tests would catch.
        pass

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.popleft() if self.replies else Reply(chunks=DEFAULT_TEXT)


class LLMServer:
    """Start with `with LLMServer() as server:` (the `llm_server` fixture does)."""

    _ids = itertools.count(1)

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.stop.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The api_base to give litellm."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[Recorded]:
        with self._server.lock:
            return list(self._server.recorded)

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def models(self) -> list[str]:
        return self._server.models

    def push(self, reply: Reply) -> LLMServer:
        with self._server.lock:
            self._server.replies.append(reply)
        return self

    def text(self, *chunks: str, delay_s: float = 0.0, finish: str | None = None) -> LLMServer:
        return self.push(Reply(chunks=chunks, delay_s=delay_s, finish_reason=finish))

    def tool_call(
        self, name: str, arguments: dict[str, Any] | str, *, text: tuple[str, ...] = (),
        parts: int = 3, call_id: str | None = None,
    ) -> LLMServer:  # fmt: skip
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call = (call_id or f"call_{next(self._ids)}", name, args)
        return self.push(Reply(chunks=text, tool_calls=(call,), arg_parts=parts))

    def tool_calls(self, *calls: tuple[str, dict[str, Any]], parts: int = 3) -> LLMServer:
        made = tuple((f"call_{next(self._ids)}", n, json.dumps(a)) for n, a in calls)
        return self.push(Reply(tool_calls=made, arg_parts=parts))

    def error(self, status: int, message: str = "") -> LLMServer:
        return self.push(Reply(status=status, error=message))

    def stall(self, *chunks: str, after: int, seconds: float) -> LLMServer:
        return self.push(Reply(chunks=chunks, stall_after=after, stall_s=seconds))

    def truncate(self, *chunks: str, after: int | None = None) -> LLMServer:
        cut = len(chunks) if after is None else after
        return self.push(Reply(chunks=(*chunks, "never sent"), truncate_after=cut))
