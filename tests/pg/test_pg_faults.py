"""Faults of the server backend, on a real PostgreSQL server: unreachable at start, a wrong
password, a server restarted mid-session, a write that fails half-way, a schema newer
than this magray. Each is one line naming the server, never its password."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from magray_tui.config import load_settings
from magray_tui.errors import DataError, StoreUnreachable
from magray_tui.memory import MemoryService
from magray_tui.memory.items import prepare
from magray_tui.memory.records import utcnow
from magray_tui.pg.url import mask_url, server_name
from tests.cli_run import env_for, run_cli
from tests.pg.server import PASSWORD, PgServer


def open_memory(home: Path, url: str, embedder, monkeypatch) -> MemoryService:
    monkeypatch.setenv("MAGRAY_STORE__URL", url)
    return MemoryService.open(settings=load_settings(home), embedder=embedder)


def test_mask_url_hides_every_spelling_of_a_password() -> None:
    assert mask_url("postgresql://ann:pa55@db.example:5432/team") == (
        "postgresql://ann:***@db.example:5432/team"
    )
    assert mask_url("postgresql://ann@db/team?sslmode=verify-full&password=pa55") == (
        "postgresql://ann@db/team?sslmode=verify-full&password=***"
    )
    assert mask_url("host=db password=pa55 user=ann") == "host=db password=*** user=ann"
    assert mask_url("postgresql://ann@db/team") == "postgresql://ann@db/team"
    assert server_name("postgresql://ann:pa55@db.example:6543/team") == "ann@db.example:6543/team"


def test_unreachable_server_at_start_is_one_line_naming_it(home, embedder, monkeypatch) -> None:
    url = "postgresql://ann:hunter2@127.0.0.1:1/team"
    with pytest.raises(StoreUnreachable) as err:
        open_memory(home, url, embedder, monkeypatch)
    text = str(err.value)
    assert "\n" not in text
    assert "ann@127.0.0.1:1/team" in text and "refused" in text.lower()
    assert "hunter2" not in text


def test_cli_unreachable_server_exits_1_with_one_line(home) -> None:
    url = "postgresql://ann:hunter2@127.0.0.1:1/team"
    proc = run_cli(home, "memory", "add", "a note", env=env_for(home, MAGRAY_STORE__URL=url))
    out = (proc.stdout + proc.stderr).decode()
    assert proc.returncode == 1, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert "memory server ann@127.0.0.1:1/team unavailable" in lines[0]
    assert "hunter2" not in out and "Traceback" not in out
    log = (home / "state" / "logs" / "magray.log").read_text() if (home / "state").exists() else ""
    assert "hunter2" not in log


def test_wrong_password_is_one_line_without_the_password(
    pg_server: PgServer, pg_url: str, home, embedder, monkeypatch
) -> None:
    bad = pg_url.replace(PASSWORD, "not-the-password")
    with pytest.raises(StoreUnreachable) as err:
        open_memory(home, bad, embedder, monkeypatch)
    text = str(err.value)
    assert "password authentication failed" in text
    assert "not-the-password" not in text and "\n" not in text


def test_restart_mid_session_fails_once_clearly_then_reconnects(
    pg_server: PgServer, pg_url: str, home, embedder, monkeypatch
) -> None:
    with open_memory(home, pg_url, embedder, monkeypatch) as svc:
        first = svc.add("written before the restart")
        pg_server.restart()
        with pytest.raises(StoreUnreachable) as err:
            svc.search("before the restart", k=1, count_access=False)
        assert "unavailable" in str(err.value) and PASSWORD not in str(err.value)
        hits = svc.search("before the restart", k=1, count_access=False)  # reconnected
        assert hits[0].record.id == first
        second = svc.add("written after the restart")
        assert svc.get(second, count_access=False).text == "written after the restart"


def test_a_write_that_fails_half_way_leaves_nothing(
    pg_server: PgServer, pg_url: str, home, embedder, monkeypatch
) -> None:
    with open_memory(home, pg_url, embedder, monkeypatch) as svc:
        svc.add("kept")
        rev, live = svc.core.repo.max_rev(), svc.core.repo.live_count()
        rows = [prepare({"text": f"half {i}"}, now=utcnow(), max_bytes=10_000) for i in range(3)]
        vecs = embedder.embed_documents([r["text"] for r in rows])

        def write(w) -> None:
            w.insert(rows, vecs)
            w.history(rows[0]["id"], "add", actor="user")
            pg_server.restart()  # the server goes away inside the transaction
            w.history(rows[1]["id"], "add", actor="user")

        with pytest.raises(StoreUnreachable):
            svc.core.commit(write)
        assert svc.core.repo.live_count() == live  # reconnected: nothing of it landed
        assert svc.core.repo.max_rev() == rev
        assert svc.core.repo.existing_ids([r["id"] for r in rows]) == set()
        assert svc.core.repo.history(rows[0]["id"]) == []


def test_a_server_schema_newer_than_this_magray_is_refused(
    pg_url: str, home, embedder, monkeypatch
) -> None:
    with open_memory(home, pg_url, embedder, monkeypatch) as svc:
        svc.add("from a newer magray's point of view, an old record")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO magray.schema_version VALUES (99, now(), 'from the future')")
    with pytest.raises(DataError, match=r"schema version 99 .* newer than this magray"):
        open_memory(home, pg_url, embedder, monkeypatch)


def test_namespaces_keep_teams_apart_in_one_database(
    pg_url: str, home, embedder, monkeypatch
) -> None:
    monkeypatch.setenv("MAGRAY_STORE__NAMESPACE", "team_a")
    with open_memory(home, pg_url, embedder, monkeypatch) as a:
        a.add("team A's deploy key rotates on Mondays")
    monkeypatch.setenv("MAGRAY_STORE__NAMESPACE", "team_b")
    with open_memory(home, pg_url, embedder, monkeypatch) as b:
        assert b.search("deploy key rotation", k=5) == []
        b.add("team B ships on Fridays")
        assert b.core.repo.live_count() == 1
    monkeypatch.setenv("MAGRAY_STORE__NAMESPACE", "team_a")
    with open_memory(home, pg_url, embedder, monkeypatch) as a:
        assert [h.record.text for h in a.search("deploy key rotation", k=5)] == [
            "team A's deploy key rotates on Mondays"
        ]


def test_config_show_masks_the_servers_password(home) -> None:
    url = "postgresql://ann:hunter2@db.example/team?sslmode=verify-full"
    for extra in ((), ("--json",)):
        proc = run_cli(home, "config", "show", *extra, env=env_for(home, MAGRAY_STORE__URL=url))
        out = proc.stdout.decode()
        assert proc.returncode == 0, proc.stderr.decode()
        assert "postgresql://ann:***@db.example/team?sslmode=verify-full" in out
        assert "hunter2" not in out


def test_search_as_you_type_matches_the_last_word_as_a_prefix(
    pg_url: str, home, embedder, monkeypatch
) -> None:
    with open_memory(home, pg_url, embedder, monkeypatch) as svc:
        rid = svc.add("The staging cluster is rebuilt every night.")
        svc.add("Lunch is at noon on Fridays.")
        assert svc.search("stag", k=5, mode="keyword", count_access=False) == []
        hits = svc.search("stag", k=5, mode="keyword", prefix=True, count_access=False)
        assert [h.record.id for h in hits] == [rid]
