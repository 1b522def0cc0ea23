"""Helpers for the MCP tests: `magray mcp` started as a real subprocess and driven by the
official SDK `Client` over stdio, the way Claude Code or Cursor start it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.tui.conftest import (  # noqa: F401 - the TUI fixtures, for the Pilot-driven tests
    fast_model,
    make_app,
    seeded_home,
    seeded_settings,
    seeded_template,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SERVER = Path(__file__).with_name("fixture_server.py")
# The console script `make install` puts next to the interpreter: what a client's
# `command: magray` runs.
MAGRAY = Path(sys.executable).with_name("magray")


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


def server_params(home: Path, command: str | None = None, args: list[str] | None = None):
    """Start parameters exactly as an MCP client's config gives them."""
    from mcp import StdioServerParameters

    return StdioServerParameters(
        command=command or sys.executable,
        args=args if args is not None else ["-m", "magray_tui.cli", "mcp"],
        # The SDK passes a minimal environment; the home and this checkout are added.
        env={"MAGRAY_HOME": str(home), "PYTHONPATH": str(ROOT)},
    )


@asynccontextmanager
async def connect(home: Path, client: str = "claude-code", **kw: Any):
    from mcp import Client
    from mcp_types import Implementation

    me = Implementation(name=client, version="1.0")
    async with Client(server_params(home, **kw), client_info=me) as session:
        yield session


def text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def data_of(result: Any) -> Any:
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


def magray_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MAGRAY_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "magray_tui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def mcp_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home
