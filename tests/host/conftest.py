"""The TUI fixtures (a seeded home, an app factory) for the tests that open a real app."""

from tests.tui.conftest import (  # noqa: F401 - fixtures
    fast_model,
    make_app,
    seeded_home,
    seeded_settings,
    seeded_template,
)
