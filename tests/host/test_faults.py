"""Faults with real processes: kill -9 of the host or a client, a stale socket, a race."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.host.procs import (
    HOST,
    WRITER,
    cli,
    cli_json,
    read_until,
    spawn,
    start_host,
    stop,
    stored_ids,
)

ELECT = """
import sys, time
from pathlib import Path
from magray_tui.config import load_settings
from magray_tui.services import Services
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
services = Services(load_settings())
role = "client" if services.membership().remote else "host"
print(role, flush=True)
sys.stdin.read()
services.close()
"""


def test_processes_racing_to_host_end_with_exactly_one(home: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    racers = [spawn(ELECT, home, str(go)) for _ in range(6)]
    try:
        time.sleep(1.0)  # every racer is waiting for the start line
        go.touch()
        roles = [read_until(p, "")[-1] for p in racers]
    finally:
        for p in racers:
            p.communicate("", timeout=60)
    assert sorted(roles) == ["client"] * 5 + ["host"]


def test_a_stale_socket_file_is_replaced(home: Path) -> None:
    folder = home / "state" / "host"
    folder.mkdir(parents=True, mode=0o700)
    # A host killed with -9 leaves its socket file behind, bound to nobody.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(folder / "host.sock"))
    stale.close()
    (folder / "host.lock").write_text("99999\n")
    added = cli(home, "memory", "add", "written over a stale socket")
    assert added.returncode == 0, added.stderr
    host = start_host(home)
    try:
        assert cli_json(home, "memory", "list")[0]["id"] == added.stdout.strip()
    finally:
        stop(host)


def test_host_killed_with_9_while_clients_write_loses_no_acknowledged_write(
    home: Path,
) -> None:
    cli(home, "memory", "add", "seed")  # the store exists before the race starts
    rng = random.Random(14)
    for trial in range(2):
        host = start_host(home)
        writers = [spawn(WRITER, home, f"w{trial}{n}", "60") for n in range(3)]
        early = [read_until(w, "acked") for w in writers]  # all are writing through the host
        time.sleep(rng.uniform(0.0, 0.5))
        host.send_signal(signal.SIGKILL)
        host.wait(timeout=30)
        acked: set[str] = set()
        roles = []
        for w, first in zip(writers, early, strict=True):
            # Read through the same buffered file read_until used (communicate() would read
            # the pipe underneath it and miss lines already buffered).
            out, err = w.stdout.read(), w.stderr.read()
            w.wait(timeout=300)
            assert w.returncode == 0, err  # no writer saw an error
            lines = first + out.splitlines()
            assert lines[-1] == "done"
            acked |= {line.split()[1] for line in lines if line.startswith("acked ")}
            roles += [line.split()[1] for line in lines if line.startswith("role ")]
        assert len(acked) == 3 * 60  # every add was acknowledged, none twice
        assert "host" in roles  # the host was killed mid-run: a writer took its place
        assert acked <= stored_ids(home)


def test_a_client_killed_mid_request_leaves_nothing_half_done(home: Path) -> None:
    host = start_host(home)
    try:
        big = """
        import sys
        from magray_tui.config import load_settings
        from magray_tui.services import Services
        memory = Services(load_settings()).memory
        print("sending", flush=True)
        memory.add_many([{"text": f"bulk note {i} about tides and harbours"} for i in range(200)])
        print("acked", flush=True)
        """
        client = spawn(big, home)
        read_until(client, "sending")
        time.sleep(0.3)  # the host is embedding the batch now
        client.send_signal(signal.SIGKILL)
        client.wait(timeout=30)
        # The batch is one transaction: all of it or none of it, never a part.
        for _ in range(50):
            n = len(cli_json(home, "memory", "list", "--limit", "1000"))
            if n in (0, 200):
                break
            time.sleep(0.1)
        assert n in (0, 200)
        # No lock left behind: the next client writes at once, and the host still serves.
        after = cli(home, "memory", "add", "after the killed client")
        assert after.returncode == 0, after.stderr
        assert host.poll() is None
    finally:
        stop(host)


def test_a_client_takes_over_when_its_host_exits(home: Path) -> None:
    host = start_host(home)
    client = spawn(HOST, home)
    assert read_until(client, "ready")[-1] == "ready client"
    try:
        added = cli(home, "memory", "add", "written while the first host lived")
        assert added.returncode == 0
        stop(host)  # a clean exit: the waiting client becomes the host
        client.stdin.write("count\n")
        client.stdin.flush()
        assert read_until(client, "count")[-1] == "count 1"
        again = cli(home, "memory", "add", "written to the new host")
        assert again.returncode == 0, again.stderr
        client.stdin.write("count\n")
        client.stdin.flush()
        assert read_until(client, "count")[-1] == "count 2"
        lock_pid = int((home / "state" / "host" / "host.lock").read_text())
        assert lock_pid == client.pid
    finally:
        stop(client)


def _can_make_users() -> bool:
    return os.geteuid() == 0 and shutil.which("useradd") is not None


OTHER_USER = "magray-peer-test"

AS_OTHER = """
import os, socket, sys
uid = int(sys.argv[2])
os.setgid(uid); os.setuid(uid)
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(path)
except PermissionError:
    print("denied", flush=True); sys.exit(0)
reader = s.makefile("rb")
print("reply", reader.readline().decode().strip() or "<closed>", flush=True)
try:  # and a request after the refusal gets nothing
    s.sendall(b'{"id": 1, "op": "memory.list", "args": [], "kwargs": {}}\\n')
    rest = reader.readline().decode().strip()
except (BrokenPipeError, ConnectionResetError):
    rest = ""
print("then", rest or "<closed>", flush=True)
"""


@pytest.fixture
def other_uid() -> Iterator[int]:
    if not _can_make_users():
        pytest.skip("needs root and useradd to create a second user")
    import pwd

    made = False
    try:
        uid = pwd.getpwnam(OTHER_USER).pw_uid
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", OTHER_USER], check=True)
        uid, made = pwd.getpwnam(OTHER_USER).pw_uid, True
    yield uid
    if made:
        subprocess.run(["userdel", OTHER_USER], check=False)


@pytest.fixture
def open_home() -> Iterator[Path]:
    """A home whose parents the other user may traverse (pytest's tmp is 0700 to them)."""
    root = Path(tempfile.mkdtemp(prefix="magray-peer-"))
    os.chmod(root, 0o755)
    yield root / "home"
    shutil.rmtree(root, ignore_errors=True)


def test_a_peer_with_another_uid_is_refused(open_home: Path, other_uid: int) -> None:
    home = open_home
    cli(home, "memory", "add", "private to its owner")
    host = start_host(home)
    try:
        folder = home / "state" / "host"
        sock = folder / "host.sock"
        # As shipped, the 0700 folder keeps the other user from reaching the socket at all.
        os.chmod(home, 0o755)
        os.chmod(home / "state", 0o755)
        first = subprocess.run(
            [sys.executable, "-c", AS_OTHER, str(sock), str(other_uid)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert first.stdout.strip() == "denied", first.stderr
        # Even with the folder and socket opened up by mistake, the host checks the
        # peer's uid (SO_PEERCRED) and answers nothing but a refusal.
        os.chmod(folder, 0o755)
        os.chmod(sock, 0o666)
        second = subprocess.run(
            [sys.executable, "-c", AS_OTHER, str(sock), str(other_uid)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = second.stdout.splitlines()
        assert lines[0].startswith("reply ") and "refused" in lines[0], second.stderr
        assert lines[1] == "then <closed>"
        assert "private to its owner" not in second.stdout
        assert host.poll() is None
    finally:
        stop(host)


def test_snapshot_folders_left_by_old_readers_are_removed(home: Path) -> None:
    """Older magray readers copied the database to magray-snapshot-* in the temp dir and
    a killed one left its copy behind; the next process that hosts a home removes them."""
    left = Path(tempfile.mkdtemp(prefix="magray-snapshot-"))
    (left / "memory.duckdb").write_bytes(b"\0" * 1024)
    added = cli(home, "memory", "add", "hosting this home cleans up")
    assert added.returncode == 0, added.stderr
    assert not left.exists()
