"""Provenance in the TUI, driven by Pilot on real services: the Memory pane shows who wrote
each memory (a column that fits at 80x24, the detail) and filters by author; in the Chat
pane "remember that X" is stored by a rule and a thumbs-up (+) on a reply confirms it."""

from __future__ import annotations

from magray_tui.memory import MemoryService
from magray_tui.tui.widgets.chat_messages import AssistantEntry, ChatEntry
from tests.conftest import use_test_server

from .conftest import FIXED_NOW
from .pilot_helpers import result_ids, screen_text, text_of, wait_for_results, wait_until
from .test_chat_pane import open_chat, send, wait_reply_done

GUESS = "The staging database is restarted from the phpMyAdmin console."


def add_other_authors(settings, embedder) -> tuple[str, str]:
    with MemoryService.open(settings=settings, embedder=embedder, clock=lambda: FIXED_NOW) as m:
        guess = m.add(GUESS, source="chat", metadata={"role": "assistant"})
        client = m.add("Cursor noted: the CI cache key changed.", source="mcp:cursor")
    return guess, client


async def test_memory_pane_shows_and_filters_by_author_at_80x24(
    make_app, seeded_settings, embedder
):
    guess, client = add_other_authors(seeded_settings, embedder)
    app = make_app(seeded_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_results(pilot, lambda: len(result_ids(app)) == 7)
        browser = app.query_one("#pane-memory")
        await wait_until(pilot, lambda: "assistant?" in screen_text(app), what="drawn")
        assert "mcp:cursor" in screen_text(app)
        table = app.query_one("#memory-results")
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["layer", "by", "memory", "match", "age", "reads"]
        await wait_until(pilot, lambda: len(browser.filter_choices["author"]) == 4, 20, "facets")
        assert browser.filter_choices["author"] == ("all", "user", "assistant", "mcp:cursor")
        await pilot.press("h")  # the author picker is hidden at this width; h still cycles
        await wait_until(pilot, lambda: len(result_ids(app)) == 5, what="the user's memories")
        assert guess not in result_ids(app) and client not in result_ids(app)
        await pilot.press("h")
        await wait_until(pilot, lambda: result_ids(app) == [guess], what="the assistant's")
        assert "by assistant" in text_of(app, "#memory-summary")
        fields = text_of(app, "#detail-fields")
        assert "author     assistant · unconfirmed" in fields
        await pilot.press("h")
        await wait_until(pilot, lambda: result_ids(app) == [client], what="the client's")


async def test_remember_that_and_a_thumbs_up_in_the_chat(
    make_app, seeded_settings, llm_server, tmp_path, monkeypatch
):
    settings = use_test_server(seeded_settings, llm_server, tmp_path / "ws", monkeypatch)
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await open_chat(pilot)
        before = len(llm_server.chat_requests)
        await send(pilot, chat, "Remember that the staging database listens on port 5434.")
        await wait_reply_done(pilot, chat)
        assert len(llm_server.chat_requests) == before  # the rule answered, not the model
        reply = chat.query(AssistantEntry).last()
        memory = app.backend.memory
        facts = memory.list(layers=["insights"], kinds=["fact"], session=chat.session.id)
        assert [f.text for f in facts] == ["The staging database listens on port 5434."]
        assert facts[0].author == "user" and facts[0].id in reply.text
        assert "Insights" in screen_text(app)

        llm_server.text(GUESS)
        await send(pilot, chat, "How do I restart the staging database?")
        await wait_reply_done(pilot, chat)
        stored = chat.agent.sessions.messages(chat.session.id)[-1]
        await wait_until(pilot, lambda: chat.agent.sessions.messages(chat.session.id)[-1].memory_id)
        record_id = chat.agent.sessions.messages(chat.session.id)[-1].memory_id
        assert memory.get(record_id, count_access=False).needs_confirmation
        await pilot.press("escape", "ctrl+up")  # leave the prompt, select the last reply
        entry = chat.query(ChatEntry).last()
        assert isinstance(entry, AssistantEntry) and entry.has_focus
        assert entry.message_id == stored.id
        await pilot.press("plus")
        await wait_until(pilot, lambda: entry.has_class("-confirmed"), what="the thumbs-up")
        record = memory.get(record_id, count_access=False)
        assert record.confirmed and record.metadata["confirmed"]["how"] == "thumbs-up"
        assert any("reply confirmed" in note for note in app.notes)
        keys = {k.binding_id for k in chat.help_info(app.user_keymap).keys}
        assert "chat.confirm_reply" in keys  # F1 lists it
        assert "Confirm reply" in screen_text(app)  # and the footer shows it

        # Shown again (the session reopened), the confirmed reply is marked, the rule's not.
        chat.switch_session("open", chat.session.id)

        def reopened() -> list[AssistantEntry]:
            entries = list(chat.query(AssistantEntry))
            return [] if entry in entries else entries

        def marked() -> dict[int | None, bool]:
            return {e.message_id: e.has_class("-confirmed") for e in reopened()}

        history = chat.agent.sessions.messages(chat.session.id)
        rule_reply = next(x.id for x in history if x.role == "assistant")
        expected = {stored.id: True, rule_reply: False}
        await wait_until(pilot, lambda: marked() == expected, what=f"{expected}, not {marked()}")


def test_no_key_does_two_things_in_a_pane() -> None:
    """Two features given the same key in one pane (the author filter and supersede both
    took `b`) leave one of them unreachable: every key of a pane does one thing."""
    from magray_tui.tui.panes.registry import PANES

    for widget in (*PANES, AssistantEntry):
        merged = widget._merged_bindings.key_to_bindings  # the pane's own and its mixins'
        clashes = {
            key: sorted({b.action for b in found})
            for key, found in merged.items()
            if len({b.action for b in found}) > 1
        }
        assert clashes == {}, widget.__name__
