"""Write SVG screenshots of every pane: `python -m magray_tui.tui.screenshots DIR`.

The app runs headless at a fixed size (120×36) and theme (magray-dark) on a temporary
MAGRAY_HOME holding a few memories added through MemoryService (real embedding model),
with a frozen clock so ages read the same on every run. `make screenshots` calls this.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

SIZE = (120, 36)
THEME = "magray-dark"
NOW = datetime(2026, 1, 15, 12, 0, 0)
MEMORIES = [
    (
        "insights",
        "decision",
        ["architecture"],
        30,
        "DuckDB is the single source of truth; the vector and keyword indexes are derived "
        "caches that can be rebuilt from it at any time.",
    ),
    (
        "insights",
        "fact",
        ["preferences"],
        50,
        "The user prefers dark themes, vim keybindings and short answers with code first.",
    ),
    (
        "interact",
        "note",
        ["session"],
        2,
        "Asked how hybrid search fuses BM25 and vector ranks; explained reciprocal rank fusion.",
    ),
    (
        "interact",
        "note",
        ["personal"],
        5,
        "The user's cat is called Miso and likes to sleep on the warm keyboard.",
    ),
    (
        "assets",
        "code",
        ["snippet", "index"],
        24 * 9,
        "hnswlib.Index(space='cosine', dim=384).init_index(max_elements=10_000, M=16, "
        "ef_construction=200)",
    ),
    (
        "assets",
        "doc",
        ["runbook"],
        24 * 20,
        "Backups: the database is checkpointed nightly at 02:00 and copied to the NAS; "
        "restore with `magray memory import backup.jsonl`.",
    ),
    (
        "insights",
        "pattern",
        ["workflow"],
        24 * 3,
        "Before a release the user runs `make test` twice to catch flaky UI tests.",
    ),
]


def seed(settings) -> None:
    from magray_tui.memory import MemoryService

    items = [
        {
            "id": hashlib.sha1(text.encode()).hexdigest()[:16],  # stable across runs
            "text": text,
            "layer": layer,
            "kind": kind,
            "tags": tags,
            "created_at": NOW - timedelta(hours=hours),
        }
        for layer, kind, tags, hours, text in MEMORIES
    ]
    with MemoryService.open(settings=settings, clock=lambda: NOW) as memory:
        memory.add_many(items)
        from magray_tui.todo.service import TodoService

        todo = TodoService(memory.store, clock=lambda: NOW)
        schema = todo.create("Design the v6 schema", priority="high", estimate_hours=3)
        migrate = todo.create("Write the migration", deps=[schema.id], estimate_hours=2)
        backfill = todo.create("Backfill old rows", deps=[migrate.id], estimate_hours=1)
        docs = todo.create("Document the change", deps=[schema.id], priority="low")
        todo.create("Switch reads over", deps=[backfill.id, docs.id], priority="critical")
        todo.start(schema.id)


async def _capture(
    settings,
    out: Path,
    name: str,
    steps: Callable[..., Awaitable[None]],
    services_now: datetime | None = None,
) -> Path:
    from magray_tui.tui.app import MagrayApp
    from magray_tui.tui.backend import open_backend

    def opener(settings):
        backend = open_backend(settings)
        backend.memory.clock = lambda: services_now or NOW
        return backend

    app = MagrayApp(settings, clock=lambda: NOW, backend_opener=opener, watch_themes=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.theme = THEME
            await _wait(pilot, lambda: app.backend is not None and not app.jobs.snapshot())
            await steps(pilot)
            await _wait(pilot, lambda: not app.jobs.snapshot())
            await pilot.pause(0.3)
            return Path(app.save_screenshot(f"{name}.svg", str(out)))
    finally:
        app.close_backend()


async def _wait(pilot, predicate: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not settle")
        await pilot.pause(0.05)


def _show(key: str) -> Callable[..., Awaitable[None]]:
    async def steps(pilot) -> None:
        await pilot.press(f"alt+{key}")  # digits would be typed into a focused prompt
        await pilot.pause(0.2)

    return steps


async def _search(pilot) -> None:
    await pilot.press("alt+2", "slash", *"how are the indexes rebuilt", "enter")
    await pilot.pause(0.4)


async def _help(pilot) -> None:
    await pilot.press("alt+2")
    await pilot.pause(0.2)
    await pilot.press("f1")

    def policy_shown() -> bool:
        status = pilot.app.screen.query("#help-pane-status")
        return bool(status) and "policy" in str(status.first().content)

    await _wait(pilot, policy_shown)


async def _preview(pilot) -> None:
    await pilot.press("alt+2", "ctrl+p", *"preview promotion cycle")
    await pilot.pause(0.5)
    await pilot.press("enter")
    await _wait(pilot, lambda: pilot.app.screen.query("#preview-title"))


async def _chat(pilot) -> None:
    """A real exchange with the embedded offline model (its answer varies run to run)."""
    await pilot.press("alt+1")
    chat = pilot.app.pane("chat")
    await _wait(pilot, lambda: chat.agent is not None and chat.session is not None, 120)
    chat.input.focus()
    chat.input.load_text("What is my cat called?")
    await pilot.press("enter")
    await _wait(pilot, lambda: chat.query("AssistantEntry") and not chat.turn_running, 180)
    chat.log_view.focus()


async def _tasks_graph(pilot) -> None:
    await pilot.press("alt+3")
    await pilot.pause(0.5)
    await pilot.press("g")
    await pilot.pause(0.5)


async def capture_all(settings, out: Path) -> list[Path]:
    from magray_tui.tui.panes.registry import PANES

    shots = []
    for n, pane in enumerate(PANES, 1):
        shots.append(await _capture(settings, out, f"pane-{pane.PANE_ID}", _show(str(n))))
    shots.append(await _capture(settings, out, "chat-offline", _chat))
    shots.append(await _capture(settings, out, "tasks-graph", _tasks_graph))
    shots.append(await _capture(settings, out, "memory-search", _search))
    shots.append(await _capture(settings, out, "help-memory", _help))
    # A day later the Interact notes, never read, are past their 24 h: the preview lists them.
    later = NOW + timedelta(hours=25)
    shots.append(await _capture(settings, out, "promotion-preview", _preview, later))
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="screenshots", type=Path)
    args = parser.parse_args(argv)
    from magray_tui.config import load_settings
    from magray_tui.logs import setup_logging

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="magray-shots-") as home:
        settings = load_settings(home)
        settings.llm.model = "magray-offline/smollm2"  # never a hosted model from the env
        setup_logging(settings)
        seed(settings)
        for path in asyncio.run(capture_all(settings, args.out.resolve())):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
