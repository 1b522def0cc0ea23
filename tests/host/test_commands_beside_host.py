"""Commands that used to be refused beside an open TUI: chat, ingest, health."""

from __future__ import annotations

import json
from pathlib import Path

from tests.host.procs import cli, cli_json, start_host, stop, stored_ids


def test_chat_beside_an_open_host_stores_its_turn(home: Path, llm_server) -> None:
    llm_server.text("The", " kettle", " is", " descaled", " monthly.")
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        f'[llm]\nmodel = "openai/test-model"\napi_base = "{llm_server.url}"\n'
        "offline_model = false\n"
    )
    host = start_host(home)
    try:
        done = cli(home, "chat", "how often is the kettle descaled?", "--session", "home")
        assert done.returncode == 0, done.stderr
        assert "The kettle is descaled monthly." in done.stdout
        listed = cli(home, "chat", "--sessions")
        assert listed.returncode == 0 and "home" in listed.stdout
        # The turn went through the host into the one store: it is a memory now.
        hits = cli_json(home, "memory", "search", "kettle descaled")
        assert any("kettle" in h["text"] for h in hits)
        assert host.poll() is None
    finally:
        stop(host)


def test_ingest_beside_an_open_host_runs_in_the_host(home: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "boiler.md").write_text("# Boiler\n\nThe boiler pressure should read 1.5 bar.\n")
    (notes / "bins.txt").write_text("Green bins go out on Thursday evenings.\n")
    host = start_host(home)
    try:
        done = cli(home, "ingest", str(notes), "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["files_new"] == 2 and report["chunks_added"] >= 2
        hits = cli_json(home, "memory", "search", "boiler pressure", "--layer", "assets")
        assert "1.5 bar" in hits[0]["text"]
        again = cli(home, "ingest", str(notes), "--json")
        assert json.loads(again.stdout)["files_unchanged"] == 2  # incremental, via the host
        watched = cli(home, "ingest", "--remove", str(notes))
        assert watched.returncode == 0 and "removed" in watched.stdout
        assert cli_json(home, "memory", "list", "--layer", "assets") == []
    finally:
        stop(host)
    assert stored_ids(home) == set()


def test_health_beside_an_open_host_is_not_refused(home: Path) -> None:
    cli(home, "memory", "add", "one memory")
    host = start_host(home)
    try:
        data = cli_json(home, "health", "--no-llm")
        checks = {c["name"]: c for c in data["checks"]}
        assert checks["database"]["status"] == "ok"
        assert checks["database"]["details"]["live"] == 1
    finally:
        stop(host)


def test_supersede_and_its_chain_beside_an_open_host(home: Path) -> None:
    old = cli(home, "memory", "add", "--layer", "insights", "Caroline lives in Boston.")
    new = cli(home, "memory", "add", "--layer", "insights", "Caroline lives in Denver.")
    old_id, new_id = old.stdout.strip(), new.stdout.strip()
    host = start_host(home)
    try:
        done = cli(home, "memory", "supersede", old_id, new_id)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{old_id} superseded by {new_id}"
        hits = cli_json(home, "memory", "search", "where does Caroline live")
        assert [h["id"] for h in hits][:2] == [new_id, old_id]
        assert hits[1]["superseded_by"] == new_id and hits[1]["valid_until"]
        undone = cli(home, "memory", "undo", new_id)
        assert undone.returncode == 0 and "no longer superseded" in undone.stdout
        shown = cli_json(home, "memory", "show", old_id)
        assert shown["superseded_by"] is None and shown["valid_until"] is None
        assert host.poll() is None
    finally:
        stop(host)
