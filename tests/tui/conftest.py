"""Fixtures for the TUI tests: a temp MAGRAY_HOME with a few real memories (embedded by the
real model), and a factory for apps that are closed after each test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from magray_tui.config import Settings, load_settings

FIXED_NOW = datetime(2026, 1, 15, 12, 0, 0)

RECORDS = [
    {
        "id": "m-duckdb",
        "layer": "insights",
        "kind": "decision",
        "text": "DuckDB is the single source of truth; the vector and keyword indexes are "
        "derived caches rebuilt from it.",
        "tags": ["architecture"],
        "hours_ago": 30,
    },
    {
        "id": "m-cat",
        "layer": "interact",
        "kind": "note",
        "text": "The user's cat is called Miso and likes to sleep on the warm keyboard.",
        "tags": ["personal"],
        "hours_ago": 3,
    },
    {
        "id": "m-markup",
        "layer": "interact",
        "kind": "note",
        "text": "Literal markup test: [bold]x[/] and [link] must show exactly as typed.",
        "tags": [],
        "hours_ago": 2,
    },
    {
        "id": "m-hnsw",
        "layer": "assets",
        "kind": "code",
        "text": "hnswlib.Index(space='cosine', dim=384).init_index(max_elements=10_000, M=16)",
        "tags": ["snippet", "index"],
        "hours_ago": 24 * 9,
    },
    {
        "id": "m-tea",
        "layer": "insights",
        "kind": "fact",
        "text": "The user prefers green tea in the afternoon and coffee before nine.",
        "tags": ["preferences"],
        "hours_ago": 50,
    },
]


def seed_items() -> list[dict]:
    return [
        {
            **{k: v for k, v in r.items() if k != "hours_ago"},
            "created_at": FIXED_NOW - timedelta(hours=r["hours_ago"]),
        }
        for r in RECORDS
    ]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A home with the seed memories, built once; each test gets a copy."""
    from magray_tui.memory import MemoryService

    root = tmp_path_factory.mktemp("tui-template")
    with MemoryService.open(
        settings=load_settings(root), embedder=embedder, clock=lambda: FIXED_NOW
    ) as memory:
        memory.add_many(seed_items())
    return root


@pytest.fixture
def seeded_home(home: Path, seeded_template: Path) -> Path:
    for part in ("data", "cache"):
        shutil.copytree(seeded_template / part, home / part)
    return home


@pytest.fixture
def fast_model(monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    """The app opens its services the real way; only the model load is shared (it is
    read-only), so each test does not spend a second loading the same ONNX file."""
    import magray_tui.ai

    monkeypatch.setattr(magray_tui.ai, "load_embedder", lambda settings, *a, **k: embedder)


@pytest.fixture
def make_app(fast_model) -> Iterator[Callable[..., object]]:
    from magray_tui.tui.app import MagrayApp

    apps: list[MagrayApp] = []

    def factory(settings: Settings, **kwargs) -> MagrayApp:
        kwargs.setdefault("clock", lambda: FIXED_NOW)
        kwargs.setdefault("watch_themes", False)
        app = MagrayApp(settings, **kwargs)
        app.notes = []  # type: ignore[attr-defined]
        notify = app.notify

        def recording_notify(message, *args, **kw):
            app.notes.append(str(message))  # type: ignore[attr-defined]
            return notify(message, *args, **kw)

        app.notify = recording_notify  # type: ignore[method-assign]
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close_backend()


@pytest.fixture
def seeded_settings(seeded_home: Path) -> Settings:
    return load_settings(seeded_home)
