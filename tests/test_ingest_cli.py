"""`magray ingest ...` through click, and `--watch` as a real process stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from magray_tui.cli import main
from tests.test_ingest_incremental import make_tree


def magray(home: Path, *args: str):
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    assert "Traceback" not in result.output, result.output
    return result


def test_ingest_reports_and_search_shows_location(tmp_path: Path) -> None:
    home, root = tmp_path / "home", make_tree(tmp_path / "tree")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    result = magray(home, "ingest", str(root), "--chunk-chars", "400")
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    assert "skipped 1 (binary)" in result.output and "image.png" in result.output
    again = magray(home, "ingest", str(root), "--chunk-chars", "400", "--json")
    data = json.loads(again.output)
    assert data["files_unchanged"] == 3 and data["chunks_added"] == 0
    assert data["skipped"]["binary"]["count"] == 1
    hits = json.loads(magray(home, "memory", "search", "lamp storms", "--json").output)
    meta = hits[0]["metadata"]
    assert meta["path"].endswith("README.md") and meta["start_line"] >= 1
    assert meta["end_line"] >= meta["start_line"] and meta["language"] == "markdown"
    removed = magray(home, "ingest", "--remove", str(root / "pkg"))
    assert removed.exit_code == 0 and "of 2 files" in removed.output


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = magray(home, "ingest", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "no such file or folder" in result.output
    result = magray(home, "ingest")
    assert result.exit_code == 2 and "PATH" in result.output
    result = magray(home, "ingest", "--watch", "--remove", str(tmp_path))
    assert result.exit_code == 2
    result = magray(home, "ingest", str(tmp_path), "--max-size", "lots")
    assert result.exit_code == 2 and "size" in result.output


def test_watched_list_and_unwatch(tmp_path: Path) -> None:
    from magray_tui.config import load_settings
    from magray_tui.ingest import add_watched

    home, root = tmp_path / "home", make_tree(tmp_path / "tree")
    assert "no watched folders" in magray(home, "ingest", "--watched").output
    add_watched(load_settings(home), [root])
    magray(home, "ingest", str(root), "--chunk-chars", "400")
    listed = json.loads(magray(home, "ingest", "--watched", "--json").output)
    assert listed[0]["path"] == str(root.resolve()) and listed[0]["files"] == 3
    assert listed[0]["enabled"] and listed[0]["exists"] and listed[0]["chunks"] >= 3
    table = magray(home, "ingest", "--watched").output
    assert "watched folders" in table and "tree" in table
    out = magray(home, "ingest", "--unwatch", str(root)).output
    assert "no longer watching" in out
    assert json.loads(magray(home, "ingest", "--watched", "--json").output) == []


def test_watch_process_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    home, root = tmp_path / "home", tmp_path / "notes"
    root.mkdir()
    (root / "a.txt").write_text("Ravens nest on the north tower.\n")
    env = {**os.environ, "MAGRAY_HOME": str(home)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "magray_tui.cli",
            "ingest",
            "--watch",
            str(root),
            "--json",
            "--debounce",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        initial = json.loads(proc.stdout.readline())  # the initial sync
        assert initial["files_new"] == 1
        time.sleep(0.5)
        (root / "b.txt").write_text("Swallows return to the barn in May.\n")
        batch = json.loads(proc.stdout.readline())
        assert batch["files_new"] == 1
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopping" in err
    listed = json.loads(magray(home, "ingest", "--watched", "--json").output)
    assert listed[0]["path"] == str(root.resolve()) and listed[0]["files"] == 2
