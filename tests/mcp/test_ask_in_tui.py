"""An "ask" tool asked in the open TUI: `magray mcp` as a real subprocess, driven by the SDK
Client, while a real app (Pilot) is open on the same home, as the host itself or as a
client of a host in another process. Approve once, always (saved in config.toml), deny,
and a question nobody answers."""

from __future__ import annotations

import asyncio
import json

from magray_tui.config import load_settings
from magray_tui.tui.screens.mcp_approval import McpApproval
from tests.host.procs import start_host, stop
from tests.mcp.conftest import connect, data_of, magray_cli, text_of, write_config
from tests.tui.pilot_helpers import result_ids, wait_for_results, wait_until
from tests.tui.pilot_helpers import text_of as static_text


async def _asked(pilot, app) -> McpApproval:
    def shown() -> bool:
        screen = app.screen
        return isinstance(screen, McpApproval) and bool(screen.query("#mcp-approval-deny"))

    await wait_until(pilot, shown, timeout=90, what="the question")
    return app.screen


async def _shown(home, rid: str) -> dict:
    """The memory as `magray memory show --json` prints it."""
    done = await asyncio.to_thread(magray_cli, home, "memory", "show", rid, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_the_tui_that_hosts_the_home_approves_once_then_always(make_app, seeded_settings):
    home = seeded_settings.paths.data.parent
    write_config(home, "[mcp.server]\nask_timeout_s = 120\n")
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        assert not app.backend.services.membership().remote  # this TUI hosts the home
        async with connect(home, client="Claude Code") as client:
            call = asyncio.ensure_future(
                client.call_tool("memory_forget", {"id": "m-cat", "reason": "old\x1b[2Jnews"})
            )
            modal = await _asked(pilot, app)
            title = static_text(modal, "#mcp-approval-title")
            detail = static_text(modal, "#mcp-approval-detail")
            assert title == "MCP client claude-code asks to run memory_forget"
            assert "Miso" in detail and "by manual" in detail  # the memory it would forget
            assert "reason = old" in detail
            assert "\x1b" not in detail and "␛" in detail  # the escape is shown, not obeyed
            await pilot.press("o")
            forgotten = data_of(await asyncio.wait_for(call, 60))
            assert forgotten["state"] == "forgotten"
            await wait_until(pilot, lambda: "m-cat" not in result_ids(app), what="row gone")

            # Always: approved here, remembered by this server and saved for the next one.
            first = asyncio.ensure_future(
                client.call_tool("memory_update", {"id": "m-tea", "importance": 0.9})
            )
            await _asked(pilot, app)
            # The key, not a click: a toast can lie over the buttons and take the click.
            await pilot.press("a")
            assert data_of(await asyncio.wait_for(first, 60))["importance"] == 0.9
            second = data_of(
                await asyncio.wait_for(
                    client.call_tool("memory_update", {"id": "m-tea", "importance": 0.4}), 60
                )
            )
            assert second["importance"] == 0.4
            assert not isinstance(app.screen, McpApproval)  # not asked again
            await wait_until(pilot, lambda: any("saved in" in n for n in app.notes), what="toast")
        rules = load_settings(home).mcp.server.clients["claude-code"]
        assert rules == {"memory_update": "allow"}
        assert load_settings(home).mcp.server.ask_timeout_s == 120  # the rest kept


async def test_a_tui_beside_another_host_process_denies(make_app, seeded_settings):
    """The home's host is a plain magray process (no TUI); the TUI is its client, and is
    the one asked: the question and the answer travel through the host."""
    home = seeded_settings.paths.data.parent
    host = await asyncio.to_thread(start_host, home)
    try:
        app = make_app(seeded_settings)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
            assert app.backend.services.membership().remote  # the TUI is a client
            async with connect(home, client="cursor") as client:
                call = asyncio.ensure_future(
                    client.call_tool("memory_promote", {"id": "m-cat", "to": "assets"})
                )
                modal = await _asked(pilot, app)
                title = static_text(modal, "#mcp-approval-title")
                assert title == "MCP client cursor asks to run memory_promote"
                assert "to = assets" in static_text(modal, "#mcp-approval-detail")
                await pilot.press("d")
                result = await asyncio.wait_for(call, 60)
                assert result.is_error
                message = text_of(result)
                assert message == (
                    "memory_promote: the person at the magray TUI denied memory_promote for "
                    "client 'cursor'"
                )
        shown = await _shown(home, "m-cat")  # through the host, still running
        assert (shown["state"], shown["layer"]) == ("live", "interact")  # not promoted
    finally:
        await asyncio.to_thread(stop, host)


async def test_a_question_nobody_answers_is_refused_and_its_modal_closes(make_app, seeded_settings):
    home = seeded_settings.paths.data.parent
    write_config(home, "[mcp.server]\nask_timeout_s = 2\n")
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        async with connect(home, client="goose") as client:
            call = asyncio.ensure_future(client.call_tool("memory_forget", {"id": "m-tea"}))
            await _asked(pilot, app)
            result = await asyncio.wait_for(call, 60)
            assert result.is_error
            message = text_of(result)
            assert "nobody answered in the magray TUI within 2 s" in message
            assert "\n" not in message
            await wait_until(
                pilot, lambda: not isinstance(app.screen, McpApproval), what="modal closed"
            )
            assert any("not answered in time" in n for n in app.notes)
        assert (await _shown(home, "m-tea"))["state"] == "live"


async def test_a_client_that_leaves_while_asked_closes_its_question(make_app, seeded_settings):
    home = seeded_settings.paths.data.parent
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        async with connect(home, client="aider") as client:
            call = asyncio.ensure_future(client.call_tool("memory_forget", {"id": "m-tea"}))
            await _asked(pilot, app)
            call.cancel()
        # `magray mcp` ended with its client: the question closes, long before its timeout.
        await wait_until(
            pilot, lambda: not isinstance(app.screen, McpApproval), timeout=30, what="closed"
        )
        assert any("the client went away" in n for n in app.notes)
        assert (await _shown(home, "m-tea"))["state"] == "live"
