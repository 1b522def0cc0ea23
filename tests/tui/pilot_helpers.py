"""Helpers for driving the app with Pilot: poll for a condition instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static


async def wait_until(
    pilot: Pilot, predicate: Callable[[], object], timeout: float = 20.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if not pilot.app.is_running:
            raise AssertionError(f"the app stopped while waiting for: {what or predicate}")
        await pilot.pause(0.05)
    raise AssertionError(f"condition not met within {timeout} s: {what or predicate}")


def text_of(app, selector: str) -> str:
    """What a Static was given to show, as plain text."""
    return str(app.query_one(selector, Static).content)


def screen_text(app) -> str:
    """The whole screen as drawn (from the SVG screenshot), for asserting what users see."""
    import html
    import re

    svg = app.export_screenshot()
    lines = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return html.unescape("".join(lines)).replace("\xa0", " ")


def result_ids(app) -> list[str]:
    from magray_tui.tui.widgets.record_table import RecordTable

    tables = app.query(RecordTable)
    return list(tables.first()._order) if tables else []


async def wait_for_results(pilot: Pilot, predicate=None, timeout: float = 20.0) -> list[str]:
    app = pilot.app
    await wait_until(
        pilot,
        lambda: app.backend is not None and result_ids(app) and (predicate is None or predicate()),
        timeout,
        "results shown",
    )
    return result_ids(app)
