"""Provenance and trust on a real store: every write names its author, migration 7 fills
the column for older records, filters by author, and model-written text is conversation
until the user confirms it (the default policy never promotes it; a confirmation is
durable and undoable)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import pytest

from magray_tui.db.migrations import Migration, migrate
from magray_tui.memory import Layer, MemoryError_, MemoryService, State, schema
from magray_tui.memory import promotion as pol
from tests.conftest import FACTS

T0 = datetime(2025, 3, 1, 9, 0)
ASSISTANT = {"role": "assistant"}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(settings, embedder, clock):
    with MemoryService.open(settings=settings, embedder=embedder, clock=clock) as s:
        s.add_many([{"text": t} for t in FACTS])
        yield s


def test_each_write_path_names_its_author(svc: MemoryService, tmp_path) -> None:
    typed = svc.add("I keep the release checklist in the wiki.")
    ingested = svc.add("def main(): ...", source="file", metadata={"path": "/w/a.py"})
    client = svc.add("Claude Code noticed the CI is flaky.", source="mcp:claude-code")
    reply = svc.add("Restart it from phpMyAdmin.", source="chat", metadata={"role": "assistant"})
    asked = svc.add("How do I restart it?", source="chat", metadata={"role": "user"})
    tool = svc.add("The model saved this through a tool.", source="agent")
    distilled = svc.add("The user prefers tea.", source="agent", metadata={"distilled_from": "x"})
    authors = {rid: svc.get(rid, count_access=False).author for rid in (typed, ingested, client)}
    assert authors == {typed: "user", ingested: "file", client: "mcp:claude-code"}
    assert svc.get(reply, count_access=False).author == "assistant"
    assert svc.get(asked, count_access=False).author == "user"
    assert svc.get(tool, count_access=False).author == "tool"
    assert svc.get(distilled, count_access=False).author == "user"
    assert svc.get(reply, count_access=False).needs_confirmation
    assert not svc.get(asked, count_access=False).needs_confirmation

    # An export keeps the author; an import of a line without one says "import".
    path = tmp_path / "in.jsonl"
    lines = [
        {"text": "An exported guess of the assistant.", "author": "assistant"},
        {"text": "A plain imported note."},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert svc.import_(path).imported == 2
    by_text = {r.text: r.author for r in svc.list(limit=100)}
    assert by_text["An exported guess of the assistant."] == "assistant"
    assert by_text["A plain imported note."] == "import"

    with pytest.raises(MemoryError_, match="unknown author 'robot'"):
        svc.add("x", author="robot")
    assert svc.add("From the shared server.", author="alice@laptop")


def test_filters_by_author_in_list_and_every_search_mode(svc: MemoryService) -> None:
    svc.add("The deploy window is Thursday at noon.", source="mcp:cursor")
    svc.add("The deploy window is Friday, I believe.", source="chat", metadata=ASSISTANT)
    listed = svc.list(authors=["mcp:cursor"])
    assert [r.text for r in listed] == ["The deploy window is Thursday at noon."]
    for mode in ("hybrid", "vector", "keyword"):
        hits = svc.search("deploy window", k=5, mode=mode, authors=["assistant"])
        assert [h.record.text for h in hits] == ["The deploy window is Friday, I believe."], mode
    both = svc.search("deploy window", k=5, authors=["assistant", "mcp:cursor"])
    assert len(both) == 2
    assert {"mcp:cursor", "assistant", "user"} <= {a for a, _ in svc.facets()["authors"]}


def _use(svc: MemoryService, clock: Clock, query: str) -> None:
    for day, session in enumerate(("mon", "tue", "wed")):
        clock.now += timedelta(hours=6 if day == 0 else 24)
        svc.search(query, k=3, reader_session=session)
        svc.flush_accesses()


def test_default_policy_never_promotes_unconfirmed_model_text(
    svc: MemoryService, clock: Clock
) -> None:
    guess = svc.add(
        "The staging database is restarted from the phpMyAdmin console.",
        source="chat",
        metadata={"role": "assistant"},
    )
    runbook = svc.add("Restart the staging database with systemctl restart pg-staging.")
    _use(svc, clock, "how do I restart the staging database")
    report = svc.run_cycle()
    promoted = {a.record_id for a in report.actions if a.action == "promote"}
    assert runbook in promoted  # read as often: the user's text moves up...
    assert guess not in promoted  # ...the assistant's guess does not: it expires
    expired = svc.get(guess, count_access=False)
    assert expired.layer is Layer.INTERACT and expired.state is State.FORGOTTEN

    svc.restore(guess)
    confirmed = svc.confirm(guess)  # a thumbs-up
    assert confirmed.confirmed and not confirmed.needs_confirmation
    assert confirmed.metadata["confirmed"]["how"] == "thumbs-up"
    assert svc.history(guess)[-1]["action"] == "confirm"
    _use(svc, clock, "how do I restart the staging database")
    report = svc.run_cycle()
    assert guess in {a.record_id for a in report.actions if a.action == "promote"}
    assert svc.get(guess, count_access=False).layer is Layer.INSIGHTS


def test_confirmation_is_durable_undoable_and_a_promotion_by_hand_confirms(
    settings, embedder, clock
) -> None:
    with MemoryService.open(settings=settings, embedder=embedder, clock=clock) as svc:
        a = svc.add("Guess one.", source="chat", metadata={"role": "assistant"})
        b = svc.add("Guess two.", source="chat", metadata={"role": "assistant"})
        svc.confirm(a)
        svc.promote(b)  # the user moves it up by hand: they vouch for it
        svc.update(a, metadata={"note": "edited"})  # an edit keeps the confirmation
    with MemoryService.open(settings=settings, embedder=embedder, clock=clock) as svc:
        ra, rb = svc.get(a, count_access=False), svc.get(b, count_access=False)
        assert ra.confirmed and ra.metadata["note"] == "edited"
        assert rb.confirmed and rb.metadata["confirmed"]["how"] == "promote"
        svc.undo(b)  # the promotion and the confirmation it carried
        rb = svc.get(b, count_access=False)
        assert rb.layer is Layer.INTERACT and rb.needs_confirmation
        c = svc.add("Guess three.", source="chat", metadata={"role": "assistant"})
        svc.confirm(c)
        assert "no longer confirmed" in svc.undo(c)
        assert svc.get(c, count_access=False).needs_confirmation


def test_the_learned_policy_sees_unconfirmed_model_text(svc: MemoryService) -> None:
    from magray_tui.memory import lifecycle

    assert "unconfirmed" in pol.FEATURES
    guess = svc.get(svc.add("A guess.", source="chat", metadata={"role": "assistant"}))
    mine = svc.get(svc.add("A fact of mine."))
    assert lifecycle.features_of(svc.core, guess)["unconfirmed"] == 1.0
    assert lifecycle.features_of(svc.core, mine)["unconfirmed"] == 0.0
    svc.confirm(guess.id)  # a thumbs-up is a decision the learned policy trains on
    decisions = svc.core.repo.user_decisions()
    assert [d["action"] for d in decisions if d["record_id"] == guess.id] == ["confirm"]
    assert decisions[-1]["features"]["unconfirmed"] == 1.0  # as it was when confirmed


def test_migration_7_fills_authors_of_older_records(settings, embedder) -> None:
    db = settings.paths.db_file
    db.parent.mkdir(parents=True)
    conn = duckdb.connect(str(db))
    assert schema.migrate(conn, target=5) == [1, 2, 3, 4, 5]
    conn.execute("CREATE TABLE vectors (seq BIGINT PRIMARY KEY, vec FLOAT[384])")
    conn.execute(
        "INSERT INTO meta VALUES ('embed_model', ?), ('embed_dim', '384')", [embedder.model_id]
    )
    rows = [
        ("r-manual", "manual", "{}"),
        ("r-file", "file", '{"path": "/w/a.py"}'),
        ("r-import", "import", "{}"),
        ("r-mcp", "mcp:goose", "{}"),
        ("r-said", "chat", '{"role": "user"}'),
        ("r-reply", "chat", '{"role": "assistant"}'),
        ("r-kept", "chat", '{"role": "assistant"}'),
        ("r-tool", "agent", "{}"),
        ("r-distil", "agent", '{"distilled_from": "chat"}'),
        ("r-broken", "chat", "not json"),
    ]
    for n, (rid, source, metadata) in enumerate(rows, 1):
        text = f"Older record {rid}."
        conn.execute(
            "INSERT INTO memories (seq, id, layer, text, source, created_at, updated_at, "
            "layer_since, content_hash, metadata, rev) VALUES (nextval('memory_seq'), ?, "
            "'interact', ?, ?, now(), now(), now(), 'h', ?, nextval('change_rev'))",
            [rid, text, source, metadata],
        )
        vec = embedder.embed_documents([text])[0]
        conn.execute("INSERT INTO vectors VALUES (?, ?::FLOAT[384])", [n, vec.tolist()])
    conn.execute(
        "INSERT INTO memory_history VALUES (nextval('history_seq'), 'r-kept', now(), "
        "'promote', 'interact', 'insights', 'user', 'promoted by the user', '{}')"
    )
    conn.close()

    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.store.schema_version() == schema.LATEST
        authors = {r.id: r.author for r in svc.list(limit=100)}
        assert authors == {
            "r-manual": "user",
            "r-file": "file",
            "r-import": "import",
            "r-mcp": "mcp:goose",
            "r-said": "user",
            "r-reply": "assistant",
            "r-kept": "assistant",
            "r-tool": "tool",
            "r-distil": "user",
            "r-broken": "user",
        }
        assert svc.get("r-reply", count_access=False).needs_confirmation
        kept = svc.get("r-kept", count_access=False)
        assert kept.confirmed and kept.metadata["confirmed"]["by"] == "user"


def test_migrations_apply_by_membership_so_a_lower_number_can_land_later() -> None:
    conn = duckdb.connect()
    first = (
        Migration(1, "a", ("CREATE TABLE a (x INT)",)),
        Migration(3, "c", ("CREATE TABLE c (x INT)",)),
    )
    assert migrate(conn, first) == [1, 3]
    later = (*first, Migration(2, "b", ("CREATE TABLE b (x INT)",)))
    assert migrate(conn, later) == [2]  # 2 arrived after 3 was applied: applied now
    assert migrate(conn, later) == []


def test_confirm_from_the_command_line(tmp_path) -> None:
    from click.testing import CliRunner

    from magray_tui.cli import main

    home = tmp_path / "h"

    def magray(*args: str):
        result = CliRunner().invoke(main, ["--home", str(home), *args])
        assert "Traceback" not in result.output
        return result

    added = magray("memory", "add", "--source", "chat", "--author", "assistant", "A guess.")
    rid = added.output.strip()
    listed = magray("memory", "list", "--author", "assistant")
    assert "assistant?" in listed.output  # unconfirmed, marked
    done = magray("memory", "confirm", rid)
    assert done.exit_code == 0 and f"confirmed {rid}" in done.output
    shown = magray("memory", "show", rid, "--json")
    assert json.loads(shown.output)["confirmed"] is True
    assert "assistant?" not in magray("memory", "list", "--author", "assistant").output
    missing = magray("memory", "confirm", "nosuchid")
    assert missing.exit_code == 1 and len(missing.output.strip().splitlines()) == 1

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lamp.md").write_text("# Lamp\n\nThe lighthouse lamp is cleaned every spring.\n")
    assert magray("ingest", str(docs)).exit_code == 0
    chunks = json.loads(magray("memory", "list", "--author", "file", "--json").output)
    assert [c["author"] for c in chunks] == ["file"] and "lighthouse" in chunks[0]["text"]
