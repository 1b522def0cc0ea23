"""Many magrays on one memory server: two homes see each other's writes, writers in real
subprocesses at once lose nothing, and a commit reaches the other homes' listeners (the
TUI's live refresh) through LISTEN/NOTIFY."""

from __future__ import annotations

import getpass
import socket
import subprocess
import sys
import threading
from pathlib import Path

from magray_tui.config import load_settings
from magray_tui.host import watch_changes
from magray_tui.memory import MemoryService
from magray_tui.monitor.health import run_checks
from magray_tui.services import Services
from tests.cli_run import ROOT, env_for, run_cli
from tests.conftest import wait_until
from tests.pg.server import PASSWORD

WRITER = """
import sys
from magray_tui.config import load_settings
from magray_tui.memory import MemoryService
name, n = sys.argv[1], int(sys.argv[2])
with MemoryService.open(settings=load_settings()) as svc:
    for i in range(n):
        svc.add(f"note {i} from writer {name}", tags=[name])
print("done", flush=True)
"""


def _home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    return home


def _open(home: Path, url: str, embedder, monkeypatch) -> MemoryService:
    monkeypatch.setenv("MAGRAY_STORE__URL", url)
    return MemoryService.open(settings=load_settings(home), embedder=embedder)


def test_two_homes_on_one_server_see_each_others_writes(
    pg_url: str, tmp_path: Path, embedder, monkeypatch
) -> None:
    with (
        _open(_home(tmp_path, "laptop"), pg_url, embedder, monkeypatch) as laptop,
        _open(_home(tmp_path, "gpu-box"), pg_url, embedder, monkeypatch) as box,
    ):
        rid = laptop.add("The staging database moved to eu-west-2 on Monday.")
        hits = box.search("where is the staging database now?", k=1)
        assert hits[0].record.id == rid
        box.promote(rid, "assets")
        assert laptop.get(rid, count_access=False).layer.value == "assets"
        assert [h["action"] for h in laptop.history(rid)] == ["promote"]
        box.forget(rid)
        assert laptop.search("staging database", k=3) == []


def test_records_written_through_the_server_name_their_author(
    pg_url: str, home: Path, embedder, monkeypatch
) -> None:
    with _open(home, pg_url, embedder, monkeypatch) as svc:
        rid = svc.add("authored note")
        rows = svc.store.cursor().execute("SELECT author FROM memories WHERE id = ?", [rid])
        me = f"{getpass.getuser()}@{socket.gethostname()}"
        assert rows.fetchall() == [(me,)]
        # The model's own text keeps its author on a server; filters and facets see both.
        guess = svc.add("the deploy is on friday, I believe", author="assistant")
        assert svc.get(guess, count_access=False).author == "assistant"
        assert [r.id for r in svc.list(authors=[me])] == [rid]
        assert [r.id for r in svc.list(authors=["assistant"])] == [guess]
        hits = svc.search("authored note", k=5, authors=["assistant"], count_access=False)
        assert [h.record.id for h in hits] == [guess]
        assert {a for a, _ in svc.facets()["authors"]} == {me, "assistant"}


def test_concurrent_writers_in_subprocesses_lose_nothing(pg_url: str, tmp_path: Path) -> None:
    writers, per = 3, 15
    procs = []
    for w in range(writers):
        home = _home(tmp_path, f"w{w}")
        env = env_for(home, MAGRAY_STORE__URL=pg_url)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, f"w{w}", str(per)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert out.decode().strip() == "done"
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("SET search_path TO magray")
        n, ids, revs = conn.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT rev) FROM memories"
        ).fetchone()
        assert (n, ids, revs) == (writers * per,) * 3
        per_writer = dict(conn.execute("SELECT tags[1], count(*) FROM memories GROUP BY 1"))
        assert per_writer == {f"w{w}": per for w in range(writers)}


def test_a_commit_elsewhere_reaches_this_homes_listeners(
    pg_url: str, tmp_path: Path, embedder, monkeypatch
) -> None:
    import magray_tui.ai

    monkeypatch.setattr(magray_tui.ai, "load_embedder", lambda settings, *a, **k: embedder)
    here, there = _home(tmp_path, "here"), _home(tmp_path, "there")
    monkeypatch.setenv("MAGRAY_STORE__URL", pg_url)
    services = Services.open(load_settings(here), need="memory")
    heard: list[frozenset[str]] = []
    got = threading.Event()

    def listener(domains: frozenset[str]) -> None:
        heard.append(domains)
        got.set()

    try:
        watch_changes(services, listener)
        services.memory.add("written here: this home's own listeners are not told")
        proc = run_cli(
            there,
            "memory",
            "add",
            "written on another machine",
            env=env_for(there, MAGRAY_STORE__URL=pg_url),
        )
        assert proc.returncode == 0, proc.stderr.decode()
        wait_until(got.is_set, timeout=30)
        assert heard[0] == frozenset({"memory"})
        texts = {r.text for r in services.memory.list(limit=10)}
        assert "written on another machine" in texts
        report = run_checks(services.settings, services)
        server = next(c for c in report.checks if c.name == "memory_server")
        assert server.status == "ok", server.message
        assert "2 live memories" in server.message
        assert PASSWORD not in str(server.to_dict())
        assert server.details["url"].startswith("postgresql://magray:***@/")
    finally:
        services.close()


def test_an_mcp_clients_write_names_the_client_as_author(
    pg_url: str, home: Path, embedder, monkeypatch
) -> None:
    with _open(home, pg_url, embedder, monkeypatch) as svc:
        rid = svc.add("from claude code", source="mcp:claude-code")
        rows = svc.store.cursor().execute("SELECT author FROM memories WHERE id = ?", [rid])
        assert rows.fetchall() == [("mcp:claude-code",)]
