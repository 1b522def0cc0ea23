"""`magray chat --search QUERY` (and `--json`) as a real process: every session's messages,
hostile stored text made visible, bad input refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli_run import EVIL, EVIL_SHOWN, assert_inert, env_for, run_cli


def _seed(home: Path) -> None:
    script = f"""
from magray_tui.config import Settings
from magray_tui.services import Services
s = Services(Settings())
c = s.chat
a = c.create("ops notes")
c.add_message(a.id, "user", "Which port does the staging database listen on?")
c.add_message(a.id, "assistant", "The staging database listens on port 5433. " + {EVIL!r})
b = c.create("holiday")
c.add_message(b.id, "user", "Book a train to Lisbon for May.")
s.close()
"""
    done = subprocess.run(
        [sys.executable, "-c", script], env=env_for(home), capture_output=True, timeout=180
    )
    assert done.returncode == 0, done.stderr


def test_chat_search_lists_matches_across_sessions(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _seed(home)

    result = run_cli(home, "chat", "--search", "staging database port")
    text = assert_inert(result.stdout + result.stderr, "chat --search")
    assert result.returncode == 0, text
    lines = result.stdout.decode().splitlines()
    assert "ops notes" in lines[0]
    # The stored escapes are shown, not obeyed (the snippet is one line: CR became a space).
    assert EVIL_SHOWN.replace("␍", " ") in text
    assert "    … Which port does the staging database listen on?" in lines

    result = run_cli(home, "chat", "--search", "train to Lisbon", "--json", "--limit", "1")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 1
    assert (hits[0]["session"], hits[0]["role"]) == ("holiday", "user")
    assert hits[0]["snippet"] == "Book a train to Lisbon for May."
    assert hits[0]["parts"]["keyword_rank"] == 1


def test_chat_search_bad_input_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli(home, "chat", "--search", "   ")
    assert result.returncode == 1
    assert result.stderr.decode().strip() == "Error: give something to search for"
    result = run_cli(home, "chat", "--json", "hello")
    assert result.returncode == 2 and b"--json goes with --search" in result.stderr
    result = run_cli(home, "chat", "--search", "anything")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == "no chat message matches 'anything'"
