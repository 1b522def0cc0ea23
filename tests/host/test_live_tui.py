"""Live everywhere: a change by any process shows up in an open TUI within a second, and a
TUI opened second is a client that reads and writes through the host."""

from __future__ import annotations

import asyncio
import time

from magray_tui.tui.widgets.header import AppHeader
from tests.host.procs import cli, cli_json, start_host, stop
from tests.tui.pilot_helpers import result_ids, wait_for_results, wait_until


async def _cli(*args):
    """A CLI subprocess, run off the event loop so the app keeps serving meanwhile."""
    return await asyncio.to_thread(cli, *args)


async def test_a_cli_add_shows_up_in_the_open_tui_within_a_second(make_app, seeded_settings):
    home = seeded_settings.paths.data.parent
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        header = app.query_one(AppHeader)
        await wait_until(pilot, lambda: header.counts is not None, what="counts shown")
        assert header.counts["interact"] == 2
        added = await _cli(home, "memory", "add", "The plumber comes on Tuesday at nine.")
        assert added.returncode == 0, added.stderr  # the TUI hosts: the CLI is its client
        rid = added.stdout.strip()
        acked = time.monotonic()
        await wait_until(pilot, lambda: rid in result_ids(app), timeout=5, what="new row")
        await wait_until(pilot, lambda: header.counts["interact"] == 3, timeout=5, what="count")
        assert time.monotonic() - acked < 1.0  # live: pushed, not found by a slow poll
        tasks = app.pane("tasks")
        app.action_show_pane("tasks")
        await wait_until(pilot, lambda: tasks.table.order == [], timeout=10, what="tasks open")
        task = await _cli(home, "tasks", "add", "call the plumber back")
        assert task.returncode == 0, task.stderr
        await wait_until(
            pilot,
            lambda: [t.title for t in tasks.table.tasks.values()] == ["call the plumber back"],
            timeout=5,
            what="the new task in the Tasks pane",
        )


async def test_a_second_tui_is_a_client_of_the_first_process(make_app, seeded_settings):
    home = seeded_settings.paths.data.parent
    host = await asyncio.to_thread(start_host, home)
    try:
        app = make_app(seeded_settings)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
            assert app.backend.services.membership().remote  # this TUI is the client
            assert app.backend.note is None and not app.backend.read_only
            assert not app.pane("memory").can_ingest()  # the host ingests and watches
            # Health in this TUI reports the host's store, indexes and model.
            from magray_tui.monitor.health import run_checks

            report = await asyncio.to_thread(
                run_checks, seeded_settings, app.backend.services, llm=False
            )
            database = report.get("database")
            assert database.status.value == "ok" and database.details["live"] == 5
            # A write from this TUI goes to the host; a CLI write comes back live.
            await pilot.press("f")  # forget the selected memory
            await wait_until(pilot, lambda: len(result_ids(app)) == 4, what="forgotten")
            listed = await asyncio.to_thread(cli_json, home, "memory", "list", "--limit", "50")
            assert len(listed) == 4
            added = await _cli(home, "memory", "add", "A note from the shell beside two TUIs.")
            assert added.returncode == 0, added.stderr
            rid = added.stdout.strip()
            await wait_until(pilot, lambda: rid in result_ids(app), timeout=5, what="new row")
    finally:
        await asyncio.to_thread(stop, host)
