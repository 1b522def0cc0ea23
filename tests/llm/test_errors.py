"""Failures through real HTTP: retries before the first token, readable messages, partial
text kept after a stall or a cut connection, the circuit breaker and the fallback chain."""

from __future__ import annotations

import time

import pytest

from magray_tui.llm.client import LLMClient
from magray_tui.llm.events import Done, Fallback, Usage
from magray_tui.monitor.metrics import metrics
from tests.llm.helpers import USER, run, text_of
from tests.llm_server import DEFAULT_TEXT, LLMServer, closed_port


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_transient_error_is_retried(client, llm_server, status):
    llm_server.error(status, "try later")
    events, error = run(client.stream(USER))
    assert error is None
    assert text_of(events) == "".join(DEFAULT_TEXT)
    assert len(llm_server.chat_requests) == 2


def test_retries_stop_at_max_retries(client, llm_server):
    client.settings.llm.max_retries = 2
    for _ in range(5):
        llm_server.error(500, "down")
    _, error = run(client.stream(USER))
    assert error is not None and error.kind == "server"
    assert str(error) == f"the server at {llm_server.url} failed (HTTP 500)"
    assert len(llm_server.chat_requests) == 3  # the call and two retries


def test_a_rejected_key_is_not_retried_and_reads_well(client, llm_server):
    errors_before = metrics.counter("llm.errors")
    llm_server.error(401, "Incorrect API key provided: sk-abc***")
    _, error = run(client.stream(USER))
    assert error is not None and error.kind == "auth"
    assert str(error) == (
        f"the server at {llm_server.url} rejected the API key (check OPENAI_API_KEY)"
    )
    assert len(llm_server.chat_requests) == 1
    assert metrics.counter("llm.errors") == errors_before + 1


def test_a_hosted_provider_key_rejection_names_the_provider(client):
    from magray_tui.llm.errors import classify

    class AuthenticationError(Exception):
        status_code = 401

    error = classify(AuthenticationError("bad key sk-live-0123456789abcdef"), model="openai/x")
    assert str(error) == "the API key for openai was rejected (check OPENAI_API_KEY)"


def test_an_unknown_model_reads_well(client, llm_server):
    llm_server.error(404, "The model `test-model` does not exist")
    _, error = run(client.stream(USER))
    assert error is not None and error.kind == "not_found"
    assert str(error) == f"the model test-model was not found at {llm_server.url}"


def test_a_refused_connection_reads_well(llm_settings):
    base = f"http://127.0.0.1:{closed_port()}/v1"
    llm_settings.llm.api_base = base
    llm_settings.llm.max_retries = 1
    _, error = run(LLMClient(llm_settings, local_servers=()).stream(USER))
    assert error is not None and error.kind == "connect"
    assert str(error) == f"the server at {base} refused the connection"


def test_a_stall_mid_stream_ends_the_turn_and_keeps_the_text(client, llm_server):
    # The process's first request pays litellm's lazy set-up, which on a busy machine can
    # outlast a short deadline before the first chunk (a timeout, not this test's stall).
    _, warm = run(client.stream(USER))
    assert warm is None
    before = len(llm_server.chat_requests)
    # Long enough for a first chunk on a busy machine, short enough for a test.
    client.settings.llm.timeout_s = 3
    llm_server.stall("partial ", "reply ", "lost", after=2, seconds=20)
    started = time.monotonic()
    events, error = run(client.stream(USER))
    assert text_of(events) == "partial reply "
    assert error is not None and error.kind == "stalled" and error.partial
    assert "stopped sending for 3 s" in str(error)
    assert time.monotonic() - started < 12
    assert len(llm_server.chat_requests) == before + 1  # never retried once text was shown


def test_silence_before_the_first_token_is_a_timeout_and_retried(client, llm_server):
    client.settings.llm.timeout_s = 1.5
    llm_server.stall("late", after=0, seconds=20)
    events, error = run(client.stream(USER))
    assert error is None and text_of(events) == "".join(DEFAULT_TEXT)
    assert len(llm_server.chat_requests) == 2


def test_a_cut_connection_keeps_the_text(client, llm_server):
    llm_server.truncate("first ", "second ")
    events, error = run(client.stream(USER))
    assert text_of(events) == "first second "
    assert error is not None and error.kind == "truncated" and error.partial
    assert str(error) == f"the connection to {llm_server.url} was cut mid-reply"
    assert not any(isinstance(e, Done) for e in events)


def test_the_circuit_breaker_opens_then_recovers(client, llm_server):
    cfg = client.settings.llm
    cfg.max_retries = 0
    cfg.breaker_failures = 2
    cfg.breaker_cooldown_s = 0.5
    for _ in range(2):
        llm_server.error(500, "down")
        _, error = run(client.stream(USER))
        assert error is not None and error.kind == "server"
    assert len(llm_server.chat_requests) == 2

    _, error = run(client.stream(USER))
    assert error is not None and error.kind == "circuit_open"
    assert "paused after 2 failures" in str(error)
    assert len(llm_server.chat_requests) == 2  # nothing was sent while open
    row = next(r for r in client.status() if r.active)
    assert "paused after 2 failures" in row.message

    time.sleep(0.6)  # cool-down over: one trial call goes out and closes the breaker
    events, error = run(client.stream(USER))
    assert error is None and text_of(events) == "".join(DEFAULT_TEXT)
    assert client.breaker(client.active).state().state == "closed"


def test_fallback_to_a_second_server(client, llm_server):
    cfg = client.settings.llm
    cfg.max_retries = 0
    with LLMServer() as second:
        cfg.fallbacks = [f"openai/other-model@{second.url}"]
        second.text("from ", "the ", "fallback")
        llm_server.error(503, "overloaded")
        events, error = run(client.stream(USER))
        assert error is None
        fallback = next(e for e in events if isinstance(e, Fallback))
        assert fallback.model == "openai/other-model"
        assert fallback.reason == f"the server at {llm_server.url} failed (HTTP 503)"
        assert text_of(events) == "from the fallback"
        assert next(e for e in events if isinstance(e, Usage)).model == "openai/other-model"
        assert second.chat_requests[-1].body["model"] == "other-model"


def test_when_every_model_fails_the_first_error_leads(client, llm_server):
    cfg = client.settings.llm
    cfg.max_retries = 0
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    cfg.fallbacks = [f"openai/other-model@{dead}"]
    llm_server.error(401, "no")
    _, error = run(client.stream(USER))
    assert error is not None and error.kind == "auth"
    assert str(error).startswith(f"the server at {llm_server.url} rejected the API key")
    assert f"fallbacks failed too: the server at {dead} refused the connection" in str(error)


def _chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("inner", "kind", "message"),
    [
        (__import__("socket").gaierror(-2, "Name or service not known"), "dns",
         "cannot find the server http://gpu-box:8000/v1 (DNS lookup failed)"),
        (ConnectionRefusedError(111, "Connection refused"), "connect",
         "the server at http://gpu-box:8000/v1 refused the connection"),
        (TimeoutError("timed out"), "timeout", "http://gpu-box:8000/v1 did not answer within 7 s"),
    ],
)  # fmt: skip
def test_transport_errors_under_litellm_wrappers(inner, kind, message):
    from magray_tui.llm.errors import classify

    class APIConnectionError(Exception):
        pass

    error = classify(
        _chained(APIConnectionError("litellm.APIConnectionError: OpenAIException - boom"), inner),
        model="hosted_vllm/qwen",
        api_base="http://gpu-box:8000/v1",
        timeout_s=7,
    )
    assert (error.kind, str(error)) == (kind, message)


def test_context_window_error_reads_well():
    from magray_tui.llm.errors import classify

    class ContextWindowExceededError(Exception):
        status_code = 400

    error = classify(ContextWindowExceededError("too long"), model="openai/gpt-4o-mini")
    assert str(error) == "the conversation is too long for gpt-4o-mini"
    assert error.kind == "bad_request" and not error.retryable


def test_a_hosted_model_without_its_key_says_so_and_makes_no_call(llm_settings, llm_server):
    llm_settings.llm.api_base = ""  # api.openai.com, with no OPENAI_API_KEY set
    llm_settings.llm.max_retries = 3
    c = LLMClient(llm_settings, local_servers=(), env={})
    try:
        started = time.perf_counter()
        _, error = run(c.stream(USER))
        assert error is not None and error.kind == "auth" and not error.retryable
        assert str(error).startswith("OPENAI_API_KEY not set: openai/test-model needs it")
        assert time.perf_counter() - started < 2  # no retries, no network
    finally:
        c.close()
    assert llm_server.chat_requests == []
