"""Snapshots of each pane in a fixed state: 120×36 (and 80×24), magray-dark, frozen clock,
fixed records. Update with `pytest tests/tui --snapshot-update` after checking the diff."""

from __future__ import annotations

import pytest

from magray_tui.tui.backend import Backend, open_backend

from .conftest import FIXED_NOW
from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


@pytest.fixture
def snapshot_app(make_app, seeded_settings, monkeypatch):
    # The execution provider (CPU or CUDA) depends on the machine: keep it out of the image.
    monkeypatch.setattr(Backend, "model_label", lambda self: self.memory.embedder.model_id)
    # Writes stamp times (forgotten_at, history): freeze them like the app's clock.
    monkeypatch.setattr("magray_tui.memory.store.utcnow", lambda: FIXED_NOW)

    def open_frozen(settings):
        backend = open_backend(settings)
        backend.memory.clock = lambda: FIXED_NOW
        return backend

    return make_app(seeded_settings, backend_opener=open_frozen)


async def settled(pilot) -> None:
    app = pilot.app
    await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
    await wait_until(pilot, lambda: text_of(app, "#detail-history") != "loading…")
    await wait_until(pilot, lambda: not app.jobs.snapshot())
    await pilot.pause(0.1)


def test_memory_pane(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(120, 36), run_before=settled)


def test_memory_pane_narrow(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=settled)


def test_memory_tombstones(snap_compare, snapshot_app):
    async def forget_two_then_show_tombstones(pilot):
        await settled(pilot)
        app = pilot.app
        await pilot.press("f")
        await wait_until(pilot, lambda: len(result_ids(app)) == 4)
        await pilot.press("f")
        await wait_until(pilot, lambda: len(result_ids(app)) == 3)
        await pilot.press("t")
        await wait_until(pilot, lambda: len(result_ids(app)) == 2)
        await wait_until(pilot, lambda: "forget" in text_of(app, "#detail-history"))
        for toast in app.screen.query("Toast"):
            toast.remove()
        app.clear_notifications()
        await pilot.pause(0.1)

    assert snap_compare(
        snapshot_app, terminal_size=(120, 36), run_before=forget_two_then_show_tombstones
    )


def test_chat_pane(snap_compare, snapshot_app, llm_server, monkeypatch):
    """A finished turn: the prompt, the memories used (collapsed), a Markdown reply with
    markup-like text shown literally, and the usage line (timings left out: they vary)."""
    from magray_tui.tui.panes import chat_events

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setattr("magray_tui.llm.providers.label", lambda model, base="": model)
    monkeypatch.setattr(
        chat_events,
        "usage_line",
        lambda usage, label="": (
            f"{usage.get('model') or label} · "
            f"{usage.get('prompt_tokens', 0)} → {usage.get('completion_tokens', 0)} tokens"
        ),
    )
    settings = snapshot_app.settings
    settings.llm.model = "openai/test-model"
    settings.llm.api_base = llm_server.url
    settings.llm.offline_model = False
    settings.agent.distil = False
    llm_server.text(
        "Your cat is **Miso**. She sleeps on the warm keyboard.\n\n",
        "Literal text stays literal: [bold]x[/]\n\n",
        "```python\nprint('Miso')\n```\n",
    )

    async def chat_turn(pilot):
        await settled(pilot)
        app = pilot.app
        await pilot.press("1")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.agent is not None and chat.session is not None, 60)
        chat.input.load_text("/rename Snapshot chat")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.session.name == "Snapshot chat")
        await wait_until(pilot, lambda: not chat.turn_running)
        for notice in chat.query("NoticeEntry"):
            await notice.remove()
        for entry in chat.query("UserEntry"):
            await entry.remove()
        chat.input.load_text("What is my cat called?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not chat.turn_running and chat.query("AssistantEntry"), 30)
        chat.log_view.focus()  # a blinking cursor in the prompt would make the image vary
        header = app.query_one("AppHeader")
        await wait_until(pilot, lambda: (header.counts or {}).get("interact") == 4)
        await wait_until(pilot, lambda: not app.jobs.snapshot())
        for toast in app.screen.query("Toast"):
            toast.remove()
        await pilot.pause(0.2)

    assert snap_compare(snapshot_app, terminal_size=(120, 36), run_before=chat_turn)


def test_help_for_memory_pane(snap_compare, snapshot_app):
    async def open_help(pilot):
        await settled(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: pilot.app.screen.query("#help-pane-keys"))
        status = "#help-pane-status"
        await wait_until(pilot, lambda: text_of(pilot.app.screen, status) != "loading…")
        await wait_until(pilot, lambda: not pilot.app.jobs.snapshot())

    assert snap_compare(snapshot_app, terminal_size=(120, 36), run_before=open_help)
