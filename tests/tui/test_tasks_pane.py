"""The Tasks pane against the real task store: the keyboard flow of issue 6 (add, link,
refuse a cycle, finish, graph view), filters, tree, cancel with dependents, undo, and
opening a linked memory in the memory browser."""

from __future__ import annotations

from textual.widgets import Input

from magray_tui.todo.model import TaskState
from magray_tui.tui.panes.tasks import TasksPane
from magray_tui.tui.panes.tasks_filter import parse_filter
from magray_tui.tui.screens.task_editor import TaskEditor
from magray_tui.tui.screens.task_picker import ChoicePicker, TaskPicker
from magray_tui.tui.widgets.task_graph import TaskGraph
from magray_tui.tui.widgets.task_table import TaskTable

from .pilot_helpers import screen_text, text_of, wait_until


def pane(app) -> TasksPane:
    return app.query_one(TasksPane)


def shown_ids(app) -> list[str]:
    tables = app.query(TaskTable)
    return list(tables.first().order) if tables else []


async def open_tasks(pilot) -> TasksPane:
    app = pilot.app
    await pilot.press("3")
    await wait_until(pilot, lambda: app.query(TasksPane) and app.backend is not None, what="pane")
    await wait_until(pilot, lambda: not pane(app).has_class("-loading"), what="store open")
    await wait_until(pilot, lambda: text_of(app, "#tasks-summary") != "", what="first load")
    return pane(app)


async def add_task(pilot, title: str) -> None:
    app = pilot.app
    before = len(shown_ids(app))
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(app.screen, TaskEditor), what="editor")
    await pilot.press(*title)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(shown_ids(app)) == before + 1, what=f"{title} shown")


async def select(pilot, task_id: str) -> None:
    app = pilot.app
    table = app.query_one(TaskTable)
    table.focus()
    table.move_cursor(row=table.order.index(task_id), animate=False)
    await wait_until(pilot, lambda: pane(app).selected and pane(app).selected.id == task_id)
    await wait_until(pilot, lambda: f" {task_id} " in text_of(app, "#task-title"), what="detail")


async def depend(pilot, task_id: str, on: str) -> None:
    app = pilot.app
    await select(pilot, task_id)
    await pilot.press("d")
    await wait_until(pilot, lambda: isinstance(app.screen, TaskPicker), what="picker")
    await pilot.press(*on)
    options = app.screen.query_one("#picker-options")
    await wait_until(
        pilot,
        lambda: options.option_count and options.get_option_at_index(0).id == on,
        what=f"{on} found",
    )
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, TaskPicker), what="picked")


async def test_keyboard_flow_add_link_cycle_finish_graph(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_tasks(pilot)
        assert "No tasks yet" in text_of(app, "#tasks-summary")
        for title in ("Design the schema", "Write the migration", "Ship the release"):
            await add_task(pilot, title)
        todo = app.backend.services.todo
        assert [t.title for t in todo.list()] == [
            "Design the schema",
            "Write the migration",
            "Ship the release",
        ]
        t1, t2, t3 = (t.id for t in todo.list())

        await depend(pilot, t2, t1)
        await wait_until(pilot, lambda: todo.get(t2).deps == (t1,), what="t2 needs t1")
        await depend(pilot, t3, t2)
        await wait_until(pilot, lambda: todo.get(t3).deps == (t2,), what="t3 needs t2")
        await wait_until(pilot, lambda: pane(app).all_tasks[t3].deps == (t2,), what="reloaded")
        assert todo.get(t2).state is TaskState.BLOCKED
        assert shown_ids(app) == [t1, t2, t3]  # topological order

        # Closing the loop t1 → t3 is refused and the message shows the cycle.
        await depend(pilot, t1, t3)
        cycle = f"{t1} → {t3} → {t2} → {t1}"
        await wait_until(pilot, lambda: any(cycle in n for n in app.notes), what="cycle toast")
        assert todo.get(t1).deps == ()

        # Finishing t1 makes its dependent ready.
        await select(pilot, t1)
        await pilot.press("x")
        await wait_until(pilot, lambda: todo.get(t1).state is TaskState.DONE)
        await wait_until(
            pilot, lambda: pane(app).all_tasks[t2].state is TaskState.READY, what="t2 ready"
        )
        assert todo.get(t3).state is TaskState.BLOCKED
        await select(pilot, t2)
        assert "state      ready" in text_of(app, "#task-fields")

        # The graph view: three boxes in three columns, t2 selected, t1/t3 highlighted.
        await pilot.press("g")
        graph = app.query_one(TaskGraph)
        await wait_until(pilot, lambda: graph.graph is not None, what="graph drawn")
        assert app.focused is graph
        assert graph.selected == t2
        assert graph.upstream == {t1} and graph.downstream == {t3}
        assert [b.layer for b in (graph.graph.boxes[t] for t in (t1, t2, t3))] == [0, 1, 2]
        await pilot.pause(0.1)
        drawn = screen_text(app)
        for title in ("t1 Design the", "t2 Write the", "t3 Ship the"):
            assert title in drawn
        assert "▶" in drawn
        # j moves the selection along the graph; the detail follows.
        await pilot.press("j")
        await wait_until(pilot, lambda: graph.selected == t3)
        assert graph.upstream == {t1, t2}
        assert t3 in text_of(app, "#task-title")
        await pilot.press("g")
        assert app.focused is app.query_one(TaskTable)
        assert pane(app).selected.id == t3


async def test_cancel_asks_about_dependents_and_undo_restores(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_tasks(pilot)
        todo = app.backend.services.todo
        a = todo.create("Pick a venue").id
        b = todo.create("Send invitations", deps=[a]).id
        c = todo.create("Order the cake", deps=[b]).id
        pane(app).refresh_tasks(changed=True)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 3)
        await select(pilot, a)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoicePicker), what="question")
        assert b in screen_text(app)
        assert todo.get(a).state is TaskState.READY  # nothing done while asking
        await pilot.press("enter")  # "Cancel them too"
        await wait_until(pilot, lambda: todo.get(c).state is TaskState.CANCELLED)
        assert todo.get(a).state is TaskState.CANCELLED
        await wait_until(pilot, lambda: pane(app).all_tasks[b].state is TaskState.CANCELLED)
        await pilot.press("u")
        await wait_until(pilot, lambda: todo.get(a).state is TaskState.READY, what="undone")
        assert todo.get(b).state is TaskState.BLOCKED and todo.get(c).state is TaskState.BLOCKED
        await wait_until(pilot, lambda: any(n.startswith("Undid") for n in app.notes))


async def test_filter_tree_priority_and_state_keys(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_tasks(pilot)
        todo = app.backend.services.todo
        epic = todo.create("Launch [bold]website[/]", tags=["web"]).id
        page = todo.create("Write the landing page", parent=epic, tags=["web"]).id
        other = todo.create("Renew the passport").id
        pane(app).refresh_tasks(changed=True)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 3)
        # Titles are shown literally, never as markup.
        assert "Launch [bold]website[/]" in screen_text(app)

        await pilot.press("slash")
        assert app.focused is app.query_one("#tasks-filter", Input)
        await pilot.press(*"tag:web")
        await wait_until(pilot, lambda: set(shown_ids(app)) == {epic, page}, what="tag filter")
        assert "2 of 3 tasks" in text_of(app, "#tasks-summary")
        app.query_one("#tasks-filter", Input).value = "passport"
        await wait_until(pilot, lambda: shown_ids(app) == [other], what="text filter")
        app.query_one("#tasks-filter", Input).value = "state:nonsense"
        await wait_until(pilot, lambda: "unknown state" in text_of(app, "#tasks-summary"))
        app.query_one("#tasks-filter", Input).value = ""
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(shown_ids(app)) == 3, what="filter cleared")

        await pilot.press("t")
        assert "└ " + page in screen_text(app)
        assert shown_ids(app).index(page) == shown_ids(app).index(epic) + 1

        await select(pilot, other)
        await pilot.press("p")
        await wait_until(pilot, lambda: todo.get(other).priority.value == "high")
        await pilot.press("space")
        await wait_until(pilot, lambda: todo.get(other).state is TaskState.IN_PROGRESS)
        await pilot.press("space")
        await wait_until(pilot, lambda: todo.get(other).state is TaskState.DONE)


async def test_linked_memory_opens_in_the_memory_browser(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_tasks(pilot)
        todo = app.backend.services.todo
        tid = todo.create("Adopt the storage decision").id
        todo.link_memory(tid, "m-duckdb")
        pane(app).refresh_tasks(changed=True)
        await wait_until(pilot, lambda: shown_ids(app) == [tid])
        await select(pilot, tid)
        assert "m-duckdb" in text_of(app, "#task-memories")
        await pilot.press("o")
        await wait_until(pilot, lambda: app.active_pane_id == "memory", what="memory pane")
        from .pilot_helpers import result_ids

        await wait_until(pilot, lambda: result_ids(app) == ["m-duckdb"], what="record shown")
        assert "m-duckdb" in text_of(app, "#detail-title")
        assert "linked" in text_of(app, "#memory-summary")


async def test_keys_are_listed_in_help_with_ids(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_tasks(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.screen.query("#help-pane-keys"))
        keys = text_of(app.screen, "#help-pane-keys")
        for binding_id in (
            "tasks.add",
            "tasks.edit",
            "tasks.dep",
            "tasks.undep",
            "tasks.state",
            "tasks.priority",
            "tasks.done",
            "tasks.cancel",
            "tasks.undo",
            "tasks.filter",
            "tasks.graph",
            "tasks.tree",
            "tasks.memory",
        ):
            assert binding_id in keys


def test_filter_line_reads_states_tags_and_words():
    f = parse_filter("state:ready,blocked #web deploy docs")
    assert [s.value for s in f.states] == ["ready", "blocked"]
    assert f.tag == "web" and f.text == "deploy docs" and f.problem is None
    open_states = parse_filter("is:open").states
    assert TaskState.DONE not in open_states and TaskState.IN_PROGRESS in open_states
    bad = parse_filter("state:soon words")
    assert bad.states is None and bad.text == "words" and "unknown state" in bad.problem
    assert parse_filter("#12").text == "#12"  # a task number, not a tag
    assert parse_filter("").empty


async def test_done_names_the_tasks_it_made_ready(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.backend is not None)
        todo = app.backend.services.todo
        first = todo.create("write the spec")
        second = todo.create("review the spec", deps=[first.id])
        tasks = await open_tasks(pilot)
        await wait_until(pilot, lambda: len(shown_ids(app)) == 2)
        tasks.table.move_cursor(row=shown_ids(app).index(first.id))
        await pilot.press("x")
        await wait_until(pilot, lambda: any("Now ready" in n for n in app.notes))
        note = next(n for n in app.notes if "Now ready" in n)
        assert note == f"{first.id} is now done. Now ready: {second.id} review the spec."
