"""Shared fixtures: every test gets its own MAGRAY_HOME; the real embedding model is loaded
once per session (it is read-only and thread-safe)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from magray_tui.config import Settings, load_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("MAGRAY_HOME", str(root))
    for name in ("MAGRAY_MODELS_DIR", "MAGRAY_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home)


@pytest.fixture(scope="session")
def embedder():
    from magray_tui.ai import load_embedder

    return load_embedder(load_settings(Path("/nonexistent-magray-home")))


@pytest.fixture(scope="session")
def pg_server() -> Iterator:
    """One real PostgreSQL 18 + pgvector server for the session, on a Unix socket in a temp
    dir, stopped at the end (tests/pg/server.py)."""
    import shutil
    import tempfile

    from tests.pg.server import start_server

    root = Path(tempfile.mkdtemp(prefix="magray-pg-", dir="/tmp"))  # short socket path
    server = start_server(root)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["duckdb", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The memory backend a behavioural test runs on: the home's DuckDB file, or a fresh
    database on the session's PostgreSQL server (`[store] url`)."""
    if request.param == "postgres":
        server = request.getfixturevalue("pg_server")
        monkeypatch.setenv("MAGRAY_STORE__URL", server.new_database())
    return request.param


@pytest.fixture
def memory(backend: str, settings: Settings, embedder) -> Iterator:
    from magray_tui.memory import MemoryService

    # The model is shared by the session; its cache is not: a test run on the second
    # backend must embed what the first one's run already did.
    embedder.cache.clear()

    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        yield svc


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Commands that load settings also set up file logging for their home: undo it."""
    import logging

    from magray_tui import logs

    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if getattr(handler, "_magray", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)
    logs._configured = None


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    """Poll instead of sleeping a fixed time; fail loudly on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


FACTS = [
    "Caroline went to the LGBTQ support group on Tuesday evening.",
    "Melanie painted a sunrise over the lake last summer.",
    "The deploy script lives in tools/deploy.sh and needs the staging token.",
    "Our team decided to use DuckDB as the single source of truth.",
    "The user prefers dark themes and vim keybindings in terminal apps.",
    "Python 3.11 is the minimum supported version of the project.",
    "The cat knocked the coffee mug off the kitchen table.",
    "Quarterly revenue grew by twelve percent compared to last year.",
    "Remember to water the tomato plants every morning in July.",
    "The HNSW index uses M=16 and ef_construction=200 by default.",
    "Jon is training for a marathon in Chicago this October.",
    "The database backup runs nightly at 2am to an external disk.",
]


@pytest.fixture
def llm_server() -> Iterator:
    """A scriptable OpenAI-compatible server on 127.0.0.1 (tests/llm_server.py)."""
    from tests.llm_server import LLMServer

    with LLMServer() as server:
        yield server


def use_test_server(settings: Settings, server, workspace: Path, monkeypatch) -> Settings:
    """Point the chat at the local test server (no offline fallback, no retries, no
    background distillation) with `workspace` as the only root the file tools may touch."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings.llm.model = "openai/test-model"
    settings.llm.api_base = server.url
    settings.llm.offline_model = False
    settings.llm.max_retries = 0
    settings.agent.distil = False
    workspace.mkdir(exist_ok=True)
    settings.tools.workspace_roots = [workspace]
    return settings
