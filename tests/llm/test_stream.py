"""Streaming through litellm to a real HTTP server: text, tool calls, usage, cancel."""

from __future__ import annotations

import json
import threading
import time

from magray_tui.llm.events import Done, TextDelta, ToolCall, Usage
from magray_tui.monitor.metrics import metrics
from tests.llm.helpers import USER, run, text_of

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]


def test_text_streams_in_order_with_usage(client, llm_server):
    llm_server.text("The ", "answer ", "is ", "42.")
    before = metrics.latency("llm.first_token")
    events, error = run(client.stream(USER, max_tokens=50, temperature=0.0))

    assert error is None
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["The ", "answer ", "is ", "42."]
    usage = next(e for e in events if isinstance(e, Usage))
    # The server counts prompt words and one token per chunk: these come from the stream.
    assert (usage.prompt_tokens, usage.completion_tokens) == (3, 4)
    assert usage.model == "openai/test-model"
    assert usage.first_token_s is not None and usage.total_s >= usage.first_token_s
    assert events[-1] == Done("stop")
    sent = llm_server.chat_requests[-1].body
    assert sent["stream"] is True and sent["model"] == "test-model"
    assert sent["messages"] == USER and sent["max_tokens"] == 50 and sent["temperature"] == 0.0
    after = metrics.latency("llm.first_token")
    assert after is not None and after.count == (before.count if before else 0) + 1


def test_tool_call_deltas_are_joined(client, llm_server):
    llm_server.tool_calls(
        ("read_file", {"path": "notes/todo.md"}), ("read_file", {"path": "README.md"}), parts=4
    )
    events, error = run(client.stream(USER, tools=TOOLS))

    assert error is None
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [c.name for c in calls] == ["read_file", "read_file"]
    assert [json.loads(c.arguments) for c in calls] == [
        {"path": "notes/todo.md"},
        {"path": "README.md"},
    ]
    assert len({c.id for c in calls}) == 2 and all(c.id.startswith("call_") for c in calls)
    assert events[-1] == Done("tool_calls")
    assert llm_server.chat_requests[-1].body["tools"] == TOOLS


def test_text_before_a_tool_call_is_kept(client, llm_server):
    llm_server.tool_call("read_file", {"path": "a.txt"}, text=("Let me ", "look."))
    events, _ = run(client.stream(USER, tools=TOOLS))
    assert text_of(events) == "Let me look."
    assert [e.name for e in events if isinstance(e, ToolCall)] == ["read_file"]


def test_slow_chunks_within_the_timeout_arrive(client, llm_server):
    client.settings.llm.timeout_s = 2.0
    llm_server.text("slow ", "but ", "fine", delay_s=0.2)
    events, error = run(client.stream(USER))
    assert error is None and text_of(events) == "slow but fine"


def test_cancel_mid_stream_stops_promptly(client, llm_server):
    llm_server.text(*[f"w{i} " for i in range(30)], delay_s=0.15)
    cancel = threading.Event()
    events = []
    cancelled_at = None
    for event in client.stream(USER, cancel=cancel):
        events.append(event)
        if isinstance(event, TextDelta) and event.text == "w2 ":
            cancel.set()
            cancelled_at = time.monotonic()
    ended = time.monotonic()

    assert events[-1] == Done("cancelled")
    assert text_of(events) == "w0 w1 w2 "  # nothing after the cancel
    assert ended - cancelled_at < 1.0  # not the remaining 27 chunks × 0.15 s
    assert isinstance(events[-2], Usage)


def test_cancel_during_retry_backoff(client, llm_server):
    client.settings.llm.retry_backoff_s = 10.0
    llm_server.error(500, "down")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    events, error = run(client.stream(USER, cancel=cancel))
    assert error is None and events[-1] == Done("cancelled")
    assert time.monotonic() - started < 5.0
    assert len(llm_server.chat_requests) == 1  # the retry never went out


def test_complete_returns_the_text_and_passes_response_format(client, llm_server):
    llm_server.text('{"facts": ', '["x"]}')
    fmt = {"type": "json_object"}
    assert client.complete(USER, response_format=fmt) == '{"facts": ["x"]}'
    assert llm_server.chat_requests[-1].body["response_format"] == fmt


def test_a_server_refusing_tools_is_asked_again_without_them(client, llm_server):
    llm_server.error(400, "this model does not support tools")
    llm_server.text("plain answer")
    assert client.resolve().supports_tools
    events, error = run(client.stream(USER, tools=TOOLS))
    assert error is None and text_of(events) == "plain answer"
    first, second = llm_server.chat_requests
    assert "tools" in first.body and "tools" not in second.body
    assert client.active is not None and not client.active.supports_tools


def test_count_tokens():
    from magray_tui.llm import tokens

    assert tokens.count("hello world") == 2  # cl100k_base
    messages = [{"role": "user", "content": "hello world"}]
    assert tokens.count(messages) == 2 + tokens.PER_MESSAGE
    assert tokens.count("") == 0
    long = "word " * 1000
    assert 900 <= tokens.count(long) <= 1100
