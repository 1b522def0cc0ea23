"""Durability: migrations, a second process, a corrupt file, and kill -9 during add_many."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pytest

from magray_tui.memory import MemoryError_, MemoryService, StoreLocked, schema

REPO = Path(__file__).resolve().parents[1]


def _spawn(code: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "MAGRAY_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith(marker):
            return lines
    raise AssertionError(
        f"child ended before {marker!r}: {proc.stderr.read() if proc.stderr else ''}"
    )


HOLDER = """
import sys
from magray_tui.config import load_settings
from magray_tui.services import Services
services = Services(load_settings())  # the way the TUI opens a home: it becomes its host
services.memory.stats()
print("ready", flush=True)
sys.stdin.read()
services.close()
"""


@contextmanager
def holding_the_database(home: Path) -> Iterator[subprocess.Popen[str]]:
    """Another magray process with the home open (its host) until the block ends."""
    holder = _spawn(HOLDER, home)
    try:
        _read_until(holder, "ready")
        yield holder
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0


def test_older_schema_is_migrated_and_keeps_data(settings, embedder) -> None:
    db = settings.paths.db_file
    db.parent.mkdir(parents=True)
    conn = duckdb.connect(str(db))
    assert schema.migrate(conn, target=1) == [1]
    conn.close()
    # Write a v1 record through the v1 tables only (no history, no access events yet).
    conn = duckdb.connect(str(db))
    conn.execute("CREATE TABLE vectors (seq BIGINT PRIMARY KEY, vec FLOAT[384])")
    conn.execute(
        "INSERT INTO meta VALUES ('embed_model', ?), ('embed_dim', '384')", [embedder.model_id]
    )
    vec = embedder.embed_documents(["The old store remembers the lighthouse keeper."])[0]
    conn.execute(
        "INSERT INTO memories (seq, id, layer, text, created_at, updated_at, layer_since, "
        "content_hash, rev) VALUES (nextval('memory_seq'), 'oldrecord0001', 'assets', "
        "'The old store remembers the lighthouse keeper.', now(), now(), now(), 'h', "
        "nextval('change_rev'))"
    )
    conn.execute("INSERT INTO vectors VALUES (1, ?::FLOAT[384])", [vec.tolist()])
    conn.close()

    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.store.schema_version() == schema.LATEST
        hit = svc.search("lighthouse keeper", k=1)[0]
        assert hit.record.id == "oldrecord0001"
        svc.forget("oldrecord0001")  # needs the v2 history table
        assert svc.history("oldrecord0001")[0]["action"] == "forget"
        new_id = svc.add("a record written after the migration")
        assert svc.get(new_id).seq != 1


def test_newer_schema_is_refused(settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        svc.add("x")
    conn = duckdb.connect(str(settings.paths.db_file))
    conn.execute("INSERT INTO schema_version VALUES (99, now(), 'from the future')")
    conn.close()
    with pytest.raises(MemoryError_, match="schema version 99, newer"):
        MemoryService.open(settings=settings, embedder=embedder)


def test_corrupt_database_is_reported_and_left_untouched(settings, embedder) -> None:
    db = settings.paths.db_file
    db.parent.mkdir(parents=True)
    db.write_bytes(os.urandom(64 * 1024))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(MemoryError_, match="not a DuckDB database or is damaged"):
        MemoryService.open(settings=settings, embedder=embedder)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_second_process_shares_the_store_through_its_host(home, settings, embedder) -> None:
    from magray_tui.services import Services

    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        rid = svc.add("The spare key is under the blue flowerpot.")
    with holding_the_database(home) as holder:
        # Opening the file directly, outside the host, is still refused, naming the holder;
        # read-only gets no snapshot copy any more (it was unreliable while checkpointing).
        for read_only in (False, True):
            with pytest.raises(StoreLocked) as err:
                MemoryService.open(settings=settings, embedder=embedder, read_only=read_only)
            assert f"PID {holder.pid}" in str(err.value)
        # The way magray opens a home: a client of the holder, reading and writing.
        services = Services(settings)
        try:
            assert services.membership().remote
            memory = services.memory
            assert memory.search("where is the spare key", k=1)[0].record.id == rid
            second = memory.add("written beside the other process")
            assert memory.get(second, count_access=False).text == "written beside the other process"
        finally:
            services.close()
    with MemoryService.open(settings=settings, embedder=embedder) as svc:  # lock released
        assert svc.stats()["total_live"] == 2


def test_kill_during_add_many_loses_no_committed_record(home, settings, embedder) -> None:
    base = [{"text": f"baseline memory number {i} about gardening"} for i in range(300)]
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        svc.add_many(base)
    writer = _spawn(
        """
        from magray_tui.memory import MemoryService
        svc = MemoryService.open(checkpoint_every=10**9)
        items = [{"text": f"crash test note {i}: the {i % 7} ferry leaves at {i % 24}h"}
                 for i in range(5000)]
        svc.add_many(items, progress=lambda done, total: print("done", done, flush=True),
                     batch_size=128)
        print("finished", flush=True)
        """,
        home,
    )
    try:
        lines = _read_until(writer, "done 768")
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
    assert "finished" not in lines
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        report = svc.catch_up_report
        committed = svc.stats()["total_live"]
        assert committed >= 300 + 768
        # The saved index was loaded and only the crashed run's records were replayed.
        assert report.vector_loaded and report.rebuilt == []
        assert report.vector_replayed == committed - 300
        assert len(svc.indexes.vectors) == committed == len(svc.indexes.keywords)
        records = svc.list(limit=committed)
        rng = np.random.default_rng(0)
        for i in rng.choice(len(records), size=25, replace=False):
            rec = records[int(i)]
            found = svc.search(rec.text, k=3, count_access=False)
            assert rec.id in [h.record.id for h in found], rec.text


def test_cli_reads_and_writes_while_another_process_has_the_home_open(
    home, settings, embedder, restore_logging
) -> None:
    from click.testing import CliRunner

    from magray_tui.cli import main

    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        rid = svc.add("The boiler service is booked for March 3rd.")
    with holding_the_database(home) as holder:
        runner = CliRunner()
        found = runner.invoke(main, ["memory", "search", "boiler", "--json"])
        assert found.exit_code == 0, found.output
        assert rid in found.output
        assert "in use" not in found.output and "snapshot" not in found.output
        added = runner.invoke(main, ["memory", "add", "a new note"])
        assert added.exit_code == 0, added.output  # no longer refused
        assert holder.poll() is None
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.get(added.output.strip(), count_access=False).text == "a new note"


def test_searches_run_while_another_thread_writes(memory) -> None:
    import threading

    memory.add_many([{"text": f"seed fact {i} about rivers and bridges"} for i in range(50)])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                assert memory.search("rivers and bridges", k=5)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        # Enough rows to force several resizes of the HNSW index during the reads.
        memory.add_many(
            [{"text": f"bulk note {i} on harbour traffic"} for i in range(1500)], batch_size=100
        )
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[0]
    assert len(memory.indexes.vectors) == 1550


def test_cycle_while_another_process_has_the_home_open(
    home, settings, embedder, restore_logging
) -> None:
    from click.testing import CliRunner

    from magray_tui.cli import main

    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        svc.add("Kept while the other process runs.")
    with holding_the_database(home):
        runner = CliRunner()
        applied = runner.invoke(main, ["memory", "promote"])  # the host runs the cycle
        assert applied.exit_code == 0, applied.output
        dry = runner.invoke(main, ["memory", "promote", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "would do (dry run)" in dry.output
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.stats()["total_live"] == 1
