"""Fixtures for the LLM layer: a client pointed at the scripted server (tests/llm_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from magray_tui.config import Settings
from magray_tui.llm.client import LLMClient

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "OPENAI_API_BASE")


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real keys must neither be used nor change what resolves.
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def llm_settings(settings: Settings, llm_server) -> Settings:
    cfg = settings.llm
    cfg.model = "openai/test-model"
    cfg.api_base = llm_server.url
    cfg.offline_model = False  # an error must surface, not be answered by the offline model
    cfg.retry_backoff_s = 0.01
    cfg.timeout_s = 5.0
    return settings


@pytest.fixture
def client(llm_settings: Settings) -> Iterator[LLMClient]:
    # No local-server probing: ports 11434/1234/8000 may be anything on a shared machine.
    c = LLMClient(llm_settings, local_servers=())
    yield c
    c.close()
