"""Any number of magray processes read and write one home while a host has it open."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.host.procs import REPO, cli, cli_json, env_for, start_host, stop, stored_ids


def test_cli_reads_and_writes_beside_an_open_host(home: Path) -> None:
    host = start_host(home)
    try:
        added = cli(home, "memory", "add", "The spare key is under the blue flowerpot.")
        assert added.returncode == 0, added.stderr
        rid = added.stdout.strip()
        hits = cli_json(home, "memory", "search", "where is the spare key")
        assert hits[0]["id"] == rid and hits[0]["score_parts"]
        listed = cli_json(home, "memory", "list")
        assert [r["id"] for r in listed] == [rid]
        task = cli(home, "tasks", "add", "water the plants")
        assert task.returncode == 0, task.stderr
        tasks = cli_json(home, "tasks", "list")
        assert [t["title"] for t in tasks] == ["water the plants"]
        forgot = cli(home, "memory", "forget", rid)
        assert forgot.returncode == 0 and f"forgot {rid}" in forgot.stdout
        assert cli_json(home, "memory", "list") == []
        assert host.poll() is None  # the host served all of it and is still there
    finally:
        stop(host)
    # What the clients wrote was committed by the host: a fresh process sees it.
    assert rid not in stored_ids(home)  # forgotten
    restored = cli(home, "memory", "restore", rid)  # no host now: this process hosts
    assert restored.returncode == 0, restored.stderr
    assert stored_ids(home) == {rid}


def test_a_client_imports_nothing_heavy(home: Path) -> None:
    host = start_host(home)
    try:
        probe = textwrap.dedent(
            """
            import sys
            from magray_tui.cli import main
            sys.argv = ["magray", "memory", "search", "anything", "--json"]
            try:
                main()
            except SystemExit:
                pass
            heavy = [m for m in ("numpy", "duckdb", "onnxruntime", "hnswlib", "tantivy",
                                 "litellm", "pydantic") if m in sys.modules]
            print("HEAVY", ",".join(heavy), file=sys.stderr)
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=REPO,
            env=env_for(home),
            text=True,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == []
        assert "HEAVY \n" in done.stderr, done.stderr
    finally:
        stop(host)


def test_socket_is_private_and_nothing_listens_on_the_network(home: Path) -> None:
    host = start_host(home)
    try:
        folder = home / "state" / "host"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        sock = folder / "host.sock"
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE((folder / "host.lock").stat().st_mode) == 0o600
        # Every socket the host holds is a Unix one: none is in the kernel's inet tables.
        inodes = set()
        for fd in os.listdir(f"/proc/{host.pid}/fd"):
            target = os.readlink(f"/proc/{host.pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        assert inodes  # the listening Unix socket at least
        inet = set()
        for table in ("tcp", "tcp6", "udp", "udp6"):
            with open(f"/proc/net/{table}") as f:
                inet |= {line.split()[9] for line in list(f)[1:]}
        assert not inodes & inet
    finally:
        stop(host)


def test_a_second_host_attempt_becomes_a_client(home: Path) -> None:
    host = start_host(home)
    try:
        from tests.host.procs import HOST, read_until, spawn

        second = spawn(HOST, home)
        assert read_until(second, "ready")[-1] == "ready client"
        second.stdin.write("count\n")
        second.stdin.flush()
        assert read_until(second, "count")[-1] == "count 0"
        stop(second)
        assert host.poll() is None
    finally:
        stop(host)


def test_a_foreign_process_holding_the_file_gets_one_clear_line(home: Path) -> None:
    """A process that opened the database directly (not through a host) still locks it:
    magray says who holds it, in one line, and changes nothing."""
    cli(home, "memory", "add", "written before the foreign process came")
    db = home / "data" / "memory.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ok', flush=True);"
            " sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        for args in (("memory", "search", "foreign"), ("memory", "add", "more")):
            done = cli(home, *args)
            assert done.returncode == 1
            assert f"in use by PID {holder.pid}" in done.stderr
            assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    finally:
        holder.communicate("", timeout=30)
    assert len(stored_ids(home)) == 1


def test_unix_socket_paths_longer_than_sun_path_work(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "home"
    deep.mkdir(parents=True)
    assert len(str(deep / "state" / "host" / "host.sock")) > 108
    host = start_host(deep)
    try:
        added = cli(deep, "memory", "add", "a note from far down the tree")
        assert added.returncode == 0, added.stderr
        assert cli_json(deep, "memory", "list")[0]["id"] == added.stdout.strip()
    finally:
        stop(host)
