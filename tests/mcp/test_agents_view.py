"""The Agents screen (TUI): MCP clients, their calls, and forgetting one client's last hour
with undo, on a real app and store driven by Pilot."""

from __future__ import annotations

from datetime import timedelta

from magray_tui.config import load_settings
from magray_tui.mcp import activity
from tests.tui.conftest import FIXED_NOW, fast_model, make_app  # noqa: F401 (fixtures)
from tests.tui.pilot_helpers import screen_text, wait_until

ITEMS = [
    ("c-recent", "Claude noted: the API rate limit is 100 requests per minute.", "claude-code", 20),
    ("c-old", "Claude noted earlier: staging is on port 5433.", "claude-code", 180),
    ("u-cursor", "Cursor noted: the build uses uv.", "cursor", 10),
    ("m-mine", "My own note about the rate limit.", "manual", 5),
]


def seed(home, embedder) -> None:
    from magray_tui.memory import MemoryService

    settings = load_settings(home)
    with MemoryService.open(settings=settings, embedder=embedder) as memory:
        memory.add_many(
            [
                {
                    "id": rid,
                    "text": text,
                    "layer": "insights",
                    "source": source if source == "manual" else f"mcp:{source}",
                    "created_at": FIXED_NOW - timedelta(minutes=minutes),
                }
                for rid, text, source, minutes in ITEMS
            ]
        )
    log = activity.log_path(settings)
    stamp = (FIXED_NOW - timedelta(minutes=20)).isoformat() + "Z"
    calls = [
        {"tool": "memory_add", "ok": True, "ms": 30.0, "id": "c-recent"},
        {"tool": "memory_forget", "ok": False, "ms": 0.1, "error": "needs a person's approval"},
    ]
    for call in calls:
        activity.append(log, {"ts": stamp, "client": "claude-code", **call})


async def test_agents_view_lists_clients_and_forgets_one_clients_last_hour_undoably(
    home,
    embedder,
    make_app,  # noqa: F811
):
    from magray_tui.tui.commands import open_agents
    from magray_tui.tui.screens.agents import AgentsScreen

    seed(home, embedder)
    app = make_app(load_settings(home))
    async with app.run_test(size=(150, 45)) as pilot:
        await wait_until(pilot, lambda: app.backend is not None, what="backend")
        open_agents(app)
        await wait_until(pilot, lambda: isinstance(app.screen, AgentsScreen), what="screen")
        screen = app.screen
        await wait_until(pilot, lambda: len(screen.rows) == 2, what="rows")
        assert [r.client for r in screen.rows] == ["claude-code", "cursor"]
        assert [r.id for r in screen.rows[0].recent] == ["c-recent"]  # the 3 h old one is not
        shown = screen_text(app)
        assert "memory_forget" in shown and "refused/failed: needs a person's approval" in shown
        assert "c-recent" in shown and "the API rate limit is 100" in shown

        await pilot.press("f")
        await wait_until(pilot, lambda: app.screen is not screen, what="confirmation")
        await pilot.press("y")
        memory = app.backend.memory
        await wait_until(
            pilot, lambda: memory.get("c-recent", count_access=False).state.value == "forgotten"
        )
        states = {r: memory.get(r, count_access=False).state.value for r, *_ in ITEMS}
        assert states == {
            "c-recent": "forgotten",
            "c-old": "live",
            "u-cursor": "live",
            "m-mine": "live",
        }
        assert memory.history("c-recent")[-1]["actor"] == "user (agents view)"
        await wait_until(pilot, lambda: app.screen is screen and not screen.rows[0].recent)

        await pilot.press("u")
        await wait_until(
            pilot, lambda: memory.get("c-recent", count_access=False).state.value == "live"
        )
        await wait_until(pilot, lambda: [r.id for r in screen.rows[0].recent] == ["c-recent"])
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AgentsScreen))
