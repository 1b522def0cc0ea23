"""Services for agent tests: a real store and memory service on a temp home, the shared
embedder injected (the model is read-only; loading it per test only costs time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from magray_tui.config import Settings


@pytest.fixture
def services(settings: Settings, embedder, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    import magray_tui.ai
    from magray_tui.services import Services

    monkeypatch.setattr(magray_tui.ai, "load_embedder", lambda settings, *a, **k: embedder)
    svc = Services(settings)
    yield svc
    svc.close()
