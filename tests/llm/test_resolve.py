"""Which model chat uses: explicit config, keys in the environment, a local server found
by probing, the offline model; `/model` switching; `magray llm status`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from magray_tui.llm import offline
from magray_tui.llm.client import LLMClient
from magray_tui.llm.events import LLMError
from magray_tui.llm.providers import LocalServer
from tests.llm.helpers import USER, run, text_of
from tests.llm_server import closed_port


def _dead_server() -> LocalServer:
    port = closed_port()
    return LocalServer("vllm", f"http://127.0.0.1:{port}/v1/models", "hosted_vllm/",
                       f"http://127.0.0.1:{port}/v1")  # fmt: skip


def test_explicit_config_wins(llm_settings, llm_server):
    client = LLMClient(llm_settings, local_servers=(), env={"OPENAI_API_KEY": "sk-x" * 4})
    info = client.resolve()
    assert (info.model, info.api_base, info.provider) == (
        "openai/test-model", llm_server.url, "openai-compatible"
    )  # fmt: skip
    assert info.label == f"openai/test-model @ 127.0.0.1:{llm_server.port}"
    assert client.active == info


def test_api_base_alone_asks_the_server_for_its_model(settings, llm_server):
    settings.llm.api_base = llm_server.url
    info = LLMClient(settings, local_servers=(), env={}).resolve()
    assert info.model == "openai/test-model" and info.api_base == llm_server.url


def test_a_key_in_the_environment_picks_its_provider(settings):
    client = LLMClient(settings, local_servers=(), env={"GROQ_API_KEY": "gsk_" + "x" * 20})
    info = client.resolve()
    assert info.model == "groq/llama-3.1-8b-instant" and info.provider == "groq"
    assert not info.offline


def test_a_local_server_is_found_and_used(settings, llm_server):
    found = LocalServer("vllm", f"{llm_server.url}/models", "hosted_vllm/", llm_server.url)
    client = LLMClient(settings, local_servers=(_dead_server(), found), env={})
    info = client.resolve()
    assert (info.model, info.provider, info.api_base) == (
        "hosted_vllm/test-model", "vllm", llm_server.url
    )  # fmt: skip
    llm_server.text("served ", "locally")
    events, error = run(client.stream(USER))
    assert error is None and text_of(events) == "served locally"
    assert llm_server.chat_requests[-1].body["model"] == "test-model"


def test_nothing_found_falls_back_to_the_offline_model(settings):
    client = LLMClient(settings, local_servers=(_dead_server(),), env={})
    info = client.resolve()
    assert info.model == offline.OFFLINE_MODEL and info.offline
    assert not info.supports_tools
    assert info.label == (
        "SmolLM2-135M (small offline model — set [llm] model to use a better one)"
    )


def test_nothing_at_all_is_a_readable_error(settings):
    settings.llm.offline_model = False
    with pytest.raises(LLMError, match="no model is available: set \\[llm\\] model"):
        LLMClient(settings, local_servers=(_dead_server(),), env={}).resolve()


def test_set_model_validates_and_keeps_the_server(client, llm_server):
    client.resolve()
    info = client.set_model("openai/other-model")
    assert info.api_base == llm_server.url and client.active == info
    assert client.set_model("offline").model == offline.OFFLINE_MODEL
    with pytest.raises(LLMError, match="unknown model 'nosuchprovider/x'"):
        client.set_model("nosuchprovider/x")
    with pytest.raises(LLMError, match="give a model"):
        client.set_model("  ")
    assert client.active is not None and client.active.offline  # a bad switch changes nothing


def test_status_lists_providers_and_the_active_one(client, llm_server):
    client.resolve()
    rows = {r.name: r for r in client.status()}
    explicit = rows["openai-compatible"]
    assert explicit.active and explicit.configured and explicit.reachable
    assert explicit.latency_ms is not None and explicit.latency_ms > 0
    assert rows["offline"].configured is False  # offline_model = false in these tests
    assert not rows["openai"].configured and rows["openai"].message == "OPENAI_API_KEY not set"
    assert sum(r.active for r in rows.values()) == 1


@pytest.mark.usefixtures("restore_logging")
def test_llm_status_command_json(home, llm_server, monkeypatch):
    from magray_tui.cli import main

    monkeypatch.setenv("MAGRAY_LLM__MODEL", "openai/test-model")
    monkeypatch.setenv("MAGRAY_LLM__API_BASE", llm_server.url)
    result = CliRunner().invoke(main, ["llm", "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["active"]["model"] == "openai/test-model" and data["problem"] is None
    explicit = next(p for p in data["providers"] if p["active"])
    assert explicit["reachable"] is True and explicit["latency_ms"] > 0

    table = CliRunner().invoke(main, ["llm", "status", "--no-check"])
    assert table.exit_code == 0 and "chat uses: openai/test-model" in table.stdout
