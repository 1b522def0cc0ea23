"""An open TUI on a memory server shows what a magray on another home (another machine)
writes there: LISTEN/NOTIFY -> the host's change notice -> MagrayApp.DataChanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from magray_tui.config import load_settings
from magray_tui.tui.widgets.header import AppHeader
from tests.cli_run import env_for, run_cli
from tests.tui.pilot_helpers import result_ids, wait_until


async def test_a_write_from_another_home_shows_up_in_the_open_tui(
    make_app, pg_url: str, home: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MAGRAY_STORE__URL", pg_url)
    app = make_app(load_settings(home))
    async with app.run_test(size=(120, 36)) as pilot:
        header = app.query_one(AppHeader)
        await wait_until(pilot, lambda: header.state == "ready", what="store open")
        assert result_ids(app) == []
        other = tmp_path / "workstation"
        other.mkdir()
        added = await asyncio.to_thread(
            run_cli,
            other,
            "memory",
            "add",
            "The GPU box reboots every Sunday at 3am.",
            env=env_for(other, MAGRAY_STORE__URL=pg_url),
        )
        assert added.returncode == 0, added.stderr.decode()
        rid = added.stdout.decode().strip()
        await wait_until(pilot, lambda: rid in result_ids(app), timeout=10, what="new row")
        await wait_until(pilot, lambda: header.counts["interact"] == 1, timeout=5, what="count")
