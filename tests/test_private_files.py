"""magray's data is its user's alone (issue 12, item 15): folders 0700, files 0600 —
the database, its WAL, config, logs, indexes and watched.json — checked with os.stat on
the files real `magray` processes wrote; an old, open home is tightened on open, with one
log line; files the agent writes for the user keep the user's umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli_run import ROOT, env_for, run_cli

pytestmark = pytest.mark.slow


def modes(home: Path) -> dict[str, int]:
    """Every folder and file under `home` (itself included) -> its permission bits."""
    out = {".": stat.S_IMODE(os.lstat(home).st_mode)}
    for folder, dirs, files in os.walk(home):
        for name in dirs + files:
            path = os.path.join(folder, name)
            out[os.path.relpath(path, home)] = stat.S_IMODE(os.lstat(path).st_mode)
    return out


def open_to_others(home: Path) -> dict[str, str]:
    return {p: oct(m) for p, m in modes(home).items() if m & 0o077}


def run_python(code: str, *, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        umask=umask,
        timeout=180,
    )


def test_a_new_home_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # A permissive umask, as many systems have: magray must not depend on the user's.
    env = env_for(home)
    for args in (
        ("memory", "add", "the database holds chats and tool outputs"),
        ("tasks", "add", "a task"),
        ("config", "init"),
        ("ingest", "--unwatch", str(tmp_path)),  # writes watched.json
        ("--log-level", "DEBUG", "memory", "search", "chats"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "magray_tui.cli", *args],
            capture_output=True,
            env=env,
            umask=0o002,
            timeout=180,
        )
        assert result.returncode in (0, 1), result.stderr  # --unwatch of nothing says so
    found = modes(home)
    for expected in (
        "data/memory.duckdb",
        "config/config.toml",
        "state/watched.json",
        "state/logs/magray.log",
        "cache/index/vectors.json",
        "cache/index/keyword/meta.json",
    ):
        assert expected in found, f"{expected} was not written; found {sorted(found)}"
    assert open_to_others(home) == {}
    assert {m for p, m in found.items() if (home / p).is_dir()} == {0o700}


def test_the_wal_written_after_a_checkpoint_is_private(tmp_path: Path) -> None:
    """DuckDB deletes its WAL at each checkpoint and creates a new one at the next write:
    only the process umask reaches that file. Hold a write open and look at it."""
    home = tmp_path / "home"
    result = run_python(
        f"""
        import os, stat
        from pathlib import Path
        from magray_tui.commands import AppContext
        from magray_tui.memory import MemoryService

        app = AppContext(home=Path({str(home)!r}))
        svc = MemoryService.open(settings=app.settings())
        svc.add("first")
        svc.store.checkpoint()
        wal = Path(str(app.settings().paths.db_file) + ".wal")
        assert not wal.exists() or wal.stat().st_size == 0, "the checkpoint kept the WAL"
        svc.add("second, after the checkpoint")
        print(oct(stat.S_IMODE(os.stat(wal).st_mode)) if wal.exists() else "no wal")
        os._exit(0)  # no clean close: the WAL stays
        """,
        umask=0o002,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0o600"


def test_an_old_open_home_is_tightened_once_with_a_log_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "memory", "add", "a memory").returncode == 0
    assert run_cli(home, "config", "init").returncode == 0
    models = home / "data" / "models" / "mine"
    models.mkdir(parents=True)
    (models / "convert.sh").write_text("#!/bin/sh\n")
    # What an older magray left: folders 0755, files 0644 (an executable 0755).
    # (The home folder itself is the user's choice of place: only what magray keeps in it
    # is tightened.)
    for path in modes(home):
        full = home / path
        if path != ".":
            os.chmod(full, 0o755 if full.is_dir() else 0o644)
    os.chmod(models / "convert.sh", 0o755)
    assert len(open_to_others(home)) > 10

    assert run_cli(home, "memory", "stats").returncode == 0
    assert open_to_others(home) == {}
    assert stat.S_IMODE(os.stat(models / "convert.sh").st_mode) == 0o700  # still executable
    log = (home / "state" / "logs" / "magray.log").read_text()
    assert log.count("tightened permissions of") == 1
    assert run_cli(home, "memory", "stats").returncode == 0
    log = (home / "state" / "logs" / "magray.log").read_text()
    assert log.count("tightened permissions of") == 1  # nothing left to tighten


def test_files_written_for_the_user_keep_the_users_umask(tmp_path: Path) -> None:
    result = run_python(
        f"""
        import os, shutil, stat
        from magray_tui.private_files import restrict_umask, user_umask
        from magray_tui.tools.shell import run_argv
        from magray_tui.tools.write import atomic_write

        assert restrict_umask() == 0o022 and user_umask() == 0o022
        folder = {str(tmp_path)!r}
        open(os.path.join(folder, "ours.txt"), "w").close()
        atomic_write(os.path.join(folder, "agent.txt"), b"x", None)
        run_argv([shutil.which("touch"), "shell.txt"], folder, 10, 1000)
        for name in ("ours.txt", "agent.txt", "shell.txt"):
            print(name, oct(stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode)))
        """,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "ours.txt 0o600",  # magray's own files: private
        "agent.txt 0o644",  # the agent's write_file: as the user would have written it
        "shell.txt 0o644",  # a command the agent ran
    ]
