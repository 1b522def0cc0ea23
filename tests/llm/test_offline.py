"""The embedded offline model (SmolLM2-135M via llama.cpp) through the litellm path."""

from __future__ import annotations

import threading

import pytest

from magray_tui.llm import offline
from magray_tui.llm.client import LLMClient
from magray_tui.llm.events import Done, TextDelta, Usage
from tests.llm.helpers import run, text_of

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture
def offline_client(settings):
    assert offline.unavailable_reason() is None  # make install puts it there
    client = LLMClient(settings, local_servers=(), env={})
    assert client.resolve().offline
    yield client
    client.close()


def test_offline_model_streams_a_reply(offline_client, capfd):
    events, error = run(offline_client.stream(QUESTION, max_tokens=16, temperature=0.0))
    assert error is None
    assert text_of(events).strip()
    usage = next(e for e in events if isinstance(e, Usage))
    assert 0 < usage.completion_tokens <= 16 and usage.prompt_tokens > 10
    assert usage.cost_usd == 0.0 and usage.first_token_s is not None
    assert events[-1] in (Done("stop"), Done("length"))
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # llama.cpp's C logging went to the log, not fd 2


def test_offline_model_cancels_between_tokens(offline_client):
    cancel = threading.Event()
    events = []
    for event in offline_client.stream(QUESTION, max_tokens=200, cancel=cancel):
        events.append(event)
        if isinstance(event, TextDelta):
            cancel.set()
    assert events[-1] == Done("cancelled")
    assert sum(isinstance(e, TextDelta) for e in events) <= 3


def test_tools_are_not_sent_to_the_offline_model(offline_client):
    tools = [{"type": "function", "function": {"name": "x", "parameters": {"type": "object"}}}]
    events, error = run(offline_client.stream(QUESTION, tools=tools, max_tokens=8))
    assert error is None and text_of(events)


def test_long_history_is_trimmed_to_the_context(offline_client):
    filler = "lorem ipsum dolor sit amet " * 400  # ~2.4k tokens per message
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": filler} for i in range(6)]
    events, error = run(offline_client.stream([*history, *QUESTION], max_tokens=8))
    assert error is None and text_of(events)


def test_plan_with_the_offline_model_is_json_of_the_schema(offline_client, settings):
    """/plan's structured output becomes a llama.cpp grammar: the small model's reply is
    JSON of the plan schema (without it the same model answers in prose)."""
    import json

    from magray_tui.todo.planner import build_messages, plan_goal, response_format

    settings.llm.temperature = 0.0
    messages = build_messages("ship the new marketing website")
    prose = offline_client.complete(messages)
    with pytest.raises(json.JSONDecodeError):
        json.loads(prose)

    reply = offline_client.complete(messages, response_format=response_format())
    assert isinstance(json.loads(reply)["tasks"], list)

    def complete(msgs, fmt):
        return offline_client.complete(msgs, response_format=fmt)

    plan = plan_goal("ship the new marketing website", complete)
    assert 1 <= len(plan.tasks) <= 40 and all(t.title for t in plan.tasks)


def test_grammar_format_translates_openai_response_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    wrapped = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert offline.grammar_format(wrapped) == {"type": "json_object", "schema": schema}
    assert offline.grammar_format({"type": "json_object"}) == {"type": "json_object"}
    assert offline.grammar_format({"type": "text"}) is None
    assert offline.grammar_format(None) is None
