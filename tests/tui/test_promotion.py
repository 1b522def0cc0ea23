"""The promotion engine in the TUI: lifecycle keys on a record, cycles from the palette and
the timer, the dry-run preview, and the policy line in F1. Real services, temp home."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable, OptionList, Static

from magray_tui.tui.backend import open_backend
from magray_tui.tui.screens.help import HelpScreen
from magray_tui.tui.screens.layer_picker import LayerPicker
from magray_tui.tui.screens.promotion_preview import PromotionPreview
from magray_tui.tui.widgets.header import AppHeader
from magray_tui.tui.widgets.record_table import RecordTable

from .conftest import FIXED_NOW
from .pilot_helpers import result_ids, screen_text, text_of, wait_for_results, wait_until

INTERACT_IDS = {"m-cat", "m-markup"}


class Clock:
    """The services' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(make_app, seeded_settings, clock):
    def open_with_clock(settings):
        backend = open_backend(settings)
        backend.memory.clock = clock
        return backend

    return make_app(seeded_settings, backend_opener=open_with_clock, clock=clock)


def stored(app, ref: str):
    return app.backend.memory.get(ref, count_access=False)


def shown_layer(app, ref: str) -> str | None:
    row = app.query_one(RecordTable).rows_by_id.get(ref)
    return row.record.layer.value if row else None


async def select(pilot, ref: str) -> None:
    """Put the cursor on `ref` in the list of recent memories (the results have focus)."""
    app = pilot.app
    await wait_for_results(pilot, lambda: ref in result_ids(app))
    table = app.query_one(RecordTable)
    table.focus()
    table.move_cursor(row=result_ids(app).index(ref))
    await wait_until(pilot, lambda: table.selected and table.selected.record.id == ref)


async def palette(pilot, command: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.press(*command.lower())
    await pilot.pause(0.3)
    await pilot.press("enter")


async def test_promote_then_undo(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-cat")
        await pilot.press("p")
        await wait_until(pilot, lambda: stored(app, "m-cat").layer.value == "insights")
        await wait_until(pilot, lambda: shown_layer(app, "m-cat") == "insights")
        await wait_until(pilot, lambda: app.query_one(AppHeader).counts["insights"] == 3)
        # The toast comes when the worker returns, a moment after the change is visible.
        await wait_until(
            pilot, lambda: any("Promoted to insights. Press z to undo." in n for n in app.notes)
        )
        await wait_until(pilot, lambda: "promote interact→insights by user" in history(app))
        await pilot.press("z")
        await wait_until(pilot, lambda: stored(app, "m-cat").layer.value == "interact")
        await wait_until(pilot, lambda: shown_layer(app, "m-cat") == "interact")
        await wait_until(pilot, lambda: any("moved back to interact" in n for n in app.notes))
        await wait_until(pilot, lambda: "undo promote: moved back to interact" in history(app))


async def test_undo_after_the_cursor_moved_undoes_the_record_just_changed(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-cat")
        await pilot.press("l")  # interact only: a promoted record leaves the list
        await wait_until(pilot, lambda: set(result_ids(app)) == {"m-cat", "m-markup"})
        await select(pilot, "m-cat")
        await pilot.press("p")
        await wait_until(pilot, lambda: result_ids(app) == ["m-markup"], what="m-cat left")
        assert app.query_one(RecordTable).selected.record.id == "m-markup"
        await pilot.press("z")  # undoes m-cat's promotion, not "nothing to undo" for m-markup
        await wait_until(pilot, lambda: stored(app, "m-cat").layer.value == "interact")
        await wait_until(pilot, lambda: "m-cat" in result_ids(app))
        assert not any("nothing to undo" in n for n in app.notes)
        assert stored(app, "m-markup").layer.value == "interact"


def history(app) -> str:
    return text_of(app, "#detail-history")


async def test_promote_to_a_picked_layer(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-cat")
        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, LayerPicker))
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            "insights",
            "assets",
        ]
        await pilot.press("down", "enter")
        # Watch the screen, then read the store once: polling the database from the UI
        # thread while the worker commits is something the app itself never does.
        await wait_until(pilot, lambda: shown_layer(app, "m-cat") == "assets")
        assert stored(app, "m-cat").layer.value == "assets"


async def test_promoting_a_near_duplicate_merges_it_and_undo_splits(app, seeded_settings, embedder):
    from magray_tui.memory import MemoryService

    twin = {
        "id": "m-tea-again",
        "layer": "interact",
        "kind": "fact",
        "text": "The user prefers green tea in the afternoon, and coffee before nine.",
        "created_at": FIXED_NOW - timedelta(hours=1),
    }
    with MemoryService.open(
        settings=seeded_settings, embedder=embedder, clock=lambda: FIXED_NOW
    ) as memory:
        memory.add_many([twin])
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-tea-again")
        await pilot.press("p")
        await wait_until(pilot, lambda: stored(app, "m-tea-again").state.value == "merged")
        assert stored(app, "m-tea-again").merged_into == "m-tea"
        # The toast follows the commit (a message from the worker): wait for it too.
        await wait_until(
            pilot, lambda: any("Merged into m-tea (near-duplicate)" in n for n in app.notes)
        )
        await wait_until(pilot, lambda: "m-tea-again" not in result_ids(app))
        table = app.query_one(RecordTable)
        assert table.selected.record.id == "m-tea"  # the cursor follows to the survivor
        await wait_until(pilot, lambda: "absorb interact→insights by user" in history(app))
        await pilot.press("z")
        await wait_until(pilot, lambda: stored(app, "m-tea-again").state.value == "live")
        await wait_until(pilot, lambda: "m-tea-again" in result_ids(app))
        assert any("split m-tea-again back out of m-tea" in n for n in app.notes)


async def test_pin_toggles_and_importance_steps(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-tea")
        await pilot.press("i")
        await wait_until(pilot, lambda: stored(app, "m-tea").pinned)
        await wait_until(pilot, lambda: "pinned (never expires)" in text_of(app, "#detail-fields"))
        await pilot.press("i")
        await wait_until(pilot, lambda: not stored(app, "m-tea").pinned)
        await wait_until(pilot, lambda: "not pinned" in text_of(app, "#detail-fields"))
        await pilot.press("plus", "plus")
        await wait_until(pilot, lambda: stored(app, "m-tea").importance == pytest.approx(0.7))
        await pilot.press("minus")
        await wait_until(pilot, lambda: stored(app, "m-tea").importance == pytest.approx(0.6))
        await wait_until(pilot, lambda: "importance 0.60" in text_of(app, "#detail-fields"))


async def test_demote_from_interact_is_an_error_and_changes_nothing(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-cat")
        await pilot.press("d")
        await wait_until(pilot, lambda: any("nowhere to demote" in n for n in app.notes))
        await pilot.pause(0.2)
        assert stored(app, "m-cat").layer.value == "interact"
        assert app.backend.memory.history("m-cat") == []
        assert not app.jobs.snapshot()


async def test_palette_cycle_expires_unread_interact_records(app, clock):
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        clock.now = FIXED_NOW + timedelta(hours=25)  # past the Interact TTL (24 h)
        await palette(pilot, "Run promotion cycle")
        await wait_until(pilot, lambda: any("promotion cycle: 2 expire" in n for n in app.notes))
        for ref in INTERACT_IDS:
            assert stored(app, ref).state.value == "forgotten"
            assert app.backend.memory.history(ref)[-1]["action"] == "expire"
        await wait_until(pilot, lambda: not INTERACT_IDS & set(result_ids(app)))
        await wait_until(pilot, lambda: app.query_one(AppHeader).counts["forgotten"] == 2)
        # The expiry reads in the history of the tombstone, with its reason.
        await pilot.press("t")
        await wait_until(pilot, lambda: set(result_ids(app)) == INTERACT_IDS)
        await wait_until(pilot, lambda: "expire interact→tombstone by policy" in history(app))
        assert "time to live passed" in history(app)


async def test_preview_lists_actions_literally_and_changes_nothing(app, clock):
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        clock.now = FIXED_NOW + timedelta(hours=25)
        await pilot.press("1")  # another pane: the memory list is not drawn behind the modal
        await wait_until(pilot, lambda: app.active_pane_id == "chat")
        await palette(pilot, "Preview promotion cycle")
        await wait_until(pilot, lambda: isinstance(app.screen, PromotionPreview))
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert {str(r[0]) for r in rows} == INTERACT_IDS
        assert {str(r[2]) for r in rows} == {"expire"}
        assert {str(r[3]) for r in rows} == {"interact→tombstone"}
        assert "2 expire" in text_of(app.screen, "#preview-title")
        assert "default policy" in text_of(app.screen, "#preview-policy")
        # Record text is never markup: in the table, and in full below it when highlighted.
        markup_row = next(i for i, r in enumerate(rows) if str(r[0]) == "m-markup")
        table.move_cursor(row=markup_row)
        detail = "#preview-detail"
        await wait_until(pilot, lambda: "m-markup" in text_of(app.screen, detail))
        assert "Literal markup test: [bold]x[/] and [link] must show" in text_of(app.screen, detail)
        await pilot.pause(0.1)
        drawn = screen_text(app)
        assert "Literal markup test: [bold]x[/] and…" in drawn
        assert "Literal markup test: [bold]x[/] and [link] must show exactly as typed." in drawn
        assert "why: time to live passed" in drawn
        for ref in INTERACT_IDS:
            assert stored(app, ref).state.value == "live"
            assert app.backend.memory.history(ref) == []
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PromotionPreview))


async def test_timer_runs_cycles_one_at_a_time(app, clock, seeded_settings):
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        minutes = seeded_settings.promotion.cycle_minutes
        assert app.promotion_timer is not None
        assert app.promotion_timer._interval == pytest.approx(minutes * 60)
        clock.now = FIXED_NOW + timedelta(hours=25)
        # While a cycle holds the lock, the timer starts none and the palette offers none.
        with app._cycle_lock:
            app.promotion_tick()
            await pilot.pause(0.3)
            assert stored(app, "m-cat").state.value == "live"
            assert not app.cycle_allowed()
        app.promotion_tick()
        await wait_until(pilot, lambda: stored(app, "m-cat").state.value == "forgotten")
        await wait_until(pilot, lambda: any("2 expire" in n for n in app.notes))
        # A timer cycle with nothing to do says nothing.
        notes = len(app.notes)
        app.promotion_tick()
        await wait_until(pilot, lambda: not app.jobs.snapshot())
        await pilot.pause(0.2)
        assert len(app.notes) == notes


async def test_f1_shows_the_active_policy(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        status = app.screen.query_one("#help-pane-status", Static)
        await wait_until(pilot, lambda: str(status.content) != "loading…")
        line = str(status.content)
        assert line.startswith("policy: default — 0 user decisions so far")
        assert "every 60 min" in line
        keys = str(app.screen.query_one("#help-pane-keys", Static).content)
        for binding_id in ("memory.promote", "memory.demote", "memory.pin", "memory.undo_change"):
            assert binding_id in keys


PORTS = [
    {
        "id": "m-port-old",
        "layer": "insights",
        "kind": "fact",
        "text": "The staging database listens on port 5433.",
        "created_at": FIXED_NOW - timedelta(days=3),
    },
    {
        "id": "m-port-new",
        "layer": "interact",
        "kind": "fact",
        "text": "The staging database listens on port 5434.",
        "created_at": FIXED_NOW - timedelta(hours=1),
    },
]


def memory_cell(app, ref: str) -> str:
    table = app.query_one(RecordTable)
    return str(table.get_cell(ref, "memory"))


async def test_promoting_a_changed_value_supersedes_shows_the_chain_and_undoes(
    app, seeded_settings, embedder
):
    from magray_tui.memory import MemoryService

    with MemoryService.open(
        settings=seeded_settings, embedder=embedder, clock=lambda: FIXED_NOW
    ) as memory:
        memory.add_many(PORTS)
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-port-new")
        await pilot.press("p")
        await wait_until(pilot, lambda: shown_layer(app, "m-port-new") == "insights")
        assert stored(app, "m-port-old").superseded_by == "m-port-new"
        assert stored(app, "m-port-new").state.value == "live"  # not merged: both stay
        await wait_until(
            pilot,
            lambda: any("Promoted to insights; supersedes m-port-old" in n for n in app.notes),
        )
        await wait_until(pilot, lambda: memory_cell(app, "m-port-old").startswith("superseded"))
        assert not memory_cell(app, "m-port-new").startswith("superseded")
        await wait_until(pilot, lambda: "older    m-port-old" in text_of(app, "#detail-chain"))
        await select(pilot, "m-port-old")
        await wait_until(pilot, lambda: "this     m-port-old" in text_of(app, "#detail-chain"))
        assert "current  m-port-new" in text_of(app, "#detail-chain")
        assert "superseded by m-port-new" in text_of(app, "#detail-fields")
        assert "· superseded" in text_of(app, "#detail-title")
        await pilot.press("z")  # undoes the change just made: the link, from the newer side
        await wait_until(pilot, lambda: not memory_cell(app, "m-port-old").startswith("superseded"))
        assert stored(app, "m-port-old").superseded_by is None
        assert stored(app, "m-port-new").layer.value == "insights"  # the move is one more z


async def test_b_then_b_marks_one_record_superseded_by_another(app, seeded_settings, embedder):
    from magray_tui.memory import MemoryService

    with MemoryService.open(
        settings=seeded_settings, embedder=embedder, clock=lambda: FIXED_NOW
    ) as memory:
        memory.add_many(PORTS)
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, "m-port-old")
        await pilot.press("b")
        await wait_until(
            pilot, lambda: any("m-port-old marked as outdated" in n for n in app.notes)
        )
        await pilot.press("b")  # the same record again: cancelled
        await wait_until(pilot, lambda: any("Supersede cancelled" in n for n in app.notes))
        await pilot.press("b")
        await select(pilot, "m-port-new")
        await pilot.press("b")
        await wait_until(pilot, lambda: memory_cell(app, "m-port-old").startswith("superseded"))
        assert stored(app, "m-port-old").superseded_by == "m-port-new"
        assert stored(app, "m-port-new").layer.value == "interact"  # nothing else moved
        await wait_until(
            pilot, lambda: any("m-port-old superseded by m-port-new" in n for n in app.notes)
        )
