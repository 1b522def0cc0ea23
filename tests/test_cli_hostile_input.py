"""Bad input gets one line, never a traceback (issue 12, items 11, 12, 13 and 14).

Every case runs the real `magray` in a subprocess on real files: import lines with the
wrong types, dates that overflow, JSON nested 100,000 deep, a million tags, strings where
booleans belong; the same through `--since` and inside a `--queries` batch; a hostile
config.toml and watched.json; and re-imports that must not duplicate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_run import assert_inert, env_for, run_cli

pytestmark = pytest.mark.slow

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


def nested(depth: int) -> dict:
    node: dict = {"leaf": 1}
    for _ in range(depth - 1):
        node = {"n": node}
    return node


# (import line, what the one-line error says). Each line is a memory a careless or hostile
# file could hold; the message must name the problem.
BAD_LINES = [
    ({"text": "t", "created_at": 1700000000}, "created_at: a time must be an ISO-8601 string"),
    ({"text": "t", "created_at": [2024, 1, 1]}, "created_at: a time must be an ISO-8601 string"),
    ({"text": "t", "created_at": {"y": 2024}}, "created_at: a time must be an ISO-8601 string"),
    ({"text": "t", "created_at": True}, "created_at: a time must be an ISO-8601 string"),
    ({"text": "t", "created_at": "9999-12-31T23:59:59-05:00"}, "time out of range in UTC"),
    ({"text": "t", "created_at": "0001-01-01T00:00:00+05:00"}, "time out of range in UTC"),
    ({"text": "t", "created_at": "yesterday"}, "not an ISO-8601 time"),
    (DEEP, "JSON nested too deeply"),
    (DEEP_OBJECT, "JSON nested too deeply"),
    ({"text": "t", "metadata": nested(200)}, "metadata nested deeper than 32 levels"),
    ({"text": "t", "pinned": "false"}, "pinned must be true or false, not the string 'false'"),
    ({"text": "t", "pinned": 0}, "pinned must be true or false, not int"),
    ({"text": "t", "importance": "0.5"}, "importance must be a number between 0 and 1"),
    ({"text": "t", "importance": True}, "importance must be a number between 0 and 1"),
    ('{"text": "t", "importance": NaN}', "importance must be a number between 0 and 1"),
    ({"text": "t", "kind": ["note"]}, "kind must be a string, not list"),
    ({"text": "t", "session": 5}, "session must be a string, not int"),
    ({"text": "t", "source": {"a": 1}}, "source must be a string, not dict"),
    ({"text": 5}, "text must be a string, not int"),
    ({"text": "t", "tags": [f"t{i}" for i in range(100_000)]}, "too many tags (100,000, at"),
    ({"text": "t", "tags": ["x"] * 1_000_000}, "too many tags (1,000,000, at most 64)"),
    ({"text": "t", "tags": [f"t{i}" for i in range(65)]}, "too many tags (more than 64)"),
    ({"text": "t", "tags": ["ok", "a\x1b[2Jb"]}, "holds a control character"),
    ({"text": "t", "tags": "a," * 1_000_000}, "tags too long (2,000,000 characters)"),
]
GOOD_LINES = [
    {"text": "a well-formed memory", "pinned": False, "created_at": "2024-05-01T10:00:00Z"},
    {"text": "another, pinned", "pinned": True, "importance": 1, "tags": ["a", "a", "b"]},
    {"text": "the latest possible time", "created_at": "9999-12-31T23:59:59+00:00"},
]


def _line(item) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def test_every_bad_import_line_gets_one_line_and_good_lines_import(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    lines = [_line(item) for item in GOOD_LINES] + [_line(item) for item, _ in BAD_LINES]
    src = tmp_path / "mixed.jsonl"
    src.write_text("\n".join(lines) + "\n")

    # All or nothing: the first bad line stops the import, naming file and line.
    strict = run_cli(home, "memory", "import", str(src))
    err = assert_inert(strict.stderr, "strict import")
    first = len(GOOD_LINES) + 1
    assert strict.returncode == 1 and err.count("\n") == 1, err
    assert err.startswith(f"Error: {src}, line {first}: created_at:") and "nothing was" in err
    empty = run_cli(home, "memory", "list", "--json")
    assert json.loads(empty.stdout or b"[]") == []

    skipped = run_cli(home, "memory", "import", str(src), "--skip-bad", "--json")
    assert_inert(skipped.stdout + skipped.stderr, "import --skip-bad")
    assert skipped.returncode == 0, skipped.stderr
    report = json.loads(skipped.stdout)
    assert report["imported"] == len(GOOD_LINES)
    errors = {entry["line"]: entry["error"] for entry in report["bad_lines"]}
    assert sorted(errors) == list(range(first, len(lines) + 1))
    for n, (_item, expected) in enumerate(BAD_LINES, first):
        assert expected in errors[n], f"line {n}: {errors[n]!r} lacks {expected!r}"
        assert "\n" not in errors[n] and len(errors[n]) < 300

    stored = json.loads(run_cli(home, "memory", "list", "--json").stdout)
    by_text = {r["text"]: r for r in stored}
    assert by_text["a well-formed memory"]["pinned"] is False
    assert by_text["another, pinned"]["pinned"] is True
    assert by_text["another, pinned"]["tags"] == ["a", "b"]
    assert by_text["the latest possible time"]["created_at"] == "9999-12-31T23:59:59Z"


def test_reimport_without_ids_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    src = tmp_path / "notes.jsonl"
    items = [
        {"text": f"note number {i}", "layer": ["interact", "assets"][i % 2]} for i in range(50)
    ]
    src.write_text("".join(json.dumps(item) + "\n" for item in items))

    first = run_cli(home, "memory", "import", str(src))
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().startswith("imported 50, already present 0,")
    # A re-run (say after a crash that came after the commit) adds nothing.
    again = run_cli(home, "memory", "import", str(src))
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().startswith("imported 0, already present 50 (50 by their text),")
    assert len(json.loads(run_cli(home, "memory", "list", "--json").stdout)) == 50

    # The same text in another layer is not the same memory; a repeat within the file is.
    other = tmp_path / "other.jsonl"
    other.write_text(
        json.dumps({"text": "note number 0", "layer": "insights"})
        + "\n"
        + json.dumps({"text": "fresh", "layer": "insights"})
        + "\n"
        + json.dumps({"text": "fresh", "layer": "insights"})
        + "\n"
    )
    mixed = run_cli(home, "memory", "import", str(other), "--json")
    assert json.loads(mixed.stdout) == {
        "imported": 2,
        "skipped_existing": 1,
        "skipped_same_text": 1,
        "bad_lines": [],
    }

    forced = run_cli(home, "memory", "import", str(src), "--allow-duplicates")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.decode().startswith("imported 50, already present 0,")
    listed = json.loads(run_cli(home, "memory", "list", "--limit", "1000", "--json").stdout)
    assert len(listed) == 50 + 2 + 50


def test_reimport_of_an_export_keeps_its_duplicates_by_id(tmp_path: Path) -> None:
    """Records with ids are matched by id: an export holding two records with the same
    text round-trips into an empty home whole."""
    home, other = tmp_path / "a", tmp_path / "b"
    home.mkdir()
    other.mkdir()
    for _ in range(2):
        assert run_cli(home, "memory", "add", "the same words twice").returncode == 0
    dump = tmp_path / "dump.jsonl"
    assert run_cli(home, "memory", "export", str(dump)).returncode == 0
    result = run_cli(other, "memory", "import", str(dump), "--json")
    assert json.loads(result.stdout)["imported"] == 2


def test_dates_in_since_and_inside_a_queries_batch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert run_cli(home, "memory", "add", "the deploy runs on thursdays").returncode == 0

    since = run_cli(home, "memory", "search", "deploy", "--since", "0001-01-01T00:00:00+05:00")
    err = assert_inert(since.stderr, "--since")
    assert since.returncode == 1 and err.count("\n") == 1
    assert err.startswith("Error: time out of range in UTC: '0001-01-01T00:00:00+05:00'")

    due = run_cli(home, "tasks", "add", "a task", "--due", "9999-12-31T23:59:59-05:00")
    err = assert_inert(due.stderr, "tasks add --due")
    assert due.returncode == 1 and err == (
        "Error: time out of range in UTC: '9999-12-31T23:59:59-05:00'\n"
    )

    queries = tmp_path / "queries.jsonl"
    specs = [
        '{"query": "deploy"}',
        '{"query": "deploy", "since": "9999-12-31T23:59:59-05:00"}',
        '{"query": "deploy", "until": 5}',
        DEEP,
        '{"query": "deploy", "k": "ten"}',
        '{"query": "deploy", "k": true}',
        '{"query": "deploy", "layers": 5}',
        '{"query": "deploy", "tags": {"a": 1}}',
        '{"query": "deploy", "mode": "psychic"}',
        '{"query": "deploy", "limit": 3}',
        '{"query": 7}',
        "[1, 2]",
        "not json",
        '{"query": "deploy", "k": 1}',
    ]
    queries.write_text("\n".join(specs) + "\n")
    batch = run_cli(home, "memory", "search", "--queries", str(queries))
    assert_inert(batch.stdout + batch.stderr, "--queries")
    assert batch.returncode == 0, batch.stderr
    out = [json.loads(line) for line in batch.stdout.decode().splitlines()]
    assert [o["line"] for o in out] == list(range(1, len(specs) + 1))
    assert out[0]["hits"] and out[-1]["hits"], "the good lines around the bad ones ran"
    expected = [
        None,
        "time out of range in UTC",
        "until must be a string",
        "JSON nested too deeply",
        "k must be a whole number from 1 to 1000",
        "k must be a whole number from 1 to 1000",
        "layers must be a string or a list of strings",
        "tags must be a string or a list of strings",
        "mode must be one of: hybrid, vector, keyword",
        "unknown key(s): limit",
        'each line needs {"query": "..."}',
        "each line needs a JSON object",
        "not JSON",
        None,
    ]
    for o, want in zip(out, expected, strict=True):
        if want is None:
            assert "error" not in o, o
        else:
            assert want in o["error"], (o, want)


def test_config_toml_nested_100000_deep(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    config = home / "config" / "config.toml"
    config.write_text('log_level = "INFO"\n\n[memory]\nrrf_k = ' + DEEP + "\n")
    result = run_cli(home, "memory", "stats")
    err = assert_inert(result.stderr, "deep config")
    assert result.returncode == 1 and err.count("\n") == 1
    assert err == f"Error: config error in {config}, line 4: arrays or tables nested too deeply\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (DEEP, "JSON nested too deeply"),
        ('{"folders": [{"path": "/tmp", "enabled": "false"}]}', "folder #1: 'enabled' must be"),
        ('{"folders": [{"path": "/a"}, {"path": "/b", "enabled": 0}]}', "folder #2: 'enabled'"),
        ('{"folders": [{"path": 5}]}', "folder #1: 'path' must be a non-empty string"),
        ('{"folders": ["/tmp"]}', "folder #1: each folder must be an object"),
        ('{"folders": {}}', "has no 'folders' list"),
    ],
    ids=["deep", "enabled-string", "enabled-zero", "path-number", "bare-string", "no-list"],
)
def test_watched_json_is_read_strictly(tmp_path: Path, body: str, expected: str) -> None:
    home = tmp_path / "home"
    (home / "state").mkdir(parents=True)
    watched = home / "state" / "watched.json"
    watched.write_text(body)
    result = run_cli(home, "ingest", "--watched")
    err = assert_inert(result.stderr, "watched.json")
    assert result.returncode == 1 and err.count("\n") == 1, err
    assert err.startswith(f"Error: {watched}") and expected in err
    assert watched.read_text() == body  # nothing rewritten, nothing lost


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)  # no disk space used; reads as zeros
    return path


def _deep(path: Path) -> Path:
    path.write_text(DEEP)
    return path


def _loop(path: Path) -> Path:
    (path.parent / "loop-b").symlink_to(path)
    path.symlink_to(path.parent / "loop-b")
    return path


# (how to make the hostile path, the command, what the one line says). A hang would show as
# the subprocess timing out; a traceback as more than one line.
FILE_CASES = {
    "add-fifo": (_fifo, ("memory", "add", "--file"), "not a regular file"),
    "add-dev-zero": (None, ("memory", "add", "--file"), "not a regular file"),
    "add-folder": ("dir", ("memory", "add", "--file"), "is a directory"),
    "add-huge": (lambda p: _sparse(p, 70_000_000), ("memory", "add", "--file"), "too large"),
    "add-symlink-loop": (_loop, ("memory", "add", "--file"), "Too many levels of symbolic"),
    "import-fifo": (_fifo, ("memory", "import"), "not a regular file"),
    "import-dev-zero": (None, ("memory", "import"), "not a regular file"),
    "queries-fifo": (_fifo, ("memory", "search", "--queries"), "not a regular file"),
    "tasks-import-fifo": (_fifo, ("tasks", "import"), "not a regular file"),
    "tasks-import-deep": (_deep, ("tasks", "import"), "JSON nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_hostile_paths_given_to_commands(tmp_path: Path, case: str) -> None:
    make, command, expected = FILE_CASES[case]
    home = tmp_path / "home"
    home.mkdir()
    if make is None:
        target = Path("/dev/zero")
    elif make == "dir":
        target = tmp_path
    else:
        target = make(tmp_path / "input")
    result = run_cli(home, *command, str(target), timeout=60)
    err = assert_inert(result.stderr, case)
    assert result.returncode in (1, 2) and err.strip().count("\n") <= 3, err
    assert "Traceback" not in err and expected in err, err


@pytest.mark.parametrize("name", ["config/config.toml", "state/watched.json"])
def test_a_fifo_where_a_settings_file_belongs(tmp_path: Path, name: str) -> None:
    home = tmp_path / "home"
    (home / name).parent.mkdir(parents=True)
    _fifo(home / name)
    result = run_cli(home, "ingest", "--watched", timeout=60)
    err = assert_inert(result.stderr, name)
    assert result.returncode == 1 and err.count("\n") == 1, err
    assert str(home / name) in err and "not a regular file" in err


def test_chat_refuses_an_endless_standard_input(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with open("/dev/zero", "rb") as zero:
        result = subprocess.run(
            [sys.executable, "-m", "magray_tui.cli", "chat"],
            stdin=zero,
            capture_output=True,
            env=env_for(home),
            timeout=120,
        )
    err = assert_inert(result.stderr, "chat < /dev/zero")
    assert result.returncode == 1 and err.count("\n") == 1, err
    assert "the message on standard input is over 4,194,304 bytes" in err
