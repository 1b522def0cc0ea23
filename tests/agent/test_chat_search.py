"""Search across every chat session: hybrid (vector + BM25) over the stored messages, with the
session, date and the message before each hit; the vectors are a derived cache."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from magray_tui.agent.model import ChatError
from magray_tui.agent.sessions import ChatSessions
from magray_tui.memory.store import Store

T0 = datetime(2026, 11, 2, 9, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def store(settings):
    store = Store.open(settings.paths.db_file)
    yield store
    store.close()


def _chats(store, settings, embedder) -> ChatSessions:
    return ChatSessions(
        store, clock=Clock(), embedder=lambda: embedder, cache_dir=settings.paths.cache
    )


def _fill(chats: ChatSessions) -> tuple[str, str]:
    ops = chats.create("ops notes")
    chats.add_message(ops.id, "user", "Which port does the staging database listen on?")
    chats.add_message(ops.id, "assistant", "The staging database listens on port 5433.")
    trip = chats.create("holiday")
    chats.add_message(trip.id, "user", "Book a train to Lisbon for the conference in May.")
    chats.add_message(trip.id, "assistant", "I found three trains to Lisbon on 12 May.")
    chats.add_message(trip.id, "user", "Pick the cheapest one, please.")
    return ops.id, trip.id


def test_search_finds_messages_in_every_session_with_context(store, settings, embedder) -> None:
    chats = _chats(store, settings, embedder)
    ops_id, trip_id = _fill(chats)

    hits = chats.search("staging database port", k=3)
    top = hits[0]
    assert (top.session_id, top.session_name, top.role) == (ops_id, "ops notes", "assistant")
    assert top.snippet == "The staging database listens on port 5433."
    assert top.before == "Which port does the staging database listen on?"
    assert top.created_at.date() == T0.date()
    assert top.parts["keyword"] is not None and top.parts["vector"] is not None

    # A paraphrase with no shared word is found by the vector side alone.
    trip = chats.search("railway journey to Portugal", k=2)
    assert trip[0].session_id == trip_id
    assert trip[0].parts["keyword"] is None
    assert "Lisbon" in trip[0].snippet


def test_search_follows_new_edited_and_deleted_messages(store, settings, embedder) -> None:
    chats = _chats(store, settings, embedder)
    ops_id, _ = _fill(chats)
    assert chats.search("kubernetes ingress", k=1)[0].parts["keyword"] is None

    msg = chats.add_message(ops_id, "user", "The kubernetes ingress needs a TLS certificate.")
    hit = chats.search("kubernetes ingress", k=1)[0]
    assert hit.message_id == msg.id and hit.parts["keyword"] is not None

    chats.update_message(msg.id, content="The load balancer needs a TLS certificate.")
    hit = chats.search("kubernetes ingress", k=1)[0]
    assert hit.parts["keyword"] is None  # the old words are gone from the index

    chats.delete_messages([msg.id])
    assert msg.id not in [h.message_id for h in chats.search("TLS certificate", k=10)]


def test_vectors_are_cached_across_processes(store, settings, embedder) -> None:
    chats = _chats(store, settings, embedder)
    _fill(chats)
    chats.search("staging", k=1)
    assert (settings.paths.cache / "chat_vectors.npz").exists()

    class Counting:
        def __init__(self, inner) -> None:
            self.inner, self.documents = inner, 0
            self.model_id, self.dim = inner.model_id, inner.dim

        def embed_documents(self, texts):
            self.documents += len(texts)
            return self.inner.embed_documents(texts)

        def embed_query(self, text):
            return self.inner.embed_query(text)

    counting = Counting(embedder)
    again = ChatSessions(store, embedder=lambda: counting, cache_dir=settings.paths.cache)
    assert again.prepare_search() == 5  # every searchable message, none embedded again
    assert again.search("staging database", k=1)[0].session_name == "ops notes"
    assert counting.documents == 0  # nothing re-embedded: the cache matched every message


def test_long_messages_show_the_matched_part(store, settings, embedder) -> None:
    chats = _chats(store, settings, embedder)
    s = chats.create("long")
    text = "filler words here. " * 30 + "The rollback plan uses blue green deploys. " * 2
    chats.add_message(s.id, "assistant", text)
    hit = chats.search("rollback plan", k=1)[0]
    assert hit.snippet.startswith("…") and "rollback plan" in hit.snippet
    assert len(hit.snippet) <= 162


def test_empty_query_and_no_embedder_are_one_line_errors(store, settings, embedder) -> None:
    with pytest.raises(ChatError, match="something to search"):
        _chats(store, settings, embedder).search("   ")
    with pytest.raises(ChatError, match="embedding model"):
        ChatSessions(store).search("staging")
    assert _chats(store, settings, embedder).search("anything") == []  # no messages yet
