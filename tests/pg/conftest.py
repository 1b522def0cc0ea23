"""Fixtures of the server backend's own tests (the server itself: tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.pg.server import PgServer


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh database (with pgvector) on the session's server."""
    return pg_server.new_database()


from tests.tui.conftest import fast_model, make_app  # noqa: E402, F401 - fixtures
