"""The Tasks pane's views fit what they show (issue 15): the tree key only when there are
subtasks, and graph boxes as wide as the view allows (titles were cut at 16 characters
on a 220-column terminal)."""

from __future__ import annotations

from magray_tui.todo.graph_layout import layout

from .pilot_helpers import screen_text, wait_until
from .test_tasks_pane import open_tasks, pane, shown_ids

LONG = "Migrate the billing database to the new cluster"


def footer_keys(app) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values()}


async def test_tree_key_only_with_subtasks(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(160, 40)) as pilot:
        tasks = await open_tasks(pilot)
        todo = app.backend.services.todo
        top = todo.create("Plan the release").id
        todo.create("Renew the passport")
        tasks.refresh_tasks(changed=True)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 2)
        tasks.table.focus()
        await pilot.pause(0.1)
        assert "toggle_tree" not in footer_keys(app)
        await pilot.press("t")
        await pilot.pause(0.1)
        assert not tasks.table.tree_view
        assert "· list" in str(app.query_one("#tasks-summary").content)

        sub = todo.create("Write the changelog", parent=top).id
        tasks.refresh_tasks(changed=True)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 3)
        await wait_until(pilot, lambda: "toggle_tree" in footer_keys(app), what="tree key")
        await pilot.press("t")
        await wait_until(pilot, lambda: "└ " + sub in screen_text(app), what="tree drawn")
        assert tasks.table.tree_view

        todo.delete(sub)
        tasks.refresh_tasks(changed=True)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 2)
        assert not tasks.table.tree_view  # no subtasks left: back to the list
        assert "toggle_tree" not in footer_keys(app)


def test_layout_grows_boxes_to_the_width_given() -> None:
    nodes = [("t1", f"○ t1 {LONG}"), ("t2", "○ t2 Switch the DNS"), ("t3", "○ t3 Verify")]
    edges = [("t1", "t2"), ("t2", "t3")]
    narrow = layout(nodes, edges, box_width=22)
    wide = layout(nodes, edges, box_width=22, fit_width=160)
    assert narrow.boxes["t1"].width == 22
    assert 22 < wide.boxes["t1"].width <= 48
    assert wide.width <= 160
    assert layout(nodes, edges, box_width=22, fit_width=40).boxes["t1"].width == 22  # no shrink


async def test_graph_boxes_use_the_width_they_have(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(220, 60)) as pilot:
        tasks = await open_tasks(pilot)
        todo = app.backend.services.todo
        first = todo.create(LONG).id
        second = todo.create("Switch the DNS").id
        todo.add_dep(second, first)
        tasks.refresh_tasks(changed=True)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 2)
        tasks.table.focus()
        await pilot.press("g")
        await wait_until(pilot, lambda: tasks.graph.graph is not None, what="graph drawn")
        box = tasks.graph.graph.boxes[first]
        assert box.width > 22
        await wait_until(pilot, lambda: LONG in screen_text(app), what="full title shown")
        assert pane(app).graph_mode
