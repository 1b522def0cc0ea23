"""Ctrl+F in the Chat pane searches every session's messages and jumps to the match:
the session opens scrolled to the message, even one older than the shown window."""

from __future__ import annotations

from textual.widgets import OptionList

from magray_tui.agent.sessions import ChatSessions
from magray_tui.memory.store import Store
from magray_tui.tui.panes.chat_events import entry_message_id
from magray_tui.tui.screens.chat_search import ChatSearchScreen
from magray_tui.tui.widgets.chat_messages import ChatEntry

from .pilot_helpers import screen_text, wait_for_results, wait_until


def seed_chats(settings) -> int:
    """Two sessions; the match sits early in a 260-message one. Returns its message id."""
    store = Store.open(settings.paths.db_file)
    try:
        chats = ChatSessions(store)
        old = chats.create("infra chat")
        chats.add_message(old.id, "user", "Which port does the staging database listen on?")
        target = chats.add_message(old.id, "assistant", "Staging Postgres listens on port 5433.")
        for n in range(258):
            chats.add_message(old.id, "user", f"filler message number {n} about lunch plans")
        other = chats.create("latest chat")
        chats.add_message(other.id, "user", "hello again")
        return target.id
    finally:
        store.close()


async def test_ctrl_f_finds_a_message_in_another_session_and_jumps_to_it(
    make_app, seeded_settings
) -> None:
    target = seed_chats(seeded_settings)
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("1")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.agent is not None and chat.session is not None, 60)
        assert chat.session.name == "latest chat"
        await wait_until(pilot, lambda: chat.input.has_focus)
        # The messages are indexed in the background once the chat is up, before any Ctrl+F.
        cache = seeded_settings.paths.cache / "chat_vectors.npz"
        await wait_until(pilot, cache.exists, 60, "chat index warmed")

        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatSearchScreen))
        await pilot.press(*"staging db port")
        results = app.screen.query_one(OptionList)
        state = app.screen.query_one("#chat-search-state")
        await wait_until(
            pilot,
            lambda: (
                results.option_count > 0 and app.screen.hits and "messages" in str(state.content)
            ),
            60,
            "search results",
        )
        await pilot.pause(0.2)
        first = results.get_option_at_index(0)
        assert first.id == str(target)
        text = screen_text(app)
        assert "infra chat" in text and "Staging Postgres listens on port 5433." in text
        assert "… Which port does the staging database listen on?" in text

        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.session.name == "infra chat", 30, "session opened")
        await wait_until(
            pilot, lambda: entry_message_id(app.focused) == target, 10, "match selected"
        )
        entry = app.focused
        assert (
            isinstance(entry, ChatEntry) and entry.text == "Staging Postgres listens on port 5433."
        )
        await pilot.pause(0.2)
        log = chat.log_view
        top = entry.virtual_region.y - log.scroll_y
        assert 0 <= top < log.size.height  # scrolled to it, not to the bottom
        assert log.max_scroll_y > 0 and log.scroll_y < log.max_scroll_y


async def test_ctrl_f_escape_closes_and_no_match_says_so(make_app, seeded_settings) -> None:
    seed_chats(seeded_settings)
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_results(pilot)
        await pilot.press("1")
        chat = app.pane("chat")
        await wait_until(pilot, lambda: chat.agent is not None and chat.input.has_focus, 60)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatSearchScreen))
        screen = app.screen
        await pilot.press(*"lunch")
        await wait_until(pilot, lambda: "20 messages" in screen_text(app), 60, "count")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ChatSearchScreen))
        assert chat.session.name == "latest chat"
        assert screen.is_attached is False


def test_new_keys_can_be_remapped(make_app, seeded_settings) -> None:
    known = make_app(seeded_settings).known_binding_ids()
    assert {"chat.search", "chat_search.cancel", "chat_search.list"} <= known
    assert "add_folder.complete" in known
