"""Stored and model text never reaches the terminal raw (issue 12, item 6, CLI side).

A memory text and tag, a task title, description, notes and tag, an ingested file's name
and contents, a forget reason, a chat reply and an error that echoes its input all carry
`ESC ] 0 ; … BEL` (set the window title), `ESC [ 2 J` (clear the screen), an 8-bit CSI,
a bidi override, CR and BS. Every command is run as a real process; its stdout and stderr
bytes must hold none of them raw, and must show them made visible.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_run import EVIL, EVIL_SHOWN, assert_inert, env_for, run_cli, run_on_pty

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evil_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | Path]:
    """A home holding hostile text everywhere text can be stored, written by the CLI."""
    home = tmp_path_factory.mktemp("evil") / "home"
    home.mkdir()
    out: dict[str, str | Path] = {"home": home}

    added = run_cli(home, "memory", "add", "--", EVIL)
    assert added.returncode == 0, added.stderr
    out["memory"] = added.stdout.decode().strip()
    second = run_cli(home, "memory", "add", "something to forget later")
    assert second.returncode == 0, second.stderr
    out["forgotten"] = second.stdout.decode().strip()
    forgot = run_cli(home, "memory", "forget", str(out["forgotten"]), "--reason", EVIL)
    assert forgot.returncode == 0, forgot.stderr

    task = run_cli(
        home, "tasks", "add", "--tag", EVIL, "-d", EVIL, "--notes", EVIL, "--json", "--", EVIL
    )
    assert task.returncode == 0, task.stderr
    out["task"] = json.loads(task.stdout)["id"]

    docs = home.parent / "docs"
    docs.mkdir()
    name = EVIL.replace(chr(8), "")
    (docs / f"note{name}.md").write_text(f"# {EVIL}\n\n{EVIL} body\n")
    (docs / f"blob{name}.md").write_bytes(b"\0\1\2binary" * 100)  # skipped, and named
    ingested = run_cli(home, "ingest", str(docs))
    out["ingest_out"] = assert_inert(ingested.stdout + ingested.stderr, "ingest report")
    assert ingested.returncode == 0, out["ingest_out"]
    return out


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("memory", "list"), [EVIL_SHOWN[:20]]),
        (("memory", "search", "PWNED", "--mode", "keyword"), [EVIL_SHOWN[:20]]),
        (("tasks", "list"), [EVIL_SHOWN[:20]]),
        (("tasks", "ready"), [EVIL_SHOWN[:20]]),
        (("tasks", "graph"), ["␛]0;PWNED␇"]),
        (("tasks", "graph", "--format", "mermaid"), ["PWNED"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)
def test_tables_and_lists_show_controls_visibly(evil_home, args, shown) -> None:
    result = run_cli(evil_home["home"], *args)
    text = assert_inert(result.stdout + result.stderr, " ".join(args))
    assert result.returncode == 0, text
    for part in shown:
        assert part in text, f"{' '.join(args)} does not show the stored text: {text!r}"


def test_memory_show_and_history(evil_home) -> None:
    shown = run_cli(evil_home["home"], "memory", "show", str(evil_home["memory"]))
    text = assert_inert(shown.stdout + shown.stderr, "memory show")
    assert shown.returncode == 0, text
    # The text body keeps its lines but shows the controls.
    assert "\nA␛]0;PWNED␇B␛[2JC\\x9b31mD\\u202eE␍F␈G\n" in text

    history = run_cli(evil_home["home"], "memory", "history", str(evil_home["forgotten"]))
    text = assert_inert(history.stdout + history.stderr, "memory history")
    assert history.returncode == 0, text
    assert "forget" in text and "␛]0;PWNED␇" in text


def test_tasks_show_every_field(evil_home) -> None:
    result = run_cli(evil_home["home"], "tasks", "show", str(evil_home["task"]))
    text = assert_inert(result.stdout + result.stderr, "tasks show")
    assert result.returncode == 0, text
    assert "title  A␛]0;PWNED␇B␛[2JC\\x9b31mD\\u202eE" in text  # stored with CR as space
    assert text.count("␛]0;PWNED␇") >= 4  # title, tags, description, notes


def test_ingest_report_and_file_memories(evil_home) -> None:
    report = evil_home["ingest_out"]
    assert "files: 1 new" in report
    assert "skipped 1" in report and "blobA␛]0;PWNED␇B␛[2J" in report
    result = run_cli(evil_home["home"], "memory", "list", "--layer", "assets")
    text = assert_inert(result.stdout + result.stderr, "memory list --layer assets")
    assert "PWNED" in text


def test_json_output_round_trips_and_escapes_c1(evil_home) -> None:
    result = run_cli(evil_home["home"], "memory", "show", str(evil_home["memory"]), "--json")
    assert_inert(result.stdout, "memory show --json")
    data = json.loads(result.stdout)
    assert data["text"] == EVIL
    exported = run_cli(evil_home["home"], "tasks", "export")
    assert_inert(exported.stdout, "tasks export")
    titles = [t["title"] for t in json.loads(exported.stdout)["tasks"]]
    assert titles == [EVIL.replace("\r", " ")]  # a title is one line


def test_errors_that_echo_input_are_inert(evil_home) -> None:
    home = evil_home["home"]
    # A tag is a label: control characters in one are refused (tasks keep theirs visible).
    tagged = run_cli(home, "memory", "add", "--tag", EVIL, "text")
    text = assert_inert(tagged.stdout + tagged.stderr, "memory add --tag <evil>")
    assert tagged.returncode == 1 and text.count("\n") == 1 and "control character" in text
    missing = run_cli(home, "memory", "show", EVIL)
    text = assert_inert(missing.stdout + missing.stderr, "memory show <evil ref>")
    assert missing.returncode == 1 and "no memory with id" in text and "PWNED" in text
    bad_option = run_cli(home, "memory", "list", f"--{EVIL}")
    text = assert_inert(bad_option.stdout + bad_option.stderr, "bad option")
    assert bad_option.returncode == 2 and "No such option" in text
    no_file = run_cli(home, "memory", "import", str(home.parent / f"gone{EVIL}.jsonl"))
    text = assert_inert(no_file.stdout + no_file.stderr, "import of a missing file")
    assert no_file.returncode == 1 and f"no such file: {home.parent}/gone{EVIL_SHOWN}" in text


def test_on_a_real_terminal_only_styling_escapes_are_written(evil_home) -> None:
    home = evil_home["home"]
    for args in (("memory", "show", str(evil_home["memory"])), ("tasks", "list")):
        status, raw = run_on_pty(home, *args)
        assert b"\x1b[" in raw, "rich did not treat the pty as a terminal"
        text = assert_inert(raw, " ".join(args) + " on a pty", on_pty=True)
        assert status == 0, text
        assert "␛]0;PWNED␇" in text


def test_health_and_stats_from_a_hostile_home_path(tmp_path: Path) -> None:
    home = tmp_path / f"home{EVIL.replace(chr(8), '').replace(chr(13), '')}"
    home.mkdir()
    (home / "data").write_text("a file where the data folder belongs")
    health = run_cli(home, "health", "--no-llm")
    text = assert_inert(health.stdout + health.stderr, "health")
    assert health.returncode == 1 and "magray health: failing" in text and "PWNED" in text
    (home / "data").unlink()
    stats = run_cli(home, "memory", "stats")
    text = assert_inert(stats.stdout + stats.stderr, "memory stats")
    assert f"{home.name.replace(chr(27), '␛').replace(chr(7), '␇')[:12]}" in text


def test_chat_reply_streamed_from_a_model(tmp_path: Path, llm_server) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The escape is split across chunks: each chunk is cleaned on its own.
    llm_server.text("Sure \x1b]0;", "PWNED\x07 and \x1b", "[2J done \x9b31m.")
    env = env_for(
        home,
        OPENAI_API_KEY="sk-test-not-a-real-key",
        MAGRAY_LLM__MODEL="openai/test-model",
        MAGRAY_LLM__API_BASE=llm_server.url,
        MAGRAY_LLM__OFFLINE_MODEL="false",
        MAGRAY_LLM__MAX_RETRIES="0",
        MAGRAY_AGENT__DISTIL="false",
    )
    result = run_cli(home, "chat", "hello there", env=env)
    text = assert_inert(result.stdout + result.stderr, "chat")
    assert result.returncode == 0, text
    assert "Sure ␛]0;PWNED␇ and ␛[2J done \\x9b31m." in result.stdout.decode()
